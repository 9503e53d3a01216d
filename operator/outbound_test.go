package operator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/operator"
	"github.com/helpline-it/helpline/queue"
)

// TestOutboundCall: *20<code> from the operator's phone rings the service
// through the trunk and writes one outbound CDR per call, its outcome from
// the real cause (see the table in doc.go).
func TestOutboundCall(t *testing.T) {
	tests := []struct {
		name    string
		phone   ivrtest.Phone
		talk    time.Duration // answered: talk this long, then the service hangs up
		outcome cdr.Outcome
		cause   int
		ring    time.Duration
	}{
		{"answered", ivrtest.Answers(4 * time.Second), 2 * time.Minute, cdr.Answered, ivr.CauseNormal, 4 * time.Second},
		{"busy 486", ivrtest.Rejects(ivr.CauseBusy, 2*time.Second), 0, cdr.Busy, ivr.CauseBusy, 2 * time.Second},
		{"no answer (ring timeout)", ivrtest.NeverAnswers(), 0, cdr.NoAnswer, ivr.CauseNoAnswer, 20 * time.Second},
		{"congestion 503", ivrtest.Rejects(ivr.CauseCongestion, 0), 0, cdr.Busy, ivr.CauseCongestion, 0},
		{"declined 603", ivrtest.Rejects(ivr.CauseRejected, 3*time.Second), 0, cdr.NoAnswer, ivr.CauseRejected, 3 * time.Second},
		{"unallocated", ivrtest.Rejects(ivr.CauseUnallocated, 0), 0, cdr.Failed, ivr.CauseUnallocated, 0},
		{"trunk down (allocation failed)", ivrtest.Unreachable(), 0, cdr.Failed, ivr.CauseUnknown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.login("op1", ivrtest.Answers(0))
			h.net.SetPhone(cavEndpoint, tt.phone)
			began := h.clock.Now()
			c, done := h.dialIn("PJSIP/op1", "*20"+cavCode)
			h.awaitReq(c, "originate "+cavEndpoint, 1)
			if tt.ring > 0 {
				if op := h.operator("op1"); op.State != queue.Paused || op.PauseReason != operator.PauseOutbound {
					t.Errorf("op1 during the call: %s %q; want paused (outbound_call)", op.State, op.PauseReason)
				}
				h.blockUntil(3) // the dispatcher's tick, the ring guard, the phone
				h.clock.Advance(tt.ring)
			}
			if tt.outcome == cdr.Answered {
				h.await("service answered", func() bool { return c.Count("bridge") > 0 })
				h.blockUntil(1)
				h.clock.Advance(tt.talk)
				c.Legs()[0].HangUp(ivr.CauseNormal)
			}
			h.wait(done)
			recs := h.awaitOutbound(1)
			if len(recs) != 1 {
				t.Fatalf("outbound records %+v; want one", recs)
			}
			r := recs[0]
			if r.Outcome != tt.outcome || r.Operator != "op1" || r.Target != cavCode || r.Service != "1522" ||
				r.CalleeHash != h.hasher.Identify(cavDial).Hash || r.HangupCause != tt.cause || !r.ArrivedAt.Equal(began) {
				t.Errorf("record %+v; want %s, cause %d, op1, target %s, callee hashed", r, tt.outcome, tt.cause, cavCode)
			}
			if tt.outcome == cdr.Answered {
				if !r.ConnectedAt.Equal(began.Add(tt.ring)) || r.TalkSeconds() != tt.talk.Seconds() {
					t.Errorf("answered %v after %v, talk %vs; want after %v, %v", r.ConnectedAt, began, r.TalkSeconds(), tt.ring, tt.talk)
				}
				want := []string{"ring", "originate " + cavEndpoint + " 20s", "leg leg-3 answered", "answer", "bridge leg-3", "operator hangs up leg-3", "bridge_destroy", "hangup 16"}
				if got := c.Requests(); !slices.Equal(got, want) {
					t.Errorf("requests %q\nwant %q", got, want)
				}
			} else {
				if !r.ConnectedAt.IsZero() || !r.EndedAt.Equal(began.Add(tt.ring)) {
					t.Errorf("unanswered record %+v; want no connected_at, ended after %v", r, tt.ring)
				}
				if !slices.Contains(c.Requests(), prompt("unreachable")) {
					t.Errorf("requests %q; want the unreachable prompt", c.Requests())
				}
			}
			if op := h.awaitOperator("op1", queue.Available); op.PauseReason != "" {
				t.Errorf("op1 after the call %+v; want available", op)
			}
			if leaks := h.net.Leaks(); len(leaks) > 0 {
				t.Errorf("leaks %q", leaks)
			}
			h.noNumbers(cavDial)
			if n := h.counter("helpline_operator_outbound_calls_total", "outcome", string(tt.outcome)); n != 1 {
				t.Errorf("outbound counted %v for %s", n, tt.outcome)
			}
		})
	}
}

