package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Pause reasons a Failover writes to Redis for operators whose state no
// Queue method can recreate (see Failover, "Reconciling").
const (
	// StandInBusy marks an operator who is on a call that Redis does not
	// know (it was answered during the outage, or Redis lost it).
	StandInBusy = "restored:busy"
	// StandInWrapUp marks an operator in a wrap-up that Redis does not know.
	StandInWrapUp = "restored:wrapup"
)

// FailoverOptions configures a Failover.
type FailoverOptions struct {
	// Service is the helpline service (required, as for NewMemory).
	Service string
	// Node is this node's ID: calls in Redis whose Node is this one are
	// this node's, and are removed from Redis at reconciliation when the
	// node no longer holds them. Empty: only the calls the node enqueued
	// or learnt through this Failover count as its own.
	Node string
	// Clock drives probing and stamps fallback periods (default: real).
	Clock clockwork.Clock
	// Logger receives the switches and reconciliation problems.
	Logger zerolog.Logger
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
	// ProbeMin and ProbeMax bound the probing backoff while Redis is down
	// (defaults 250ms and 1s; each failed probe doubles the wait). ProbeMax
	// is how late the node may notice that Redis is back: a switchboard
	// wants it small (a probe of a dead Redis costs a refused connection).
	ProbeMin, ProbeMax time.Duration
	// ProbeTimeout bounds one probe and one reconciliation (default 5s).
	ProbeTimeout time.Duration
	// OpTimeout bounds each Redis call on the healthy path; a call that
	// takes longer switches the node to the fallback (default 2s).
	OpTimeout time.Duration
	// SyncEvery is how often, while Redis is healthy, the shadow is
	// refreshed from a Redis Snapshot so that operators logged in through
	// other nodes (or before this node started) are known if Redis dies
	// (default 30s; negative: only once, when Run starts).
	SyncEvery time.Duration
	// CheckEvery is how often, while Redis is healthy, Run checks this
	// node's mark in Redis (one SET, see failover_mark.go) to notice a Redis
	// that lost its data without failing a call (restarted empty between
	// two calls, flushed, an empty replica promoted): the node then
	// rebuilds it from its shadow as after an outage. Default 1s; negative:
	// only at Sync and when a method gets ErrUnknownCall, ErrUnknownOperator
	// or ErrOfferLost.
	CheckEvery time.Duration
	// StartInFallback starts on the in-process queue (Redis was
	// unreachable at start); Run probes Redis and switches when it is back.
	StartInFallback bool
	// OnSwitch, if set, is called after each switch (fallback true: to the
	// in-process queue; false: back on Redis), outside any lock: for the
	// node's readiness text and for tests to await the switch.
	OnSwitch func(fallback bool)
}

const (
	modeRedis int32 = iota
	modeFallback
	modeDraining
)

// maxPeriods bounds the fallback periods kept for FallbackBetween.
const maxPeriods = 256

