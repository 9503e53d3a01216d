package ariapp_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
)

// These tests drive the adapter with scripted flows, one ivr.Call method
// at a time, against the behaviours the traces recorded.

// result is what a scripted flow reports.
type result struct {
	leg ivr.Leg
	err error
}

// TestOriginateResults: every way an operator's phone can end the ring,
// as the traces recorded them, becomes the right ivr outcome.
func TestOriginateResults(t *testing.T) {
	eps := phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer},
		"op486":  {Answer: aritest.RejectBusy},
		"op603":  {Answer: aritest.RejectDecline},
		"op480":  {Answer: aritest.RejectUnavailable},
		"op503":  {Answer: aritest.RejectCongestion},
		"opring": {Answer: aritest.RingForever},
	})
	eps = append(eps, aritest.Endpoint{Resource: "op1002", Context: "from-operators", Offline: true})
	tests := []struct {
		endpoint string
		timeout  time.Duration
		cause    int         // of the OriginateError; -1: answered
		failure  ivr.Failure // of the OriginateError
		errText  bool        // the OriginateError wraps the engine's error
	}{
		{"PJSIP/op1001", 20 * time.Second, -1, "", false},
		{"PJSIP/op486", 20 * time.Second, ivr.CauseBusy, ivr.FailBusy, false},
		{"PJSIP/op603", 20 * time.Second, ivr.CauseRejected, ivr.FailRejected, false},
		{"PJSIP/op480", 20 * time.Second, ivr.CauseNoAnswer, ivr.FailNoAnswer, false},
		{"PJSIP/op503", 20 * time.Second, ivr.CauseCongestion, ivr.FailCongestion, false},
		{"PJSIP/opring", 5 * time.Second, ivr.CauseNoAnswer, ivr.FailNoAnswer, false},
		{"PJSIP/op1002", 20 * time.Second, ivr.CauseUnknown, ivr.FailFailed, true}, // no contact: 500 Allocation failed
		{"PJSIP/op9999", 20 * time.Second, ivr.CauseUnknown, ivr.FailFailed, true}, // no such endpoint
		{"Local/op1003@operators", 20 * time.Second, -1, "", false},
		{"Local/busy@operators", 20 * time.Second, ivr.CauseBusy, ivr.FailBusy, false},                   // cause 0 + dialstatus BUSY
		{"Local/congestion@operators", 20 * time.Second, ivr.CauseCongestion, ivr.FailCongestion, false}, // cause 0 + CONGESTION
		{"Local/reject@operators", 20 * time.Second, ivr.CauseRejected, ivr.FailRejected, false},
		{"Local/unallocated@operators", 20 * time.Second, ivr.CauseUnallocated, ivr.FailFailed, false},
		{"Local/noanswer@operators", 5 * time.Second, ivr.CauseNoAnswer, ivr.FailNoAnswer, false},
		{"Local/no-such-exten@operators", 20 * time.Second, ivr.CauseUnknown, ivr.FailFailed, false},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint, func(t *testing.T) {
			res := make(chan result, 1)
			s := newStack(t, withEndpoints(eps...), withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
				if err := c.Answer(ctx); err != nil {
					return cdr.Record{}, err
				}
				leg, err := c.Originate(ctx, ivr.OriginateRequest{Endpoint: tc.endpoint, Operator: "opX", Timeout: tc.timeout, Label: "1522 it"})
				res <- result{leg, err}
				if leg != nil {
					if err := leg.Hangup(ctx, ivr.CauseNormal); err != nil {
						t.Errorf("leg hangup: %v", err)
					}
				}
				return cdr.Record{}, c.Hangup(ctx, ivr.CauseNormal)
			}))
			c := s.dial(callerNumber)
			var r result
			s.until("originate result", time.Minute, func() bool {
				select {
				case r = <-res:
					return true
				default:
					return false
				}
			})
			if tc.cause == -1 {
				if r.err != nil || r.leg == nil {
					t.Fatalf("originate = %v, %v; want answered", r.leg, r.err)
				}
			} else {
				var oe *ivr.OriginateError
				if !errors.As(r.err, &oe) {
					t.Fatalf("originate error %v (%T), want *ivr.OriginateError", r.err, r.err)
				}
				if oe.Cause != tc.cause || oe.Failure() != tc.failure || oe.Endpoint != tc.endpoint || (oe.Err != nil) != tc.errText {
					t.Errorf("OriginateError %+v (failure %s), want cause %d %s", oe, oe.Failure(), tc.cause, tc.failure)
				}
			}
			if _, err := c.AwaitHangup(s.ctx); err != nil {
				t.Fatal(err)
			}
			s.until("every channel gone", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
			s.noLeaks()
		})
	}
}

