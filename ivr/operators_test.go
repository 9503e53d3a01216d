package ivr_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// originates lists the endpoints c's flow rang, in order.
func originates(c *ivrtest.Call) []string {
	var out []string
	for _, r := range c.Requests() {
		if ep, ok := strings.CutPrefix(r, "originate "); ok {
			out = append(out, strings.Fields(ep)[0])
		}
	}
	return out
}

func TestRingFailureAutoPausesAndTriesTheNext(t *testing.T) {
	tests := []struct {
		name    string
		phone   ivrtest.Phone
		ring    time.Duration // how long op1's phone rings before failing
		failure ivr.Failure
		reason  string
		trace   string // what the network logged for op1's leg
	}{
		{"no answer", ivrtest.NeverAnswers(), 20 * time.Second, ivr.FailNoAnswer, ivr.PauseNoAnswer, "leg leg-2 failed 19"},
		{"busy 486", ivrtest.Rejects(17, 2*time.Second), 2 * time.Second, ivr.FailBusy, ivr.PauseNoAnswer, "leg leg-2 failed 17"},
		{"declined 603", ivrtest.Rejects(21, 2*time.Second), 2 * time.Second, ivr.FailRejected, ivr.PauseNoAnswer, "leg leg-2 failed 21"},
		{"congestion 503", ivrtest.Rejects(34, 0), 0, ivr.FailCongestion, ivr.PauseUnreachable, "leg leg-2 failed 34"},
		{"not registered", ivrtest.Unreachable(), 0, ivr.FailFailed, ivr.PauseUnreachable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			h.login("op1", tt.phone, "it") // longest idle (ties go by ID): rung first
			h.login("op2", ivrtest.Answers(0), "it")
			c := h.dial(testNumber, pressIT)
			h.awaitReq(c, "originate", 1)
			if tt.ring > 0 {
				h.advance(4, tt.ring) // tick, max wait, ring guard, the phone
			}
			h.awaitReq(c, "bridge", 1)
			c.HangUp(16)
			rec := h.record(c)
			if rec.Outcome != cdr.Answered || rec.Operator != "op2" || !rec.QueuedAt.Equal(monday15) ||
				!rec.ConnectedAt.Equal(monday15.Add(tt.ring)) {
				t.Errorf("record %+v; want answered by op2 after %v in the queue", rec, tt.ring)
			}
			if got := originates(c); !slices.Equal(got, []string{"PJSIP/op1", "PJSIP/op2"}) {
				t.Errorf("rang %q; want op1 then op2", got)
			}
			want := slices.Concat(queuedRequests, []string{"originate PJSIP/op1 20s"})
			leg := "leg-2" // op2's leg; an unreachable op1 got none
			if tt.trace != "" {
				want = append(want, tt.trace)
				leg = "leg-3"
			}
			want = append(want, "originate PJSIP/op2 20s", "leg "+leg+" answered", "moh_stop", "bridge "+leg,
				"hangup "+leg+" 16", "bridge_destroy")
			wantRequests(t, c, want)
			op1 := h.operator("op1")
			if op1.State != queue.Paused || op1.PauseReason != tt.reason {
				t.Errorf("op1 %s (%q); want paused (%q)", op1.State, op1.PauseReason, tt.reason)
			}
			if n := h.counter("helpline_ivr_ring_failures_total", "failure", string(tt.failure)); n != 1 {
				t.Errorf("ring_failures_total{%s} = %v", tt.failure, n)
			}
			h.noLeaks()
		})
	}
}

// A caller whose operator did not answer keeps their place: the next
// operator takes them before a later caller; and an operator in wrap-up
// is offered nothing until the wrap-up ends (woken by the wrap-up's own
// timer, not by the dispatcher's tick).
func TestCallerKeepsPlaceAndWrapUpIsRespected(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.DispatchEvery = time.Hour }))
	h.login("op1", ivrtest.NeverAnswers(), "it")
	h.login("op2", ivrtest.Answers(0), "it")
	h.pause("op2", "break")
	a := h.dial(testNumber, pressIT)
	h.awaitReq(a, "originate PJSIP/op1", 1)
	h.clock.Advance(time.Second)
	b := h.dial("+39 06 1234 5678", pressIT)
	h.awaitQueued(b)
	h.advance(5, 20*time.Second) // tick, two max waits, ring guard, op1's phone
	h.awaitQueue("op1 auto-paused", func(s queue.Snapshot) bool {
		return slices.ContainsFunc(s.Operators, func(o queue.Operator) bool { return o.ID == "op1" && o.State == queue.Paused })
	})
	if err := h.q.Unpause(h.ctx, "op2", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.awaitReq(a, "bridge", 1)
	if n := b.Count("originate"); n != 0 {
		t.Fatalf("the later caller was rung first (%q)", b.Requests())
	}
	h.clock.Advance(time.Minute)
	a.HangUp(16)
	ra := h.record(a)
	// a: queued at 0, op1 rang from 0 to 21 s (the clock moved 1 s before
	// b dialled), op2 answered at 21 s.
	if ra.Operator != "op2" || ra.WaitSeconds() != 21 {
		t.Errorf("first caller: %+v; want op2 after 21 s", ra)
	}
	// op2 wraps up for 30 s. At 29 s nothing can be offered; at 30 s the
	// wrap-up's timer wakes the dispatcher (its tick is an hour away).
	h.advance(3, 29*time.Second) // tick, b's max wait, the wrap-up wake
	if _, err := h.q.Assign(h.ctx, h.clock.Now(), time.Second); err != queue.ErrNoMatch && !strings.Contains(fmt.Sprint(err), "no call/operator match") {
		t.Fatalf("during the wrap-up Assign = %v; want no match", err)
	}
	if op := h.operator("op2"); op.State != queue.WrapUp {
		t.Fatalf("op2 %s during the wrap-up", op.State)
	}
	h.clock.Advance(time.Second)
	h.awaitReq(b, "bridge", 1)
	b.HangUp(16)
	rb := h.record(b)
	// b: queued at 1 s; a talked 21–81 s; op2 wrapped up until 111 s.
	wantWait := float64(111 - 1)
	if rb.Operator != "op2" || rb.WaitSeconds() != wantWait {
		t.Errorf("second caller: %+v; want op2 after %v s", rb, wantWait)
	}
	h.noLeaks()
}

