package queue_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// TestRedisThroughSentinel: the queue on a Redis watched by a Sentinel,
// through go-redis's FailoverClient (what redis.sentinel configures). The
// master dies with a call offered to an operator; the sentinel promotes
// the replica, the client follows it, and the offer made before the
// failover is answered after it: the state survived (it was replicated
// before the kill, as WAIT ensures).
func TestRedisThroughSentinel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	master := testenv.StartRedis(t)
	_, mport, _ := net.SplitHostPort(master.Addr)
	replica := testenv.StartRedis(t, "--replicaof", "127.0.0.1", mport)
	if err := testenv.AwaitReplicated(ctx, replica.Addr); err != nil {
		t.Fatal(err)
	}
	s := testenv.StartSentinel(t, "helpline", master)
	if err := s.AwaitReplicas(ctx, 1); err != nil {
		t.Fatal(err)
	}
	client := s.FailoverClient(t)
	q := newRedis(t, client, "sentinel")
	t0 := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	if err := q.Login(ctx, queue.Operator{ID: "op1", Endpoint: "PJSIP/op1", Skills: []string{"it"}}, t0); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, queue.Call{ID: "c1", Language: "it", Node: "node1", Enqueued: t0}); err != nil {
		t.Fatal(err)
	}
	o, err := q.Assign(ctx, t0.Add(time.Second), time.Minute)
	if err != nil || o.CallID != "c1" || o.OperatorID != "op1" {
		t.Fatalf("Assign = %+v, %v", o, err)
	}
	if n, err := client.Wait(ctx, 1, 5000).Result(); err != nil || n < 1 {
		t.Fatalf("WAIT: %d replicas acknowledged (%v)", n, err)
	}

	master.Stop()
	if err := s.AwaitMaster(ctx, replica.Addr); err != nil {
		t.Fatal(err)
	}
	// The client may still hold connections to the dead master: the
	// first attempts fail as unavailable (the node's cue for its
	// fallback) until it has followed the switch.
	for {
		err := q.Answered(ctx, o, t0.Add(2*time.Second))
		if err == nil {
			break
		}
		if !queue.IsUnavailable(err) {
			t.Fatalf("Answered after the failover: %v (want success, or unavailable while switching)", err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the client never followed the promotion: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	op, err := q.Operator(ctx, "op1")
	if err != nil || op.State != queue.Busy || op.CallID != "c1" {
		t.Errorf("op1 after the failover: %+v, %v", op, err)
	}
	if _, err := q.Position(ctx, "c1"); !errors.Is(err, queue.ErrUnknownCall) {
		t.Errorf("answered call still queued: %v", err)
	}
}