// TestOriginateCancelled: cancelling a ringing originate hangs the leg up
// and waits for it: nothing is left ringing.
func TestOriginateCancelled(t *testing.T) {
	res := make(chan result, 1)
	s := newStack(t, withEndpoints(phones(map[string]aritest.Phone{"opring": {Answer: aritest.RingForever}})...),
		withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
			_ = c.Answer(ctx)
			octx, cancel := context.WithCancel(ctx)
			go func() {
				<-c.DTMF() // the test's signal to give up
				cancel()
			}()
			leg, err := c.Originate(octx, ivr.OriginateRequest{Endpoint: "PJSIP/opring", Operator: "opring", Timeout: time.Minute, Label: "x"})
			res <- result{leg, err}
			return cdr.Record{}, c.Hangup(ctx, ivr.CauseNormal)
		}))
	c := s.dial(callerNumber)
	phone, err := s.srv.AwaitRinging(s.ctx, "opring")
	if err != nil {
		t.Fatal(err)
	}
	s.advance(2 * time.Second)
	if err := c.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	var r result
	s.until("originate returned", time.Minute, func() bool {
		select {
		case r = <-res:
			return true
		default:
			return false
		}
	})
	if !errors.Is(r.err, context.Canceled) || r.leg != nil {
		t.Errorf("originate = %v, %v; want context.Canceled", r.leg, r.err)
	}
	if h, ok := phone.Ended(); !ok || h.By != aritest.ByApp {
		t.Errorf("phone %+v ended=%v, want hung up by the app", h, ok)
	}
	s.until("every channel gone", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	if n := s.counter("helpline_ariapp_originates_total", "result", "cancelled"); n != 1 {
		t.Errorf("cancelled originates %v", n)
	}
	s.noLeaks()
}

// TestPlay: a played prompt returns when it ends; a cancelled one is
// stopped with DELETE /playbacks (PlaybackFinished "done"); a missing
// sound is an error but not a hang-up; a 404 is a hang-up.
func TestPlay(t *testing.T) {
	type played struct {
		what string
		err  error
		at   time.Time
	}
	res := make(chan played, 4)
	var s *stack
	s = newStack(t, withSounds(map[string]time.Duration{"short": 2 * time.Second, "long": time.Minute, "gone": aritest.Missing}),
		withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
			_ = c.Answer(ctx)
			err := c.Play(ctx, "it", ivr.Sound("short"), ivr.Sound("short"))
			res <- played{"short", err, s.clock.Now()}
			pctx, cancel := context.WithCancel(ctx)
			go func() { <-c.DTMF(); cancel() }()
			err = c.Play(pctx, "it", ivr.Sound("long"))
			res <- played{"long", err, s.clock.Now()}
			err = c.Play(ctx, "it", ivr.Sound("gone"))
			res <- played{"gone", err, s.clock.Now()}
			<-c.Done()
			err = c.Play(ctx, "it", ivr.Sound("short"))
			res <- played{"after hang-up", err, s.clock.Now()}
			return cdr.Record{}, nil
		}))
	c := s.dial(callerNumber)
	start := s.clock.Now()
	next := func() played {
		var p played
		s.until("a play returned", 2*time.Minute, func() bool {
			select {
			case p = <-res:
				return true
			default:
				return false
			}
		})
		return p
	}
	if p := next(); p.err != nil || p.at.Sub(start) < 4*time.Second || p.at.Sub(start) > 5*time.Second {
		t.Errorf("two 2 s sounds: %v after %v, want nil after 4 s", p.err, p.at.Sub(start))
	}
	s.advance(3 * time.Second)
	if err := c.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	if p := next(); !errors.Is(p.err, context.Canceled) {
		t.Errorf("cancelled play: %v", p.err)
	}
	stops := find(s.srv.Requests(), http.MethodDelete, "/playbacks/{playbackId}")
	if len(stops) != 1 {
		t.Errorf("%d playback stops", len(stops))
	}
	if p := next(); p.err == nil || errors.Is(p.err, ivr.ErrHangup) {
		t.Errorf("missing sound: %v, want an error that is not ErrHangup", p.err)
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	if p := next(); !errors.Is(p.err, ivr.ErrHangup) {
		t.Errorf("play after hang-up: %v, want ErrHangup", p.err)
	}
	var states []string
	for _, e := range s.srv.Events() {
		if pf, ok := e.Event.(*ari.PlaybackFinished); ok {
			states = append(states, pf.Playback.State)
		}
	}
	if want := []string{"done", "done", "failed"}; !slices.Equal(states, want) {
		t.Errorf("PlaybackFinished states %q, want %q", states, want)
	}
	if n := s.counter("helpline_ariapp_requests_failed_total", "op", "play"); n != 1 {
		t.Errorf("play failures counted %v, want 1 (the missing sound)", n)
	}
	s.noLeaks()
}

