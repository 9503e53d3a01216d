package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/queue"
)

// Options describe a run. Times the callers and operators take (prompts,
// ringing, talk, patience) are what the emulator plays in real time: give
// them compressed (a 2 s "talk") to push many calls through a short run,
// or real (5m53s, the seed's average) for a run that looks like a day.
type Options struct {
	// Rate is the mean arrival rate, calls per second (Poisson arrivals).
	Rate float64
	// Duration is how long calls keep arriving.
	Duration time.Duration
	// Operators is how many operators are logged in (every one speaks
	// every language of the configuration).
	Operators int
	// Talk is the mean talk time: each operator's phone hangs up this long
	// after answering, drawn per operator (exponential, at least 10 ms).
	Talk time.Duration
	// Hold is the callers' mean patience in the queue (exponential, per
	// call); past it a caller not yet rung through hangs up (abandoned).
	// Zero: callers wait for ever (until MaxWait).
	Hold time.Duration
	// Ring is how long an operator's phone rings before she answers.
	Ring time.Duration
	// Prompt is the length of every prompt the emulator plays.
	Prompt time.Duration
	// Plateau, when positive, is a memory run: operators start paused,
	// callers arrive until Plateau calls wait at once, the heap is
	// measured, then operators are unpaused and the calls drain.
	Plateau int
	// Drain bounds the wait, after arrivals stop, for calls to end and
	// their records to be written (default 60 s).
	Drain time.Duration
	// Seed makes arrivals and patience reproducible.
	Seed uint64
	// HeapProfile, for a plateau run, is where to write the heap profile
	// taken at the plateau (after a collection).
	HeapProfile string
	// Records is the record store the switchboard writes to (required);
	// the bench reads it back to count the records.
	Records cdr.Store
	// RedisAddr is the Redis the switchboard uses (required).
	RedisAddr string
	// Logger receives the switchboard's log.
	Logger zerolog.Logger
	// Progress, if set, gets a line every second.
	Progress func(string)
}

// World is what the bench hands the switchboard it starts.
type World struct {
	// Config is the switchboard's configuration: the bench's languages
	// and timings, ARI at the recorder in front of Asterisk, the Redis
	// and a key prefix of this run's own.
	Config *config.Config
	// Asterisk is the emulated Asterisk (credentials, AwaitApp).
	Asterisk *aritest.Server
	// HMACKey is a key made for this run.
	HMACKey string
	// RedisHook counts the switchboard's Redis round trips: add it to its
	// client.
	RedisHook redis.Hook
	// Writer wraps the switchboard's record writer to count writes.
	Writer func(cdr.Writer) cdr.Writer
}

// Node is the running switchboard.
type Node struct {
	// Queue is the switchboard's queue (the bench logs operators in).
	Queue queue.Queue
	// Stop stops it and closes its connections.
	Stop func()
}

// StartFunc starts the switchboard under test in w.
type StartFunc func(ctx context.Context, w World) (Node, error)

// Result is what a run measured.
type Result struct {
	Options Options
	// Placed calls; Setups the calls the switchboard answered; Ended the
	// calls that ended; Records the calls with a record.
	Placed, Setups, Ended, Records int
	// Answered, Abandoned: calls rung through to an operator, calls whose
	// caller gave up in the queue.
	Answered, Abandoned int
	// Elapsed is the arrival phase; Total the whole run (drain included).
	Elapsed, Total time.Duration
	// Latencies per step (see the package documentation).
	Answer, DTMF, OrigQueued, OrigAvail Summary
	// RedisCommands and RedisTrips by the switchboard's client; ByName the
	// commands by name.
	RedisCommands, RedisTrips int64
	ByName                    map[string]int64
	// Writes counts the record writes the switchboard made.
	Writes int64
	// CPU is the process's user+system CPU over the run.
	CPU time.Duration
	// PeakRSS is VmHWM at the end.
	PeakRSS int64
	// Plateau run: calls waiting at once (per the queue), and the heap
	// they hold (live heap after a GC, over the baseline before the run).
	Waiting    int
	HeapDelta  int64
	StackDelta int64
	// LostCalls are calls the switchboard never answered or that never
	// ended (LostWhy: how many for each reason); LostRecords placed calls
	// without a record.
	LostCalls, LostRecords int
	LostWhy                map[string]int
	// Load is the load average at the end.
	Load string
}