// Failover is the Queue a node uses: Redis while it answers, an in-process
// Memory on this node while it does not, and a reconciliation when it is
// back, so that Redis dying in the middle of a run neither loses nor stalls
// a call.
//
// # Healthy path
//
// Every method goes to Redis. After each success the node writes the same
// change into a shadow: a local copy of every call it enqueued (with its
// Enqueued time and current offer) and of every operator state it wrote or
// saw. The shadow costs a mutex and a map write per call — nothing beside
// a Redis round trip (BenchmarkFailoverAssign). Every SyncEvery the shadow
// is refreshed from a Redis Snapshot (Sync: all operators; this node's calls), so
// operators logged in on other nodes or before a restart are known too.
//
// # Switching to the fallback
//
// The first method that gets ErrUnavailable from Redis switches this node
// to the fallback: the Memory queue is loaded with the shadow — the calls
// waiting in Redis at that moment are this node's calls, known from its own
// flows, and they keep their place (Enqueued) and any offer ringing (so an
// answer in flight is confirmed by Memory); operators keep their states —
// and the method is run again on Memory. A Redis call that failed may or
// may not have been applied; Memory's state is the one that counts from
// then on and is what is written back.
//
// # Probing and reconciling
//
// Run probes Redis with a Snapshot, with exponential backoff on the
// injected clock. Once Redis answers, the node first lets the offers made
// in Memory end (answered, failed, expired: at most one offer TTL; Assign
// says ErrNoMatch meanwhile, calls keep waiting) because an offer cannot be
// handed to Redis. Then, with every method held back, it reconciles:
//   - its calls that are in Redis but no longer on the node (they left,
//     were answered or abandoned during the outage) are removed;
//   - the calls waiting on the node are enqueued, oldest first (Enqueue is
//     idempotent by ID and keeps Enqueued, so a Redis that kept its data
//     keeps their place and one that lost it gets them back in order);
//   - every operator the node knows is restored: logged in with their
//     skills (at their IdleSince, so longest-idle order is kept), paused
//     with their reason, logged out, available; a busy operator or one in
//     wrap-up whom Redis does not hold so (no method can make an operator
//     busy) is paused with reason StandInBusy or StandInWrapUp, and the
//     Failover translates: Operator and Snapshot show them Busy or WrapUp,
//     Finish turns a busy stand-in into a wrap-up stand-in or unpauses it,
//     and a wrap-up stand-in is unpaused when it ends (by Assign).
//
// Then methods go to Redis again. A failure during reconciliation (Redis
// died again) leaves the node in the fallback and probing resumes.
//
// # A Redis that forgot
//
// Redis may lose the node's state without any call failing: redis-server
// killed and restarted without persistence between two calls (go-redis
// reconnects transparently), a FLUSHALL, an empty replica promoted. The
// node keeps a mark of its own in Redis (a key with a random name, set when
// it first talks to Redis and before each reconciliation; see
// failover_mark.go) and renews it with one SET every CheckEvery (default
// 1s), at every Sync (after its Snapshot, which is not trusted without
// it) and whenever a method gets ErrUnknownCall, ErrUnknownOperator or
// ErrOfferLost from Redis. A mark gone means the data beside it is gone:
// the node switches to the fallback loaded from the shadow, probes at once
// and reconciles exactly as after an outage (the method that got the error
// is run again on the fallback, so it does not fail). A reset is thus
// noticed within CheckEvery (plus one round trip), or at the first call
// that finds a call, operator or offer missing, whichever comes first. The
// healthy path pays nothing for it: no round trip is added to a method
// that succeeds.
//
// # Several nodes
//
// During the fallback each node serves its own calls with the operators it
// knows, independently: two nodes in fallback may both offer a call to the
// same operator (the second ring fails and that operator is paused, the
// caller keeps their place), and a call waiting on another node is not
// seen. When Redis is back each node writes back its own calls and the
// operators it knows, last writer wins for an operator.
//
// Stand-ins live in this process: after a restart of the node an operator
// left as StandInBusy is a plain pause, to be lifted from the phone.
type Failover struct {
	primary Queue
	mem     *Memory
	shadow  *Memory
	clock   clockwork.Clock
	log     zerolog.Logger
	node    string
	o       FailoverOptions

	// mu: read-locked by every method, write-locked to switch modes.
	mu   sync.RWMutex
	mode atomic.Int32
	// seq counts shadow updates (a resync applies only if none happened
	// while its Snapshot was read).
	seq  atomic.Uint64
	down chan struct{} // kicked when the node switches to the fallback
	kick chan struct{} // kicked by Memory methods while draining
	// probe asks for a probe now (ProbeNow).
	probe chan struct{}

	// markMu serializes the checks of the mark (marked: it was set once;
	// markToken names it).
	markMu sync.Mutex
	marked atomic.Bool
	// resetPending: a check found the mark gone and the switch to the
	// fallback has not happened yet.
	resetPending atomic.Bool
	markToken    string

	smu      sync.Mutex
	standIns map[string]standIn
	nStand   atomic.Int32
	periods  []period
	up       chan struct{} // closed when Redis is used again

	mActive    prometheus.Gauge
	mSwitches  *prometheus.CounterVec
	mReconcile prometheus.Histogram
	mErrors    prometheus.Counter
}

type standIn struct {
	wrap  bool
	until time.Time
}

type period struct{ from, to time.Time }

var _ Queue = (*Failover)(nil)
var _ Watcher = (*Failover)(nil)

