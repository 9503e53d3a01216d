package ariapp_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
)

// waitFor polls cond (real time, with a deadline) for things that do not
// depend on the fake clock, such as the event WebSocket's state.
func (s *stack) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: never happened", what)
		}
		s.pause()
	}
}

// dropEvents cuts the event WebSocket; reconnect lets it come back.
func (s *stack) dropEvents() {
	s.t.Helper()
	s.srv.DropWebSockets()
	s.waitFor("event stream lost", func() bool { return s.events.State() == ari.StateReconnecting })
}

func (s *stack) reconnect() {
	s.t.Helper()
	want := s.events.Stats().Reconnects + 1
	if err := s.evTime.BlockUntilContext(s.ctx, 1); err != nil {
		s.t.Fatal(err)
	}
	s.evTime.Advance(time.Second) // the redial backoff
	s.waitFor("event stream back", func() bool {
		return s.events.State() == ari.StateConnected && s.events.Stats().Reconnects == want
	})
	s.settle()
}

// TestPlayFails500: Asterisk answers 500 to the welcome: the flow logs it
// and goes on to the menu; the call is answered as usual.
func TestPlayFails500(t *testing.T) {
	s := newStack(t, withRedis())
	s.srv.InjectFault(aritest.Fault{Method: http.MethodPost, Route: "/channels/{channelId}/play", Status: 500})
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if heard(c, "playback", string(pWelcome)) || !heard(c, "playback", string(pMenuIT)) {
		t.Errorf("heard %+v: want the menu and no welcome", c.Heard())
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" {
		t.Errorf("CDR %+v", rec)
	}
	if n := s.counter("helpline_ivr_engine_errors_total", "op", "play"); n != 1 {
		t.Errorf("engine errors (play) %v, want 1", n)
	}
	if n := s.counter("helpline_ariapp_requests_failed_total", "op", "play"); n != 1 {
		t.Errorf("failed requests (play) %v, want 1", n)
	}
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestReconnectDuringTalk: the event WebSocket drops while the caller
// talks with the operator, and the operator hangs up during the outage
// (those events are lost). After the reconnect the app finds the leg gone,
// the flow hangs the caller up: one answered CDR, nothing leaked.
func TestReconnectDuringTalk(t *testing.T) {
	s := newStack(t, withRedis(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer, TalkFor: 10 * time.Second},
	})...))
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	s.dropEvents()
	s.advance(12 * time.Second) // the operator hangs up at 10 s, unseen
	if n := len(s.srv.Channels()); n != 1 {
		t.Fatalf("%d channels during the outage, want the caller's only", n)
	}
	s.reconnect()
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.HangupBy != cdr.HangupOperator || rec.Operator != "op1001" {
		t.Errorf("CDR %+v", rec)
	}
	if n, err := s.store.Count(s.ctx, cdr.Filter{}); err != nil || n != 1 {
		t.Errorf("%d CDRs (%v), want 1", n, err)
	}
	if n := s.counter("helpline_ariapp_vanished_channels_total"); n != 1 {
		t.Errorf("vanished %v, want 1 (the leg)", n)
	}
	if !strings.Contains(s.logs.String(), "channel gone while the ARI event stream was down") {
		t.Error("the vanished leg was not logged")
	}
	s.until("caller hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestReconnectDuringWelcome: the welcome ends while the event WebSocket
// is down (its PlaybackFinished is lost); after the reconnect the app
// asks GET /playbacks/{id}, learns it is over, and the flow goes on.
func TestReconnectDuringWelcome(t *testing.T) {
	s := newStack(t)
	s.login("op1001", "it")
	c := s.dial(callerNumber)
	s.until("welcome playing", time.Minute, func() bool { return heard(c, "playback", string(pWelcome)) })
	s.dropEvents()
	s.advance(3 * time.Second)
	if heard(c, "playback", string(pMenuIT)) {
		t.Fatal("menu played without the welcome's end")
	}
	s.reconnect()
	s.until("menu playing", time.Minute, func() bool { return heard(c, "playback", string(pMenuIT)) })
	if err := c.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Language != "it" {
		t.Errorf("CDR %+v", rec)
	}
	var checked bool
	for _, r := range find(s.srv.Requests(), http.MethodGet, "/playbacks/{playbackId}") {
		checked = checked || r.Status == http.StatusNotFound
	}
	if !checked {
		t.Error("no GET /playbacks/{id} answered 404 after the reconnect")
	}
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestReconnectCallerGone: the caller hangs up while the event WebSocket
// is down; the reconnect finds the channel gone and the call ends as
// abandoned, with the reason logged.
func TestReconnectCallerGone(t *testing.T) {
	s := newStack(t)
	s.login("op1001", "it")
	if err := s.q.Pause(s.ctx, "op1001", "x", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.dial(callerNumber, pressOne...)
	s.until("caller waiting", time.Minute, func() bool { return heard(c, "moh", "") })
	s.dropEvents()
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	s.advance(time.Second)
	s.reconnect()
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Abandoned || rec.HangupBy != cdr.HangupCaller {
		t.Errorf("CDR %+v", rec)
	}
	if !strings.Contains(s.logs.String(), "call ended without its events") {
		t.Error("the vanished call was not logged")
	}
	s.noLeaks()
}

// TestReadoptAtStart: a previous process left a caller in Stasis, waiting
// in the queue (Redis) for 40 s. The new app finds it at start and
// resumes it: same queue entry time, answered, one CDR.
func TestReadoptAtStart(t *testing.T) {
	var c *aritest.Call
	var enqueued time.Time
	s := newStack(t, withRedis(), beforeStart(func(s *stack, acfg ari.Config) {
		old, err := ari.OpenEvents(acfg, ari.EventsOptions{PingInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := old.WaitConnected(s.ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.srv.AwaitApp(s.ctx, "helpline"); err != nil {
			t.Fatal(err)
		}
		if c, err = s.srv.Call(s.ctx, callerNumber, helplineNumber, aritest.CallOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.srv.AwaitEvent(s.ctx, func(e ari.Event) bool { return e.EventType() == ari.TypeStasisStart }); err != nil {
			t.Fatal(err)
		}
		id := c.ChannelID()
		if err := s.client.Channels().Answer(s.ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := s.client.Channels().StartMOH(s.ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(10 * time.Second)
		enqueued = s.clock.Now()
		if err := s.q.Enqueue(s.ctx, queue.Call{ID: id, Service: "1522", Language: "en", Node: "node1", Enqueued: enqueued}); err != nil {
			t.Fatal(err)
		}
		// Her operator is logged in but paused when the process dies.
		if err := s.q.Login(s.ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"en"}}, s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.q.Pause(s.ctx, "op1001", "coffee", s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(40 * time.Second)
		_ = old.Close() // the previous process dies
	}))
	if n := s.counter("helpline_ariapp_orphans_total", "kind", "inbound"); n != 1 {
		t.Fatalf("orphans %v, want 1", n)
	}
	if err := s.q.Unpause(s.ctx, "op1001", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Language != "en" || !rec.QueuedAt.Equal(enqueued.UTC()) ||
		!rec.ArrivedAt.Equal(monday15.UTC()) || rec.WaitSeconds() < 40 {
		t.Errorf("CDR %+v, want queued at %v (kept across the restart)", rec, enqueued.UTC())
	}
	if n := len(find(s.srv.Requests(), http.MethodPost, "/channels/{channelId}/answer")); n != 1 {
		t.Errorf("%d answers, want the previous process's only", n)
	}
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestReadoptHook: orphans go to the configured Adopter with their kind.
func TestReadoptHook(t *testing.T) {
	got := make(chan *ariapp.Orphan, 4)
	var c *aritest.Call
	s := newStack(t, withAdopter(ariapp.AdopterFunc(func(ctx context.Context, o *ariapp.Orphan) {
		got <- o
		if err := o.Hangup(ctx); err != nil {
			t.Error(err)
		}
	})), beforeStart(func(s *stack, acfg ari.Config) {
		old, err := ari.OpenEvents(acfg, ari.EventsOptions{PingInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.srv.AwaitApp(s.ctx, "helpline"); err != nil {
			t.Fatal(err)
		}
		if c, err = s.srv.Call(s.ctx, callerNumber, helplineNumber, aritest.CallOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.srv.AwaitEvent(s.ctx, func(e ari.Event) bool { return e.EventType() == ari.TypeStasisStart }); err != nil {
			t.Fatal(err)
		}
		_ = old.Close()
	}))
	var o *ariapp.Orphan
	select {
	case o = <-got:
	case <-s.ctx.Done():
		t.Fatal("no orphan")
	}
	if o.Kind != "inbound" || !o.InStasis || o.Channel.ID != c.ChannelID() || len(o.Args) != 1 || o.Args[0] != "inbound" {
		t.Errorf("orphan %+v", o)
	}
	if _, err := c.AwaitHangup(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.noLeaks()
}

// TestDrain: when the app stops, the call in progress finishes (within
// the drain bound) and gets its CDR, while a caller arriving now is left
// in Stasis, unanswered, for the next process.
func TestDrain(t *testing.T) {
	s := newStack(t)
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	s.stopRun()
	s.waitFor("app draining", func() bool { return strings.Contains(s.logs.String(), "letting calls in progress finish") })
	late, err := s.srv.Call(s.ctx, "+393339999999", helplineNumber, aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.settle()
	s.advance(3 * time.Second)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.runDone:
	case <-s.ctx.Done():
		t.Fatal("app did not stop after its last call")
	}
	rec, err := s.store.Get(s.ctx, c.ChannelID())
	if err != nil || rec.Outcome != cdr.Answered {
		t.Fatalf("CDR %+v, %v", rec, err)
	}
	if late.Answered() {
		t.Error("a call arriving while stopping was answered")
	}
	if _, ended := late.Ended(); ended {
		t.Error("a call arriving while stopping was hung up")
	}
	if n := s.counter("helpline_ariapp_left_in_stasis_total"); n != 1 {
		t.Errorf("left in Stasis %v, want 1", n)
	}
}

// TestFiftyCalls: fifty callers at once, five operators: every call is
// answered, exactly one CDR each, and Asterisk is left with no channel
// and no bridge.
func TestFiftyCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("fifty calls take a while under -short")
	}
	ps := map[string]aritest.Phone{}
	for i := 1; i <= 5; i++ {
		ps[fmt.Sprintf("op%d", 2000+i)] = aritest.Phone{Answer: aritest.Answer, RingFor: time.Second, TalkFor: 5 * time.Second}
	}
	s := newStack(t, withRedis(), withStep(250*time.Millisecond), withEndpoints(phones(ps)...), withConfig(func(c *ivr.Config) {
		c.WrapUp = time.Second
		c.AnnounceEvery = 30 * time.Second
	}))
	for id := range ps {
		s.login(id, "it", "en")
	}
	calls := make([]*aritest.Call, 50)
	numbers := make([]string, 50)
	for i := range calls {
		numbers[i] = fmt.Sprintf("+3933300%05d", i)
		var err error
		calls[i], err = s.srv.Call(s.ctx, numbers[i], helplineNumber, aritest.CallOptions{Script: pressOne})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.until("fifty CDRs", 30*time.Minute, func() bool {
		n, err := s.store.Count(s.ctx, cdr.Filter{})
		return err == nil && n >= 50
	})
	perOp := map[string]int{}
	for i, c := range calls {
		rec, err := s.store.Get(s.ctx, c.ChannelID())
		if err != nil {
			t.Errorf("call %d: no CDR: %v", i, err)
			continue
		}
		if rec.Outcome != cdr.Answered || ps[rec.Operator] == (aritest.Phone{}) || rec.HangupBy != cdr.HangupOperator {
			t.Errorf("call %d: CDR %+v", i, rec)
		}
		if rec.CallerHash != s.hasher.Identify(numbers[i]).Hash {
			t.Errorf("call %d: caller hash mismatch", i)
		}
		perOp[rec.Operator]++
	}
	if n, _ := s.store.Count(s.ctx, cdr.Filter{}); n != 50 {
		t.Errorf("%d CDRs, want 50", n)
	}
	for id := range ps {
		if perOp[id] == 0 {
			t.Errorf("operator %s took no call (%v)", id, perOp)
		}
	}
	s.until("every channel gone", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
	if n := s.counter("helpline_ariapp_channels_total", "kind", "inbound"); n != 50 {
		t.Errorf("inbound channels %v, want 50", n)
	}
}
