package ivr_test

import (
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
)

// assignObservations is the number of samples of helpline_assign_seconds.
func assignObservations(t *testing.T, h *harness) uint64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "helpline_assign_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("helpline_assign_seconds is not registered")
	return 0
}

// Each offer handed to a caller's flow is one assign-latency sample;
// callers who wait for nobody add none.
func TestAssignLatencyObserved(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.WrapUp = 0 }))
	if n := assignObservations(t, h); n != 0 {
		t.Fatalf("%d samples before any call", n)
	}
	h.login("op1", ivrtest.Answers(0), "it")
	c := h.dial("+39 333 000 0001", pressIT)
	h.awaitReq(c, "bridge", 1)
	if n := assignObservations(t, h); n != 1 {
		t.Errorf("%d samples after one offer, want 1", n)
	}
	c.HangUp(16)
	if rec := h.record(c); rec.Outcome != cdr.Answered {
		t.Fatalf("outcome %s", rec.Outcome)
	}
	h.noLeaks()
}