// NewFailover wraps primary (the Redis store) with an in-process fallback.
// Call Run to probe and reconcile.
func NewFailover(primary Queue, o FailoverOptions) (*Failover, error) {
	if primary == nil {
		return nil, fmt.Errorf("%w: nil primary queue", ErrInvalid)
	}
	mem, err := NewMemory(o.Service)
	if err != nil {
		return nil, err
	}
	shadow, _ := NewMemory(o.Service)
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.ProbeMin <= 0 {
		o.ProbeMin = 250 * time.Millisecond
	}
	if o.ProbeMax < o.ProbeMin {
		o.ProbeMax = max(time.Second, o.ProbeMin)
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 5 * time.Second
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 2 * time.Second
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = 30 * time.Second
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = time.Second
	}
	f := &Failover{
		primary: primary, mem: mem, shadow: shadow, clock: o.Clock, node: o.Node, o: o,
		markToken: markToken(o.Node),
		log:       o.Logger.With().Str("component", "queue-failover").Logger(),
		down:      make(chan struct{}, 1),
		kick:      make(chan struct{}, 1),
		probe:     make(chan struct{}, 1),
		standIns:  map[string]standIn{},
		up:        make(chan struct{}),
		mActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helpline_queue_fallback_active",
			Help: "1 while this node's queue runs in process because Redis is unavailable (reconciliation included).",
		}),
		mSwitches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_queue_fallback_switches_total",
			Help: "Switches of this node's queue, by the store switched to (memory: Redis became unavailable; redis: reconciled and back).",
		}, []string{"to"}),
		mReconcile: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "helpline_queue_reconcile_seconds",
			Help:    "Time to write the node's calls and operators back to Redis after an outage.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		mErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_queue_reconcile_errors_total",
			Help: "Reconciliations that failed (Redis failed again or refused a write); the node stays on the fallback and retries.",
		}),
	}
	f.mSwitches.WithLabelValues("memory")
	f.mSwitches.WithLabelValues("redis")
	if _, ok := primary.(marker); !ok {
		f.marked.Store(true) // nothing to mark: no first mark to set
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{f.mActive, f.mSwitches, f.mReconcile, f.mErrors} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("queue failover metrics: %w", err)
			}
		}
	}
	if o.StartInFallback {
		f.mode.Store(modeFallback)
		f.mActive.Set(1)
		f.periods = append(f.periods, period{from: f.clock.Now()})
		f.up = make(chan struct{})
		f.down <- struct{}{}
	}
	return f, nil
}

// Fallback reports whether the node is off Redis now (fallback or
// reconciliation in progress).
func (f *Failover) Fallback() bool { return f.mode.Load() != modeRedis }

// Mode is where the node's queue is now: "redis", "fallback" (in process,
// probing Redis) or "draining" (Redis answers; offers made in process are
// ending before the reconciliation).
func (f *Failover) Mode() string {
	switch f.mode.Load() {
	case modeFallback:
		return "fallback"
	case modeDraining:
		return "draining"
	}
	return "redis"
}

// FallbackBetween reports whether [from, to] overlaps a period during
// which the node was off Redis (an open period counts up to now), for the
// call record's Fallback mark. The last 256 periods are kept.
func (f *Failover) FallbackBetween(from, to time.Time) bool {
	f.smu.Lock()
	defer f.smu.Unlock()
	for _, p := range f.periods {
		if to.Before(p.from) {
			continue
		}
		if p.to.IsZero() || !from.After(p.to) {
			return true
		}
	}
	return false
}

// ProbeNow asks Run to probe Redis at once instead of at the end of the
// current backoff (an operator's "Redis is back" button; tests). It never
// blocks and does nothing while Redis is in use.
func (f *Failover) ProbeNow() {
	select {
	case f.probe <- struct{}{}:
	default:
	}
}

func (f *Failover) kickRun() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// do runs red on Redis while it is healthy (then shadow after a success),
// and mem on the Memory queue during the fallback; an unavailable Redis
// switches the node to the fallback and mem is run instead. A Redis call
// is bounded by OpTimeout: past it Redis counts as unavailable (a
// partition must not hold a caller for the client's own timeouts and
// retries).
func (f *Failover) do(ctx context.Context, op string, red func(context.Context, Queue) error, shadow func(),
	mem func(context.Context, Queue) error) error {
	for {
		f.mu.RLock()
		if f.mode.Load() != modeRedis {
			err := mem(ctx, f.mem)
			if f.mode.Load() == modeDraining {
				f.kickRun()
			}
			f.mu.RUnlock()
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, f.o.OpTimeout)
		err := red(rctx, f.primary)
		cancel()
		if !IsUnavailable(err) {
			if err == nil && shadow != nil {
				shadow()
				f.seq.Add(1)
			}
			f.mu.RUnlock()
			if err == nil && !f.marked.Load() {
				f.markFirst(ctx)
			}
			// Off the healthy path: Redis not knowing what it should may
			// be Redis having lost everything; if so, run on the fallback.
			// (Or another goroutine just found so and switched.)
			if err != nil && suspect(err) && (f.checkReset(ctx, op) != nil || f.mode.Load() != modeRedis) {
				continue
			}
			return err
		}
		f.mu.RUnlock()
		f.failover(op, err)
	}
}