func (o *Options) defaults() error {
	switch {
	case !(o.Rate > 0) || o.Rate > 100000:
		return fmt.Errorf("bench: rate %v: want calls per second, more than 0", o.Rate)
	case o.Duration <= 0 && o.Plateau <= 0:
		return fmt.Errorf("bench: duration %v: want more than 0", o.Duration)
	case o.Operators < 1:
		return fmt.Errorf("bench: operators %d: want at least 1", o.Operators)
	case o.Talk < 0, o.Hold < 0, o.Ring < 0, o.Prompt < 0, o.Plateau < 0:
		return errors.New("bench: negative time or plateau")
	case o.Records == nil:
		return errors.New("bench: Options.Records is nil")
	case o.RedisAddr == "":
		return errors.New("bench: Options.RedisAddr is empty")
	}
	if o.Talk == 0 {
		o.Talk = 2 * time.Second
	}
	if o.Ring == 0 {
		o.Ring = 50 * time.Millisecond
	}
	if o.Prompt == 0 {
		o.Prompt = 200 * time.Millisecond
	}
	if o.Drain <= 0 {
		o.Drain = time.Minute
	}
	return nil
}

// configYAML is the switchboard's configuration for a run: two languages
// open at all hours (the menu is always played, whatever the time of the
// run), no periodic announcements after the first, no wrap-up (an
// operator is free as soon as she hangs up, so the originate that follows
// is measured from that instant), voicemail off.
const configYAML = `service: "1522"
timezone: Europe/Rome
node_id: bench
ari: {url: "%s", app: helpline, username: asterisk, password_env: HELPLINE_BENCH_UNUSED}
privacy: {hmac_key_env: HELPLINE_BENCH_UNUSED}
redis: {addr: "%s", key_prefix: "%s:"}
cdr: {driver: sqlite, path: /nonexistent/bench.db}
languages:
  it: {digit: 1, hours: always}
  en: {digit: 2, hours: always}
ivr:
  default_language: it
  menu_tries: 2
  digit_timeout: 5s
  max_wait: 2h
  announce_interval: 2h
  voicemail_digit: ""
queue:
  ring_timeout: 20s
  wrap_up: 0s
`

// Config is the switchboard's configuration for a run whose Asterisk is
// at ariURL and Redis at redisAddr, under key prefix, with the operators
// ops (endpoints PJSIP/<id>). The secrets it names are not read: the
// bench hands the switchboard the emulator's password and a key of its
// own.
func Config(ariURL, redisAddr, prefix string, ops []string) (*config.Config, error) {
	var b strings.Builder
	fmt.Fprintf(&b, configYAML, ariURL, redisAddr, prefix)
	b.WriteString("operators:\n")
	for _, id := range ops {
		fmt.Fprintf(&b, "  - {id: %s, endpoint: PJSIP/%s, languages: [it, en]}\n", id, id)
	}
	return config.Parse("bench", []byte(b.String()))
}

// Run runs the bench: it starts the emulated Asterisk behind a Recorder,
// has start build the switchboard against it, logs the operators in,
// places the calls, waits for them to end and counts their records.
func Run(ctx context.Context, o Options, start StartFunc) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	r := &runner{o: o, rng: mrand.New(mrand.NewPCG(o.Seed, 0x5eed)), counter: newRedisCounter()}
	return r.run(ctx, start)
}

type runner struct {
	o       Options
	rng     *mrand.Rand
	counter *redisCounter
	rec     *Recorder
	srv     *aritest.Server
	node    Node
	ops     []string

	writes atomic.Int64
	answer *Samples
	dtmf   *Samples

	mu                  sync.Mutex
	ids                 []string
	setups, ended       int
	answered, abandoned int
	lostCalls           int
	lostWhy             map[string]int
	waiting             atomic.Int64 // in the queue now (next prompt seen, not rung, not ended)
	active              atomic.Int64
}

