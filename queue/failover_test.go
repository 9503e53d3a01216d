package queue_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/queue/queuetest"
)

// TestFailoverContract runs the contract over the Failover on both of its
// paths: Redis healthy, and the in-process fallback.
func TestFailoverContract(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	var n atomic.Int64
	t.Run("redis", func(t *testing.T) {
		queuetest.RunQueueSuite(t, func(t *testing.T) queue.Queue {
			r := newRedis(t, client, fmt.Sprintf("fo%d", n.Add(1)))
			f, err := queue.NewFailover(r, queue.FailoverOptions{Service: "svc", Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			return f
		})
	})
	t.Run("fallback", func(t *testing.T) {
		dead := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
		t.Cleanup(func() { _ = dead.Close() })
		queuetest.RunQueueSuite(t, func(t *testing.T) queue.Queue {
			f, err := queue.NewFailover(newRedis(t, dead, "x"), queue.FailoverOptions{Service: "svc", StartInFallback: true, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			return f
		})
	})
}

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// foHarness is a Failover over a real redis-server, on a fake clock, with
// Run going and every switch reported on a channel.
type foHarness struct {
	t        *testing.T
	srv      *testenv.Redis
	direct   *queue.Redis // a second view of the same Redis keys
	f        *queue.Failover
	clock    *clockwork.FakeClock
	switches chan bool
	reg      *prometheus.Registry
	ctx      context.Context
}

const probeMin = time.Hour // far beyond the seconds the tests advance between steps

func newFoHarness(t *testing.T, startDown bool, redisArgs ...string) *foHarness {
	t.Helper()
	srv := testenv.StartRedis(t, redisArgs...)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	if startDown {
		srv.Stop()
	}
	h := &foHarness{t: t, srv: srv, clock: clockwork.NewFakeClockAt(queuetest.T0), switches: make(chan bool, 16), reg: prometheus.NewRegistry()}
	h.direct = newRedis(t, srv.Client(t), "fo")
	var err error
	h.f, err = queue.NewFailover(newRedis(t, client, "fo"), queue.FailoverOptions{
		Service: "svc", Node: "n1", Clock: h.clock, Logger: testLogger(t), Registerer: h.reg,
		ProbeMin: probeMin, ProbeMax: 8 * probeMin, SyncEvery: -1, CheckEvery: -1, StartInFallback: startDown,
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

func (h *foHarness) now() time.Time { return h.clock.Now() }

// advance moves the clock by d (seconds) once Run waits on it.
func (h *foHarness) advance(d time.Duration) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, 1); err != nil {
		h.t.Fatalf("Run never waited on the clock: %v", err)
	}
	h.clock.Advance(d)
}

// awaitMode polls Mode (it signals nothing) until it is want.
func (h *foHarness) awaitMode(want string) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for h.f.Mode() != want {
		select {
		case <-deadline:
			h.t.Fatalf("mode %s; want %s", h.f.Mode(), want)
		case <-time.After(time.Millisecond):
		}
	}
}

func (h *foHarness) wantSwitch(want bool) {
	h.t.Helper()
	select {
	case got := <-h.switches:
		if got != want {
			h.t.Fatalf("switch to fallback=%v; want %v", got, want)
		}
	case <-time.After(15 * time.Second):
		h.t.Fatalf("no switch to fallback=%v within 15s", want)
	}
}

func (h *foHarness) must(what string, err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
}

func (h *foHarness) enqueue(id, lang string) {
	h.t.Helper()
	h.must("enqueue "+id, h.f.Enqueue(context.Background(), queue.Call{ID: id, Language: lang, Node: "n1", Tag: "t", Enqueued: h.now()}))
	h.clock.Advance(time.Second)
}

func (h *foHarness) login(id string, skills ...string) {
	h.t.Helper()
	h.must("login "+id, h.f.Login(context.Background(), queue.Operator{ID: id, Endpoint: "PJSIP/" + id, Skills: skills}, h.now()))
	h.clock.Advance(time.Second)
}

func (h *foHarness) assign(call, op string) queue.Offer {
	h.t.Helper()
	o, err := h.f.Assign(context.Background(), h.now(), 30*time.Second)
	h.must("assign", err)
	if o.CallID != call || o.OperatorID != op {
		h.t.Fatalf("offer %s→%s; want %s→%s", o.CallID, o.OperatorID, call, op)
	}
	return o
}

// view is the comparable part of a snapshot: waiting order per language
// and each operator's state.
type view struct {
	waiting map[string][]string
	ops     map[string]string
}

func viewOf(s queue.Snapshot) view {
	v := view{waiting: map[string][]string{}, ops: map[string]string{}}
	for lang, wcs := range s.Waiting {
		for _, wc := range wcs {
			v.waiting[lang] = append(v.waiting[lang], fmt.Sprintf("%s@%d>%s", wc.ID, wc.Enqueued.UnixMilli(), wc.OfferedTo))
		}
	}
	for _, op := range s.Operators {
		v.ops[op.ID] = fmt.Sprintf("%s/%s/%v/wrap=%d/idle=%d", op.State, op.PauseReason, op.Skills, op.WrapUntil.UnixMilli(), op.IdleSince.UnixMilli())
	}
	return v
}

func diffViews(t *testing.T, what string, got, want view) {
	t.Helper()
	for lang := range want.waiting {
		if !slices.Equal(got.waiting[lang], want.waiting[lang]) {
			t.Errorf("%s: waiting %s = %v; want %v", what, lang, got.waiting[lang], want.waiting[lang])
		}
	}
	for lang := range got.waiting {
		if _, ok := want.waiting[lang]; !ok && len(got.waiting[lang]) > 0 {
			t.Errorf("%s: waiting %s = %v; want none", what, lang, got.waiting[lang])
		}
	}
	for id, w := range want.ops {
		if got.ops[id] != w {
			t.Errorf("%s: operator %s = %s; want %s", what, id, got.ops[id], w)
		}
	}
	for id, g := range got.ops {
		if _, ok := want.ops[id]; !ok {
			t.Errorf("%s: operator %s = %s; want not logged in", what, id, g)
		}
	}
}

// TestFailoverOutage kills redis-server with calls waiting, an offer
// ringing and operators in every state, works on through the outage,
// starts Redis again and checks that Redis ends up holding exactly the
// node's state. Twice: a Redis that lost its data (no persistence) and one
// that kept it (AOF, fsync always), where calls that left during the
// outage must be removed.
func TestFailoverOutage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"data lost", nil},
		{"data kept", []string{"--appendonly", "yes", "--appendfsync", "always"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFoHarness(t, false, tc.args...)
			ctx := context.Background()
			h.login("a", "it")
			h.login("b", "en", "it")
			h.login("c", "en")
			h.login("d", "it")
			h.login("idle", "ar")
			h.must("pause c", h.f.Pause(ctx, "c", "lunch", h.now()))
			h.enqueue("c1", "it")
			h.enqueue("c2", "it")
			h.enqueue("c3", "it")
			h.enqueue("c4", "en")
			h.enqueue("c5", "it")
			h.must("answer c1", h.f.Answered(ctx, h.assign("c1", "a"), h.now())) // a busy
			ringing := h.assign("c2", "b")                                       // b rings across the outage
			// Another node's call, in the same Redis: not ours to touch.
			h.must("foreign", h.direct.Enqueue(ctx, queue.Call{ID: "x1", Language: "ar", Node: "n2", Enqueued: queuetest.T0}))

			h.srv.Stop()
			h.clock.Advance(time.Second)
			// The answer in flight is confirmed by the fallback, which
			// knew the offer from the shadow.
			h.must("answer across the outage", h.f.Answered(ctx, ringing, h.now()))
			h.wantSwitch(true)
			if !h.f.Fallback() {
				t.Fatal("Fallback() = false after the switch")
			}
			if v := value(t, h.reg, "helpline_queue_fallback_active"); v != 1 {
				t.Fatalf("fallback gauge = %v; want 1", v)
			}
			// Calls keep flowing: a new call, one abandoned, one assigned
			// and answered, operators changing state.
			h.enqueue("c6", "it")
			if _, err := h.f.Leave(ctx, "c3", h.now()); err != nil {
				t.Fatalf("leave c3: %v", err)
			}
			h.must("pause d", h.f.Pause(ctx, "d", "training", h.now()))
			h.login("e", "it")
			h.must("answer c5", h.f.Answered(ctx, h.assign("c5", "e"), h.now())) // e busy (outage only)
			h.must("unpause c", h.f.Unpause(ctx, "c", h.now()))
			h.must("finish a", h.f.Finish(ctx, "a", h.now().Add(time.Hour), h.now()))
			h.must("logout idle", h.f.Logout(ctx, "idle", h.now()))
			pos, err := h.f.Position(ctx, "c6")
			h.must("position", err)
			if pos != 1 {
				t.Fatalf("position of c6 = %d; want 1 (c2 answered, c3 left, c5 answered)", pos)
			}
			// An offer ringing when Redis returns must end before the
			// reconciliation.
			h.enqueue("c7", "en")
			late := h.assign("c4", "c")
			// A match the fallback could make, to show draining holds it.
			h.login("f1", "fr")
			h.enqueue("cf", "fr")
			during, err := h.f.Snapshot(ctx, h.now())
			h.must("snapshot during the outage", err)

			h.srv.Restart(t)
			h.f.ProbeNow()
			// Redis answers; the node lets its offer end first.
			h.awaitMode("draining")
			if !h.f.Fallback() {
				t.Fatal("Fallback() = false while draining")
			}
			if o, err := h.f.Assign(ctx, h.now(), 30*time.Second); !errors.Is(err, queue.ErrNoMatch) {
				t.Fatalf("Assign while draining = %+v, %v; want ErrNoMatch (cf→f1 waits for Redis)", o, err)
			}
			h.must("ring failed", h.f.RingFailed(ctx, late, false, "", h.now()))
			h.wantSwitch(false)

			// The node's view (stand-ins translated) is what it had, minus
			// the offer that ended.
			after, err := h.f.Snapshot(ctx, h.now())
			h.must("snapshot after", err)
			want := viewOf(during)
			want.waiting["en"] = []string{fmt.Sprintf("c4@%d>", queuetest.T0.Add(8*time.Second).UnixMilli()), fmt.Sprintf("c7@%d>", during.Waiting["en"][1].Enqueued.UnixMilli())}
			cop, err := h.f.Operator(ctx, "c")
			h.must("operator c", err)
			want.ops["c"] = viewOf(queue.Snapshot{Operators: []queue.Operator{cop}}).ops["c"]
			if cop.State != queue.Available {
				t.Fatalf("operator c after ring failed = %s; want available", cop.State)
			}
			if tc.name == "data kept" {
				// Another node's call is not ours to remove.
				want.waiting["ar"] = []string{fmt.Sprintf("x1@%d>", queuetest.T0.UnixMilli())}
			}
			diffViews(t, "failover after reconcile", viewOf(after), want)

			// Redis itself: same order; stand-ins as pauses.
			raw, err := h.direct.Snapshot(ctx, h.now())
			h.must("direct snapshot", err)
			rv := viewOf(raw)
			for _, id := range []string{"b", "e"} {
				op, _ := h.direct.Operator(ctx, id)
				if op.State != queue.Paused || op.PauseReason != queue.StandInBusy {
					t.Errorf("Redis operator %s = %s/%s; want paused/%s", id, op.State, op.PauseReason, queue.StandInBusy)
				}
			}
			diffViews(t, "Redis waiting order", view{waiting: rv.waiting}, view{waiting: viewOf(after).waiting})
			if _, err := h.direct.Position(ctx, "c3"); !errors.Is(err, queue.ErrUnknownCall) {
				t.Errorf("c3 left during the outage but Redis still has it: %v", err)
			}
			a, _ := h.direct.Operator(ctx, "a")
			if tc.name == "data kept" && a.State != queue.WrapUp {
				t.Errorf("Redis operator a = %s; want wrapup (finished during the outage)", a.State)
			}

			// Back on Redis: stand-ins behave as the states they stand for.
			if err := h.f.Unpause(ctx, "b", h.now()); !errors.Is(err, queue.ErrBadState) {
				t.Errorf("unpause of busy b = %v; want ErrBadState", err)
			}
			h.must("finish b", h.f.Finish(ctx, "b", h.now().Add(10*time.Second), h.now()))
			if op, _ := h.f.Operator(ctx, "b"); op.State != queue.WrapUp {
				t.Errorf("b after finish = %s; want wrapup", op.State)
			}
			h.must("finish e", h.f.Finish(ctx, "e", h.now(), h.now()))
			h.clock.Advance(11 * time.Second)
			// b's wrap-up ended: the next Assign lifts the stand-in and
			// offers the oldest waiting "it" call.
			h.assign("c4", "c")
			h.assign("c6", "e") // e finished before b's wrap-up ended: longer idle
			if op, _ := h.direct.Operator(ctx, "b"); op.State != queue.Available {
				t.Errorf("b in Redis = %s/%s after the wrap-up stand-in ended; want available", op.State, op.PauseReason)
			}
			if v := value(t, h.reg, "helpline_queue_fallback_active"); v != 0 {
				t.Errorf("fallback gauge = %v; want 0", v)
			}
			if n := value(t, h.reg, "helpline_queue_reconcile_seconds"); n != 1 {
				t.Errorf("reconciliations observed = %v; want 1", n)
			}
			if v := value(t, h.reg, "helpline_queue_fallback_switches_total"); v != 2 {
				t.Errorf("switches = %v; want 2 (to memory, back to redis)", v)
			}
			if h.f.FallbackBetween(queuetest.T0, queuetest.T0.Add(time.Second)) {
				t.Errorf("a call over before the outage is marked fallback")
			}
			if !h.f.FallbackBetween(queuetest.T0, h.now()) {
				t.Errorf("a call spanning the outage is not marked fallback")
			}
		})
	}
}

// TestFailoverStartDown: Redis unreachable at start; the node serves in
// process, and writes its state to Redis once it is up.
func TestFailoverStartDown(t *testing.T) {
	h := newFoHarness(t, true)
	ctx := context.Background()
	if !h.f.Fallback() {
		t.Fatal("StartInFallback: Fallback() = false")
	}
	h.login("a", "it")
	h.login("b", "it")
	h.enqueue("c1", "it")
	h.enqueue("c2", "it")
	h.must("answer", h.f.Answered(ctx, h.assign("c1", "a"), h.now()))
	h.must("pause b", h.f.Pause(ctx, "b", "break", h.now()))
	h.srv.Restart(t)
	h.advance(probeMin)
	h.wantSwitch(false)
	raw, err := h.direct.Snapshot(ctx, h.now())
	h.must("snapshot", err)
	got := viewOf(raw)
	if w := got.waiting["it"]; len(w) != 1 || w[0] != fmt.Sprintf("c2@%d>", queuetest.T0.Add(3*time.Second).UnixMilli()) {
		t.Errorf("Redis waiting = %v; want c2 with its Enqueued time", w)
	}
	if b := raw.Operators[1]; b.ID != "b" || b.State != queue.Paused || b.PauseReason != "break" {
		t.Errorf("Redis operator b = %+v; want paused for break", b)
	}
	if v := value(t, h.reg, "helpline_queue_fallback_switches_total"); v != 1 {
		t.Errorf("switches = %v; want 1 (to redis)", v)
	}
}

// value sums the samples of the metric family name (counters, gauges) or
// returns the sample count (histograms).
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.Gauge != nil:
				v += m.GetGauge().GetValue()
			case m.Counter != nil:
				v += m.GetCounter().GetValue()
			case m.Histogram != nil:
				v += float64(m.GetHistogram().GetSampleCount())
			}
		}
		return v
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// TestFailoverSyncLearnsOtherNodes: operators logged in elsewhere and this
// node's calls enqueued before it started (re-adopted state) are known to
// the fallback once Sync has read them; another node's calls are not.
func TestFailoverSyncLearnsOtherNodes(t *testing.T) {
	h := newFoHarness(t, false)
	ctx := context.Background()
	h.must("far login", h.direct.Login(ctx, queue.Operator{ID: "far", Endpoint: "PJSIP/far", Skills: []string{"it"}}, h.now()))
	h.must("theirs", h.direct.Enqueue(ctx, queue.Call{ID: "theirs", Language: "it", Node: "n2", Enqueued: h.now()}))
	h.must("mine", h.direct.Enqueue(ctx, queue.Call{ID: "mine", Language: "it", Node: "n1", Enqueued: h.now().Add(time.Second)}))
	h.clock.Advance(time.Minute)
	if err := h.f.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	h.srv.Stop()
	h.assign("mine", "far")
	h.wantSwitch(true)
	if _, err := h.f.Position(ctx, "theirs"); !errors.Is(err, queue.ErrUnknownCall) {
		t.Errorf("another node's call in the fallback: %v", err)
	}
	if err := h.f.Sync(ctx); err != nil {
		t.Errorf("Sync on the fallback = %v; want nil (nothing to do)", err)
	}
}

