// Package queuetest is the contract suite every queue.Queue store must
// pass. Memory and Redis run it (queue/memory_test.go,
// queue/redis_test.go); a new store runs it the same way, so the
// in-process fallback can never drift from the real thing.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/queue"
)

// T0 is the suite's epoch: every test's clock starts here.
var T0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// TTL is the reservation TTL the suite passes to Assign.
const TTL = 30 * time.Second

// at returns T0 + d seconds.
func at(sec float64) time.Time { return T0.Add(time.Duration(sec * float64(time.Second))) }

// RunQueueSuite runs the contract over fresh stores made by newQueue (one
// per subtest; it must be empty).
func RunQueueSuite(t *testing.T, newQueue func(t *testing.T) queue.Queue) {
	tests := []struct {
		name string
		fn   func(t *testing.T, q queue.Queue)
	}{
		{"ArrivalOrder", testArrivalOrder},
		{"LongestIdleFirst", testLongestIdle},
		{"SkillsRespected", testSkills},
		{"RingFailedPausesAndKeepsPlace", testRingFailedPause},
		{"RingFailedReleaseGoesToBack", testRingFailedRelease},
		{"ReservationExpiry", testExpiry},
		{"WrapUp", testWrapUp},
		{"LeaveDuringOffer", testLeaveDuringOffer},
		{"IdempotentEnqueue", testIdempotentEnqueue},
		{"LogoutDuringRing", testLogoutDuringRing},
		{"PauseDuringRing", testPauseDuringRing},
		{"StateRules", testStateRules},
		{"Position", testPosition},
		{"Snapshot", testSnapshot},
		{"InvalidInput", testInvalid},
		{"Events", testEvents},
		{"ConcurrentAssigners", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newQueue(t)) })
	}
}

// Helpers, each failing the test on error.

func enqueue(t *testing.T, q queue.Queue, id, lang string, sec float64) {
	t.Helper()
	c := queue.Call{ID: id, Language: lang, Node: "node-a", Tag: "t-" + id, Enqueued: at(sec)}
	if err := q.Enqueue(context.Background(), c); err != nil {
		t.Fatalf("Enqueue(%s): %v", id, err)
	}
}

func login(t *testing.T, q queue.Queue, id string, sec float64, skills ...string) {
	t.Helper()
	op := queue.Operator{ID: id, Endpoint: "PJSIP/" + id, Skills: skills}
	if err := q.Login(context.Background(), op, at(sec)); err != nil {
		t.Fatalf("Login(%s): %v", id, err)
	}
}

func assign(t *testing.T, q queue.Queue, sec float64) queue.Offer {
	t.Helper()
	o, err := q.Assign(context.Background(), at(sec), TTL)
	if err != nil {
		t.Fatalf("Assign at +%vs: %v", sec, err)
	}
	return o
}

func noMatch(t *testing.T, q queue.Queue, sec float64) {
	t.Helper()
	o, err := q.Assign(context.Background(), at(sec), TTL)
	if !errors.Is(err, queue.ErrNoMatch) {
		t.Fatalf("Assign at +%vs = %+v, %v; want ErrNoMatch", sec, o, err)
	}
}

func wantOffer(t *testing.T, o queue.Offer, call, op string) {
	t.Helper()
	if o.CallID != call || o.OperatorID != op {
		t.Fatalf("offer = call %q to %q; want call %q to %q", o.CallID, o.OperatorID, call, op)
	}
}

func operator(t *testing.T, q queue.Queue, id string) queue.Operator {
	t.Helper()
	op, err := q.Operator(context.Background(), id)
	if err != nil {
		t.Fatalf("Operator(%s): %v", id, err)
	}
	return op
}

func wantState(t *testing.T, q queue.Queue, id string, want queue.State) queue.Operator {
	t.Helper()
	op := operator(t, q, id)
	if op.State != want {
		t.Fatalf("operator %s state = %s; want %s", id, op.State, want)
	}
	return op
}

func answer(t *testing.T, q queue.Queue, o queue.Offer, sec float64) {
	t.Helper()
	if err := q.Answered(context.Background(), o, at(sec)); err != nil {
		t.Fatalf("Answered(%s→%s): %v", o.CallID, o.OperatorID, err)
	}
}

func position(t *testing.T, q queue.Queue, id string) int {
	t.Helper()
	p, err := q.Position(context.Background(), id)
	if err != nil {
		t.Fatalf("Position(%s): %v", id, err)
	}
	return p
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v; want %v", what, err, want)
	}
}

