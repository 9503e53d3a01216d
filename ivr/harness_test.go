package ivr_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/helpline-it/helpline/internal/testenv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/ivr/journal"
	"github.com/helpline-it/helpline/queue"
)

// rome is the helpline's time zone.
var rome = mustLoc("Europe/Rome")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// monday15 is Monday 23 November 2026, 15:00 in Rome: Italian and English
// open, French (10–14) closed.
var monday15 = time.Date(2026, 11, 23, 15, 0, 0, 0, rome)

// seedSchedule is the seed's language hours, reduced to what the tests
// need: Italian always, English Mon–Fri 08–20, French Mon–Fri 10–14.
func seedSchedule(t time.Time) []string {
	l := t.In(rome)
	open := []string{"it"}
	wd := l.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return open
	}
	m := l.Hour()*60 + l.Minute()
	if m >= 8*60 && m < 20*60 {
		open = append(open, "en")
	}
	if m >= 10*60 && m < 14*60 {
		open = append(open, "fr")
	}
	return open
}

// Short names for the default prompts.
var (
	pWelcome   = ivr.Sound("helpline/welcome")
	pMenuIT    = ivr.Sound("helpline/menu-it")
	pMenuEN    = ivr.Sound("helpline/menu-en")
	pMenuFR    = ivr.Sound("helpline/menu-fr")
	pInvalid   = ivr.Sound("helpline/invalid")
	pBlocked   = ivr.Sound("helpline/blocked")
	pUnans     = ivr.Sound("helpline/unanswered")
	pVMIntro   = ivr.Sound("helpline/voicemail-intro")
	pVMThanks  = ivr.Sound("helpline/voicemail-thanks")
	pPosition  = ivr.Sound("helpline/position")
	testNumber = "+39 333 123 4567"
)

// testConfig is the default configuration trimmed to the three languages
// of seedSchedule, without announcements.
func testConfig() ivr.Config {
	cfg := ivr.DefaultConfig()
	cfg.Languages = []ivr.Language{
		{Code: "it", Digit: '1', Menu: pMenuIT},
		{Code: "en", Digit: '2', Menu: pMenuEN},
		{Code: "fr", Digit: '3', Menu: pMenuFR},
	}
	cfg.AnnounceEvery = 0
	cfg.NoOperatorGrace = 0
	return cfg
}

// blocklist is a scriptable ivr.Blocklist.
type blocklist struct {
	mu      sync.Mutex
	blocked map[string]string
	err     error
	hang    bool // block until ctx is done
	onCheck func()
	checked int
}

func (b *blocklist) Blocked(ctx context.Context, hash string, now time.Time) (bool, string, error) {
	b.mu.Lock()
	b.checked++
	on, hang, err := b.onCheck, b.hang, b.err
	reason, ok := b.blocked[hash]
	b.mu.Unlock()
	if on != nil {
		on()
	}
	if hang {
		<-ctx.Done()
		return false, "", ctx.Err()
	}
	if err != nil {
		return false, "", err
	}
	return ok, reason, nil
}

func (b *blocklist) checks() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.checked
}

// flakyCDR fails its first failures writes, then writes to the store.
type flakyCDR struct {
	mu       sync.Mutex
	failures int
	attempts int
	store    *cdrmemory.Store
}

func (f *flakyCDR) Write(ctx context.Context, r cdr.Record) error {
	f.mu.Lock()
	f.attempts++
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("database is locked")
	}
	return f.store.Write(ctx, r)
}

// result is what Handle returned for one call.
type result struct {
	rec cdr.Record
	err error
}

// harness is one flow on an in-memory network, queue and CDR store.
type harness struct {
	t      testing.TB
	ctx    context.Context
	cancel context.CancelFunc
	clock  *clockwork.FakeClock
	net    *ivrtest.Network
	q      *queue.Memory
	store  *cdrmemory.Store
	cdrW   *flakyCDR
	spool  *cdrmemory.Store
	jrnl   *journal.Memory
	block  *blocklist
	hasher *callerid.Hasher
	reg    *prometheus.Registry
	logs   *testenv.LogBuffer
	cfg    ivr.Config
	flow   *ivr.Flow
	// wrapQueue, if set, wraps the queue the flow sees (fault injection).
	wrapQueue func(queue.Queue) queue.Queue
	// talk is the flow's Deps.Talk.
	talk ivr.TalkHandler
	// wrapJournal, if set, wraps the journal the flow sees.
	wrapJournal func(ivr.Journal) ivr.Journal

	mu      sync.Mutex
	results map[string]chan result
	runDone chan struct{}
	stopRun context.CancelFunc
}

type option func(*harness)

func withConfig(f func(*ivr.Config)) option { return func(h *harness) { f(&h.cfg) } }

func withTalk(t ivr.TalkHandler) option { return func(h *harness) { h.talk = t } }