// failover switches to Memory, loaded from the shadow (once: concurrent
// failures all land here).
func (f *Failover) failover(op string, cause error) {
	if f.switchToMemory(op, cause) && f.o.OnSwitch != nil {
		f.o.OnSwitch(true)
	}
}

func (f *Failover) switchToMemory(op string, cause error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mode.Load() != modeRedis {
		return false
	}
	now := f.clock.Now()
	st := f.shadow.export()
	f.smu.Lock()
	// Stand-ins are Redis-side translations: Memory holds the true state.
	clear(f.standIns)
	f.nStand.Store(0)
	f.periods = append(f.periods, period{from: now})
	if len(f.periods) > maxPeriods {
		f.periods = slices.Delete(f.periods, 0, len(f.periods)-maxPeriods)
	}
	f.up = make(chan struct{})
	f.smu.Unlock()
	f.mem.load(st, now)
	f.resetPending.Store(false)
	f.mode.Store(modeFallback)
	f.mActive.Set(1)
	f.mSwitches.WithLabelValues("memory").Inc()
	msg := "REDIS UNAVAILABLE: queue switched to the IN-PROCESS fallback on this node; calls keep flowing, state is written back when Redis returns"
	if errors.Is(cause, ErrStoreReset) {
		msg = "REDIS LOST THIS NODE'S STATE (restarted empty or flushed): queue switched to the IN-PROCESS fallback on this node; calls keep flowing, state is written back now"
	}
	f.log.Error().Err(cause).Str("op", op).Int("calls", len(st.calls)).Int("operators", len(st.ops)).Msg(msg)
	select {
	case f.down <- struct{}{}:
	default:
	}
	return true
}

// Run probes Redis while the node is on the fallback and reconciles when
// it is back; while Redis is healthy it refreshes the shadow every
// SyncEvery. It returns when ctx ends.
func (f *Failover) Run(ctx context.Context) error {
	_ = f.Sync(ctx) // errors: switched to the fallback, or retried at the next tick
	var tick, check <-chan time.Time
	if f.o.SyncEvery > 0 {
		t := f.clock.NewTicker(f.o.SyncEvery)
		defer t.Stop()
		tick = t.Chan()
	}
	if f.o.CheckEvery > 0 {
		t := f.clock.NewTicker(f.o.CheckEvery)
		defer t.Stop()
		check = t.Chan()
	}
	for {
		if f.mode.Load() != modeRedis {
			f.recover(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.down:
		case <-tick:
			_ = f.Sync(ctx)
		case <-check:
			_ = f.checkReset(ctx, "check")
		}
	}
}

// recover probes with backoff until Redis answers and reconciliation
// succeeds, or ctx ends.
func (f *Failover) recover(ctx context.Context) {
	wait := f.o.ProbeMin
	for f.mode.Load() != modeRedis {
		t := f.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		case <-f.probe:
			t.Stop() // no timer left behind on a fake clock
		}
		wait = min(2*wait, f.o.ProbeMax)
		pctx, cancel := context.WithTimeout(ctx, f.o.ProbeTimeout)
		_, err := f.primary.Snapshot(pctx, f.clock.Now())
		cancel()
		if err != nil {
			if !IsUnavailable(err) && ctx.Err() == nil {
				f.mErrors.Inc()
				f.log.Error().Err(err).Msg("Redis answers the probe with an error; staying on the fallback")
			}
			continue
		}
		f.mode.Store(modeDraining)
		if !f.drain(ctx) {
			return
		}
		if err := f.reconcile(ctx); err != nil {
			f.mErrors.Inc()
			f.log.Error().Err(err).Msg("reconciliation with Redis failed; staying on the fallback and retrying")
			continue
		}
		if f.o.OnSwitch != nil {
			f.o.OnSwitch(false)
		}
		return
	}
}

