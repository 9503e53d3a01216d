package ivr_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// talkHandler is a scriptable ivr.TalkHandler.
type talkHandler struct {
	mu        sync.Mutex
	connected []string // "<operator> <caller tag>"
	codes     []string
	feature   func(ctx context.Context, t *ivr.Talk, code string)
	got       chan string
}

func newTalkHandler(feature func(ctx context.Context, t *ivr.Talk, code string)) *talkHandler {
	return &talkHandler{feature: feature, got: make(chan string, 16)}
}

func (h *talkHandler) Connected(_ context.Context, t *ivr.Talk) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.connected = append(h.connected, t.Operator+" "+t.Caller.Tag())
}

func (h *talkHandler) Feature(ctx context.Context, t *ivr.Talk, code string) {
	h.mu.Lock()
	h.codes = append(h.codes, code)
	f := h.feature
	h.mu.Unlock()
	if f != nil {
		f(ctx, t, code)
	}
	h.got <- code
}

func (h *talkHandler) Codes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.codes)
}

// nextCode waits for the handler's next finished Feature.
func (h *talkHandler) nextCode(hh *harness) string {
	hh.t.Helper()
	select {
	case c := <-h.got:
		return c
	case <-hh.ctx.Done():
		hh.t.Fatalf("no feature code reached the handler (codes so far %q)", h.Codes())
		return ""
	}
}

// talking dials a caller, lets op1 answer and returns the call and op1's
// leg once the two are bridged.
func talking(h *harness) (*ivrtest.Call, *ivrtest.Leg) {
	h.t.Helper()
	h.login("op1", ivrtest.Answers(0), "it")
	c := h.dial(testNumber, pressIT)
	h.awaitReq(c, "bridge leg", 1)
	legs := c.Legs()
	if len(legs) != 1 {
		h.t.Fatalf("legs %v", legs)
	}
	return c, legs[0]
}

func TestTalkConnectedAndFlaggedWrapUp(t *testing.T) {
	th := newTalkHandler(func(_ context.Context, tk *ivr.Talk, code string) {
		if code == "*14" {
			tk.Flag()
		}
	})
	h := newHarness(t, time.Time{}, withTalk(th), withConfig(func(c *ivr.Config) {
		c.WrapUp, c.FlaggedWrapUp = 30*time.Second, 5*time.Minute
	}))
	c, leg := talking(h)
	leg.Press("*14#")
	if got := th.nextCode(h); got != "*14" {
		t.Fatalf("code %q; want *14", got)
	}
	leg.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Answered || rec.HangupBy != cdr.HangupOperator {
		t.Errorf("record %+v", rec)
	}
	op := h.operator("op1")
	if op.State != queue.WrapUp || !op.WrapUntil.Equal(rec.EndedAt.Add(5*time.Minute)) {
		t.Errorf("op1 %s until %v; want wrap-up until %v (flagged)", op.State, op.WrapUntil, rec.EndedAt.Add(5*time.Minute))
	}
	th.mu.Lock()
	conn := slices.Clone(th.connected)
	th.mu.Unlock()
	if want := []string{"op1 " + h.hasher.Identify(testNumber).Tag()}; !slices.Equal(conn, want) {
		t.Errorf("Connected calls %q; want %q", conn, want)
	}
	h.noLeaks()
}

func TestTalkUnflaggedWrapUp(t *testing.T) {
	h := newHarness(t, time.Time{}, withTalk(newTalkHandler(nil)), withConfig(func(c *ivr.Config) {
		c.WrapUp, c.FlaggedWrapUp = 30*time.Second, 5*time.Minute
	}))
	c, _ := talking(h)
	c.HangUp(16)
	rec := h.record(c)
	if op := h.operator("op1"); !op.WrapUntil.Equal(rec.EndedAt.Add(30 * time.Second)) {
		t.Errorf("op1 wrap-up until %v; want %v", op.WrapUntil, rec.EndedAt.Add(30*time.Second))
	}
	h.noLeaks()
}