func testArrivalOrder(t *testing.T, q queue.Queue) {
	// Enqueued out of arrival order on purpose: Enqueued orders, not the
	// order of Enqueue calls (re-adoption after a restart does that).
	enqueue(t, q, "c2", "it", 2)
	enqueue(t, q, "c3", "it", 3)
	enqueue(t, q, "c1", "it", 1)
	login(t, q, "op1", 10, "it")
	for i, want := range []string{"c1", "c2", "c3"} {
		now := 20 + float64(i)*10
		o := assign(t, q, now)
		wantOffer(t, o, want, "op1")
		if o.Language != "it" || o.Node != "node-a" || o.Endpoint != "PJSIP/op1" {
			t.Fatalf("offer = %+v; want language it, node node-a, endpoint PJSIP/op1", o)
		}
		if !o.Expires.Equal(at(now).Add(TTL)) {
			t.Fatalf("offer expires %v; want %v", o.Expires, at(now).Add(TTL))
		}
		answer(t, q, o, now+1)
		wantState(t, q, "op1", queue.Busy)
		if err := q.Finish(context.Background(), "op1", at(now+2), at(now+2)); err != nil {
			t.Fatalf("Finish: %v", err)
		}
	}
	noMatch(t, q, 100)
}

func testLongestIdle(t *testing.T, q queue.Queue) {
	login(t, q, "opA", 2, "it")
	login(t, q, "opB", 1, "it")
	login(t, q, "opC", 3, "it")
	for i := range 3 {
		enqueue(t, q, fmt.Sprintf("c%d", i), "it", 10+float64(i))
	}
	for i, want := range []string{"opB", "opA", "opC"} {
		wantOffer(t, assign(t, q, 20), fmt.Sprintf("c%d", i), want)
	}
	noMatch(t, q, 21)
}

func testSkills(t *testing.T, q queue.Queue) {
	enqueue(t, q, "ar1", "ar", 1) // oldest, but nobody speaks Arabic yet
	enqueue(t, q, "it1", "it", 2)
	enqueue(t, q, "en1", "en", 3)
	login(t, q, "it-only", 5, "it")
	wantOffer(t, assign(t, q, 10), "it1", "it-only")
	noMatch(t, q, 11)
	login(t, q, "poly", 12, "en", "ar")
	// The oldest call poly can take is ar1.
	wantOffer(t, assign(t, q, 13), "ar1", "poly")
	noMatch(t, q, 14)
	if op := operator(t, q, "poly"); !slices.Equal(op.Skills, []string{"ar", "en"}) {
		t.Fatalf("poly skills = %v; want [ar en]", op.Skills)
	}
}

func testRingFailedPause(t *testing.T, q queue.Queue) {
	enqueue(t, q, "c1", "it", 1)
	enqueue(t, q, "c2", "it", 2)
	login(t, q, "opA", 3, "it")
	login(t, q, "opB", 4, "it")
	o := assign(t, q, 10)
	wantOffer(t, o, "c1", "opA")
	if p := position(t, q, "c2"); p != 2 {
		t.Fatalf("position of c2 while c1 rings = %d; want 2", p)
	}
	if err := q.RingFailed(context.Background(), o, true, "no_answer", at(25)); err != nil {
		t.Fatalf("RingFailed: %v", err)
	}
	op := wantState(t, q, "opA", queue.Paused)
	if op.PauseReason != "no_answer" || op.CallID != "" || !op.Since.Equal(at(25)) {
		t.Fatalf("paused operator = %+v; want reason no_answer, no call, since +25s", op)
	}
	if p := position(t, q, "c1"); p != 1 {
		t.Fatalf("position of c1 after ring failure = %d; want 1", p)
	}
	// c1 keeps its place: it goes to opB before c2.
	wantOffer(t, assign(t, q, 26), "c1", "opB")
	noMatch(t, q, 27)
	wantErr(t, "Answered on the failed offer", q.Answered(context.Background(), o, at(28)), queue.ErrOfferLost)
	wantErr(t, "RingFailed twice", q.RingFailed(context.Background(), o, true, "x", at(28)), queue.ErrOfferLost)
}

