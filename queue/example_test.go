package queue_test

import (
	"context"
	"fmt"
	"time"

	"github.com/helpline-it/helpline/queue"
)

// A caller waits, the only Italian-speaking operator's phone does not
// answer: the operator is paused and the caller keeps their place for the
// next operator.
func ExampleMemory() {
	ctx := context.Background()
	q, _ := queue.NewMemory("1522")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	_ = q.Login(ctx, queue.Operator{ID: "anna", Endpoint: "PJSIP/anna", Skills: []string{"it"}}, t0)
	_ = q.Enqueue(ctx, queue.Call{ID: "chan-1", Language: "it", Tag: "a1b2c3d4", Enqueued: t0.Add(time.Second)})
	_ = q.Enqueue(ctx, queue.Call{ID: "chan-2", Language: "it", Tag: "e5f6a7b8", Enqueued: t0.Add(2 * time.Second)})

	o, _ := q.Assign(ctx, t0.Add(3*time.Second), 30*time.Second)
	fmt.Println("ringing", o.Endpoint, "for", o.CallID)

	_ = q.RingFailed(ctx, o, true, "no_answer", t0.Add(23*time.Second))
	anna, _ := q.Operator(ctx, "anna")
	fmt.Println("anna is", anna.State, "("+anna.PauseReason+")")

	_, err := q.Assign(ctx, t0.Add(24*time.Second), 30*time.Second)
	fmt.Println(err)

	_ = q.Login(ctx, queue.Operator{ID: "bruno", Endpoint: "PJSIP/bruno", Skills: []string{"it", "en"}}, t0.Add(25*time.Second))
	o, _ = q.Assign(ctx, t0.Add(26*time.Second), 30*time.Second)
	fmt.Println("ringing", o.Endpoint, "for", o.CallID)
	// Output:
	// ringing PJSIP/anna for chan-1
	// anna is paused (no_answer)
	// queue: no call/operator match
	// ringing PJSIP/bruno for chan-1
}