// switchable is a primary store that can be made unreachable, whole or for
// the next Enqueue only (Redis dying again during a reconciliation).
type switchable struct {
	queue.Queue
	down          atomic.Bool
	hang          atomic.Bool // calls wait for their context (a partition)
	failEnqueue   atomic.Bool
	enqueueFailed chan struct{}
}

func (s *switchable) check() error {
	if s.down.Load() {
		return fmt.Errorf("test: %w", queue.ErrUnavailable)
	}
	return nil
}

func (s *switchable) Enqueue(ctx context.Context, c queue.Call) error {
	if err := s.check(); err != nil {
		return err
	}
	if s.failEnqueue.CompareAndSwap(true, false) {
		defer close(s.enqueueFailed)
		return fmt.Errorf("test: connection reset: %w", queue.ErrUnavailable)
	}
	return s.Queue.Enqueue(ctx, c)
}

func (s *switchable) Assign(ctx context.Context, now time.Time, ttl time.Duration) (queue.Offer, error) {
	if err := s.check(); err != nil {
		return queue.Offer{}, err
	}
	if s.hang.Load() {
		<-ctx.Done()
		// What queue.Redis says of a call cut by its deadline.
		return queue.Offer{}, fmt.Errorf("test: %w: %w", queue.ErrUnavailable, ctx.Err())
	}
	return s.Queue.Assign(ctx, now, ttl)
}