// drain waits until no offer made by Memory is outstanding.
func (f *Failover) drain(ctx context.Context) bool {
	for {
		now := f.clock.Now()
		pending, first := f.mem.pendingOffers(now)
		if !pending {
			return true
		}
		t := f.clock.NewTimer(max(first.Sub(now), time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-f.kick:
		case <-t.Chan():
		}
		t.Stop()
	}
}

// reconcile writes the node's state back to Redis and switches to it. On
// error the node is left on (or put back on) the fallback.
func (f *Failover) reconcile(ctx context.Context) (err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() {
		if err != nil {
			f.mode.Store(modeFallback)
		}
	}()
	start := f.clock.Now()
	ctx, cancel := context.WithTimeout(ctx, f.o.ProbeTimeout)
	defer cancel()
	now := start
	st := f.mem.export()
	// The mark first: a Redis that loses its data after it loses the mark
	// too, and the next check rebuilds again.
	if _, err := f.checkMark(ctx); err != nil {
		return fmt.Errorf("marking Redis: %w", err)
	}
	// A mark found gone here (Redis restarted empty during the outage) is
	// what this reconciliation repairs: no reset is pending after it.
	f.resetPending.Store(false)
	rs, err := f.primary.Snapshot(ctx, now)
	if err != nil {
		return fmt.Errorf("reading Redis: %w", err)
	}
	ours := f.shadow.export().calls
	left, restored := 0, 0
	for _, lang := range slices.Sorted(maps.Keys(rs.Waiting)) {
		for _, wc := range rs.Waiting[lang] {
			if _, here := st.calls[wc.ID]; here {
				continue
			}
			if _, mine := ours[wc.ID]; !mine && (f.node == "" || wc.Node != f.node) {
				continue
			}
			if _, err := f.primary.Leave(ctx, wc.ID, now); err != nil && !errors.Is(err, ErrUnknownCall) {
				return fmt.Errorf("removing call %s that left during the outage: %w", wc.ID, err)
			}
			left++
		}
	}
	for _, c := range slices.SortedFunc(maps.Values(st.calls), callLess) {
		if err := f.primary.Enqueue(ctx, c.Call); err != nil {
			return fmt.Errorf("re-enqueueing call %s: %w", c.ID, err)
		}
	}
	have := map[string]Operator{}
	for _, op := range rs.Operators {
		have[op.ID] = op
	}
	stand := map[string]standIn{}
	for _, id := range slices.Sorted(maps.Keys(st.ops)) {
		cur, ok := have[id]
		if !ok {
			cur = Operator{ID: id, State: LoggedOut}
		}
		s, err := f.restoreOperator(ctx, *st.ops[id], cur, now)
		if err != nil {
			return fmt.Errorf("restoring operator %s: %w", id, err)
		}
		if s != nil {
			stand[id] = *s
		}
		restored++
	}
	// Success: Redis holds what the node holds.
	f.shadow.mu.Lock()
	ns := copyState(st.calls, st.ops)
	f.shadow.calls, f.shadow.ops = ns.calls, ns.ops
	f.shadow.mu.Unlock()
	f.seq.Add(1)
	end := f.clock.Now()
	f.smu.Lock()
	f.standIns = stand
	f.nStand.Store(int32(len(stand)))
	if n := len(f.periods); n > 0 && f.periods[n-1].to.IsZero() {
		f.periods[n-1].to = end
	}
	close(f.up)
	f.smu.Unlock()
	f.mode.Store(modeRedis)
	f.mActive.Set(0)
	f.mSwitches.WithLabelValues("redis").Inc()
	f.mReconcile.Observe(end.Sub(start).Seconds())
	f.log.Warn().Int("calls", len(st.calls)).Int("calls_removed", left).Int("operators", restored).Int("stand_ins", len(stand)).
		Msg("Redis is back: node state written back, queue on Redis again")
	return nil
}

// restoreOperator makes Redis's operator cur match want; it returns the
// stand-in it had to write, if any.
func (f *Failover) restoreOperator(ctx context.Context, want, cur Operator, now time.Time) (*standIn, error) {
	q := f.primary
	if want.State == LoggedOut {
		if cur.State == LoggedOut {
			return nil, nil
		}
		return nil, q.Logout(ctx, want.ID, want.Since)
	}
	idle := want.IdleSince
	if idle.IsZero() {
		idle = want.Since
	}
	login := Operator{ID: want.ID, Endpoint: want.Endpoint, Skills: want.Skills}
	if cur.State == LoggedOut {
		if err := q.Login(ctx, login, idle); err != nil {
			return nil, err
		}
		cur.State = Available
	} else if err := q.Login(ctx, login, now); err != nil { // skills, endpoint
		return nil, err
	}
	if cur.State == Ringing {
		// A stale offer from before the outage: withdraw it.
		if err := q.Pause(ctx, want.ID, "restoring", now); err != nil {
			return nil, err
		}
		cur.State = Paused
	}
	switch want.State {
	case Paused:
		if cur.State == Busy {
			if err := q.Finish(ctx, want.ID, now, now); err != nil {
				return nil, err
			}
		}
		return nil, q.Pause(ctx, want.ID, want.PauseReason, want.Since)
	case Busy:
		if cur.State == Busy {
			return nil, nil
		}
		return &standIn{}, q.Pause(ctx, want.ID, StandInBusy, want.Since)
	case WrapUp:
		switch cur.State {
		case WrapUp:
			return nil, nil
		case Busy:
			return nil, q.Finish(ctx, want.ID, want.WrapUntil, want.Since)
		}
		return &standIn{wrap: true, until: want.WrapUntil}, q.Pause(ctx, want.ID, StandInWrapUp, want.Since)
	}
	// Available (Ringing cannot be: offers were drained).
	switch cur.State {
	case Paused:
		return nil, q.Unpause(ctx, want.ID, idle)
	case Busy:
		return nil, q.Finish(ctx, want.ID, idle, idle)
	case WrapUp:
		if err := q.Pause(ctx, want.ID, "restoring", now); err != nil {
			return nil, err
		}
		return nil, q.Unpause(ctx, want.ID, idle)
	}
	return nil, nil
}

// ErrSyncRaced is returned by Sync when the node changed the queue while
// the Snapshot was read: the shadow is left as it is (it is up to date for
// what the node did) and the next Sync refreshes it.
var ErrSyncRaced = errors.New("queue: failover sync raced with a change; skipped")

// Sync refreshes the shadow from Redis: every operator (logged in on any
// node, or before this node started), and the calls that are this node's
// (known to the shadow, or carrying its Node), so that a fallback starts
// from them. Run calls it when it starts and every SyncEvery; it does
// nothing on the fallback. An unavailable Redis switches the node to the
// fallback, as any method does.
func (f *Failover) Sync(ctx context.Context) error {
	if f.mode.Load() != modeRedis {
		return nil
	}
	seq := f.seq.Load()
	pctx, cancel := context.WithTimeout(ctx, f.o.ProbeTimeout)
	rs, err := f.primary.Snapshot(pctx, f.clock.Now())
	cancel()
	if err != nil {
		if IsUnavailable(err) && ctx.Err() == nil {
			f.failover("sync", err)
		}
		return fmt.Errorf("queue failover sync: %w", err)
	}
	// The mark after the Snapshot: still there, the Snapshot was read from
	// the data the node wrote; gone, it may be of an empty Redis and must
	// not replace the shadow.
	if err := f.checkReset(ctx, "sync"); err != nil {
		return fmt.Errorf("queue failover sync: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mode.Load() != modeRedis || f.seq.Load() != seq {
		return ErrSyncRaced
	}
	f.smu.Lock()
	stand := maps.Clone(f.standIns)
	f.smu.Unlock()
	old := f.shadow.export()
	ns := memState{calls: map[string]*memCall{}, ops: map[string]*Operator{}}
	for _, wcs := range rs.Waiting {
		for _, wc := range wcs {
			prev, mine := old.calls[wc.ID]
			if !mine && (f.node == "" || wc.Node != f.node) {
				continue
			}
			c := &memCall{Call: wc.Call}
			if mine && prev.offeredTo == wc.OfferedTo {
				c.offeredTo, c.expires = prev.offeredTo, prev.expires
			}
			ns.calls[wc.ID] = c
		}
	}
	for _, op := range rs.Operators {
		o := op
		if s, ok := stand[op.ID]; ok {
			o = translate(o, s)
		}
		ns.ops[op.ID] = &o
	}
	for id, op := range old.ops {
		if _, ok := ns.ops[id]; !ok && op.State == LoggedOut {
			ns.ops[id] = op
		}
	}
	f.shadow.mu.Lock()
	f.shadow.calls, f.shadow.ops = ns.calls, ns.ops
	f.shadow.mu.Unlock()
	return nil
}

// translate shows a stand-in operator in their true state.
func translate(op Operator, s standIn) Operator {
	if op.State != Paused {
		return op
	}
	op.PauseReason = ""
	if s.wrap {
		op.State, op.WrapUntil = WrapUp, s.until
	} else {
		op.State = Busy
	}
	return op
}

func (f *Failover) standInOf(id string) (standIn, bool) {
	if f.nStand.Load() == 0 {
		return standIn{}, false
	}
	f.smu.Lock()
	defer f.smu.Unlock()
	s, ok := f.standIns[id]
	return s, ok
}

func (f *Failover) setStandIn(id string, s *standIn) {
	f.smu.Lock()
	defer f.smu.Unlock()
	if s == nil {
		delete(f.standIns, id)
	} else {
		f.standIns[id] = *s
	}
	f.nStand.Store(int32(len(f.standIns)))
}

// promoteStandIns ends the wrap-up stand-ins due by now (on Redis).
func (f *Failover) promoteStandIns(ctx context.Context, q Queue, now time.Time) error {
	f.smu.Lock()
	var due []string
	for id, s := range f.standIns {
		if s.wrap && !s.until.After(now) {
			due = append(due, id)
		}
	}
	f.smu.Unlock()
	slices.Sort(due)
	for _, id := range due {
		s, _ := f.standInOf(id)
		if err := q.Unpause(ctx, id, s.until); err != nil && !errors.Is(err, ErrBadState) {
			return err
		}
		f.setStandIn(id, nil)
	}
	return nil
}

// Enqueue implements Queue.
func (f *Failover) Enqueue(ctx context.Context, c Call) error {
	run := func(ctx context.Context, q Queue) error { return q.Enqueue(ctx, c) }
	return f.do(ctx, "enqueue", run, func() { f.shadow.shadowEnqueue(c) }, run)
}

// Leave implements Queue.
func (f *Failover) Leave(ctx context.Context, callID string, now time.Time) (string, error) {
	var opID string
	run := func(ctx context.Context, q Queue) (err error) { opID, err = q.Leave(ctx, callID, now); return err }
	err := f.do(ctx, "leave", run, func() { f.shadow.shadowLeave(callID, now) }, run)
	if errors.Is(err, ErrUnknownCall) {
		// Gone from Redis too (do already checked that Redis did not
		// just lose it, and ran Leave on the fallback if it did, where
		// the operator it was ringing is returned).
		f.shadow.shadowLeave(callID, now)
	}
	return opID, err
}

// Position implements Queue.
func (f *Failover) Position(ctx context.Context, callID string) (int, error) {
	var pos int
	run := func(ctx context.Context, q Queue) (err error) { pos, err = q.Position(ctx, callID); return err }
	err := f.do(ctx, "position", run, nil, run)
	return pos, err
}

// Login implements Queue.
func (f *Failover) Login(ctx context.Context, op Operator, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.Login(ctx, op, now) }
	return f.do(ctx, "login", run, func() { f.shadow.shadowLogin(op, now) }, run)
}

// Logout implements Queue.
func (f *Failover) Logout(ctx context.Context, operatorID string, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.Logout(ctx, operatorID, now) }
	red := func(ctx context.Context, q Queue) error {
		err := run(ctx, q)
		if err == nil {
			f.setStandIn(operatorID, nil)
		}
		return err
	}
	return f.do(ctx, "logout", red, func() { f.shadow.shadowLogout(operatorID, now) }, run)
}