// TestOutboundOperatorGivesUp: the operator hangs up while the service
// rings: no answer, hung up by the operator, the leg cancelled.
func TestOutboundOperatorGivesUp(t *testing.T) {
	h := newHarness(t)
	h.login("op1", ivrtest.Answers(0))
	h.net.SetPhone(cavEndpoint, ivrtest.NeverAnswers())
	c, done := h.dialIn("PJSIP/op1", "*20"+cavCode)
	h.awaitReq(c, "originate", 1)
	h.clock.Advance(5 * time.Second)
	c.HangUp(16)
	h.wait(done)
	r := h.awaitOutbound(1)[0]
	if r.Outcome != cdr.NoAnswer || r.HangupBy != cdr.HangupOperator || !r.EndedAt.Equal(start.Add(5*time.Second)) {
		t.Errorf("record %+v; want no_answer hung up by the operator after 5s", r)
	}
	if leaks := h.net.Leaks(); len(leaks) > 0 {
		t.Errorf("leaks %q", leaks)
	}
	h.awaitOperator("op1", queue.Available)
}

// TestOutboundOperatorHangsUpFirst: an answered call ended by the
// operator; keyed after the feature line (the call was answered first, so
// the operator hears music while the service rings).
func TestOutboundOperatorHangsUpFirst(t *testing.T) {
	h := newHarness(t)
	h.net.SetPhone(cavEndpoint, ivrtest.Answers(0))
	c, done := h.dialIn("PJSIP/op1", "9000", ivrtest.OnPlay("sound:helpline/operator-enter-code", ivrtest.Press("*201234#")))
	h.awaitReq(c, "bridge", 1)
	h.clock.Advance(time.Minute)
	c.HangUp(16)
	h.wait(done)
	r := h.awaitOutbound(1)[0]
	if r.Outcome != cdr.Answered || r.HangupBy != cdr.HangupOperator || r.TalkSeconds() != 60 {
		t.Errorf("record %+v; want answered, 60 s, hung up by the operator", r)
	}
	want := []string{"answer", prompt("enter-code"), "moh_start", "originate " + cavEndpoint + " 20s", "leg leg-2 answered", "moh_stop", "bridge leg-2", "hangup leg-2 16", "bridge_destroy"}
	if got := c.Requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q\nwant %q", got, want)
	}
	if _, err := h.q.Operator(h.ctx, "op1"); err == nil {
		t.Error("a logged-out operator's call to a service logged them in")
	}
}

func TestOutboundUnknownService(t *testing.T) {
	h := newHarness(t)
	for _, code := range []string{"*209999", "*20", "*2012ab"} {
		c := h.code("PJSIP/op1", code)
		if !slices.Contains(c.Requests(), prompt("refused")) || c.Count("originate") != 0 {
			t.Errorf("%s: requests %q; want refused without a call", code, c.Requests())
		}
	}
	if recs := h.outbound(); len(recs) != 0 {
		t.Errorf("records %+v; want none", recs)
	}
}
