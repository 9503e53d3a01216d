package ivr_test

import (
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// A queue entry of this node that no flow owns (its channel vanished while
// the app was down and nobody re-adopted it) is offered first forever and
// would starve the calls behind it. Once the re-adoption window has passed,
// the dispatcher removes it and serves the live call.
func TestDispatcherRemovesAnOrphanAfterTheAdoptionWindow(t *testing.T) {
	h := newHarness(t, time.Time{})
	orphan := queue.Call{ID: "gone-1", Service: "1522", Language: "it", Node: h.cfg.Node, Tag: "anonimo",
		Enqueued: monday15.Add(-5 * time.Minute)}
	if err := h.q.Enqueue(h.ctx, orphan); err != nil {
		t.Fatal(err)
	}
	h.login("op1", ivrtest.Answers(0), "it")
	c := h.dial(testNumber, pressIT)
	h.awaitQueued(c)
	if c.Count("originate") != 0 {
		t.Fatal("the live call overtook an entry that was not yet known to be an orphan")
	}
	h.advance(2, time.Minute) // tick, max wait
	h.awaitReq(c, "bridge", 1)
	c.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Answered || rec.WaitSeconds() != 60 {
		t.Errorf("record %+v; want answered after the 60 s window", rec)
	}
	h.noLeaks() // the orphan is gone from the queue too
}