func (r *runner) run(ctx context.Context, start StartFunc) (*Result, error) {
	o := r.o
	r.answer, r.dtmf = &Samples{}, &Samples{}
	eps := []aritest.Endpoint{{Resource: "sipp", Context: "from-sip"}}
	for i := range o.Operators {
		id := fmt.Sprintf("op%05d", i+1)
		r.ops = append(r.ops, id)
		talk := time.Duration(r.rng.ExpFloat64() * float64(o.Talk))
		eps = append(eps, aritest.Endpoint{Resource: id, Context: "from-operators",
			Phone: aritest.Phone{RingFor: o.Ring, TalkFor: max(talk, 10*time.Millisecond)}})
	}
	r.srv = aritest.NewUnstartedServer(aritest.Config{Endpoints: eps, DefaultSoundLength: o.Prompt, Sounds: map[string]time.Duration{}})
	r.rec = NewRecorder(r.srv)
	hs := httptest.NewServer(r.rec)
	defer func() { r.srv.Close(); hs.Close() }()

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("bench: HMAC key: %w", err)
	}
	cfg, err := Config(hs.URL, o.RedisAddr, "bench"+hex.EncodeToString(key[:4]), r.ops)
	if err != nil {
		return nil, fmt.Errorf("bench: configuration: %w", err)
	}
	r.node, err = start(ctx, World{
		Config: cfg, Asterisk: r.srv, HMACKey: hex.EncodeToString(key), RedisHook: r.counter,
		Writer: func(w cdr.Writer) cdr.Writer { return countingWriter{w, &r.writes} },
	})
	if err != nil {
		return nil, err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			r.node.Stop()
		}
	}
	defer stop()

	now := time.Now()
	var langs []string
	for _, l := range cfg.Languages {
		langs = append(langs, l.Code)
	}
	for _, id := range r.ops {
		ep := "PJSIP/" + id
		if err := r.node.Queue.Login(ctx, queue.Operator{ID: id, Endpoint: ep, Skills: langs}, now); err != nil {
			return nil, fmt.Errorf("bench: logging %s in: %w", id, err)
		}
		if o.Plateau > 0 {
			if err := r.node.Queue.Pause(ctx, id, "bench plateau", now); err != nil {
				return nil, fmt.Errorf("bench: pausing %s: %w", id, err)
			}
		} else {
			r.rec.freed(ep, now)
		}
	}

	var heap0, stack0 uint64
	if o.Plateau > 0 {
		heap0, stack0 = liveHeap()
	}
	r.counter.reset()
	cpu0, t0 := cpuTime(), time.Now()
	res := &Result{Options: o}

	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	progressDone := r.progress(runCtx)
	r.arrive(runCtx, &wg, t0)
	res.Elapsed = time.Since(t0)

	if o.Plateau > 0 {
		res.Waiting, res.HeapDelta, res.StackDelta = r.plateau(ctx, heap0, stack0)
		for _, id := range r.ops {
			// Free from just before the unpause: the originate that follows
			// is timed from there, as BenchmarkOperatorAvailableToOriginate
			// in ari-app does.
			r.rec.freed("PJSIP/"+id, time.Now())
			if err := retry(ctx, func() error { return r.node.Queue.Unpause(ctx, id, time.Now()) }); err != nil {
				return nil, fmt.Errorf("bench: unpausing %s: %w", id, err)
			}
		}
	}

	// Drain: every call ends (the callers' goroutines bound their own
	// waits by Drain), then every ended call must have its record.
	wg.Wait()
	lostRecords := r.awaitRecords(ctx, o.Drain)
	res.Total = time.Since(t0)
	res.CPU = cpuTime() - cpu0
	cancel()
	<-progressDone

	r.mu.Lock()
	res.Placed, res.Setups, res.Ended = len(r.ids), r.setups, r.ended
	res.Answered, res.Abandoned, res.LostCalls = r.answered, r.abandoned, r.lostCalls
	res.LostWhy = r.lostWhy
	r.mu.Unlock()
	res.LostRecords = lostRecords
	res.Records = res.Placed - lostRecords
	res.Answer, res.DTMF = r.answer.Summary(), r.dtmf.Summary()
	res.OrigQueued, res.OrigAvail = r.rec.origQueued.Summary(), r.rec.origAvail.Summary()
	res.RedisCommands, res.RedisTrips, res.ByName = r.counter.snapshot()
	res.Writes = r.writes.Load()
	res.PeakRSS = peakRSS()
	stop()
	res.Load = loadAverage()
	return res, nil
}

