package operator_test

import (
	"context"
	"github.com/helpline-it/helpline/internal/testenv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/operator"
	"github.com/helpline-it/helpline/queue"
)

// start is Monday 23 November 2026, 15:00 in Rome.
var start = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

const (
	// The directory of the tests: a centre, the police, a broken entry.
	cavCode, cavDial     = "1234", "0495550101"
	policeCode, polDial  = "1113", "0498330111"
	cavEndpoint          = "PJSIP/0495550101@trunk"
	policeEndpoint       = "PJSIP/0498330111@trunk"
	operatorPolicyThresh = 3
)

// prompt returns the request the network logs when the default config's
// operator prompt name is played.
func prompt(name string) string { return "play it sound:helpline/operator-" + name }

// blocklist adapts blacklist.Store to ivr.Blocklist.
type blocklist struct{ s blacklist.Store }

func (b blocklist) Blocked(ctx context.Context, hash string, now time.Time) (bool, string, error) {
	e, ok, err := b.s.Blocked(ctx, hash, now)
	return ok, e.Reason, err
}

// kickFunc adapts a function to operator.Kicker.
type kickFunc func()

func (f kickFunc) Kick() { f() }

// harness is the operator side and the caller flow on one in-memory
// network, queue, blacklist and CDR store.
type harness struct {
	t      *testing.T
	ctx    context.Context
	clock  *clockwork.FakeClock
	net    *ivrtest.Network
	q      *queue.Memory
	bl     *blacklist.Memory
	last   operator.LastCallers
	store  *cdrmemory.Store
	hasher *callerid.Hasher
	reg    *prometheus.Registry
	logs   *testenv.LogBuffer
	cfg    operator.Config
	icfg   ivr.Config
	op     *operator.Handler
	flow   *ivr.Flow

	mu      sync.Mutex
	inbound map[string]chan cdr.Record
}

type option func(*harness)

func withLastCallers(l operator.LastCallers) option { return func(h *harness) { h.last = l } }

