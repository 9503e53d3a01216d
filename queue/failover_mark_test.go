package queue_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/queue/queuetest"
)

// TestFailoverRedisResetEmpty restarts redis-server without persistence
// between two of the node's operations, none of which fails (the client
// reconnects as serve's does): Redis comes back empty. The node must notice
// (by its periodic check within CheckEvery, or by the first method that
// finds an operator missing) and write its state back: calls in order with
// their times, operators in their states.
func TestFailoverRedisResetEmpty(t *testing.T) {
	const checkEvery = time.Second
	for _, tc := range []struct {
		name  string
		check time.Duration
		// notice makes the node notice, after Redis restarted empty.
		notice func(h *foHarness)
	}{
		{"periodic check", checkEvery, func(h *foHarness) {
			// Within the bound: one CheckEvery of the clock.
			h.advance(checkEvery)
		}},
		{"unknown operator", -1, func(h *foHarness) {
			// b's unpause finds no b in Redis; it must not fail.
			h.must("unpause b after the reset", h.f.Unpause(context.Background(), "b", h.now()))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newResetHarness(t, tc.check)
			ctx := context.Background()
			h.login("a", "it")
			h.login("b", "it", "en")
			h.login("c", "en")
			h.must("pause b", h.f.Pause(ctx, "b", "lunch", h.now()))
			h.enqueue("c0", "it")
			o := h.assign("c0", "a")
			h.must("answered", h.f.Answered(ctx, o, h.now()))
			h.clock.Advance(time.Second)
			h.enqueue("c1", "it")
			h.enqueue("c2", "en")
			h.enqueue("c3", "it")
			before, err := h.f.Snapshot(ctx, h.now())
			h.must("snapshot before", err)

			h.srv.Restart(t) // no persistence: empty
			// An operation on the empty Redis succeeds: no error tells
			// the node anything.
			t4 := h.now()
			h.enqueue("c4", "it")
			if h.f.Fallback() {
				t.Fatal("node off Redis before the reset was noticed: the test no longer tests a silent reset")
			}
			tc.notice(h)
			h.wantSwitch(true)
			h.wantSwitch(false)

			want := viewOf(before)
			want.waiting["it"] = append(want.waiting["it"], fmt.Sprintf("c4@%d>", t4.UnixMilli()))
			if tc.name == "unknown operator" {
				delete(want.ops, "b") // unpaused: checked below
			}
			got, err := h.f.Snapshot(ctx, h.now())
			h.must("snapshot after", err)
			gv := viewOf(got)
			if tc.name == "unknown operator" {
				if op, err := h.f.Operator(ctx, "b"); err != nil || op.State != queue.Available {
					t.Errorf("b after the unpause: %+v, %v; want available", op, err)
				}
				delete(gv.ops, "b")
			}
			diffViews(t, "node after the reset", gv, want)
			raw, err := h.direct.Snapshot(ctx, h.now())
			h.must("direct snapshot", err)
			rv := viewOf(raw)
			if len(rv.waiting["it"]) != 3 || len(rv.waiting["en"]) != 1 {
				t.Errorf("Redis waiting %v; want c1, c3, c4 (it) and c2 (en)", rv.waiting)
			}
			diffViews(t, "Redis waiting", view{waiting: rv.waiting}, view{waiting: want.waiting})
			for _, op := range raw.Operators {
				if op.ID == "a" && (op.State != queue.Paused || op.PauseReason != queue.StandInBusy) {
					t.Errorf("Redis a = %s/%s; want the busy stand-in", op.State, op.PauseReason)
				}
			}
			if n := len(raw.Operators); n != 3 {
				t.Errorf("Redis holds %d operators; want a, b, c", n)
			}
			if v := value(t, h.reg, "helpline_queue_fallback_active"); v != 0 {
				t.Errorf("fallback gauge %v after the rebuild", v)
			}
		})
	}
}