// Pause implements Queue.
func (f *Failover) Pause(ctx context.Context, operatorID, reason string, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.Pause(ctx, operatorID, reason, now) }
	red := func(ctx context.Context, q Queue) error {
		if s, ok := f.standInOf(operatorID); ok {
			if !s.wrap {
				return fmt.Errorf("pause operator %q (%s): %w", operatorID, Busy, ErrBadState)
			}
			if err := run(ctx, q); err != nil {
				return err
			}
			f.setStandIn(operatorID, nil)
			return nil
		}
		return run(ctx, q)
	}
	return f.do(ctx, "pause", red, func() { f.shadow.shadowPause(operatorID, reason, now) }, run)
}

// Unpause implements Queue.
func (f *Failover) Unpause(ctx context.Context, operatorID string, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.Unpause(ctx, operatorID, now) }
	red := func(ctx context.Context, q Queue) error {
		if s, ok := f.standInOf(operatorID); ok {
			st := Busy
			if s.wrap {
				st = WrapUp
			}
			return fmt.Errorf("unpause operator %q (%s): %w", operatorID, st, ErrBadState)
		}
		return run(ctx, q)
	}
	return f.do(ctx, "unpause", red, func() { f.shadow.shadowUnpause(operatorID, now) }, run)
}

// Assign implements Queue. While offers made in process are draining
// before a reconciliation it returns ErrNoMatch.
func (f *Failover) Assign(ctx context.Context, now time.Time, ttl time.Duration) (Offer, error) {
	var o Offer
	red := func(ctx context.Context, q Queue) (err error) {
		if ttl > 0 && f.nStand.Load() > 0 {
			if err := f.promoteStandIns(ctx, q, now); err != nil {
				return err
			}
		}
		o, err = q.Assign(ctx, now, ttl)
		return err
	}
	mem := func(ctx context.Context, q Queue) (err error) {
		if f.mode.Load() == modeDraining {
			return ErrNoMatch
		}
		o, err = q.Assign(ctx, now, ttl)
		return err
	}
	err := f.do(ctx, "assign", red, func() { f.shadow.shadowOffer(o, now) }, mem)
	return o, err
}