func testRingFailedRelease(t *testing.T, q queue.Queue) {
	enqueue(t, q, "c1", "it", 1)
	login(t, q, "opA", 2, "it")
	login(t, q, "opB", 3, "it")
	o := assign(t, q, 10)
	wantOffer(t, o, "c1", "opA")
	if err := q.RingFailed(context.Background(), o, false, "", at(20)); err != nil {
		t.Fatalf("RingFailed: %v", err)
	}
	op := wantState(t, q, "opA", queue.Available)
	if !op.IdleSince.Equal(at(20)) {
		t.Fatalf("released operator idle since %v; want %v (back of the line)", op.IdleSince, at(20))
	}
	wantOffer(t, assign(t, q, 21), "c1", "opB")
}

func testExpiry(t *testing.T, q queue.Queue) {
	enqueue(t, q, "c1", "it", 1)
	enqueue(t, q, "c2", "it", 2)
	login(t, q, "opA", 3, "it")
	o := assign(t, q, 10)
	wantOffer(t, o, "c1", "opA")
	// One millisecond before expiry nothing changes.
	noMatch(t, q, 10+TTL.Seconds()-0.001)
	wantState(t, q, "opA", queue.Ringing)
	// At expiry the call comes back (first again) and opA is freed.
	o2 := assign(t, q, 10+TTL.Seconds())
	wantOffer(t, o2, "c1", "opA")
	// The stale offer names the same call and operator as the new one; it
	// must not confirm it.
	wantErr(t, "Answered on the expired offer", q.Answered(context.Background(), o, at(41)), queue.ErrOfferLost)
	wantErr(t, "RingFailed on the expired offer", q.RingFailed(context.Background(), o, true, "x", at(41)), queue.ErrOfferLost)
	wantState(t, q, "opA", queue.Ringing)
	// An offer not reaped yet is refused once its time is past.
	wantErr(t, "Answered after expiry", q.Answered(context.Background(), o2, o2.Expires), queue.ErrOfferLost)
	op := wantState(t, q, "opA", queue.Available)
	if op.CallID != "" {
		t.Fatalf("freed operator still holds call %q", op.CallID)
	}
	if p := position(t, q, "c1"); p != 1 {
		t.Fatalf("position of c1 after expiry = %d; want 1", p)
	}
	s, err := q.Snapshot(context.Background(), at(100))
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if w := s.Waiting["it"]; len(w) != 2 || w[0].ID != "c1" || w[0].OfferedTo != "" {
		t.Fatalf("waiting after expiry = %+v; want c1 (not offered), c2", w)
	}
}

func testWrapUp(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	login(t, q, "opA", 1, "it")
	enqueue(t, q, "c1", "it", 2)
	enqueue(t, q, "c2", "it", 3)
	o := assign(t, q, 10)
	answer(t, q, o, 12)
	if err := q.Finish(ctx, "opA", at(100), at(40)); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	op := wantState(t, q, "opA", queue.WrapUp)
	if !op.WrapUntil.Equal(at(100)) {
		t.Fatalf("WrapUntil = %v; want %v", op.WrapUntil, at(100))
	}
	noMatch(t, q, 99.999)
	o2 := assign(t, q, 100)
	wantOffer(t, o2, "c2", "opA")
	answer(t, q, o2, 101)
	// Immediately available when the wrap-up is not in the future.
	if err := q.Finish(ctx, "opA", at(150), at(150)); err != nil {
		t.Fatalf("Finish without wrap-up: %v", err)
	}
	op = wantState(t, q, "opA", queue.Available)
	if !op.IdleSince.Equal(at(150)) {
		t.Fatalf("IdleSince = %v; want %v", op.IdleSince, at(150))
	}
	// Promotion sets IdleSince to the wrap-up end: opB finished wrapping
	// at +205 and is idle longer than opC who logged in at +207.
	login(t, q, "opB", 160, "en")
	enqueue(t, q, "e1", "en", 161)
	answer(t, q, assign(t, q, 162), 163)
	if err := q.Finish(ctx, "opB", at(205), at(170)); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	login(t, q, "opC", 207, "en")
	enqueue(t, q, "e2", "en", 208)
	wantOffer(t, assign(t, q, 210), "e2", "opB")
	if op := operator(t, q, "opB"); !op.IdleSince.Equal(at(205)) {
		t.Fatalf("promoted operator IdleSince = %v; want wrap end %v", op.IdleSince, at(205))
	}
}