func withQueue(wrap func(queue.Queue) queue.Queue) option {
	return func(h *harness) { h.wrapQueue = wrap }
}

// newHarness builds and starts a flow at start (default monday15).
func newHarness(t testing.TB, start time.Time, opts ...option) *harness {
	t.Helper()
	if start.IsZero() {
		start = monday15
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	hasher, err := callerid.NewHasher([]byte("ivr-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.NewMemory("1522")
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(start)
	store := cdrmemory.New()
	h := &harness{
		t: t, ctx: ctx, cancel: cancel, clock: clock,
		net:     ivrtest.New(clock),
		q:       q,
		store:   store,
		cdrW:    &flakyCDR{store: store},
		spool:   cdrmemory.New(),
		jrnl:    journal.NewMemory(),
		block:   &blocklist{blocked: map[string]string{}},
		hasher:  hasher,
		reg:     prometheus.NewRegistry(),
		logs:    &testenv.LogBuffer{},
		cfg:     testConfig(),
		results: map[string]chan result{},
		runDone: make(chan struct{}),
	}
	for _, o := range opts {
		o(h)
	}
	h.flow = h.newFlow(h.cfg)
	runCtx, stopRun := context.WithCancel(ctx)
	h.stopRun = stopRun
	go func() {
		defer close(h.runDone)
		_ = h.flow.Run(runCtx)
	}()
	t.Cleanup(func() {
		stopRun()
		<-h.runDone
		cancel()
		if t.Failed() {
			t.Logf("flow logs:\n%s", h.logs)
		}
	})
	// The dispatcher's ticker is the one timer always there.
	h.blockUntil(1)
	return h
}

func (h *harness) newFlow(cfg ivr.Config) *ivr.Flow {
	h.t.Helper()
	var q queue.Queue = h.q
	if h.wrapQueue != nil {
		q = h.wrapQueue(q)
	}
	var j ivr.Journal = h.jrnl
	if h.wrapJournal != nil {
		j = h.wrapJournal(j)
	}
	f, err := ivr.New(cfg, ivr.Deps{
		Queue:      q,
		CDR:        h.cdrW,
		Spool:      h.spool,
		Journal:    j,
		Identifier: h.hasher,
		Blocklist:  h.block,
		Schedule:   ivr.ScheduleFunc(seedSchedule),
		Talk:       h.talk,
		Clock:      h.clock,
		Logger:     zerolog.New(h.logs).Level(zerolog.DebugLevel),
		Registerer: h.reg,
	})
	if err != nil {
		h.t.Fatalf("ivr.New: %v", err)
	}
	return f
}

// dial brings a call in and hands it to the flow.
func (h *harness) dial(number string, steps ...ivrtest.Step) *ivrtest.Call {
	h.t.Helper()
	c := h.net.Dial(number, steps...)
	h.handle(c)
	return c
}

// handle hands a dialled call to the flow.
func (h *harness) handle(c *ivrtest.Call) {
	number := c.Number()
	ch := make(chan result, 1)
	h.mu.Lock()
	h.results[c.ID()] = ch
	h.mu.Unlock()
	go func() {
		rec, err := h.flow.Handle(h.ctx, c, number)
		ch <- result{rec, err}
	}()
}

// wait returns what Handle returned for c.
func (h *harness) wait(c *ivrtest.Call) result {
	h.t.Helper()
	h.mu.Lock()
	ch := h.results[c.ID()]
	h.mu.Unlock()
	select {
	case r := <-ch:
		h.mu.Lock()
		closed := make(chan result, 1)
		closed <- r
		h.results[c.ID()] = closed
		h.mu.Unlock()
		return r
	case <-h.ctx.Done():
		h.t.Fatalf("%s: Handle never returned; requests %q", c.ID(), c.Requests())
		return result{}
	}
}

// record waits for c's end and returns its CDR, checking that Handle
// succeeded, that the store holds exactly that record, and that it is a
// valid record.
func (h *harness) record(c *ivrtest.Call) cdr.Record {
	h.t.Helper()
	r := h.wait(c)
	if r.err != nil {
		h.t.Fatalf("%s: Handle: %v", c.ID(), r.err)
	}
	got, err := h.store.Get(h.ctx, c.ID())
	if err != nil {
		h.t.Fatalf("%s: CDR not stored: %v", c.ID(), err)
	}
	if got.Outcome != r.rec.Outcome || got.ID != r.rec.ID {
		h.t.Fatalf("%s: stored CDR %+v differs from returned %+v", c.ID(), *got, r.rec)
	}
	if err := r.rec.Validate(); err != nil {
		h.t.Errorf("%s: CDR invalid: %v\n%+v", c.ID(), err, r.rec)
	}
	return r.rec
}

// blockUntil waits until the fake clock has at least n timers.
func (h *harness) blockUntil(n int) {
	h.t.Helper()
	if err := h.clock.BlockUntilContext(h.ctx, n); err != nil {
		h.t.Fatalf("clock never had %d timers: %v", n, err)
	}
}

// advance moves the clock by d once at least waiters timers exist.
func (h *harness) advance(waiters int, d time.Duration) {
	h.t.Helper()
	h.blockUntil(waiters)
	h.clock.Advance(d)
}

// await waits for cond on the network.
func (h *harness) await(what string, cond func() bool) {
	h.t.Helper()
	if err := h.net.Await(h.ctx, cond); err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
}

// awaitReq waits for the n-th request starting with prefix on c.
func (h *harness) awaitReq(c *ivrtest.Call, prefix string, n int) {
	h.t.Helper()
	if err := c.AwaitRequest(h.ctx, prefix, n); err != nil {
		h.t.Fatal(err)
	}
}

// awaitQueued waits until the queue holds c.
func (h *harness) awaitQueued(c *ivrtest.Call) {
	h.t.Helper()
	h.awaitQueue(fmt.Sprintf("%s queued", c.ID()), func(s queue.Snapshot) bool {
		for _, calls := range s.Waiting {
			for _, w := range calls {
				if w.ID == c.ID() {
					return true
				}
			}
		}
		return false
	})
}

// awaitQueue polls the queue's snapshot until cond holds, woken by the
// queue's events.
func (h *harness) awaitQueue(what string, cond func(queue.Snapshot) bool) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	events, err := h.q.Watch(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for {
		snap, err := h.q.Snapshot(h.ctx, h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if cond(snap) {
			return
		}
		select {
		case <-events:
		case <-h.ctx.Done():
			h.t.Fatalf("%s: never happened; queue %+v", what, snap)
		}
	}
}

// eventually polls cond (for state that signals no event, such as a
// metric) until it holds or the test's deadline passes.
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

// login logs an operator in with a phone.
func (h *harness) login(id string, phone ivrtest.Phone, skills ...string) {
	h.t.Helper()
	ep := "PJSIP/" + id
	h.net.SetPhone(ep, phone)
	if err := h.q.Login(h.ctx, queue.Operator{ID: id, Endpoint: ep, Skills: skills}, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// pause pauses an operator (logged in, so calls wait rather than end as
// "no operator").
func (h *harness) pause(id, reason string) {
	h.t.Helper()
	if err := h.q.Pause(h.ctx, id, reason, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) operator(id string) queue.Operator {
	h.t.Helper()
	if _, err := h.q.Snapshot(h.ctx, h.clock.Now()); err != nil { // promotes due wrap-ups
		h.t.Fatal(err)
	}
	op, err := h.q.Operator(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return op
}

// noLeaks checks that nothing is held once every call ended: engine
// resources, queue entries, offers, registrations.
func (h *harness) noLeaks() {
	h.t.Helper()
	if leaks := h.net.Leaks(); len(leaks) > 0 {
		h.t.Errorf("engine resources leaked:\n%s", strings.Join(leaks, "\n"))
	}
	if open, _ := h.jrnl.Open(h.ctx); len(open) > 0 {
		h.t.Errorf("journal still holds %d calls whose CDR is written: %+v", len(open), open)
	}
	snap, err := h.q.Snapshot(h.ctx, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	for lang, calls := range snap.Waiting {
		if len(calls) > 0 {
			h.t.Errorf("queue %s still holds %+v", lang, calls)
		}
	}
	for _, op := range snap.Operators {
		if op.State == queue.Ringing || op.State == queue.Busy || op.CallID != "" {
			h.t.Errorf("operator %s left %s with call %q", op.ID, op.State, op.CallID)
		}
	}
	if n := h.flow.Active(); n != 0 {
		h.t.Errorf("%d calls still active", n)
	}
	if n := h.flow.Registered(); n != 0 {
		h.t.Errorf("%d calls still registered with the dispatcher", n)
	}
	for _, c := range h.net.Calls() {
		if c.Up() {
			h.t.Errorf("%s still up", c.ID())
		}
	}
}

// counter reads a counter of the flow's registry.
func (h *harness) counter(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := true
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				ok = ok && found
			}
			if ok {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// hashOf is the caller hash the flow should write for number.
func (h *harness) hashOf(number string) string { return h.hasher.Identify(number).Hash }

// wantRequests compares c's requests with want.
func wantRequests(t *testing.T, c *ivrtest.Call, want []string) {
	t.Helper()
	if got := c.Requests(); !slices.Equal(got, want) {
		t.Errorf("%s requests:\n got %q\nwant %q", c.ID(), got, want)
	}
}

// welcomeToQueue is the request prefix of a caller who chose lang at the
// menu (it and en offered) and was queued.
func menuRequests() []string {
	return []string{"ring", "answer", "play it " + string(pWelcome), "play it " + string(pMenuIT), "play en " + string(pMenuEN)}
}