func withBlacklist(bl *blacklist.Memory) option { return func(h *harness) { h.bl = bl } }

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	hasher, err := callerid.NewHasher([]byte("operator-test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.NewMemory("1522")
	if err != nil {
		t.Fatal(err)
	}
	bl, err := blacklist.NewMemory(blacklist.Policy{Threshold: operatorPolicyThresh, Window: 30 * 24 * time.Hour, Block: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(start)
	h := &harness{
		t: t, ctx: ctx, clock: clock, net: ivrtest.New(clock), q: q, bl: bl,
		last: operator.NewMemoryLastCallers(), store: cdrmemory.New(), hasher: hasher,
		reg: prometheus.NewRegistry(), logs: &testenv.LogBuffer{}, inbound: map[string]chan cdr.Record{},
	}
	h.cfg = operator.DefaultConfig()
	h.cfg.Operators = []config.Operator{
		{ID: "op1", Endpoint: "PJSIP/op1", Languages: []string{"it", "en"}},
		{ID: "op2", Endpoint: "PJSIP/op2", Languages: []string{"it"}},
		{ID: "op3", Endpoint: "PJSIP/op3", Languages: []string{"it"}},
	}
	h.cfg.Trunk.CallerID = "1522"
	h.icfg = ivr.DefaultConfig()
	h.icfg.Languages = []ivr.Language{{Code: "it", Digit: '1', Menu: ivr.Sound("helpline/menu-it")}}
	h.icfg.AnnounceEvery = 0
	h.icfg.NoOperatorGrace = 0
	h.icfg.WrapUp, h.icfg.FlaggedWrapUp = 30*time.Second, 5*time.Minute
	for _, o := range opts {
		o(h)
	}
	log := zerolog.New(h.logs).Level(zerolog.DebugLevel)
	dir := operator.DirectoryFunc(func(_ context.Context, code string) (operator.Target, error) {
		switch code {
		case cavCode:
			return operator.Target{Code: cavCode, Name: "CAV Padova", Dial: cavDial}, nil
		case policeCode:
			return operator.Target{Code: policeCode, Name: "Questura di Padova", Dial: polDial}, nil
		}
		return operator.Target{}, operator.ErrUnknownTarget
	})
	var err2 error
	h.op, err2 = operator.New(h.cfg, operator.Deps{
		Queue: q, LastCallers: h.last, Blacklist: h.bl, CDR: h.store, Identifier: hasher,
		Directory: dir, Kicker: kickFunc(func() { h.flow.Dispatcher().Kick() }), Clock: clock, Logger: log, Registerer: h.reg,
	})
	if err2 != nil {
		t.Fatal(err2)
	}
	h.flow, err = ivr.New(h.icfg, ivr.Deps{
		Queue: q, CDR: h.store, Identifier: hasher, Blocklist: blocklist{h.bl},
		Clock: clock, Logger: log, Registerer: prometheus.NewRegistry(), Talk: h.op,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = h.flow.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		<-done
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs)
		}
	})
	return h
}

// dialIn is an operator's softphone (endpoint) dialling dialled into the
// app; the returned channel closes when the handler is done.
func (h *harness) dialIn(endpoint, dialled string, steps ...ivrtest.Step) (*ivrtest.Call, <-chan struct{}) {
	h.t.Helper()
	c := h.net.Dial(strings.TrimPrefix(endpoint, "PJSIP/"), steps...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.op.HandleDialIn(h.ctx, c, endpoint, dialled)
	}()
	return c, done
}

// code dials a code from an operator's phone and waits for the end.
func (h *harness) code(endpoint, dialled string) *ivrtest.Call {
	h.t.Helper()
	c, done := h.dialIn(endpoint, dialled)
	h.wait(done)
	return c
}

func (h *harness) wait(done <-chan struct{}) {
	h.t.Helper()
	select {
	case <-done:
	case <-h.ctx.Done():
		h.t.Fatal("the operator handler never returned")
	}
}

// login logs operator id in through its feature code, with its phone
// answering as p.
func (h *harness) login(id string, p ivrtest.Phone) {
	h.t.Helper()
	h.net.SetPhone("PJSIP/"+id, p)
	c := h.code("PJSIP/"+id, "*11")
	if !slices.Contains(c.Requests(), prompt("logged-in")) {
		h.t.Fatalf("%s not logged in: %q", id, c.Requests())
	}
}

// call brings a caller in (menu skipped: one language) and runs the flow.
func (h *harness) call(number string, steps ...ivrtest.Step) *ivrtest.Call {
	h.t.Helper()
	c := h.net.Dial(number, steps...)
	ch := make(chan cdr.Record, 1)
	h.mu.Lock()
	h.inbound[c.ID()] = ch
	h.mu.Unlock()
	go func() {
		rec, err := h.flow.Handle(h.ctx, c, number)
		if err != nil {
			h.t.Errorf("%s: Handle: %v", c.ID(), err)
		}
		ch <- rec
	}()
	return c
}

// record waits for the caller's CDR and checks it is valid.
func (h *harness) record(c *ivrtest.Call) cdr.Record {
	h.t.Helper()
	h.mu.Lock()
	ch := h.inbound[c.ID()]
	h.mu.Unlock()
	select {
	case rec := <-ch:
		if err := rec.Validate(); err != nil {
			h.t.Errorf("%s: invalid CDR: %v\n%+v", c.ID(), err, rec)
		}
		return rec
	case <-h.ctx.Done():
		h.t.Fatalf("%s never ended: %q", c.ID(), c.Requests())
		return cdr.Record{}
	}
}

// talking brings a caller to op (logged in, answering at once) and
// returns the call and the operator's leg once bridged.
func (h *harness) talking(op, number string) (*ivrtest.Call, *ivrtest.Leg) {
	h.t.Helper()
	c := h.call(number)
	h.awaitReq(c, "bridge leg", 1)
	legs := c.Legs()
	leg := legs[len(legs)-1]
	if leg.Endpoint() != "PJSIP/"+op {
		h.t.Fatalf("caller went to %s, want %s", leg.Endpoint(), op)
	}
	return c, leg
}

func (h *harness) awaitReq(c *ivrtest.Call, prefix string, n int) {
	h.t.Helper()
	if err := c.AwaitRequest(h.ctx, prefix, n); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) await(what string, cond func() bool) {
	h.t.Helper()
	if err := h.net.Await(h.ctx, cond); err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
}

// blockUntil waits until the fake clock has at least n timers.
func (h *harness) blockUntil(n int) {
	h.t.Helper()
	if err := h.clock.BlockUntilContext(h.ctx, n); err != nil {
		h.t.Fatalf("clock never had %d timers: %v", n, err)
	}
}

// advanceUntil moves the fake clock in steps until cond holds, giving the
// goroutines a moment after each step; it fails the test after limit.
func (h *harness) advanceUntil(what string, step, limit time.Duration, cond func() bool) {
	h.t.Helper()
	for passed := time.Duration(0); !cond(); passed += step {
		if passed > limit {
			h.t.Fatalf("%s: not after %v on the clock", what, limit)
		}
		h.clock.Advance(step)
		select {
		case <-h.net.Changed():
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (h *harness) operator(id string) queue.Operator {
	h.t.Helper()
	if _, err := h.q.Snapshot(h.ctx, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
	op, err := h.q.Operator(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return op
}

// awaitOperator polls the queue until the operator's state is want.
func (h *harness) awaitOperator(id string, want queue.State) queue.Operator {
	h.t.Helper()
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	events, err := h.q.Watch(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for {
		op := h.operator(id)
		if op.State == want {
			return op
		}
		select {
		case <-events:
		case <-time.After(10 * time.Millisecond):
		case <-h.ctx.Done():
			h.t.Fatalf("%s is %s, never %s (%+v, now %v)", id, op.State, want, op, h.clock.Now())
		}
	}
}

// awaitFreed waits until the operator is no longer on a call (wrap-up or
// available).
func (h *harness) awaitFreed(id string) {
	h.t.Helper()
	h.eventually(id+" freed", func() bool {
		op := h.operator(id)
		return op.CallID == "" && (op.State == queue.WrapUp || op.State == queue.Available)
	})
}

// eventually polls cond (state that signals nothing) until it holds or
// the test's deadline passes.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	for !cond() {
		select {
		case <-h.ctx.Done():
			h.t.Fatalf("%s: never happened", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// outbound returns the outbound CDRs, oldest first.
func (h *harness) outbound() []cdr.Record {
	h.t.Helper()
	var out []cdr.Record
	err := h.store.Scan(h.ctx, cdr.Filter{Direction: cdr.Outbound}, func(r *cdr.Record) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b cdr.Record) int { return a.ArrivedAt.Compare(b.ArrivedAt) })
	for _, r := range out {
		if err := r.Validate(); err != nil {
			h.t.Errorf("invalid outbound CDR: %v\n%+v", err, r)
		}
	}
	return out
}

// awaitOutbound waits until n outbound CDRs are stored.
func (h *harness) awaitOutbound(n int) []cdr.Record {
	h.t.Helper()
	for {
		c, err := h.store.Count(h.ctx, cdr.Filter{Direction: cdr.Outbound})
		if err != nil {
			h.t.Fatal(err)
		}
		if c >= n {
			return h.outbound()
		}
		select {
		case <-h.ctx.Done():
			h.t.Fatalf("%d outbound CDRs, want %d", c, n)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// noNumbers checks that no form of the raw numbers reached the logs.
func (h *harness) noNumbers(numbers ...string) {
	h.t.Helper()
	logs := h.logs.String()
	for _, n := range numbers {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, n)
		for _, form := range []string{n, digits, digits[max(0, len(digits)-9):]} {
			if strings.Contains(logs, form) {
				h.t.Errorf("a number (%q) reached the logs", form)
			}
		}
	}
}

func (h *harness) counter(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