func testLeaveDuringOffer(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	login(t, q, "opA", 1, "it")
	login(t, q, "opB", 2, "it")
	enqueue(t, q, "c1", "it", 3)
	enqueue(t, q, "c2", "it", 4)
	o := assign(t, q, 10)
	wantOffer(t, o, "c1", "opA")
	opID, err := q.Leave(ctx, "c1", at(12))
	if err != nil || opID != "opA" {
		t.Fatalf("Leave during offer = %q, %v; want opA", opID, err)
	}
	op := wantState(t, q, "opA", queue.Available)
	if !op.IdleSince.Equal(at(1)) || op.CallID != "" {
		t.Fatalf("operator after Leave = %+v; want idle since +1s (kept), no call", op)
	}
	wantErr(t, "Answered after Leave", q.Answered(ctx, o, at(13)), queue.ErrOfferLost)
	wantErr(t, "Position after Leave", func() error { _, err := q.Position(ctx, "c1"); return err }(), queue.ErrUnknownCall)
	_, err = q.Leave(ctx, "c1", at(14))
	wantErr(t, "second Leave", err, queue.ErrUnknownCall)
	// opA is still longest idle.
	wantOffer(t, assign(t, q, 15), "c2", "opA")
	// Leave of a waiting call returns no operator.
	enqueue(t, q, "c3", "it", 16)
	if opID, err := q.Leave(ctx, "c3", at(17)); err != nil || opID != "" {
		t.Fatalf("Leave of waiting call = %q, %v; want \"\", nil", opID, err)
	}
}

func testIdempotentEnqueue(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	enqueue(t, q, "c1", "it", 1)
	enqueue(t, q, "c2", "it", 2)
	enqueue(t, q, "c1", "it", 5) // re-adoption: must not move c1 back
	if p := position(t, q, "c1"); p != 1 {
		t.Fatalf("position of re-enqueued c1 = %d; want 1", p)
	}
	login(t, q, "opA", 6, "it")
	o := assign(t, q, 7)
	wantOffer(t, o, "c1", "opA")
	enqueue(t, q, "c1", "it", 8) // re-adopted while ringing: offer kept
	wantState(t, q, "opA", queue.Ringing)
	s, err := q.Snapshot(ctx, at(9))
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	w := s.Waiting["it"]
	if len(w) != 2 || w[0].ID != "c1" || !w[0].Enqueued.Equal(at(1)) || w[0].OfferedTo != "opA" {
		t.Fatalf("waiting = %+v; want c1 enqueued at +1s offered to opA first", w)
	}
	answer(t, q, o, 10)
}

func testLogoutDuringRing(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	enqueue(t, q, "c1", "it", 1)
	enqueue(t, q, "c2", "it", 2)
	login(t, q, "opA", 3, "it")
	login(t, q, "opB", 4, "it")
	o := assign(t, q, 10)
	wantOffer(t, o, "c1", "opA")
	if err := q.Logout(ctx, "opA", at(11)); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	op := wantState(t, q, "opA", queue.LoggedOut)
	if op.CallID != "" {
		t.Fatalf("logged-out operator holds call %q", op.CallID)
	}
	wantErr(t, "Answered after Logout", q.Answered(ctx, o, at(12)), queue.ErrOfferLost)
	wantOffer(t, assign(t, q, 13), "c1", "opB")
	noMatch(t, q, 14) // opA is gone
	if err := q.Logout(ctx, "opA", at(15)); err != nil {
		t.Fatalf("second Logout: %v", err)
	}
	// Logging in again: available, idle from the new login.
	login(t, q, "opA", 20, "it")
	op = wantState(t, q, "opA", queue.Available)
	if !op.IdleSince.Equal(at(20)) {
		t.Fatalf("IdleSince after re-login = %v; want %v", op.IdleSince, at(20))
	}
	wantOffer(t, assign(t, q, 21), "c2", "opA")
}

func testPauseDuringRing(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	enqueue(t, q, "c1", "it", 1)
	enqueue(t, q, "c2", "it", 2)
	login(t, q, "opA", 3, "it")
	login(t, q, "opB", 4, "it")
	o := assign(t, q, 10)
	if err := q.Pause(ctx, "opA", "break", at(11)); err != nil {
		t.Fatalf("Pause while ringing: %v", err)
	}
	wantState(t, q, "opA", queue.Paused)
	wantErr(t, "Answered after Pause", q.Answered(ctx, o, at(12)), queue.ErrOfferLost)
	wantOffer(t, assign(t, q, 13), "c1", "opB")
}