// Answered implements Queue.
func (f *Failover) Answered(ctx context.Context, o Offer, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.Answered(ctx, o, now) }
	return f.do(ctx, "answered", run, func() { f.shadow.shadowAnswered(o, now) }, run)
}

// RingFailed implements Queue.
func (f *Failover) RingFailed(ctx context.Context, o Offer, pause bool, reason string, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.RingFailed(ctx, o, pause, reason, now) }
	return f.do(ctx, "ring_failed", run, func() { f.shadow.shadowRingFailed(o, pause, reason, now) }, run)
}

// Finish implements Queue.
func (f *Failover) Finish(ctx context.Context, operatorID string, wrapUntil, now time.Time) error {
	run := func(ctx context.Context, q Queue) error { return q.Finish(ctx, operatorID, wrapUntil, now) }
	red := func(ctx context.Context, q Queue) error {
		s, ok := f.standInOf(operatorID)
		if !ok {
			return run(ctx, q)
		}
		if s.wrap {
			return fmt.Errorf("finish operator %q (%s): %w", operatorID, WrapUp, ErrBadState)
		}
		if ms(wrapUntil).After(ms(now)) {
			if err := q.Pause(ctx, operatorID, StandInWrapUp, now); err != nil {
				return err
			}
			f.setStandIn(operatorID, &standIn{wrap: true, until: ms(wrapUntil)})
			return nil
		}
		if err := q.Unpause(ctx, operatorID, now); err != nil {
			return err
		}
		f.setStandIn(operatorID, nil)
		return nil
	}
	return f.do(ctx, "finish", red, func() { f.shadow.shadowFinish(operatorID, wrapUntil, now) }, run)
}