// TestHangupReasons: Hangup maps causes to DELETE reasons; a rejected
// caller is never answered and hears the matching tone.
func TestHangupReasons(t *testing.T) {
	tests := []struct {
		cause  int
		query  string
		value  string
		answer bool
	}{
		{ivr.CauseBusy, "reason", "busy", false},
		{ivr.CauseCongestion, "reason", "congestion", false},
		{ivr.CauseNormal, "reason", "normal", true},
		{ivr.CauseRejected, "reason", "rejected", true},
		{42, "reason_code", "42", true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			causes := make(chan int, 1)
			s := newStack(t, withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
				if tc.answer {
					_ = c.Answer(ctx)
				}
				err := c.Hangup(ctx, tc.cause)
				<-c.Done()
				causes <- c.HangupCause()
				if err2 := c.Hangup(ctx, tc.cause); err2 != nil {
					t.Errorf("second hangup: %v", err2)
				}
				return cdr.Record{}, err
			}))
			c := s.dial(callerNumber)
			h, err := c.AwaitHangup(s.ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.settle()
			if h.Cause != tc.cause || c.Answered() != tc.answer {
				t.Errorf("caller got cause %d answered=%v", h.Cause, c.Answered())
			}
			if got := <-causes; got != tc.cause {
				t.Errorf("HangupCause %d, want %d (the cause asked for, not the 32 soft of the event)", got, tc.cause)
			}
			r := find(s.srv.Requests(), http.MethodDelete, "/channels/{channelId}")
			if len(r) != 1 || r[0].Query.Get(tc.query) != tc.value {
				t.Errorf("DELETE %+v, want %s=%s once", r, tc.query, tc.value)
			}
			s.noLeaks()
		})
	}
}

// TestDTMFNeverBlocks: a flow that reads no key does not stall the
// channel: 32 keys wait, the rest are dropped and counted, and the
// hang-up still arrives.
func TestDTMFNeverBlocks(t *testing.T) {
	keys := make(chan []ivr.Digit, 1)
	s := newStack(t, withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
		_ = c.Answer(ctx)
		<-c.Done()
		var got []ivr.Digit
		for len(c.DTMF()) > 0 {
			got = append(got, <-c.DTMF())
		}
		keys <- got
		return cdr.Record{}, nil
	}))
	c := s.dial(callerNumber)
	s.until("answered", time.Minute, c.Answered)
	digits := "0123456789*#ABCD0123456789*#ABCD0123456789"
	if err := c.SendDTMF(digits); err != nil {
		t.Fatal(err)
	}
	s.advance(20 * time.Second)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	var got []ivr.Digit
	s.until("flow ended", time.Minute, func() bool {
		select {
		case got = <-keys:
			return true
		default:
			return false
		}
	})
	if len(got) != 32 || string(runes(got)) != digits[:32] {
		t.Errorf("keys %q, want the first 32 of %q", string(runes(got)), digits)
	}
	if n := s.counter("helpline_ariapp_dtmf_dropped_total"); n != float64(len(digits)-32) {
		t.Errorf("dropped %v, want %d", n, len(digits)-32)
	}
	s.noLeaks()
}

func runes(ds []ivr.Digit) []rune {
	out := make([]rune, len(ds))
	for i, d := range ds {
		out[i] = rune(d)
	}
	return out
}