func testStateRules(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	// Build one operator per state.
	login(t, q, "avail", 1, "xx")
	login(t, q, "paused", 1, "it")
	login(t, q, "ringing", 1, "en")
	login(t, q, "busy", 1, "fr")
	login(t, q, "wrapup", 1, "de")
	login(t, q, "out", 1, "es")
	if err := q.Pause(ctx, "paused", "lunch", at(2)); err != nil {
		t.Fatal(err)
	}
	enqueue(t, q, "en1", "en", 2)
	enqueue(t, q, "fr1", "fr", 2.1)
	enqueue(t, q, "de1", "de", 2.2)
	assign(t, q, 3)
	answer(t, q, assign(t, q, 3), 4)
	answer(t, q, assign(t, q, 3), 4)
	if err := q.Finish(ctx, "wrapup", at(1000), at(5)); err != nil {
		t.Fatal(err)
	}
	if err := q.Logout(ctx, "out", at(5)); err != nil {
		t.Fatal(err)
	}
	for id, st := range map[string]queue.State{"avail": queue.Available, "paused": queue.Paused, "ringing": queue.Ringing, "busy": queue.Busy, "wrapup": queue.WrapUp, "out": queue.LoggedOut} {
		wantState(t, q, id, st)
	}
	type rule struct {
		op      string
		action  string
		wantErr error
		after   queue.State
	}
	rules := []rule{
		{"busy", "pause", queue.ErrBadState, queue.Busy},
		{"out", "pause", queue.ErrBadState, queue.LoggedOut},
		{"avail", "unpause", queue.ErrBadState, queue.Available},
		{"busy", "unpause", queue.ErrBadState, queue.Busy},
		{"wrapup", "unpause", queue.ErrBadState, queue.WrapUp},
		{"out", "unpause", queue.ErrBadState, queue.LoggedOut},
		{"avail", "finish", queue.ErrBadState, queue.Available},
		{"ringing", "finish", queue.ErrBadState, queue.Ringing},
		{"paused", "finish", queue.ErrBadState, queue.Paused},
		{"nobody", "pause", queue.ErrUnknownOperator, ""},
		{"nobody", "unpause", queue.ErrUnknownOperator, ""},
		{"nobody", "logout", queue.ErrUnknownOperator, ""},
		{"nobody", "finish", queue.ErrUnknownOperator, ""},
		{"paused", "pause", nil, queue.Paused}, // reason updated
		{"wrapup", "pause", nil, queue.Paused},
		{"avail", "pause", nil, queue.Paused},
		{"avail", "unpause", nil, queue.Available},
		{"ringing", "pause", nil, queue.Paused},
	}
	for _, r := range rules {
		var err error
		switch r.action {
		case "pause":
			err = q.Pause(ctx, r.op, "meeting", at(10))
		case "unpause":
			err = q.Unpause(ctx, r.op, at(10))
		case "logout":
			err = q.Logout(ctx, r.op, at(10))
		case "finish":
			err = q.Finish(ctx, r.op, at(10), at(10))
		}
		if !errors.Is(err, r.wantErr) || (r.wantErr == nil && err != nil) {
			t.Fatalf("%s %s: err = %v; want %v", r.action, r.op, err, r.wantErr)
		}
		if r.after != "" {
			wantState(t, q, r.op, r.after)
		}
	}
	if op := operator(t, q, "paused"); op.PauseReason != "meeting" {
		t.Fatalf("re-paused reason = %q; want meeting", op.PauseReason)
	}
	if op := operator(t, q, "avail"); !op.IdleSince.Equal(at(10)) {
		t.Fatalf("unpaused IdleSince = %v; want %v", op.IdleSince, at(10))
	}
	_, err := q.Operator(ctx, "nobody")
	wantErr(t, "Operator(nobody)", err, queue.ErrUnknownOperator)
	// Login keeps a logged-in operator's state and updates skills.
	login(t, q, "busy", 11, "fr", "it")
	if op := wantState(t, q, "busy", queue.Busy); !slices.Equal(op.Skills, []string{"fr", "it"}) {
		t.Fatalf("skills after re-login = %v; want [fr it]", op.Skills)
	}
}