func (s *switchable) Snapshot(ctx context.Context, now time.Time) (queue.Snapshot, error) {
	if err := s.check(); err != nil {
		return queue.Snapshot{}, err
	}
	return s.Queue.Snapshot(ctx, now)
}

// TestFailoverReconcileFails: Redis answers the probe, then fails in the
// middle of the write-back: the node stays on its fallback, counts the
// failed reconciliation, and succeeds at the next probe.
func TestFailoverReconcileFails(t *testing.T) {
	mem, err := queue.NewMemory("svc")
	if err != nil {
		t.Fatal(err)
	}
	prim := &switchable{Queue: mem, enqueueFailed: make(chan struct{})}
	clock := clockwork.NewFakeClockAt(queuetest.T0)
	reg := prometheus.NewRegistry()
	switches := make(chan bool, 4)
	f, err := queue.NewFailover(prim, queue.FailoverOptions{Service: "svc", Clock: clock, Registerer: reg,
		ProbeMin: time.Hour, SyncEvery: -1, Logger: testLogger(t), OnSwitch: func(fb bool) { switches <- fb }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	prim.down.Store(true)
	if err := f.Enqueue(ctx, queue.Call{ID: "c1", Language: "it", Enqueued: clock.Now()}); err != nil {
		t.Fatalf("Enqueue with the primary down: %v", err)
	}
	if fb := <-switches; !fb {
		t.Fatal("first switch is not to the fallback")
	}
	prim.down.Store(false)
	prim.failEnqueue.Store(true)
	f.ProbeNow()
	select {
	case <-prim.enqueueFailed:
	case <-time.After(10 * time.Second):
		t.Fatal("the reconciliation never re-enqueued c1")
	}
	deadline := time.After(10 * time.Second)
	for value(t, reg, "helpline_queue_reconcile_errors_total") != 1 {
		select {
		case <-deadline:
			t.Fatal("failed reconciliation not counted")
		case <-time.After(time.Millisecond):
		}
	}
	if f.Mode() != "fallback" {
		t.Fatalf("mode %s after a failed reconciliation; want fallback", f.Mode())
	}
	f.ProbeNow()
	select {
	case fb := <-switches:
		if fb {
			t.Fatal("switched to the fallback again")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("never switched back")
	}
	if pos, err := mem.Position(ctx, "c1"); err != nil || pos != 1 {
		t.Errorf("c1 in the primary: %d, %v", pos, err)
	}
}

// TestFailoverPartition: Redis stops answering without refusing (packets
// dropped): the call waits OpTimeout at most, then the node is on its
// fallback and the call is served there.
func TestFailoverPartition(t *testing.T) {
	mem, err := queue.NewMemory("svc")
	if err != nil {
		t.Fatal(err)
	}
	prim := &switchable{Queue: mem}
	f, err := queue.NewFailover(prim, queue.FailoverOptions{Service: "svc", OpTimeout: 50 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := queuetest.T0
	if err := f.Login(ctx, queue.Operator{ID: "a", Endpoint: "PJSIP/a", Skills: []string{"it"}}, now); err != nil {
		t.Fatal(err)
	}
	if err := f.Enqueue(ctx, queue.Call{ID: "c1", Language: "it", Enqueued: now}); err != nil {
		t.Fatal(err)
	}
	prim.hang.Store(true)
	done := make(chan error, 1)
	var o queue.Offer
	go func() {
		var err error
		o, err = f.Assign(ctx, now, time.Minute)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || o.CallID != "c1" || o.OperatorID != "a" {
			t.Fatalf("Assign during the partition = %+v, %v; want c1 to a from the fallback", o, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Assign held by a silent Redis beyond OpTimeout")
	}
	if f.Mode() != "fallback" {
		t.Errorf("mode %s; want fallback", f.Mode())
	}
}