// Operator implements Queue (stand-ins shown in their true state).
func (f *Failover) Operator(ctx context.Context, operatorID string) (Operator, error) {
	var op Operator
	run := func(ctx context.Context, q Queue) (err error) { op, err = q.Operator(ctx, operatorID); return err }
	red := func(ctx context.Context, q Queue) error {
		if err := run(ctx, q); err != nil {
			return err
		}
		if s, ok := f.standInOf(operatorID); ok {
			op = translate(op, s)
		}
		return nil
	}
	err := f.do(ctx, "operator", red, nil, run)
	return op, err
}

// Snapshot implements Queue (stand-ins shown in their true state).
func (f *Failover) Snapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	var s Snapshot
	run := func(ctx context.Context, q Queue) (err error) { s, err = q.Snapshot(ctx, now); return err }
	red := func(ctx context.Context, q Queue) error {
		if err := run(ctx, q); err != nil {
			return err
		}
		if f.nStand.Load() > 0 {
			for i, op := range s.Operators {
				if st, ok := f.standInOf(op.ID); ok {
					s.Operators[i] = translate(op, st)
				}
			}
		}
		return nil
	}
	err := f.do(ctx, "snapshot", red, nil, run)
	return s, err
}

// Watch implements Watcher: the events of the in-process queue and, while
// it answers, those of Redis (re-subscribed after an outage).
func (f *Failover) Watch(ctx context.Context) (<-chan Event, error) {
	memEv, err := f.mem.Watch(ctx)
	if err != nil {
		return nil, err
	}
	w, _ := f.primary.(Watcher)
	var redEv <-chan Event
	if w != nil {
		if redEv, err = w.Watch(ctx); err != nil && !IsUnavailable(err) {
			return nil, err
		}
	}
	out := make(chan Event, memSubBuffer)
	go func() {
		defer close(out)
		// tried: the up channel whose re-subscription failed; the next
		// attempt waits for the next return of Redis.
		var tried chan struct{}
		for {
			var up chan struct{}
			if redEv == nil && w != nil {
				f.smu.Lock()
				if f.up != tried {
					up = f.up
				}
				f.smu.Unlock()
			}
			var ev Event
			var ok bool
			select {
			case <-ctx.Done():
				return
			case <-up:
				if redEv, _ = w.Watch(ctx); redEv == nil {
					tried = up
				}
				continue
			case ev, ok = <-memEv:
				if !ok {
					return
				}
			case ev, ok = <-redEv:
				if !ok {
					redEv = nil
					continue
				}
			}
			select {
			case out <- ev:
			default:
				f.mem.dropped.Add(1)
			}
		}
	}()
	return out, nil
}