func TestArrivalOrderWithOneOperator(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.WrapUp = 0 }))
	h.login("op1", ivrtest.Answers(0), "it")
	h.pause("op1", "break")
	var calls []*ivrtest.Call
	for i := range 3 {
		c := h.dial(fmt.Sprintf("+39 333 000 00%02d", i), pressIT)
		h.awaitQueued(c)
		calls = append(calls, c)
		h.clock.Advance(time.Second)
	}
	if err := h.q.Unpause(h.ctx, "op1", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		h.awaitReq(c, "bridge", 1)
		for _, later := range calls[i+1:] {
			if later.Count("originate") != 0 {
				t.Fatalf("%s rung before %s", later.ID(), c.ID())
			}
		}
		c.HangUp(16)
		if rec := h.record(c); rec.Outcome != cdr.Answered {
			t.Fatalf("%s: %s", c.ID(), rec.Outcome)
		}
	}
	h.noLeaks()
}

// Fifty callers, five operators: every call gets exactly one valid CDR
// and nothing leaks. Some callers hang up in the queue, some leave a
// message; the others are answered and hung up by either side.
func TestFiftyConcurrentCalls(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.WrapUp = 0 }))
	for i := 1; i <= 5; i++ {
		h.login(fmt.Sprintf("op%d", i), ivrtest.Answers(0), "it", "en")
	}
	var calls []*ivrtest.Call
	want := map[cdr.Outcome]int{}
	for i := 1; i <= 50; i++ {
		steps := []ivrtest.Step{ivrtest.OnPlay(pWelcome, ivrtest.Press([]string{"1", "2"}[i%2]))}
		switch {
		case i%10 == 0:
			steps = append(steps, ivrtest.OnMOH(ivrtest.HangUp(16)))
			want[cdr.Abandoned]++
		case i%7 == 0:
			steps = append(steps, ivrtest.OnMOH(ivrtest.Press("9")), ivrtest.OnRecord(ivrtest.Press("#")))
			want[cdr.Voicemail]++
		default:
			want[cdr.Answered]++
		}
		calls = append(calls, h.dial(fmt.Sprintf("+39 333 100 %04d", i), steps...))
	}
	// Hang up every bridged call, alternately as the caller and as the
	// operator, until every call is down.
	for k := 0; ; k++ {
		var target *ivrtest.Call
		h.await("a bridged call or the end", func() bool {
			target = nil
			down := true
			for _, c := range calls {
				if c.Up() {
					down = false
					if c.Count("bridge ") > 0 {
						target = c
						return true
					}
				}
			}
			return down
		})
		if target == nil {
			break
		}
		if k%2 == 0 {
			target.HangUp(16)
		} else {
			legs := target.Legs()
			legs[len(legs)-1].HangUp(16)
		}
		h.await("the call down", func() bool { return !target.Up() })
	}
	got := map[cdr.Outcome]int{}
	for _, c := range calls {
		rec := h.record(c)
		got[rec.Outcome]++
		if rec.Outcome == cdr.Answered && rec.Operator == "" {
			t.Errorf("%s answered by nobody", c.ID())
		}
	}
	for o, n := range want {
		if got[o] != n {
			t.Errorf("%s: %d calls; want %d (all: %v)", o, got[o], n, got)
		}
	}
	n, err := h.store.Count(h.ctx, cdr.Filter{})
	if err != nil || n != 50 {
		t.Errorf("store holds %d records (%v); want 50", n, err)
	}
	h.noLeaks()
	for i := 1; i <= 5; i++ {
		if op := h.operator(fmt.Sprintf("op%d", i)); op.State != queue.Available {
			t.Errorf("op%d ends %s", i, op.State)
		}
	}
}
