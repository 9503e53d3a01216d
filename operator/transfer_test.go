package operator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// serviceLeg waits for the call's leg to endpoint and returns it.
func (h *harness) serviceLeg(c *ivrtest.Call, endpoint string) *ivrtest.Leg {
	h.t.Helper()
	var leg *ivrtest.Leg
	h.await("a leg to "+endpoint, func() bool {
		for _, l := range c.Legs() {
			if l.Endpoint() == endpoint && l.Answered() {
				leg = l
				return true
			}
		}
		return false
	})
	return leg
}

// members waits until the call's bridge holds exactly ids.
func (h *harness) members(c *ivrtest.Call, ids ...string) {
	h.t.Helper()
	slices.Sort(ids)
	var got []string
	err := h.net.Await(h.ctx, func() bool {
		bs := c.Bridges()
		if len(bs) != 1 {
			return false
		}
		got = bs[0].Members()
		return slices.Equal(got, ids)
	})
	if err != nil {
		h.t.Fatalf("bridge holds %q, want %q (requests %q)", got, ids, c.Requests())
	}
}

// transferSetup: op1 talks with a caller; op2 is logged in but paused.
func transferSetup(t *testing.T) (*harness, *ivrtest.Call, *ivrtest.Leg) {
	t.Helper()
	h := newHarness(t)
	h.login("op1", ivrtest.Answers(0))
	c, leg := h.talking("op1", harasser)
	return h, c, leg
}

func TestBlindTransferAnswered(t *testing.T) {
	h, c, opLeg := transferSetup(t)
	h.net.SetPhone(cavEndpoint, ivrtest.Answers(0))
	h.clock.Advance(time.Minute)
	opLeg.Press("*21" + cavCode + "#")
	svc := h.serviceLeg(c, cavEndpoint)
	h.members(c, c.ID(), svc.ID())
	if opLeg.Up() {
		t.Error("the operator's leg is still up after a blind transfer")
	}
	op := h.awaitOperator("op1", queue.WrapUp)
	if want := start.Add(time.Minute + h.icfg.WrapUp); !op.WrapUntil.Equal(want) {
		t.Errorf("op1 wrap-up until %v; want %v (from the transfer)", op.WrapUntil, want)
	}
	h.clock.Advance(2 * time.Minute)
	svc.HangUp(ivr.CauseNormal)
	rec := h.record(c)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1" || rec.Transfer != "blind:"+cavCode+":answered" ||
		rec.Target != cavCode || rec.HangupBy != cdr.HangupOperator || rec.TalkSeconds() != 180 {
		t.Errorf("inbound record %+v", rec)
	}
	out := h.awaitOutbound(1)
	if len(out) != 1 || out[0].Outcome != cdr.Answered || out[0].Target != cavCode || out[0].Operator != "op1" || out[0].TalkSeconds() != 0 {
		t.Errorf("outbound records %+v; want one answered, no operator time", out)
	}
	if c.Up() || c.MOH() {
		t.Error("caller still up or on hold")
	}
	if leaks := h.net.Leaks(); len(leaks) > 0 {
		t.Errorf("leaks %q", leaks)
	}
	h.noNumbers(harasser, cavDial)
}

// TestBlindTransferBusy: the service is busy; the operator has gone, so
// the caller goes back to the queue first in line and the next operator
// takes her. The CDR stays one answered record with the failure noted.
func TestBlindTransferBusy(t *testing.T) {
	h, c, opLeg := transferSetup(t)
	h.net.SetPhone(cavEndpoint, ivrtest.Rejects(ivr.CauseBusy, 0))
	h.login("op2", ivrtest.Answers(0))
	h.code("PJSIP/op2", "*13") // paused: the caller must wait for them
	opLeg.Press("*21" + cavCode + "#")
	h.await("caller back in the queue with music", func() bool { return c.MOH() && c.Count("moh_start") >= 2 })
	h.code("PJSIP/op2", "*13")
	h.await("op2 answers", func() bool {
		for _, l := range c.Legs() {
			if l.Endpoint() == "PJSIP/op2" && l.Answered() {
				return true
			}
		}
		return false
	})
	h.awaitReq(c, "bridge leg", 2)
	c.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1" || rec.Transfer != "blind:"+cavCode+":busy" || !rec.ConnectedAt.Equal(start) {
		t.Errorf("record %+v; want op1's answered call with the failed transfer", rec)
	}
	out := h.awaitOutbound(1)
	if out[0].Outcome != cdr.Busy || out[0].HangupCause != ivr.CauseBusy {
		t.Errorf("outbound %+v; want busy", out[0])
	}
	if op := h.awaitOperator("op2", queue.WrapUp); op.CallID != "" {
		t.Errorf("op2 %+v", op)
	}
}

