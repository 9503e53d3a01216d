package queuetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/queue"
)

// NodesStore is a store with the multi-node side.
type NodesStore interface {
	queue.Queue
	queue.Nodes
}

// RunNodesSuite runs the multi-node contract over fresh stores made by
// newStore (one per subtest; it must be empty).
func RunNodesSuite(t *testing.T, newStore func(t *testing.T) NodesStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, q NodesStore)
	}{
		{"ReapDeadNode", testReapDeadNode},
		{"ReapIsIdempotentAndSparesTheLiving", testReapSparesLiving},
		{"HeartbeatRevivesUnreachable", testHeartbeatRevives},
		{"ReapFreesOperatorTalkingWithDeadNode", testReapFreesRemoteTalker},
		{"HandOver", testHandOver},
		{"HostOf", testHostOf},
		{"InvalidNodeInput", testNodesInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func beat(t *testing.T, q NodesStore, node string, sec float64, ttl time.Duration) int {
	t.Helper()
	n, err := q.Heartbeat(context.Background(), node, at(sec), ttl)
	if err != nil {
		t.Fatalf("Heartbeat(%s): %v", node, err)
	}
	return n
}

func host(t *testing.T, q NodesStore, op, node string) {
	t.Helper()
	if err := q.Host(context.Background(), op, node); err != nil {
		t.Fatalf("Host(%s, %s): %v", op, node, err)
	}
}

func reap(t *testing.T, q NodesStore, sec float64) []string {
	t.Helper()
	dead, err := q.Reap(context.Background(), at(sec))
	if err != nil {
		t.Fatalf("Reap: %v", err)
	}
	return dead
}

func enqueueOn(t *testing.T, q queue.Queue, id, lang, node string, sec float64) {
	t.Helper()
	c := queue.Call{ID: id, Language: lang, Node: node, Tag: "t-" + id, Enqueued: at(sec)}
	if err := q.Enqueue(context.Background(), c); err != nil {
		t.Fatalf("Enqueue(%s): %v", id, err)
	}
}

func opState(t *testing.T, q queue.Queue, id string) queue.Operator {
	t.Helper()
	op, err := q.Operator(context.Background(), id)
	if err != nil {
		t.Fatalf("Operator(%s): %v", id, err)
	}
	return op
}

func waitingIDs(t *testing.T, q queue.Queue, sec float64) []string {
	t.Helper()
	s, err := q.Snapshot(context.Background(), at(sec))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, calls := range s.Waiting {
		for _, c := range calls {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// A node whose beat expired: its operators (available, ringing, in
// wrap-up) are paused "unreachable", the call one of them was ringing
// for (on the living node) returns to its place, its own calls leave the
// queue and an operator ringing for one of them (on the living node) is
// available again.
func testReapDeadNode(t *testing.T, q NodesStore) {
	ctx := context.Background()
	beat(t, q, "a", 0, 10*time.Second)
	beat(t, q, "b", 0, 10*time.Second)
	login(t, q, "a1", 0, "it")
	login(t, q, "b1", 1, "it")
	login(t, q, "b2", 2, "en")
	host(t, q, "a1", "a")
	host(t, q, "b1", "b")
	host(t, q, "b2", "b")
	enqueueOn(t, q, "callB", "it", "b", 3) // offered to a1 (longest idle)
	enqueueOn(t, q, "callA", "it", "a", 4) // offered to b1
	enqueueOn(t, q, "callB2", "fr", "b", 5)
	o1 := assign(t, q, 6)
	o2 := assign(t, q, 6)
	if o1.CallID != "callB" || o1.OperatorID != "a1" || o2.CallID != "callA" || o2.OperatorID != "b1" {
		t.Fatalf("offers %+v %+v", o1, o2)
	}
	beat(t, q, "a", 9, 10*time.Second) // a lives on, b stops
	if d := reap(t, q, 9.999); len(d) != 0 {
		t.Fatalf("reaped %v before b's beat expired", d)
	}
	if d := reap(t, q, 10); !slices.Equal(d, []string{"b"}) {
		t.Fatalf("reaped %v, want [b]", d)
	}
	for _, id := range []string{"b1", "b2"} {
		if op := opState(t, q, id); op.State != queue.Paused || op.PauseReason != queue.ReasonUnreachable || op.CallID != "" {
			t.Errorf("%s: %+v, want paused unreachable", id, op)
		}
	}
	if op := opState(t, q, "a1"); op.State != queue.Available || !op.IdleSince.Equal(at(0)) {
		t.Errorf("a1 after its call's node died: %+v, want available keeping its idle time", op)
	}
	if got := waitingIDs(t, q, 10); !slices.Equal(got, []string{"callA"}) {
		t.Errorf("waiting %v, want only callA", got)
	}
	if err := q.Answered(ctx, o2, at(10)); err == nil {
		t.Error("answer of an offer withdrawn by the reap succeeded")
	}
	// callA keeps its place and goes to the living operator.
	o3 := assign(t, q, 11)
	if o3.CallID != "callA" || o3.OperatorID != "a1" || !slices.Equal(waitingIDs(t, q, 11), []string{"callA"}) {
		t.Errorf("after the reap: offer %+v", o3)
	}
	if _, err := q.Position(ctx, "callB"); err == nil {
		t.Error("a dead node's call still has a position")
	}
}

func testReapSparesLiving(t *testing.T, q NodesStore) {
	beat(t, q, "a", 0, 10*time.Second)
	login(t, q, "a1", 0, "it")
	host(t, q, "a1", "a")
	enqueueOn(t, q, "c1", "it", "a", 1)
	enqueueOn(t, q, "c2", "it", "", 1)
	if d := reap(t, q, 5); len(d) != 0 {
		t.Fatalf("reaped %v", d)
	}
	beat(t, q, "a", 8, 10*time.Second)
	if d := reap(t, q, 15); len(d) != 0 {
		t.Fatalf("reaped %v after a renewed beat", d)
	}
	if d := reap(t, q, 18); !slices.Equal(d, []string{"a"}) {
		t.Fatalf("reaped %v, want [a]", d)
	}
	if d := reap(t, q, 19); len(d) != 0 {
		t.Fatalf("reaped %v twice", d)
	}
	if got := waitingIDs(t, q, 19); !slices.Equal(got, []string{"c2"}) {
		t.Errorf("waiting %v: a call of no node must stay", got)
	}
	// An operator who paused by hand keeps their reason.
	login(t, q, "a2", 20, "it")
	host(t, q, "a2", "a")
	beat(t, q, "a", 20, time.Second)
	if err := q.Pause(context.Background(), "a2", "break", at(20)); err != nil {
		t.Fatal(err)
	}
	reap(t, q, 21)
	if op := opState(t, q, "a2"); op.PauseReason != queue.ReasonUnreachable {
		t.Errorf("a2 %+v: a dead node's paused operator is unreachable too", op)
	}
}

func testHeartbeatRevives(t *testing.T, q NodesStore) {
	beat(t, q, "b", 0, 5*time.Second)
	login(t, q, "b1", 0, "it")
	login(t, q, "b2", 0, "it")
	login(t, q, "a1", 0, "it")
	host(t, q, "b1", "b")
	host(t, q, "b2", "b")
	host(t, q, "a1", "a")
	if err := q.Logout(context.Background(), "b2", at(1)); err != nil {
		t.Fatal(err)
	}
	reap(t, q, 6)
	if n := beat(t, q, "b", 7, 5*time.Second); n != 1 {
		t.Errorf("revived %d operators, want 1 (b1; b2 is logged out)", n)
	}
	if op := opState(t, q, "b1"); op.State != queue.Available || !op.IdleSince.Equal(at(7)) || op.PauseReason != "" {
		t.Errorf("b1 after its node came back: %+v", op)
	}
	if op := opState(t, q, "b2"); op.State != queue.LoggedOut {
		t.Errorf("b2 %+v, want still logged out", op)
	}
	if n := beat(t, q, "b", 8, 5*time.Second); n != 0 {
		t.Errorf("a second beat revived %d", n)
	}
	// An operator who unpaused by hand meanwhile is left alone.
	reap(t, q, 20)
	if err := q.Unpause(context.Background(), "b1", at(21)); err != nil {
		t.Fatal(err)
	}
	if n := beat(t, q, "b", 22, 5*time.Second); n != 0 {
		t.Errorf("revived %d, want 0", n)
	}
}

func testHandOver(t *testing.T, q NodesStore) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o := queue.Offer{CallID: "c1", OperatorID: "op1", Endpoint: "PJSIP/op1", Language: "it", Node: "b", Expires: at(30)}
	// Handed over before the receiver listens: kept for it.
	if err := q.HandOver(ctx, o); err != nil {
		t.Fatal(err)
	}
	rx, cancelRx := context.WithCancel(ctx)
	ch, err := q.HandedOver(rx, "b")
	if err != nil {
		t.Fatal(err)
	}
	o2 := o
	o2.CallID = "c2"
	if err := q.HandOver(ctx, o2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []queue.Offer{o, o2} {
		select {
		case got := <-ch:
			if got.CallID != want.CallID || got.OperatorID != want.OperatorID || got.Endpoint != want.Endpoint ||
				got.Language != want.Language || got.Node != want.Node || !got.Expires.Equal(want.Expires) {
				t.Errorf("handed over %+v, want %+v", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("offer %s never handed over", want.CallID)
		}
	}
	cancelRx()
	for range ch { // closed once the context ends
	}
	if err := q.HandOver(ctx, queue.Offer{CallID: "c3", OperatorID: "op1", Node: "", Expires: at(30)}); err == nil {
		t.Error("hand-over to no node accepted")
	}
}

func testHostOf(t *testing.T, q NodesStore) {
	ctx := context.Background()
	if n, err := q.HostOf(ctx, "op1"); err != nil || n != "" {
		t.Errorf("HostOf unknown = %q, %v", n, err)
	}
	host(t, q, "op1", "a")
	host(t, q, "op1", "b") // registered elsewhere since
	if n, err := q.HostOf(ctx, "op1"); err != nil || n != "b" {
		t.Errorf("HostOf = %q, %v; want b", n, err)
	}
}

func testNodesInvalid(t *testing.T, q NodesStore) {
	ctx := context.Background()
	for _, err := range []error{
		func() error { _, err := q.Heartbeat(ctx, "", at(0), time.Second); return err }(),
		func() error { _, err := q.Heartbeat(ctx, "a b", at(0), time.Second); return err }(),
		func() error { _, err := q.Heartbeat(ctx, "a", at(0), 0); return err }(),
		q.Host(ctx, "", "a"),
		q.Host(ctx, "op1", "{a}"),
		func() error { _, err := q.HandedOver(ctx, ""); return err }(),
	} {
		if err == nil {
			t.Error("invalid input accepted")
		}
	}
}

// An operator of a living node talking, through the trunk, with a caller
// of the node that died is available again: the call died with that node.
// One busy with a later call of their own is left alone.
func testReapFreesRemoteTalker(t *testing.T, q NodesStore) {
	ctx := context.Background()
	beat(t, q, "a", 0, 10*time.Second)
	beat(t, q, "b", 0, 10*time.Second)
	login(t, q, "a1", 0, "it")
	login(t, q, "a2", 1, "it")
	host(t, q, "a1", "a")
	host(t, q, "a2", "a")
	enqueueOn(t, q, "cB", "it", "b", 2)
	enqueueOn(t, q, "cA", "it", "a", 3)
	oB := assign(t, q, 4)
	oA := assign(t, q, 4)
	if oB.CallID != "cB" || oB.OperatorID != "a1" || oA.CallID != "cA" || oA.OperatorID != "a2" {
		t.Fatalf("offers %+v %+v", oB, oA)
	}
	for _, r := range [][3]string{{"a1", "cB", "b"}, {"a2", "earlier", "b"}} {
		if err := q.Remote(ctx, r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []queue.Offer{oB, oA} {
		if err := q.Answered(ctx, o, at(5)); err != nil {
			t.Fatal(err)
		}
	}
	beat(t, q, "a", 9, 10*time.Second)
	if d := reap(t, q, 10); !slices.Equal(d, []string{"b"}) {
		t.Fatalf("reaped %v", d)
	}
	if op := opState(t, q, "a1"); op.State != queue.Available || op.CallID != "" || !op.IdleSince.Equal(at(10)) {
		t.Errorf("a1 talking with the dead node's caller: %+v, want available since the reap", op)
	}
	if op := opState(t, q, "a2"); op.State != queue.Busy || op.CallID != "cA" {
		t.Errorf("a2 busy with a living call: %+v, want untouched", op)
	}
	if err := q.Remote(ctx, "", "c", "b"); err == nil {
		t.Error("Remote of no operator accepted")
	}
}