// TestOperatorDialIn: a softphone dialling in (Stasis args operator,<id>)
// goes to the OperatorHandler, not the flow; the default handler hangs it
// up without answering.
func TestOperatorDialIn(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		s := newStack(t, withFlow(func(context.Context, ivr.Call, string) (cdr.Record, error) {
			t.Error("an operator's call reached the caller flow")
			return cdr.Record{}, nil
		}))
		c, err := s.srv.Call(s.ctx, "op1001", "9000", aritest.CallOptions{Endpoint: "op1001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AwaitHangup(s.ctx); err != nil {
			t.Fatal(err)
		}
		if c.Answered() {
			t.Error("operator's call answered")
		}
		s.settle()
		if n := s.counter("helpline_ariapp_channels_total", "kind", "operator"); n != 1 {
			t.Errorf("operator channels %v", n)
		}
		s.noLeaks()
	})
	t.Run("handler", func(t *testing.T) {
		var mu sync.Mutex
		var gotOp, gotEndpoint, gotDialled string
		var gotArgs []string
		s := newStack(t, withOperators(ariapp.OperatorHandlerFunc(func(ctx context.Context, c *ariapp.Call, op string, args []string) {
			mu.Lock()
			gotOp, gotArgs, gotEndpoint, gotDialled = op, args, c.Endpoint(), c.Dialled()
			mu.Unlock()
			_ = c.Answer(ctx)
			_ = c.Hangup(ctx, ivr.CauseNormal)
		})))
		c, err := s.srv.Call(s.ctx, "op1001", "9000", aritest.CallOptions{Endpoint: "op1001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AwaitHangup(s.ctx); err != nil {
			t.Fatal(err)
		}
		s.settle()
		mu.Lock()
		defer mu.Unlock()
		if gotOp != "op1001" || !slices.Equal(gotArgs, []string{"operator", "op1001"}) || !c.Answered() ||
			gotEndpoint != "PJSIP/op1001" || gotDialled != "9000" {
			t.Errorf("handler got %q %q endpoint %q dialled %q, answered=%v", gotOp, gotArgs, gotEndpoint, gotDialled, c.Answered())
		}
		s.noLeaks()
	})
}