func testPosition(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	enqueue(t, q, "a", "it", 1)
	enqueue(t, q, "b", "en", 1.5)
	enqueue(t, q, "c", "it", 2)
	enqueue(t, q, "d", "it", 2) // same ms as c: ID breaks the tie
	enqueue(t, q, "e", "it", 3)
	for id, want := range map[string]int{"a": 1, "b": 1, "c": 2, "d": 3, "e": 4} {
		if p := position(t, q, id); p != want {
			t.Fatalf("Position(%s) = %d; want %d", id, p, want)
		}
	}
	login(t, q, "op", 4, "it")
	wantOffer(t, assign(t, q, 5), "a", "op")
	// An offered call counts as ahead, and keeps its own position.
	for id, want := range map[string]int{"a": 1, "c": 2, "d": 3, "e": 4} {
		if p := position(t, q, id); p != want {
			t.Fatalf("Position(%s) with a offered = %d; want %d", id, p, want)
		}
	}
	if _, err := q.Leave(ctx, "c", at(6)); err != nil {
		t.Fatal(err)
	}
	if p := position(t, q, "e"); p != 3 {
		t.Fatalf("Position(e) after c left = %d; want 3", p)
	}
	_, err := q.Position(ctx, "zzz")
	wantErr(t, "Position(unknown)", err, queue.ErrUnknownCall)
}

func testSnapshot(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	s, err := q.Snapshot(ctx, at(0))
	if err != nil || len(s.Operators) != 0 || len(s.Waiting) != 0 {
		t.Fatalf("empty Snapshot = %+v, %v", s, err)
	}
	enqueue(t, q, "i2", "it", 2)
	enqueue(t, q, "i1", "it", 1)
	enqueue(t, q, "e1", "en", 3)
	login(t, q, "z", 4, "it")
	login(t, q, "a", 5, "de")
	login(t, q, "gone", 5, "de")
	if err := q.Logout(ctx, "gone", at(6)); err != nil {
		t.Fatal(err)
	}
	wantOffer(t, assign(t, q, 7), "i1", "z")
	s, err = q.Snapshot(ctx, at(8))
	if err != nil {
		t.Fatal(err)
	}
	if !s.At.Equal(at(8)) {
		t.Fatalf("Snapshot.At = %v; want %v", s.At, at(8))
	}
	it := s.Waiting["it"]
	if len(it) != 2 || it[0].ID != "i1" || it[0].OfferedTo != "z" || it[1].ID != "i2" || it[1].OfferedTo != "" {
		t.Fatalf("Waiting[it] = %+v; want i1 (offered to z), i2", it)
	}
	c := it[1].Call
	if c.Language != "it" || c.Node != "node-a" || c.Tag != "t-i2" || !c.Enqueued.Equal(at(2)) || c.Service == "" {
		t.Fatalf("snapshot call = %+v; want every field kept, Service filled in", c)
	}
	if en := s.Waiting["en"]; len(en) != 1 || en[0].ID != "e1" {
		t.Fatalf("Waiting[en] = %+v; want e1", en)
	}
	if len(s.Operators) != 2 || s.Operators[0].ID != "a" || s.Operators[1].ID != "z" {
		t.Fatalf("Operators = %+v; want a, z (logged out excluded, by ID)", s.Operators)
	}
	z := s.Operators[1]
	if z.State != queue.Ringing || z.CallID != "i1" || z.Endpoint != "PJSIP/z" || !z.Since.Equal(at(7)) || !z.IdleSince.Equal(at(4)) {
		t.Fatalf("operator z = %+v; want ringing i1 since +7s, idle since +4s", z)
	}
}

func testInvalid(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	bad := []queue.Call{
		{ID: "", Language: "it", Enqueued: at(1)},
		{ID: "x", Language: "", Enqueued: at(1)},
		{ID: "x", Language: "it:{evil}", Enqueued: at(1)},
		{ID: "x", Language: "it"},
		{ID: "x", Language: "it", Service: "some-other-service", Enqueued: at(1)},
		{ID: "x\ty", Language: "it", Enqueued: at(1)},
		{ID: "x", Language: "it", Node: "node\nforged log line", Enqueued: at(1)},
		{ID: "x", Language: "it", Tag: "a\tb", Enqueued: at(1)},
	}
	for _, c := range bad {
		wantErr(t, fmt.Sprintf("Enqueue(%+v)", c), q.Enqueue(ctx, c), queue.ErrInvalid)
	}
	for _, op := range []queue.Operator{{ID: "", Skills: []string{"it"}}, {ID: "x"}, {ID: "x", Skills: []string{"i t"}}, {ID: "x\ny", Skills: []string{"it"}}, {ID: "x", Endpoint: "PJSIP/x\t", Skills: []string{"it"}}} {
		wantErr(t, fmt.Sprintf("Login(%+v)", op), q.Login(ctx, op, at(1)), queue.ErrInvalid)
	}
	_, err := q.Assign(ctx, at(1), 0)
	wantErr(t, "Assign with zero TTL", err, queue.ErrInvalid)
	login(t, q, "op", 1, "it")
	wantErr(t, "Pause with a newline in the reason", q.Pause(ctx, "op", "lunch\nbreak", at(1)), queue.ErrInvalid)
	wantState(t, q, "op", queue.Available)
	if err := q.Logout(ctx, "op", at(1)); err != nil {
		t.Fatal(err)
	}
	s, err := q.Snapshot(ctx, at(2))
	if err != nil || len(s.Waiting) != 0 || len(s.Operators) != 0 {
		t.Fatalf("after bad input Snapshot = %+v, %v; want empty", s, err)
	}
	wantErr(t, "Answered of a never-made offer", q.Answered(ctx, queue.Offer{CallID: "x", OperatorID: "y"}, at(3)), queue.ErrOfferLost)
}