func TestWarmTransfer(t *testing.T) {
	tests := []struct {
		name string
		// act runs once the operator consults the service; it returns the
		// expected bridge members afterwards ("caller", "op", "svc").
		act     func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) []string
		result  string
		opAfter queue.State // op1 right after the act
		end     func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg)
		by      string
		// consultBy is who ended the consultation's outbound CDR.
		consultBy string
	}{
		{
			name: "completed",
			act: func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) []string {
				op.Press("1")
				return []string{"caller", "svc"}
			},
			result:  "completed",
			opAfter: queue.WrapUp,
			end:     func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) { svc.HangUp(16) },
			by:      cdr.HangupOperator, consultBy: cdr.HangupOperator,
		},
		{
			name: "returned to the caller",
			act: func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) []string {
				op.Press("2")
				return []string{"caller", "op"}
			},
			result:  "returned",
			opAfter: queue.Busy,
			end:     func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) { c.HangUp(16) },
			by:      cdr.HangupCaller, consultBy: cdr.HangupOperator,
		},
		{
			name: "three-way, then the operator leaves",
			act: func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) []string {
				op.Press("3")
				return []string{"caller", "op", "svc"}
			},
			result:  "threeway",
			opAfter: queue.Busy,
			end: func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) {
				op.HangUp(16)
				h.awaitOperator("op1", queue.WrapUp)
				if !c.Up() || !svc.Up() {
					h.t.Error("the caller and the service did not stay together when the operator left")
				}
				h.clock.Advance(time.Minute)
				c.HangUp(16)
			},
			by: cdr.HangupCaller, consultBy: cdr.HangupOperator,
		},
		{
			name: "operator hangs up during the consultation",
			act: func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) []string {
				op.HangUp(16)
				return []string{"caller", "svc"}
			},
			result:  "completed",
			opAfter: queue.WrapUp,
			end:     func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) { c.HangUp(16) },
			by:      cdr.HangupCaller, consultBy: cdr.HangupOperator,
		},
		{
			name: "service hangs up during the consultation",
			act: func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) []string {
				svc.HangUp(16)
				return []string{"caller", "op"}
			},
			result:  "returned",
			opAfter: queue.Busy,
			end:     func(h *harness, c *ivrtest.Call, op, svc *ivrtest.Leg) { op.HangUp(16) },
			by:      cdr.HangupOperator, consultBy: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, c, opLeg := transferSetup(t)
			h.net.SetPhone(cavEndpoint, ivrtest.Answers(0))
			opLeg.Press("*22" + cavCode + "#")
			svc := h.serviceLeg(c, cavEndpoint)
			h.members(c, opLeg.ID(), svc.ID())
			if !c.MOH() {
				t.Error("caller not on hold during the consultation")
			}
			opLeg.Press("9") // a key for the service's own menu: nothing happens
			h.clock.Advance(30 * time.Second)
			ids := map[string]string{"caller": c.ID(), "op": opLeg.ID(), "svc": svc.ID()}
			var want []string
			for _, who := range tt.act(h, c, opLeg, svc) {
				want = append(want, ids[who])
			}
			h.members(c, want...)
			if c.MOH() {
				t.Error("caller still on hold after the consultation")
			}
			out := h.awaitOutbound(1)
			if len(out) != 1 || out[0].Outcome != cdr.Answered || out[0].TalkSeconds() != 30 || out[0].Target != cavCode || out[0].HangupBy != tt.consultBy {
				t.Errorf("consultation records %+v; want one answered, 30 s, ended by %q", out, tt.consultBy)
			}
			h.awaitOperator("op1", tt.opAfter)
			tt.end(h, c, opLeg, svc)
			rec := h.record(c)
			if rec.Outcome != cdr.Answered || rec.Transfer != "warm:"+cavCode+":"+tt.result || rec.Target != cavCode || rec.HangupBy != tt.by {
				t.Errorf("inbound record %+v; want transfer %s, hung up by %s", rec, tt.result, tt.by)
			}
			h.awaitFreed("op1")
			if leaks := h.net.Leaks(); len(leaks) > 0 {
				t.Errorf("leaks %q", leaks)
			}
			for _, l := range []*ivrtest.Leg{opLeg, svc} {
				if l.Up() {
					t.Errorf("leg %s still up", l.ID())
				}
			}
			h.noNumbers(harasser, cavDial)
		})
	}
}

