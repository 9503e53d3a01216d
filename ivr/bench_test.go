package ivr_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
)

// BenchmarkInboundToAnswer measures the flow's own cost of one call from
// arrival to the bridge and its CDR (ring, blacklist, answer, welcome with
// a key, queue, dispatch, originate, bridge, hang-up, CDR) on the
// in-memory network and queue: what ivr adds on top of the engine and the
// stores.
func BenchmarkInboundToAnswer(b *testing.B) {
	h := newHarness(b, time.Time{}, withConfig(func(c *ivr.Config) { c.WrapUp = 0 }))
	h.login("op1", ivrtest.Answers(0), "it")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := h.dial(fmt.Sprintf("+39 333 %07d", i), pressIT)
		h.awaitReq(c, "bridge", 1)
		c.HangUp(16)
		if rec := h.record(c); rec.Outcome != cdr.Answered {
			b.Fatalf("outcome %s", rec.Outcome)
		}
	}
}

// BenchmarkConcurrentCalls runs calls from many goroutines against five
// operators, each hung up as soon as it is bridged.
func BenchmarkConcurrentCalls(b *testing.B) {
	h := newHarness(b, time.Time{}, withConfig(func(c *ivr.Config) { c.WrapUp = 0 }))
	for i := 1; i <= 5; i++ {
		h.login(fmt.Sprintf("op%d", i), ivrtest.Answers(0), "it")
	}
	b.ReportAllocs()
	var seq atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			c := h.net.Dial(fmt.Sprintf("+39 347 %07d", n), pressIT)
			ch := make(chan cdr.Record, 1)
			go func() {
				rec, _ := h.flow.Handle(h.ctx, c, c.Number())
				ch <- rec
			}()
			if err := c.AwaitRequest(h.ctx, "bridge", 1); err != nil {
				b.Error(err)
				return
			}
			c.HangUp(16)
			if rec := <-ch; rec.Outcome != cdr.Answered {
				b.Errorf("outcome %s", rec.Outcome)
			}
		}
	})
}