func testEvents(t *testing.T, q queue.Queue) {
	w, ok := q.(queue.Watcher)
	if !ok {
		t.Fatalf("%T does not implement queue.Watcher", q)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := w.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	login(t, q, "opA", 1, "it")
	enqueue(t, q, "c1", "it", 2)
	o := assign(t, q, 3)
	if err := q.RingFailed(ctx, o, true, "no_answer", at(4)); err != nil {
		t.Fatal(err)
	}
	if err := q.Unpause(ctx, "opA", at(5)); err != nil {
		t.Fatal(err)
	}
	answer(t, q, assign(t, q, 6), 7)
	enqueue(t, q, "c2", "it", 8)
	if _, err := q.Leave(ctx, "c2", at(9)); err != nil {
		t.Fatal(err)
	}
	want := []queue.Event{
		{Kind: queue.EventOperator, At: at(1), OperatorID: "opA", State: queue.Available},
		{Kind: queue.EventEnqueued, At: at(2), CallID: "c1", Language: "it"},
		{Kind: queue.EventOffered, At: at(3), CallID: "c1", OperatorID: "opA", Language: "it", State: queue.Ringing},
		{Kind: queue.EventReturned, At: at(4), CallID: "c1", OperatorID: "opA", Language: "it", Reason: "ring_failed"},
		{Kind: queue.EventOperator, At: at(4), OperatorID: "opA", State: queue.Paused, Reason: "no_answer"},
		{Kind: queue.EventOperator, At: at(5), OperatorID: "opA", State: queue.Available},
		{Kind: queue.EventOffered, At: at(6), CallID: "c1", OperatorID: "opA", Language: "it", State: queue.Ringing},
		{Kind: queue.EventAnswered, At: at(7), CallID: "c1", OperatorID: "opA", Language: "it", State: queue.Busy},
		{Kind: queue.EventEnqueued, At: at(8), CallID: "c2", Language: "it"},
		{Kind: queue.EventLeft, At: at(9), CallID: "c2", Language: "it"},
	}
	timeout := time.After(10 * time.Second)
	for i, wev := range want {
		select {
		case ev := <-ch:
			if ev.Kind != wev.Kind || !ev.At.Equal(wev.At) || ev.CallID != wev.CallID || ev.OperatorID != wev.OperatorID ||
				ev.Language != wev.Language || ev.State != wev.State || ev.Reason != wev.Reason {
				t.Fatalf("event %d = %+v; want %+v", i, ev, wev)
			}
		case <-timeout:
			t.Fatalf("event %d (%+v) not received within 10s", i, wev)
		}
	}
	cancel()
	for range ch { // must be closed after cancel
	}
}

// testConcurrent runs several assigners against one store, each acting as
// a helpline node: assign, then answer (or fail the ring), then finish.
// It asserts that no operator ever holds two calls and no call is ever
// offered to two operators at once, and that every call is answered once.
func testConcurrent(t *testing.T, q queue.Queue) {
	RunConcurrent(t, []queue.Queue{q}, 8)
}

// RunConcurrent runs workers assigners spread over nodes (store instances
// sharing one state, e.g. several Redis stores on one server, as several
// helpline nodes would), asserting that no operator is ever offered two
// calls, no call two operators, and every call is answered exactly once.
// nodes[0] is used for setup; the stores must be empty.
func RunConcurrent(t *testing.T, nodes []queue.Queue, workers int) {
	const (
		nOps   = 12
		nCalls = 300
	)
	nWorkers := workers
	q := nodes[0]
	ctx := context.Background()
	langs := []string{"it", "en", "ar"}
	for i := range nOps {
		login(t, q, fmt.Sprintf("op%02d", i), 0, langs[i%3], langs[(i+1)%3])
	}
	for i := range nCalls {
		enqueue(t, q, fmt.Sprintf("c%03d", i), langs[i%3], float64(i)/1000)
	}
	var (
		clock    atomic.Int64 // ms after T0, strictly increasing
		mu       sync.Mutex
		opHolds  = map[string]string{} // operator → call ringing/talking
		callHeld = map[string]string{} // call → operator
		answered = map[string]int{}
		failures atomic.Int64
		errs     = make(chan error, nWorkers)
		wg       sync.WaitGroup
	)
	clock.Store(1000)
	// The stall guard is wall-clock on purpose: it bounds a hang, it
	// measures nothing.
	const stallAfter = 30 * time.Second
	var progress atomic.Value
	progress.Store(time.Now())
	now := func() time.Time { return T0.Add(time.Duration(clock.Add(1)) * time.Millisecond) }
	worker := func(w int) error {
		q := nodes[w%len(nodes)]
		for n := 0; ; n++ {
			o, err := q.Assign(ctx, now(), time.Hour)
			if errors.Is(err, queue.ErrNoMatch) {
				// Nothing to offer right now: the remaining calls are
				// ringing elsewhere. Stop once all are answered; a store
				// that strands a call trips the stall guard instead.
				mu.Lock()
				left := nCalls - len(answered)
				mu.Unlock()
				if left == 0 {
					return nil
				}
				if time.Since(progress.Load().(time.Time)) > stallAfter {
					return fmt.Errorf("worker %d: no progress for %v with %d calls unanswered", w, stallAfter, left)
				}
				runtime.Gosched()
				continue
			}
			if err != nil {
				return fmt.Errorf("worker %d: Assign: %w", w, err)
			}
			mu.Lock()
			if c, ok := opHolds[o.OperatorID]; ok {
				mu.Unlock()
				return fmt.Errorf("operator %s offered %s while holding %s", o.OperatorID, o.CallID, c)
			}
			if op, ok := callHeld[o.CallID]; ok {
				mu.Unlock()
				return fmt.Errorf("call %s offered to %s while held by %s", o.CallID, o.OperatorID, op)
			}
			if answered[o.CallID] > 0 {
				mu.Unlock()
				return fmt.Errorf("call %s offered again after being answered", o.CallID)
			}
			opHolds[o.OperatorID], callHeld[o.CallID] = o.CallID, o.OperatorID
			mu.Unlock()
			// Every fifth offer fails to ring (release, no pause).
			if (n+w)%5 == 0 {
				mu.Lock()
				delete(opHolds, o.OperatorID)
				delete(callHeld, o.CallID)
				mu.Unlock()
				// Bookkeeping is cleared before the store frees them: once
				// RingFailed returns another worker may be offered either.
				if err := q.RingFailed(ctx, o, false, "", now()); err != nil {
					return fmt.Errorf("RingFailed: %w", err)
				}
				failures.Add(1)
				continue
			}
			if err := q.Answered(ctx, o, now()); err != nil {
				return fmt.Errorf("Answered(%+v): %w", o, err)
			}
			mu.Lock()
			answered[o.CallID]++
			progress.Store(time.Now())
			delete(callHeld, o.CallID)
			delete(opHolds, o.OperatorID)
			mu.Unlock()
			if err := q.Finish(ctx, o.OperatorID, time.Time{}, now()); err != nil {
				return fmt.Errorf("Finish(%s): %w", o.OperatorID, err)
			}
		}
	}
	for w := range nWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- worker(w)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(answered) != nCalls {
		t.Fatalf("answered %d calls; want %d", len(answered), nCalls)
	}
	if failures.Load() == 0 {
		t.Fatal("no ring failure was exercised")
	}
	s, err := q.Snapshot(ctx, now())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Waiting) != 0 && (len(s.Waiting["it"])+len(s.Waiting["en"])+len(s.Waiting["ar"])) != 0 {
		t.Fatalf("calls left waiting: %+v", s.Waiting)
	}
	for _, op := range s.Operators {
		if op.State != queue.Available {
			t.Fatalf("operator %s ends %s; want available", op.ID, op.State)
		}
	}
}