// arrive places calls at the target rate (Poisson) until Duration has
// passed, or, for a plateau run, until Plateau calls wait.
func (r *runner) arrive(ctx context.Context, wg *sync.WaitGroup, t0 time.Time) {
	o := r.o
	next := t0
	for n := 0; ; n++ {
		if o.Plateau > 0 {
			if n >= o.Plateau {
				return
			}
		} else if next.Sub(t0) >= o.Duration {
			return
		}
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		id := fmt.Sprintf("bench-%07d", n)
		patience := time.Duration(0)
		if o.Hold > 0 && o.Plateau == 0 {
			patience = max(time.Duration(r.rng.ExpFloat64()*float64(o.Hold)), time.Millisecond)
		}
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.caller(ctx, id, n, patience)
		}()
		next = next.Add(time.Duration(r.rng.ExpFloat64() / o.Rate * float64(time.Second)))
	}
}

// caller is one caller: she rings, presses 1 (Italian) as soon as the
// welcome plays, waits for an operator or gives up after her patience,
// and the call ends when the switchboard hangs her up (the operator hung
// up) or she does.
func (r *runner) caller(ctx context.Context, id string, n int, patience time.Duration) {
	tr := r.rec.track(id)
	defer r.rec.forget(id)
	r.active.Add(1)
	defer r.active.Add(-1)
	fail := func(why string) {
		r.mu.Lock()
		r.lostCalls++
		if r.lostWhy == nil {
			r.lostWhy = map[string]int{}
		}
		r.lostWhy[why]++
		r.mu.Unlock()
	}
	// The number is a made-up Italian mobile: it is hashed by the
	// switchboard like any caller's.
	number := fmt.Sprintf("+39333%07d", n%10_000_000)
	t0 := time.Now()
	call, err := r.srv.Call(ctx, number, "1522", aritest.CallOptions{ChannelID: id})
	if err != nil {
		fail("not placed")
		return
	}
	stepWait := 30 * time.Second
	if !await(ctx, tr.answered, stepWait) {
		fail("not answered by the switchboard within 30s")
		_ = call.Hangup()
		return
	}
	r.answer.Add(tr.answerAt.Sub(t0))
	r.mu.Lock()
	r.setups++
	r.mu.Unlock()

	ended := func() bool {
		r.mu.Lock()
		r.ended++
		r.mu.Unlock()
		return true
	}
	if !await(ctx, tr.playing, stepWait) {
		_ = call.Hangup()
		if r.awaitEnd(ctx, call, tr) {
			ended()
		} else {
			fail("no welcome, and not ended")
		}
		return
	}
	r.rec.pressed(tr, time.Now())
	// A 1 ns digit: the emulator raises ChannelDtmfReceived at once.
	if err := call.SendDTMF("1", aritest.Duration(time.Nanosecond)); err == nil {
		if await(ctx, tr.next, stepWait) {
			r.mu.Lock()
			r.dtmf.Add(tr.nextAt.Sub(tr.dtmfAt))
			r.mu.Unlock()
		}
	}
	r.waiting.Add(1)
	var giveUp <-chan time.Time
	if patience > 0 {
		tm := time.NewTimer(patience)
		defer tm.Stop()
		giveUp = tm.C
	}
	select {
	case <-tr.orig:
		r.waiting.Add(-1)
		r.mu.Lock()
		r.answered++
		r.mu.Unlock()
	case <-giveUp:
		r.waiting.Add(-1)
		r.mu.Lock()
		r.abandoned++
		r.mu.Unlock()
		_ = call.Hangup()
	case <-tr.ended:
		r.waiting.Add(-1)
	case <-ctx.Done():
		r.waiting.Add(-1)
		fail("interrupted")
		return
	}
	if r.awaitEnd(ctx, call, tr) {
		ended()
	} else {
		fail("not ended within the drain")
		_ = call.Hangup()
	}
}