// TestFailoverMarkSurvivesPersistence: a Redis restarted WITH its data
// (AOF) keeps the mark: a Sync (which checks it, synchronously) trusts the
// Snapshot and the node stays on Redis.
func TestFailoverMarkSurvivesPersistence(t *testing.T) {
	h := newResetHarness(t, -1, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	h.login("a", "it")
	h.enqueue("c1", "it")
	h.srv.Restart(t)
	h.enqueue("c2", "it")
	if err := h.f.Sync(ctx); err != nil && !errors.Is(err, queue.ErrSyncRaced) {
		t.Fatalf("Sync on a Redis that kept its data: %v", err)
	}
	select {
	case fb := <-h.switches:
		t.Fatalf("switch to fallback=%v on a Redis that kept its data", fb)
	default:
	}
	if h.f.Fallback() {
		t.Fatalf("mode %s; want redis", h.f.Mode())
	}
	pos, err := h.direct.Position(ctx, "c2")
	if err != nil || pos != 2 {
		t.Errorf("c2 at %d, %v; want 2", pos, err)
	}
}

// TestFailoverSyncRefusesResetSnapshot: a Sync after an empty restart
// must not replace the node's copy with the empty Snapshot; it reports
// ErrStoreReset and the node rebuilds Redis.
func TestFailoverSyncRefusesResetSnapshot(t *testing.T) {
	h := newResetHarness(t, -1)
	ctx := context.Background()
	h.login("a", "it")
	h.enqueue("c1", "it")
	h.srv.Restart(t)
	// ErrSyncRaced if Run's own first Sync, racing with this one, met the
	// reset first: either way the empty Snapshot is not applied.
	if err := h.f.Sync(ctx); !errors.Is(err, queue.ErrStoreReset) && !errors.Is(err, queue.ErrSyncRaced) {
		t.Fatalf("Sync after an empty restart: %v; want ErrStoreReset", err)
	}
	h.wantSwitch(true)
	h.wantSwitch(false)
	pos, err := h.direct.Position(ctx, "c1")
	if err != nil || pos != 1 {
		t.Errorf("c1 in Redis at %d, %v; want 1", pos, err)
	}
	if op, err := h.direct.Operator(ctx, "a"); err != nil || op.State != queue.Available {
		t.Errorf("a in Redis: %+v, %v; want available", op, err)
	}
}

// newResetHarness is newFoHarness with a client that retries as serve's
// does (a command on a connection the restart broke is sent again) and the
// given CheckEvery.
func newResetHarness(t *testing.T, checkEvery time.Duration, redisArgs ...string) *foHarness {
	t.Helper()
	srv := testenv.StartRedis(t, redisArgs...)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	h := &foHarness{t: t, srv: srv, clock: clockwork.NewFakeClockAt(queuetest.T0), switches: make(chan bool, 16), reg: prometheus.NewRegistry()}
	h.direct = newRedis(t, srv.Client(t), "fo")
	var err error
	h.f, err = queue.NewFailover(newRedis(t, client, "fo"), queue.FailoverOptions{
		Service: "svc", Node: "n1", Clock: h.clock, Logger: testLogger(t), Registerer: h.reg,
		ProbeMin: probeMin, ProbeMax: 8 * probeMin, SyncEvery: -1, CheckEvery: checkEvery,
		OnSwitch: func(fb bool) { h.switches <- fb },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	done := make(chan struct{})
	go func() { defer close(done); _ = h.f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// TestFailoverResetAnswerInFlight: an offer rings when Redis restarts
// empty; the operator answers. Redis no longer knows the offer, but the
// node does: Answered must succeed (on the fallback, loaded with the
// offer), and Redis is rebuilt with the operator busy and the other call
// still waiting.
func TestFailoverResetAnswerInFlight(t *testing.T) {
	h := newResetHarness(t, -1)
	ctx := context.Background()
	h.login("a", "it")
	h.enqueue("c1", "it")
	t2 := h.now()
	h.enqueue("c2", "it")
	o := h.assign("c1", "a")
	h.srv.Restart(t)
	h.clock.Advance(time.Second)
	h.must("answered after the reset", h.f.Answered(ctx, o, h.now()))
	h.wantSwitch(true)
	h.wantSwitch(false)
	if op, err := h.f.Operator(ctx, "a"); err != nil || op.State != queue.Busy {
		t.Errorf("a = %+v, %v; want busy (a stand-in: Redis lost c1's answer)", op, err)
	}
	raw, err := h.direct.Snapshot(ctx, h.now())
	h.must("direct snapshot", err)
	rv := viewOf(raw)
	if w := rv.waiting["it"]; len(w) != 1 || w[0] != fmt.Sprintf("c2@%d>", t2.UnixMilli()) {
		t.Errorf("Redis waiting %v; want c2 alone, at its time", w)
	}
	// c2 is offered once the stand-in ends: not before.
	if _, err := h.f.Assign(ctx, h.now(), 30*time.Second); !errors.Is(err, queue.ErrNoMatch) {
		t.Errorf("Assign with a busy: %v; want ErrNoMatch", err)
	}
}

// TestFailoverNoResetAfterOutage: an outage the node saw (a call failed),
// Redis back empty, reconciled: the reconciliation found the mark gone and
// repaired it, so the next check must not rebuild Redis a second time.
func TestFailoverNoResetAfterOutage(t *testing.T) {
	h := newResetHarness(t, -1)
	ctx := context.Background()
	h.login("a", "it")
	h.enqueue("c1", "it")
	h.srv.Stop()
	h.enqueue("c2", "it") // fails on Redis: the node falls back
	h.wantSwitch(true)
	h.srv.Restart(t)
	h.f.ProbeNow()
	h.wantSwitch(false)
	if err := h.f.Sync(ctx); err != nil && !errors.Is(err, queue.ErrSyncRaced) {
		t.Fatalf("Sync after the reconciliation: %v", err)
	}
	select {
	case fb := <-h.switches:
		t.Fatalf("switch to fallback=%v after a reconciliation that repaired the mark", fb)
	default:
	}
	if pos, err := h.direct.Position(ctx, "c2"); err != nil || pos != 2 {
		t.Errorf("c2 in Redis at %d, %v; want 2", pos, err)
	}
}