// TestTalkFeatureKeys: keys before a '*' go to the far end, a code ends
// at '#' or after FeatureTimeout without a key, garbage is dropped.
func TestTalkFeatureKeys(t *testing.T) {
	th := newTalkHandler(nil)
	h := newHarness(t, time.Time{}, withTalk(th), withConfig(func(c *ivr.Config) { c.FeatureTimeout = 3 * time.Second }))
	c, leg := talking(h)
	leg.Press("12\x00*21234#")
	if got := th.nextCode(h); got != "*21234" {
		t.Errorf("first code %q; want *21234", got)
	}
	read := func() { h.eventually("keys read", func() bool { return leg.Pending() == 0 }) }
	// Each key restarts the timer: 2 s pauses never end the code.
	leg.Press("*1")
	read()
	h.advance(3, 2*time.Second) // tick, max wait, the code's timer
	leg.Press("3")
	read()
	h.advance(3, 2*time.Second)
	leg.Press("4#")
	if got := th.nextCode(h); got != "*134" {
		t.Errorf("second code %q; want *134 (the timer restarts on each key)", got)
	}
	// A pause of FeatureTimeout ends it.
	leg.Press("*15")
	read()
	h.advance(3, 3*time.Second)
	if got := th.nextCode(h); got != "*15" {
		t.Errorf("third code %q; want *15 (ended by the pause)", got)
	}
	c.HangUp(16)
	h.record(c)
	if got := th.Codes(); len(got) != 3 {
		t.Errorf("codes %q; want three", got)
	}
	h.noLeaks()
}

// TestTalkHandOver: the operator hands the caller to a service leg; the
// operator is freed at once, the caller talks on until the service hangs
// up, and the one CDR notes the transfer.
func TestTalkHandOver(t *testing.T) {
	th := newTalkHandler(func(ctx context.Context, tk *ivr.Talk, code string) {
		svc, err := tk.Call.Originate(ctx, ivr.OriginateRequest{Endpoint: "PJSIP/0495550101@trunk", Operator: tk.Operator, Timeout: 20 * time.Second})
		if err != nil {
			t.Errorf("originate: %v", err)
			return
		}
		if err := tk.Bridge.Add(ctx, svc); err != nil {
			t.Errorf("add: %v", err)
		}
		_ = tk.Bridge.Remove(ctx, tk.Leg)
		_ = tk.Leg.Hangup(ctx, ivr.CauseNormal)
		tk.OperatorLeft()
		tk.Join(svc)
		tk.NoteTransfer("blind:1234:answered", "1234")
	})
	h := newHarness(t, time.Time{}, withTalk(th))
	h.net.SetPhone("PJSIP/0495550101@trunk", ivrtest.Answers(0))
	c, leg := talking(h)
	leg.Press("*211234#")
	th.nextCode(h)
	h.awaitQueue("op1 freed as soon as the caller was handed over", func(s queue.Snapshot) bool {
		return len(s.Operators) == 1 && s.Operators[0].State == queue.WrapUp
	})
	legs := c.Legs()
	svc := legs[len(legs)-1]
	if got := c.Bridges()[0].Members(); !slices.Equal(got, []string{c.ID(), svc.ID()}) {
		t.Errorf("bridge members %q; want the caller and the service", got)
	}
	h.clock.Advance(time.Minute)
	svc.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1" || rec.Transfer != "blind:1234:answered" || rec.Target != "1234" ||
		rec.HangupBy != cdr.HangupOperator || rec.TalkSeconds() != 60 {
		t.Errorf("record %+v", rec)
	}
	if c.Up() || leg.Up() {
		t.Error("caller or operator still up")
	}
	h.noLeaks()
}

// TestTalkRequeue: a transfer failed after the operator left; the caller
// goes back to the queue first in line, the next operator answers, and
// the CDR stays the first operator's answered call with the note.
func TestTalkRequeue(t *testing.T) {
	th := newTalkHandler(func(ctx context.Context, tk *ivr.Talk, code string) {
		_ = tk.Bridge.Remove(ctx, tk.Call)
		_ = tk.Leg.Hangup(ctx, ivr.CauseNormal)
		tk.OperatorLeft()
		tk.NoteTransfer("blind:1234:busy", "1234")
		tk.Requeue()
	})
	h := newHarness(t, time.Time{}, withTalk(th))
	c, leg := talking(h)
	h.login("op2", ivrtest.Answers(0), "it")
	h.pause("op2", "break")
	h.clock.Advance(15 * time.Minute) // past MaxWait since the queue entry: a fresh one applies
	leg.Press("*211234#")
	th.nextCode(h)
	h.awaitQueued(c)
	if err := h.q.Unpause(h.ctx, "op2", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.awaitReq(c, "bridge leg", 2)
	c.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1" || rec.Transfer != "blind:1234:busy" || !rec.ConnectedAt.Equal(monday15) {
		t.Errorf("record %+v; want op1's answered call with the failed transfer noted", rec)
	}
	if op := h.operator("op2"); op.State != queue.WrapUp {
		t.Errorf("op2 %s; want wrap-up after taking the caller back", op.State)
	}
	h.noLeaks()
}