// TestBridgeAddRemoveAndLegDTMF: the caller is taken out of the bridge and
// put back (what transfers are made of), the operator's keys reach
// Leg.DTMF, and Add of a hung-up channel is ErrHangup.
func TestBridgeAddRemoveAndLegDTMF(t *testing.T) {
	type step struct {
		what string
		err  error
	}
	steps := make(chan step, 8)
	digits := make(chan ivr.Digit, 1)
	s := newStack(t, withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
		_ = c.Answer(ctx)
		leg, err := c.Originate(ctx, ivr.OriginateRequest{Endpoint: "PJSIP/op1001", Operator: "op1001", Timeout: 20 * time.Second, Label: "1522 it"})
		if err != nil {
			steps <- step{"originate", err}
			return cdr.Record{}, err
		}
		br, err := c.Bridge(ctx, leg)
		steps <- step{"bridge", err}
		steps <- step{"remove", br.Remove(ctx, c)}
		steps <- step{"remove again", br.Remove(ctx, c)}
		steps <- step{"add", br.Add(ctx, c)}
		digits <- <-leg.DTMF()
		<-c.Done()
		steps <- step{"add after hang-up", br.Add(ctx, c)}
		_ = leg.Hangup(ctx, ivr.CauseNormal)
		steps <- step{"destroy", br.Destroy(ctx)}
		steps <- step{"destroy again", br.Destroy(ctx)}
		return cdr.Record{}, nil
	}))
	c := s.dial(callerNumber)
	phone, err := s.srv.AwaitRinging(s.ctx, "op1001")
	if err != nil {
		t.Fatal(err)
	}
	next := func(want string) error {
		t.Helper()
		var st step
		s.until(want, time.Minute, func() bool {
			select {
			case st = <-steps:
				return true
			default:
				return false
			}
		})
		if st.what != want {
			t.Fatalf("step %q (%v), want %q", st.what, st.err, want)
		}
		return st.err
	}
	for _, w := range []string{"bridge", "remove", "remove again", "add"} {
		if err := next(w); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
	var entered, left int
	for _, e := range s.srv.Events() {
		if ev, ok := e.Event.(*ari.ChannelEnteredBridge); ok && ev.Channel.ID == c.ChannelID() {
			entered++
		}
		if ev, ok := e.Event.(*ari.ChannelLeftBridge); ok && ev.Channel.ID == c.ChannelID() {
			left++
		}
	}
	if entered != 2 || left != 1 {
		t.Errorf("caller entered %d and left %d times, want 2 and 1", entered, left)
	}
	if err := phone.SendDTMF("#"); err != nil {
		t.Fatal(err)
	}
	var d ivr.Digit
	s.until("operator's key", time.Minute, func() bool {
		select {
		case d = <-digits:
			return true
		default:
			return false
		}
	})
	if d != '#' {
		t.Errorf("leg key %q", d)
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	if err := next("add after hang-up"); !errors.Is(err, ivr.ErrHangup) {
		t.Errorf("add after hang-up: %v, want ErrHangup", err)
	}
	for _, w := range []string{"destroy", "destroy again"} {
		if err := next(w); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
	s.until("every channel gone", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRecord: a recording ends by its key, by its maximum length, by the
// caller hanging up (kept, nil error) or by cancelling (stopped, kept).
func TestRecord(t *testing.T) {
	type recorded struct {
		rec ivr.Recording
		err error
	}
	tests := []struct {
		name   string
		max    time.Duration
		caller func(s *stack, c *aritest.Call)
		cancel bool
		want   func(r recorded) bool
		stop   bool // POST /recordings/live/{name}/stop expected
	}{
		{"terminated by #", time.Minute, func(s *stack, c *aritest.Call) {
			_ = c.Speak(3 * time.Second)
			s.advance(3 * time.Second)
			_ = c.SendDTMF("#")
		}, false, func(r recorded) bool { return r.err == nil && r.rec.Duration >= 3*time.Second }, false},
		{"max duration", 2 * time.Second, func(s *stack, c *aritest.Call) {}, false,
			func(r recorded) bool { return r.err == nil && r.rec.Duration == 2*time.Second }, false},
		{"caller hangs up", time.Minute, func(s *stack, c *aritest.Call) {
			_ = c.Speak(4 * time.Second)
			s.advance(4 * time.Second)
			_ = c.Hangup()
		}, false, func(r recorded) bool { return r.err == nil && r.rec.Duration >= 4*time.Second }, false},
		{"cancelled", time.Minute, func(s *stack, c *aritest.Call) {
			s.advance(2 * time.Second)
			_ = c.SendDTMF("5")
		}, true, func(r recorded) bool { return errors.Is(r.err, context.Canceled) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := make(chan recorded, 1)
			s := newStack(t, withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
				_ = c.Answer(ctx)
				rctx, cancel := context.WithCancel(ctx)
				defer cancel()
				if tc.cancel {
					go func() { <-c.DTMF(); cancel() }()
				}
				rec, err := c.Record(rctx, ivr.RecordRequest{Name: "vm-test", Format: "wav", MaxDuration: tc.max, Beep: true, TerminateOn: '#'})
				res <- recorded{rec, err}
				return cdr.Record{}, c.Hangup(ctx, ivr.CauseNormal)
			}))
			c := s.dial(callerNumber)
			s.until("recording", time.Minute, func() bool {
				_, err := s.client.Recordings().Live(s.ctx, "vm-test")
				return err == nil
			})
			tc.caller(s, c)
			var r recorded
			s.until("record returned", time.Minute, func() bool {
				select {
				case r = <-res:
					return true
				default:
					return false
				}
			})
			if !tc.want(r) || r.rec.Name != "vm-test" {
				t.Errorf("Record = %+v, %v", r.rec, r.err)
			}
			if _, err := s.client.Recordings().Stored(s.ctx, "vm-test"); err != nil {
				t.Errorf("recording not kept: %v", err)
			}
			if n := len(find(s.srv.Requests(), http.MethodPost, "/recordings/live/{recordingName}/stop")); (n == 1) != tc.stop {
				t.Errorf("%d stop requests", n)
			}
			s.until("caller gone", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
			s.noLeaks()
		})
	}
}

// TestFlowPanic: a flow that panics on one call does not take the node
// down: the next call is handled.
func TestFlowPanic(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	s := newStack(t, withFlow(func(ctx context.Context, c ivr.Call, _ string) (cdr.Record, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			panic("flow bug")
		}
		return cdr.Record{}, c.Hangup(ctx, ivr.CauseNormal)
	}))
	first := s.dial(callerNumber)
	second := s.dial("+393330000002")
	if _, err := second.AwaitHangup(s.ctx); err != nil {
		t.Fatal(err)
	}
	if _, ended := first.Ended(); ended {
		t.Error("the call whose flow panicked was hung up")
	}
	if n := s.counter("helpline_ariapp_requests_failed_total", "op", "panic"); n != 1 {
		t.Errorf("panics counted %v", n)
	}
	if !strings.Contains(s.logs.String(), "call handler panicked") {
		t.Error("panic not logged")
	}
	if err := first.Hangup(); err != nil {
		t.Fatal(err)
	}
}