// awaitEnd waits until the call is over: the switchboard hung the caller
// up, or the emulator says the call ended (she hung up herself). The
// emulator is polled slowly; its Await helpers wake every waiter on every
// event, which thousands of callers cannot afford.
func (r *runner) awaitEnd(ctx context.Context, call *aritest.Call, tr *trace) bool {
	deadline := time.After(r.o.Drain + r.o.Talk*10)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, over := call.Ended(); over {
			return true
		}
		select {
		case <-tr.ended:
			return true
		case <-tick.C:
		case <-deadline:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

func await(ctx context.Context, ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// plateau waits until the placed calls wait in the queue, then measures
// the live heap they hold.
func (r *runner) plateau(ctx context.Context, heap0, stack0 uint64) (waiting int, heap, stack int64) {
	deadline := time.Now().Add(r.o.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		snap, err := r.node.Queue.Snapshot(ctx, time.Now())
		if err == nil {
			waiting = 0
			for _, calls := range snap.Waiting {
				waiting += len(calls)
			}
			if waiting >= r.o.Plateau {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	h, s := liveHeap()
	if r.o.HeapProfile != "" {
		if f, err := os.Create(r.o.HeapProfile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			_ = f.Close()
		}
	}
	return waiting, int64(h) - int64(heap0), int64(s) - int64(stack0)
}

// liveHeap is the heap in use after a full collection, and the
// goroutine stacks.
func liveHeap() (heap, stack uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// awaitRecords waits until every placed call has its record, up to d; it
// returns how many are still missing.
func (r *runner) awaitRecords(ctx context.Context, d time.Duration) int {
	r.mu.Lock()
	ids := append([]string(nil), r.ids...)
	r.mu.Unlock()
	deadline := time.Now().Add(d)
	missing := ids
	for {
		var still []string
		for _, id := range missing {
			if _, err := r.o.Records.Get(ctx, id); err != nil {
				still = append(still, id)
			}
		}
		missing = still
		if len(missing) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Every placed call must have its record, even one the switchboard
	// never answered (it entered Stasis): strict on purpose.
	return len(missing)
}

// progress prints a line a second until ctx ends.
func (r *runner) progress(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if r.o.Progress == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.mu.Lock()
				placed, setups, ended := len(r.ids), r.setups, r.ended
				r.mu.Unlock()
				r.o.Progress(fmt.Sprintf("placed %d, answered by the switchboard %d, in progress %d, waiting %d, ended %d, record writes %d",
					placed, setups, r.active.Load(), r.waiting.Load(), ended, r.writes.Load()))
			}
		}
	}()
	return done
}

// countingWriter counts the records written.
type countingWriter struct {
	w cdr.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(ctx context.Context, rec cdr.Record) error {
	err := c.w.Write(ctx, rec)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

// perCall divides by the placed calls.
func perCall(v float64, calls int) float64 {
	if calls == 0 {
		return math.NaN()
	}
	return v / float64(calls)
}

// byNameText lists the commands by name, most frequent first, per call.
func byNameText(m map[string]int64, calls int) string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && (all[j].v > all[j-1].v || all[j].v == all[j-1].v && all[j].k < all[j-1].k); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%s %.2f", e.k, perCall(float64(e.v), calls)))
	}
	return strings.Join(parts, ", ")
}

// retry runs f until it succeeds, up to five times while the queue is
// unavailable (a saturated node's Redis pool), backing off.
func retry(ctx context.Context, f func() error) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || !queue.IsUnavailable(err) || attempt == 5 || ctx.Err() != nil {
			return err
		}
		time.Sleep(wait)
		wait *= 2
	}
}
