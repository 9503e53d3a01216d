package ariapp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	cdrsqlite "github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/journal"
	"github.com/helpline-it/helpline/queue"
)

// rome is the helpline's time zone; monday15 is a Monday afternoon there.
var (
	rome     = mustLoc("Europe/Rome")
	monday15 = time.Date(2026, 11, 23, 15, 0, 0, 0, rome)
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

const (
	helplineNumber = "800123456"
	callerNumber   = "+393331234567"
	step           = 100 * time.Millisecond
)

// Prompts of the test configuration; aritest plays every unknown sound
// for 2 s.
var (
	pWelcome = ivr.Sound("helpline/welcome")
	pMenuIT  = ivr.Sound("helpline/menu-it")
	pMenuEN  = ivr.Sound("helpline/menu-en")
)

// testConfig is the flow's configuration: Italian (1) and English (2),
// no periodic announcements, short wrap-up, a call ends at once when
// nobody with its language is logged in.
func testConfig() ivr.Config {
	cfg := ivr.DefaultConfig()
	cfg.Languages = []ivr.Language{
		{Code: "it", Digit: '1', Menu: pMenuIT},
		{Code: "en", Digit: '2', Menu: pMenuEN},
	}
	cfg.Prompts.Welcome = pWelcome
	cfg.AnnounceEvery = 0
	cfg.NoOperatorGrace = 0
	cfg.WrapUp = 2 * time.Second
	return cfg
}

// blocklist blocks the hashes it holds.
type blocklist struct {
	mu      sync.Mutex
	blocked map[string]bool
}

func (b *blocklist) Blocked(_ context.Context, hash string, _ time.Time) (bool, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blocked[hash], "test", nil
}

// options of a stack.
type options struct {
	redis     bool
	sqlite    bool
	step      time.Duration
	endpoints []aritest.Endpoint
	cfg       func(*ivr.Config)
	block     ivr.Blocklist
	sounds    map[string]time.Duration
	flow      ariapp.Flow
	operators ariapp.OperatorHandler
	adopter   ariapp.Adopter
	// before runs once Asterisk, Redis and the queue exist, before the
	// app starts (to leave calls in Stasis as a previous process would).
	before func(s *stack, acfg ari.Config)
}

type option func(*options)

func withRedis() option { return func(o *options) { o.redis = true } }

// withSQLite keeps the CDRs in a SQLite file in t.TempDir() (the default
// is the memory store), as `helpline serve` does.
func withSQLite() option { return func(o *options) { o.sqlite = true } }

// cdrStore is what the tests need of a CDR store.
type cdrStore interface {
	cdr.Writer
	Get(ctx context.Context, id string) (*cdr.Record, error)
	Count(ctx context.Context, f cdr.Filter) (int, error)
	Scan(ctx context.Context, f cdr.Filter, fn func(*cdr.Record) error) error
}

// withStep sets how far the clock moves between two settles (default 100ms).
func withStep(d time.Duration) option            { return func(o *options) { o.step = d } }
func withConfig(f func(*ivr.Config)) option      { return func(o *options) { o.cfg = f } }
func withBlocklist(b ivr.Blocklist) option       { return func(o *options) { o.block = b } }
func withEndpoints(e ...aritest.Endpoint) option { return func(o *options) { o.endpoints = e } }

// withFlow gives the app a scripted flow instead of ivr's (adapter tests).
func withFlow(f flowFunc) option { return func(o *options) { o.flow = f } }

func withOperators(h ariapp.OperatorHandler) option { return func(o *options) { o.operators = h } }

func withSounds(m map[string]time.Duration) option { return func(o *options) { o.sounds = m } }

func withAdopter(a ariapp.Adopter) option { return func(o *options) { o.adopter = a } }

func beforeStart(f func(s *stack, acfg ari.Config)) option { return func(o *options) { o.before = f } }

// flowFunc is a scripted Flow.
type flowFunc func(ctx context.Context, c ivr.Call, number string) (cdr.Record, error)

func (f flowFunc) Handle(ctx context.Context, c ivr.Call, number string) (cdr.Record, error) {
	return f(ctx, c, number)
}

// phones returns the PSTN trunk plus one endpoint per phone.
func phones(ps map[string]aritest.Phone) []aritest.Endpoint {
	eps := []aritest.Endpoint{{Resource: "sipp", Context: "from-sip"}}
	for name, p := range ps {
		eps = append(eps, aritest.Endpoint{Resource: name, Context: "from-operators", Phone: p})
	}
	slices.SortFunc(eps[1:], func(a, b aritest.Endpoint) int { return strings.Compare(a.Resource, b.Resource) })
	return eps
}

// stack is the whole switchboard in process: the aritest Asterisk, the
// ari client and event stream, the queue (memory or a real Redis), a CDR
// store, the real ivr flow and the App, on one fake clock.
type stack struct {
	t      *testing.T
	ctx    context.Context
	clock  *clockwork.FakeClock
	evTime *clockwork.FakeClock // the event stream's redial backoff
	srv    *aritest.Server
	client *ari.Client
	events *ari.Events
	q      queue.Queue
	store  cdrStore
	hasher *callerid.Hasher
	flow   *ivr.Flow
	app    *ariapp.App
	reg    *prometheus.Registry
	logs   *testenv.LogBuffer
	http   *countingTransport
	rhook  *countingHook
	start  time.Time
	step   time.Duration

	stopRun func()
	runDone chan struct{}

	opts      options
	acfg      ari.Config
	redisAddr string
	proc      *process
	dead      []*process
}

func newStack(t *testing.T, opts ...option) *stack {
	t.Helper()
	o := options{endpoints: phones(map[string]aritest.Phone{"op1001": {Answer: aritest.Answer}})}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	clock := clockwork.NewFakeClockAt(monday15)
	srv := testenv.StartAritest(t, testenv.AritestClock(clock), testenv.AritestConfig(func(c *aritest.Config) {
		c.Endpoints, c.Sounds = o.endpoints, o.sounds
	}))

	s := &stack{
		t: t, ctx: ctx, clock: clock, evTime: clockwork.NewFakeClock(), srv: srv,
		logs:  &testenv.LogBuffer{},
		start: clock.Now(), step: o.step, opts: o,
	}
	if s.step == 0 {
		s.step = step
	}
	s.store = cdrmemory.New()
	if o.sqlite {
		db, err := cdrsqlite.Open(ctx, filepath.Join(t.TempDir(), "cdr.db"), cdrsqlite.Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		s.store = db
	}
	user, pass := srv.Credentials()
	s.acfg = ari.Config{URL: srv.URL + "/ari", Username: user, Password: pass, Application: "helpline"}
	if o.redis {
		s.redisAddr = testenv.StartRedis(t).Addr
	} else {
		q, err := queue.NewMemory("1522")
		if err != nil {
			t.Fatal(err)
		}
		s.q = q
	}
	var err error
	if s.hasher, err = callerid.NewHasher([]byte("ariapp-test-key-0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	s.startProcess(o.before)
	t.Cleanup(func() {
		s.stop()
		s.reap()
		for _, p := range append(s.dead, s.proc) {
			_ = p.evs.Close()
			if p.rdb != nil {
				_ = p.rdb.Close()
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", s.logs)
		}
	})
	if err := srv.AwaitApp(ctx, "helpline"); err != nil {
		t.Fatal(err)
	}
	s.settle()
	return s
}

// process is one run of the app (a `helpline serve` process): its own
// HTTP transport, Redis client, CDR writer, event stream, flow and App.
// kill cuts all of its I/O at once, as SIGKILL would.
type process struct {
	http  *countingTransport
	rdb   *redis.Client
	cdr   *killableWriter
	evs   *ari.Events
	stop  func()
	done  chan struct{}
	alive atomic.Bool
}

// startProcess starts a new process of the app over the same Asterisk,
// Redis and CDR store. before (optional) runs once the REST client and
// the queue exist, before the event stream opens.
func (s *stack) startProcess(before func(s *stack, acfg ari.Config)) {
	t, o := s.t, s.opts
	p := &process{http: &countingTransport{next: http.DefaultTransport}, done: make(chan struct{})}
	p.alive.Store(true)
	s.http, s.rhook, s.reg = p.http, &countingHook{}, prometheus.NewRegistry()
	var err error
	if s.client, err = ari.NewClient(s.acfg, ari.WithHTTPClient(&http.Client{Transport: p.http})); err != nil {
		t.Fatal(err)
	}
	if o.redis {
		p.rdb = redis.NewClient(&redis.Options{Addr: s.redisAddr})
		p.rdb.AddHook(s.rhook)
		if s.q, err = queue.NewRedis(p.rdb, queue.RedisOptions{Service: "1522", Languages: []string{"it", "en"}}); err != nil {
			t.Fatal(err)
		}
	}
	p.cdr = &killableWriter{next: s.store}
	cfg := testConfig()
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	logger := zerolog.New(s.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	deps := ivr.Deps{
		Queue: s.q, CDR: p.cdr, Identifier: s.hasher, Blocklist: o.block,
		Clock: s.clock, Logger: logger, Registerer: s.reg,
	}
	if p.rdb != nil {
		deps.Journal = journal.NewRedis(p.rdb, "ariapp-test:", "node1")
	}
	s.flow, err = ivr.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(s, s.acfg)
	}
	s.events, err = ari.OpenEvents(s.acfg, ari.EventsOptions{
		Backoff: ari.ConstantBackoff(time.Second), Clock: s.evTime, PingInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.evs = s.events
	var flow ariapp.Flow = s.flow
	if o.flow != nil {
		flow = o.flow
	}
	s.app, err = ariapp.New(ariapp.Options{
		Client: s.client, Events: s.events, Flow: flow, Clock: s.clock, Operators: o.operators, Adopter: o.adopter,
		Logger: logger, Registerer: s.reg, DrainTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(s.ctx)
	p.stop = stop
	s.stopRun = stop
	s.runDone = p.done
	var wg sync.WaitGroup
	wg.Add(2)
	app, fl := s.app, s.flow
	go func() { defer wg.Done(); _ = fl.Run(runCtx) }()
	go func() {
		defer wg.Done()
		if err := app.Run(runCtx); err != nil && p.alive.Load() {
			t.Errorf("App.Run: %v", err)
		}
	}()
	go func() { wg.Wait(); close(p.done) }()
	s.proc = p
}

// kill ends the current process as SIGKILL would: from this instant none
// of its requests reaches Asterisk, Redis or the CDR store (each fails at
// once), its event WebSocket is cut, and it cleans nothing up. Its
// goroutines wind down on their own against that dead I/O; reap waits
// for them at the end of the test.
func (s *stack) kill() {
	s.t.Helper()
	if !s.opts.redis {
		s.t.Fatal("kill needs withRedis: a memory queue would die with the process")
	}
	p := s.proc
	p.alive.Store(false)
	p.http.dead.Store(true)
	p.cdr.dead.Store(true)
	if p.rdb != nil {
		_ = p.rdb.Close()
	}
	_ = p.evs.Close()
	p.stop()
	s.dead = append(s.dead, p)
}

// restart kills the current process and starts a new one, which
// reconciles with Asterisk at once.
func (s *stack) restart() {
	s.t.Helper()
	s.kill()
	s.startProcess(nil)
	s.waitFor("new process reconciled", func() bool { return s.counter("helpline_ariapp_reconciles_total") >= 1 })
	s.settle()
}

// reap drives the clock until every killed process's goroutines returned.
func (s *stack) reap() {
	for _, p := range s.dead {
		for done := false; !done; {
			select {
			case <-p.done:
				done = true
			case <-s.ctx.Done():
				s.t.Errorf("a killed process never wound down")
				return
			default:
				s.clock.Advance(time.Second)
				s.pause()
			}
		}
	}
}

// killableWriter is a process's way to the CDR store: dead, it refuses.
type killableWriter struct {
	next cdr.Writer
	dead atomic.Bool
}

func (k *killableWriter) Write(ctx context.Context, r cdr.Record) error {
	if k.dead.Load() {
		return errors.New("process killed")
	}
	return k.next.Write(ctx, r)
}

// stop cancels the app and the flow and drives the clock until both
// returned (the app drains calls in progress on the fake clock).
func (s *stack) stop() {
	s.stopRun()
	for {
		select {
		case <-s.runDone:
			return
		case <-s.ctx.Done():
			s.t.Errorf("app did not stop")
			return
		default:
		}
		s.clock.Advance(time.Second)
		s.srv.Flush()
		s.pause()
	}
}

// pause yields to the goroutines under test (a polling helper's beat).
func (s *stack) pause() { time.Sleep(200 * time.Microsecond) }

// signature is what moves while the system works.
type signature struct {
	httpStarted, httpDone   int64
	redisStarted, redisDone int64
	frames, delivered       uint64
	backlog                 int64
	activity                uint64
}

func (s *stack) signature() signature {
	st := s.events.Stats()
	return signature{
		httpStarted: s.http.started.Load(), httpDone: s.http.done.Load(),
		redisStarted: s.rhook.started.Load(), redisDone: s.rhook.done.Load(),
		frames: st.Frames, delivered: st.Delivered, backlog: st.Backlog,
		activity: s.app.Activity(),
	}
}

func (g signature) busy() bool {
	return g.httpStarted != g.httpDone || g.redisStarted != g.redisDone || g.backlog != 0
}

// settle waits until no request is in flight, every event read was
// handled and nothing moved for a few beats: the system waits for time.
func (s *stack) settle() {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last signature
	stable := 0
	for {
		cur := s.signature()
		if !cur.busy() && cur == last {
			stable++
			if stable >= 4 {
				return
			}
		} else {
			stable = 0
		}
		last = cur
		if time.Now().After(deadline) {
			s.t.Fatalf("system never settled: %+v", cur)
		}
		s.pause()
	}
}

// until advances the clock in steps, letting the system settle after
// each, until cond holds. It fails after max of virtual time.
func (s *stack) until(what string, max time.Duration, cond func() bool) {
	s.t.Helper()
	begin := s.clock.Now()
	for {
		s.settle()
		if cond() {
			return
		}
		if s.clock.Since(begin) > max {
			s.t.Fatalf("%s: not after %v of virtual time", what, max)
		}
		if s.ctx.Err() != nil {
			s.t.Fatalf("%s: test deadline", what)
		}
		s.clock.Advance(s.step)
		s.srv.Flush()
	}
}

// advance lets d of virtual time pass, step by step.
func (s *stack) advance(d time.Duration) {
	s.t.Helper()
	end := s.clock.Now().Add(d)
	s.until(fmt.Sprintf("advance %v", d), d+s.step, func() bool { return !s.clock.Now().Before(end) })
}

// dial places a PJSIP call from the PSTN with a caller script (what the
// caller does once answered) and returns it once the app has it.
func (s *stack) dial(number string, script ...aritest.App) *aritest.Call {
	s.t.Helper()
	c, err := s.srv.Call(s.ctx, number, helplineNumber, aritest.CallOptions{Tech: aritest.PJSIP, Script: script})
	if err != nil {
		s.t.Fatal(err)
	}
	s.settle()
	return c
}

// login logs an operator in with a PJSIP phone of the same name.
func (s *stack) login(id string, skills ...string) {
	s.t.Helper()
	if err := s.q.Login(s.ctx, queue.Operator{ID: id, Endpoint: "PJSIP/" + id, Skills: skills}, s.clock.Now()); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) operator(id string) queue.Operator {
	s.t.Helper()
	if _, err := s.q.Snapshot(s.ctx, s.clock.Now()); err != nil {
		s.t.Fatal(err)
	}
	op, err := s.q.Operator(s.ctx, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return op
}

// cdrOf waits until the call's record is written and returns it, checking
// it is a valid record of that caller.
func (s *stack) cdrOf(c *aritest.Call, number string) cdr.Record {
	s.t.Helper()
	var rec *cdr.Record
	s.until("CDR of "+c.ChannelID(), 15*time.Minute, func() bool {
		r, err := s.store.Get(s.ctx, c.ChannelID())
		rec = r
		return err == nil
	})
	if err := rec.Validate(); err != nil {
		s.t.Errorf("CDR invalid: %v\n%+v", err, *rec)
	}
	if want := s.hasher.Identify(number).Hash; rec.CallerHash != want {
		s.t.Errorf("CDR caller hash %q, want %q", rec.CallerHash, want)
	}
	return *rec
}

// heard reports whether the party heard something of kind (and media).
func heard(c *aritest.Call, kind, media string) bool {
	for _, h := range c.Heard() {
		if h.Kind == kind && (media == "" || h.Media == media) {
			return true
		}
	}
	return false
}

// requests are the REST requests the app made that concern a channel id
// (in the path or a query parameter), as "METHOD route".
func (s *stack) requests(ids ...string) []aritest.Request {
	var out []aritest.Request
	for _, r := range s.srv.Requests() {
		for _, id := range ids {
			if strings.Contains(r.Path, id) || slices.ContainsFunc(queryValues(r.Query), func(v string) bool { return strings.Contains(v, id) }) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

func queryValues(q url.Values) []string {
	var out []string
	for _, vs := range q {
		out = append(out, vs...)
	}
	return out
}

func routes(rs []aritest.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Method + " " + r.Route
	}
	return out
}

// find returns the requests with method and route.
func find(rs []aritest.Request, method, route string) []aritest.Request {
	var out []aritest.Request
	for _, r := range rs {
		if r.Method == method && r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// noLeaks checks that the emulator holds no channel and no bridge, that
// the app and the flow hold no call, and that nothing was left unemulated.
func (s *stack) noLeaks() {
	s.t.Helper()
	if chans := s.srv.Channels(); len(chans) > 0 {
		ids := make([]string, len(chans))
		for i, c := range chans {
			ids[i] = c.ID + " " + c.State
		}
		s.t.Errorf("channels left in Asterisk: %v", ids)
	}
	bridges, err := s.client.Bridges().List(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(bridges) > 0 {
		s.t.Errorf("bridges left in Asterisk: %+v", bridges)
	}
	if n := s.app.Active(); n != 0 {
		s.t.Errorf("app still has %d calls", n)
	}
	if n := s.flow.Active(); n != 0 {
		s.t.Errorf("flow still has %d calls", n)
	}
	if n := s.app.Tracked(); n != 0 {
		s.t.Errorf("app still follows %d channels", n)
	}
	if g := s.srv.Gaps(); len(g) > 0 {
		s.t.Errorf("emulator gaps: %v", g)
	}
}

// noNumberLeak checks that no request carried the caller's number.
func (s *stack) noNumberLeak(number string) {
	s.t.Helper()
	for _, r := range s.srv.Requests() {
		all := r.Path + " " + strings.Join(queryValues(r.Query), " ") + " " + string(r.Body)
		if strings.Contains(all, number) || strings.Contains(all, strings.TrimPrefix(number, "+")) {
			s.t.Errorf("request %s %s carries the caller's number", r.Method, r.Path)
		}
	}
	if strings.Contains(s.logs.String(), strings.TrimPrefix(number, "+")) {
		s.t.Errorf("the caller's number appears in the logs")
	}
}

// counter reads a counter (or gauge) of the registry.
func (s *stack) counter(name string, labels ...string) float64 {
	s.t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		s.t.Fatal(err)
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
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				ok = ok && found
			}
			if ok {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// countingTransport counts REST requests in flight: a request is done
// when its body is closed.
type countingTransport struct {
	next          http.RoundTripper
	started, done atomic.Int64
	dead          atomic.Bool // the process was killed: nothing goes out
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.dead.Load() {
		return nil, errors.New("process killed")
	}
	c.started.Add(1)
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		c.done.Add(1)
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, done: &c.done}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	once sync.Once
	done *atomic.Int64
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.done.Add(1) })
	return err
}

// countingHook counts Redis commands in flight.
type countingHook struct{ started, done atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.started.Add(1)
		defer h.done.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.started.Add(1)
		defer h.done.Add(1)
		return next(ctx, cmds)
	}
}