// TestWarmTransferCallerHangsUp: the caller hangs up on hold; the
// consultation goes on (the operator may still need the police), and the
// caller's CDR ends when she hung up.
func TestWarmTransferCallerHangsUp(t *testing.T) {
	h, c, opLeg := transferSetup(t)
	h.net.SetPhone(policeEndpoint, ivrtest.Answers(0))
	opLeg.Press("*22" + policeCode + "#")
	svc := h.serviceLeg(c, policeEndpoint)
	h.members(c, opLeg.ID(), svc.ID())
	h.clock.Advance(10 * time.Second)
	c.HangUp(16)
	hungUp := h.clock.Now()
	h.eventually("the consultation saw the caller go", func() bool {
		return h.counter("helpline_operator_transfers_total", "result", "abandoned") == 1
	})
	h.clock.Advance(50 * time.Second)
	if !opLeg.Up() || !svc.Up() {
		t.Fatal("the consultation ended with the caller")
	}
	svc.HangUp(16)
	rec := h.record(c)
	if rec.Transfer != "warm:"+policeCode+":abandoned" || !rec.EndedAt.Equal(hungUp) || rec.HangupBy != cdr.HangupCaller {
		t.Errorf("inbound record %+v; want abandoned, ended at %v by the caller", rec, hungUp)
	}
	out := h.awaitOutbound(1)
	if out[0].TalkSeconds() != 60 {
		t.Errorf("consultation %+v; want 60 s", out[0])
	}
	if opLeg.Up() {
		t.Error("operator's leg left up")
	}
	h.awaitOperator("op1", queue.WrapUp)
}

// TestWarmTransferFails: the service does not take the call; the operator
// is back with the caller; pressing Return while it rings cancels.
func TestWarmTransferFails(t *testing.T) {
	h, c, opLeg := transferSetup(t)
	h.net.SetPhone(cavEndpoint, ivrtest.Rejects(ivr.CauseCongestion, 0))
	opLeg.Press("*22" + cavCode + "#")
	h.members(c, c.ID(), opLeg.ID())
	h.await("caller off hold", func() bool { return c.Count("moh_stop") >= 2 && !c.MOH() })
	h.net.SetPhone(cavEndpoint, ivrtest.NeverAnswers())
	opLeg.Press("*22" + cavCode + "#")
	h.await("ringing", func() bool { return c.Count("originate "+cavEndpoint) == 2 })
	opLeg.Press("2")
	h.members(c, c.ID(), opLeg.ID())
	c.HangUp(16)
	rec := h.record(c)
	if rec.Transfer != "warm:"+cavCode+":cancelled" {
		t.Errorf("record %+v; want the last transfer, cancelled", rec)
	}
	out := h.awaitOutbound(2)
	if out[0].Outcome != cdr.Busy || out[1].Outcome != cdr.NoAnswer || out[1].HangupBy != cdr.HangupOperator {
		t.Errorf("outbound %+v; want busy (congestion) then no_answer cancelled by the operator", out)
	}
	if leaks := h.net.Leaks(); len(leaks) > 0 {
		t.Errorf("leaks %q", leaks)
	}
}

// TestTransferUnknownCode: nothing happens, the talk goes on.
func TestTransferUnknownCode(t *testing.T) {
	h, c, opLeg := transferSetup(t)
	opLeg.Press("*219999#")
	opLeg.Press("*22#")
	h.eventually("codes handled", func() bool {
		return h.counter("helpline_operator_transfers_total", "result", "unknown_service") == 2
	})
	h.members(c, c.ID(), opLeg.ID())
	c.HangUp(16)
	if rec := h.record(c); rec.Transfer != "" || rec.Target != "" {
		t.Errorf("record %+v; want no transfer", rec)
	}
}
