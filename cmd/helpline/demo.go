package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/demo"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/report"
)

// demoOptions are the flags of `helpline demo`.
type demoOptions struct {
	hours, speed, rate float64
	seed               uint64
	start, db, log     string
	configFile         string
	keep               bool
}

// Defaults: eight simulated hours at 1000× real time take under half a
// minute.
const (
	demoDefaultHours = 8
	demoDefaultSpeed = 1000
	demoMaxHours     = 31 * 24
	demoStartLayout  = "2006-01-02T15:04"
)

func newDemoCmd(d *Deps) *cobra.Command { return newDemoCmdHooks(d, nil) }

// newDemoCmdHooks is newDemoCmd with test hooks.
func newDemoCmdHooks(d *Deps, hooks *demoHooks) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Simulated callers and operators on an embedded switchboard (no setup)",
		Long: `Runs the whole switchboard in this process - the call flow, the queue and the
blacklist on an embedded Redis, call records in a temporary SQLite file, and an
emulated Asterisk - and plays simulated people against it: callers arriving
hour by hour as in the 1522's published quarter (weekday x hour profile, 17,8 %
blacklisted, 28,9 % hanging up in the welcome), choosing their language, some
giving up in the queue or leaving a message; operators with their language
skills working their shifts, answering after a few rings, sometimes missing
one (the switchboard pauses them; they come back a few minutes later), taking
breaks.

The simulated clock runs --speed times faster than real time over the last
--hours (or from --start). The screen shows who waits, who is free, busy or
paused, and the outcomes so far; at the end come the outcome counts and the
quarterly report's tables for the simulated period, in Italian. The embedded
Redis address is printed at the start: 'helpline queue --redis ADDR' shows the
live queue from another terminal. With --keep the switchboard goes on, in
real time, until Ctrl-C.

Nothing is left behind: a fresh HMAC key hashes the simulated numbers and the
temporary files are removed at the end, unless --db names the record file to
keep (it must not exist yet).`,
		Example: `  helpline demo
  helpline demo --hours 24 --speed 3000 --seed 7
  helpline demo --start 2025-07-21T09:00 --hours 4 --db demo.db --keep`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runDemo(ctx, c, d, o, hooks)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.hours, "hours", demoDefaultHours, "simulated hours of calls")
	f.Float64Var(&o.speed, "speed", demoDefaultSpeed, "simulated time per real time (0: as fast as the machine goes)")
	f.Uint64Var(&o.seed, "seed", 0, "random seed, for a reproducible run (default: a new one, printed)")
	f.StringVar(&o.start, "start", "", "first simulated minute, YYYY-MM-DDTHH:MM local (default: --hours ago)")
	f.Float64Var(&o.rate, "rate", 1, "call volume, as a multiple of the published quarter's")
	f.StringVar(&o.db, "db", "", "write the call records to this new SQLite file and keep it")
	f.StringVar(&o.log, "log", "", "write the switchboard's log to this file (default: errors only, on stderr)")
	f.StringVar(&o.configFile, "config", "", "use this configuration's languages, hours, timings and operators (its addresses and secrets are ignored)")
	f.BoolVar(&o.keep, "keep", false, "after the report, keep the switchboard running in real time until Ctrl-C")
	return cmd
}

// demoSetup is a parsed command line.
type demoSetup struct {
	cfg      *config.Config
	scenario demo.Scenario
	seedSet  bool
}

// parseDemo checks the flags and builds the configuration and the
// scenario. Every bad flag is a usage error naming it.
func parseDemo(c *cobra.Command, d *Deps, o *demoOptions) (*demoSetup, error) {
	p := prefix(c)
	switch {
	case !(o.hours > 0) || o.hours > demoMaxHours:
		return nil, usageErrorf("%sinvalid --hours %v: want more than 0 and at most %d", p, o.hours, demoMaxHours)
	case !(o.speed >= 0) || o.speed > 1e9:
		return nil, usageErrorf("%sinvalid --speed %v: want 0 (flat out) or a positive factor", p, o.speed)
	case !(o.rate > 0) || o.rate > 1000:
		return nil, usageErrorf("%sinvalid --rate %v: want a positive multiple of the seed's volume, at most 1000", p, o.rate)
	}
	if o.db != "" {
		if _, err := os.Stat(o.db); err == nil {
			return nil, usageErrorf("%sinvalid --db %s: the file exists; give a new file (a demo never mixes its records with others)", p, o.db)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, usageErrorf("%sinvalid --db %s: %v", p, o.db, err)
		}
	}
	s := &demoSetup{seedSet: c.Flags().Changed("seed")}
	var err error
	if o.configFile != "" {
		if s.cfg, err = loadConfig(c, d, o.configFile); err != nil {
			return nil, err
		}
	} else if s.cfg, err = config.Parse("example", config.ExampleYAML()); err != nil {
		return nil, fmt.Errorf("%sthe example configuration: %w", p, err)
	}
	loc := s.cfg.Location
	dur := time.Duration(o.hours * float64(time.Hour)).Round(time.Second)
	var start time.Time
	if o.start != "" {
		if start, err = time.ParseInLocation(demoStartLayout, o.start, loc); err != nil {
			return nil, usageErrorf("%sinvalid --start %q: want YYYY-MM-DDTHH:MM (local time, %s)", p, o.start, loc)
		}
	} else {
		// The simulated hours end now, so that a supervisor's view of the
		// queue (real clock) and "today's" counters make sense with --keep.
		start = d.Clock.Now().In(loc).Add(-dur).Truncate(time.Minute)
	}
	seed := o.seed
	if !s.seedSet {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("%sseed: %w", p, err)
		}
		seed = binary.LittleEndian.Uint64(b[:]) % 1_000_000
	}
	sc := demo.DefaultScenario(start, dur, loc, seed)
	sc.Rate = o.rate
	sc.Number = s.cfg.Service
	sc.Open = s.cfg.OpenLanguages
	mix := demo.DefaultMix()
	sc.Languages = nil
	for _, l := range s.cfg.Languages {
		share, ok := mix[l.Code]
		if !ok {
			share = 0.01 // a language of the file the seed does not have
		}
		sc.Languages = append(sc.Languages, demo.Language{Code: l.Code, Digit: rune(l.Digit[0]), Share: share})
	}
	sc.Welcome = 0
	for range welcomeLanguages(s.cfg) {
		sc.Welcome += demoSoundLength(config.PromptWelcome)
	}
	if s.cfg.IVR.VoicemailDigit == "" {
		sc.Callers.Voicemail = 0
	} else {
		sc.Callers.VoicemailDigit = rune(s.cfg.IVR.VoicemailDigit[0])
	}
	sc.Callers.VoicemailIntro = demoSoundLength(config.PromptVoicemailRecord) + 2*time.Second
	if o.configFile != "" {
		// The file's operators, on duty all day.
		sc.Operators = nil
		for _, op := range s.cfg.Operators {
			r := demo.DefaultRoster()[0]
			r.ID, r.Name, r.Languages, r.Shift = op.ID, op.Name, op.Languages, demo.Shift{}
			sc.Operators = append(sc.Operators, r)
		}
	}
	s.scenario = sc
	return s, nil
}

// welcomeLanguages are the languages whose welcome plays.
func welcomeLanguages(cfg *config.Config) []string {
	if len(cfg.IVR.WelcomeLanguages) > 0 {
		return cfg.IVR.WelcomeLanguages
	}
	return []string{cfg.IVR.DefaultLanguage}
}

// demoSoundLength is how long the emulated Asterisk plays a prompt: the
// welcome about as long as the seed service's, a menu entry a sentence.
func demoSoundLength(id config.PromptID) time.Duration {
	switch id {
	case config.PromptWelcome:
		return 9 * time.Second
	case config.PromptMenu:
		return 2500 * time.Millisecond
	}
	return 3 * time.Second
}

// demoSounds maps every prompt's recorded sound to its length.
func demoSounds(cfg *config.Config) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, prompts := range cfg.Prompts {
		for id, p := range prompts {
			for _, s := range p.Sound {
				if name, ok := strings.CutPrefix(s, "sound:"); ok {
					out[name] = demoSoundLength(id)
				}
			}
		}
	}
	return out
}

// demoHooks let tests change the scenario after the flags built it.
type demoHooks struct {
	scenario func(*demo.Scenario)
	counts   func(demo.Counts)
	progress func(demo.Progress)
	keep     func() // the --keep phase starts
}

func runDemo(ctx context.Context, c *cobra.Command, d *Deps, o *demoOptions, hooks *demoHooks) error {
	setup, err := parseDemo(c, d, o)
	if err != nil {
		return err
	}
	sc := setup.scenario
	if hooks != nil && hooks.scenario != nil {
		hooks.scenario(&sc)
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("%s%w", prefix(c), err)
	}
	cfg := setup.cfg
	out := d.Stdout

	clock := clockwork.NewFakeClockAt(sc.Start)
	emb, err := demo.StartEmbedded(demo.EmbeddedOptions{
		Clock: clock, Operators: sc.Operators, Sounds: demoSounds(cfg), DBPath: o.db,
	})
	if err != nil {
		return err
	}
	defer emb.Close()

	pointAtEmbedded(cfg, emb, sc.Operators)

	logger, closeLog, err := demoLogger(d, o.log)
	if err != nil {
		return usageErrorf("%sinvalid --log %s: %v", prefix(c), o.log, err)
	}
	defer closeLog()

	act := &demo.Activity{}
	records, err := sqlite.Open(ctx, emb.DBPath, sqlite.Options{Now: clock.Now, Logger: logger})
	if err != nil {
		return err
	}
	sb, err := startSwitchboard(ctx, cfg, switchboardEnv{
		asterisk: emb.Asterisk, hmacKey: emb.HMACKey, redisAddr: emb.RedisAddr(),
		records: records, clock: clock, act: act,
	}, logger)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	driver := demo.NewDriver(clock, demo.DriverOptions{Speed: o.speed, Meter: act, Real: d.Clock})
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			sb.stop(func() { driver.Clock().Advance(time.Second) })
		}
	}
	defer stop()

	end := sc.Start.Add(sc.Duration)
	fmt.Fprintf(out, "helpline demo: %s – %s (%s), seed %d, speed %s\n",
		sc.Start.Format("Mon 2006-01-02 15:04"), end.Format("Mon 2006-01-02 15:04"), sc.Location, sc.Seed, speedText(o.speed))
	fmt.Fprintf(out, "Embedded Redis: %s   live queue: helpline queue --redis %s --db %s\n", emb.RedisAddr(), emb.RedisAddr(), emb.DBPath)
	if o.db != "" {
		fmt.Fprintf(out, "Call records: %s (kept)\n", emb.DBPath)
	} else {
		fmt.Fprintf(out, "Call records: %s (temporary)\n", emb.DBPath)
	}
	fmt.Fprintf(out, "Operators: %s\n\n", rosterText(sc.Operators))

	prog := newDemoProgress(out, d, cfg)
	env := demo.Env{
		Driver: driver, Asterisk: emb.Asterisk, Queue: sb.queue, Blacklist: sb.blacklist,
		Identifier: sb.hasher, Records: sb.records, Progress: prog.update, Logger: logger,
	}
	if hooks != nil && hooks.progress != nil {
		env.Progress = func(p demo.Progress) { prog.update(p); hooks.progress(p) }
	}
	counts, runErr := demo.Run(ctx, env, sc)
	prog.finish()
	if hooks != nil && hooks.counts != nil {
		hooks.counts(counts)
	}
	interrupted := runErr != nil && ctx.Err() != nil
	if runErr != nil && !interrupted {
		return runErr
	}
	if interrupted {
		fmt.Fprintf(out, "\nInterrupted after %s of simulated time.\n", counts.End.Sub(counts.Start).Round(time.Second))
	}
	printCounts(out, counts)
	if !interrupted {
		if err := printDemoReport(ctx, out, sb.records, cfg, sc.Start, counts.End); err != nil {
			return err
		}
	}
	if o.keep && !interrupted {
		if hooks != nil && hooks.keep != nil {
			hooks.keep()
		}
		keepRunning(ctx, out, d, env, sc, emb, clock, act, prog)
	}
	stop()
	return nil
}

// keepRunning goes on in real time until ctx ends: the clock jumps to
// now (if the simulated period ended before it) and new callers keep
// arriving, for a supervisor's view that shows true waiting times.
func keepRunning(ctx context.Context, out io.Writer, d *Deps, env demo.Env, sc demo.Scenario,
	emb *demo.Embedded, clock *clockwork.FakeClock, act *demo.Activity, prog *demoProgress) {
	if gap := d.Clock.Now().Sub(clock.Now()); gap > 0 {
		clock.Advance(gap)
	}
	fmt.Fprintf(out, "\n--keep: the switchboard goes on in real time from %s; Redis at %s. Ctrl-C to stop.\n\n",
		clock.Now().In(sc.Location).Format("15:04"), emb.RedisAddr())
	env.Driver = demo.NewDriver(clock, demo.DriverOptions{Speed: 1, Meter: act, Real: d.Clock})
	prog.restart()
	live := sc
	live.Start, live.Duration, live.Seed = clock.Now(), 0, sc.Seed+1
	_, _ = demo.Run(ctx, env, live)
	prog.finish()
}

func speedText(s float64) string {
	if s == 0 {
		return "flat out"
	}
	return strconv.FormatFloat(s, 'f', -1, 64) + "×"
}

func rosterText(ops []demo.Operator) string {
	var parts []string
	for _, o := range ops {
		shift := "all day"
		if o.Shift.From != o.Shift.Until {
			shift = fmt.Sprintf("%02d-%02d", int(o.Shift.From.Hours()), int(o.Shift.Until.Hours()))
		}
		parts = append(parts, fmt.Sprintf("%s %s [%s] %s", o.ID, o.Name, strings.Join(o.Languages, ","), shift))
	}
	return strings.Join(parts, "; ")
}

// demoLogger is the switchboard's logger: everything to --log FILE, else
// errors only to stderr.
func demoLogger(d *Deps, file string) (zerolog.Logger, func(), error) {
	if file == "" {
		return zerolog.New(d.Stderr).Level(zerolog.ErrorLevel).With().Timestamp().Logger(), func() {}, nil
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return zerolog.Logger{}, nil, err
	}
	return zerolog.New(f).Level(zerolog.InfoLevel).With().Timestamp().Logger(), func() { _ = f.Close() }, nil
}

// outcomeOrder is the report's order of the inbound outcomes.
var outcomeOrder = []cdr.Outcome{cdr.Answered, cdr.Abandoned, cdr.Voicemail, cdr.Unanswered, cdr.Blacklisted, cdr.WelcomeHangup}

func outcomesText(m map[cdr.Outcome]int) string {
	var parts []string
	for _, k := range outcomeOrder {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, "  ")
}

func printCounts(w io.Writer, c demo.Counts) {
	fmt.Fprintf(w, "\nCalls placed: %d; call records: %d", c.Placed, c.Total())
	if c.Total() == c.Placed {
		fmt.Fprint(w, " (one per call)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %s\n", outcomesText(c.Outcomes))
	if c.Unfinished > 0 || c.Missing > 0 {
		fmt.Fprintf(w, "  still in progress: %d; ended without a record yet: %d\n", c.Unfinished, c.Missing)
	}
	fmt.Fprintf(w, "Operators' phones rang %d times; %d rings let go (%d auto-pauses, %d returns), %d breaks\n",
		c.Rings, c.Missed, c.AutoPaused, c.Unpaused, c.Breaks)
}

// printDemoReport prints the report of the local days the simulation
// covered (they hold only its calls: the record file is new).
func printDemoReport(ctx context.Context, w io.Writer, src report.Source, cfg *config.Config, from, to time.Time) error {
	loc := cfg.Location
	first := from.In(loc).Format("2006-01-02")
	last := to.In(loc).AddDate(0, 0, 1).Format("2006-01-02")
	period, err := report.NewPeriod(first, last, loc)
	if err != nil {
		return err
	}
	res, err := report.FromStore(context.WithoutCancel(ctx), src, period, report.Options{Service: cfg.Service})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	return report.WriteText(w, &res, report.Italian)
}

// demoProgress shows the simulation's progress: redrawn in place on a
// terminal, else one line per quarter of an hour of simulated time.
type demoProgress struct {
	w      io.Writer
	tty    bool
	real   clockwork.Clock
	langs  []string
	loc    *time.Location
	every  time.Duration
	next   time.Time // line mode: next line's simulated time
	drawn  int       // terminal: lines of the last drawing
	lastAt time.Time // terminal: real time of the last drawing
	last   *demo.Progress
}

func newDemoProgress(w io.Writer, d *Deps, cfg *config.Config) *demoProgress {
	p := &demoProgress{w: w, real: d.Clock, loc: cfg.Location, every: 15 * time.Minute}
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		p.tty = true
	}
	for _, l := range cfg.Languages {
		p.langs = append(p.langs, l.Code)
	}
	return p
}

func (p *demoProgress) update(pr demo.Progress) {
	p.last = &pr
	if p.tty {
		if now := p.real.Now(); now.Sub(p.lastAt) >= 100*time.Millisecond {
			p.lastAt = now
			p.draw(pr)
		}
		return
	}
	if p.next.IsZero() {
		p.next = pr.At.Truncate(p.every).Add(p.every)
		return
	}
	if !pr.At.Before(p.next) {
		p.line(pr)
		for !pr.At.Before(p.next) {
			p.next = p.next.Add(p.every)
		}
	}
}

// finish shows the last state.
func (p *demoProgress) finish() {
	if p.last == nil {
		return
	}
	if p.tty {
		p.draw(*p.last)
	} else {
		p.line(*p.last)
	}
}

// restart starts a new block of output (after the report).
func (p *demoProgress) restart() { p.drawn, p.next, p.last = 0, time.Time{}, nil }

func (p *demoProgress) waitingText(pr demo.Progress, sep string) string {
	var parts []string
	for _, l := range p.langs {
		parts = append(parts, fmt.Sprintf("%s%s%d", l, sep, pr.Waiting[l]))
	}
	for _, l := range slices.Sorted(maps.Keys(pr.Waiting)) {
		if !slices.Contains(p.langs, l) {
			parts = append(parts, fmt.Sprintf("%s%s%d", l, sep, pr.Waiting[l]))
		}
	}
	return strings.Join(parts, " ")
}

func operatorsText(pr demo.Progress) string {
	o := pr.Operators
	return fmt.Sprintf("free %d  ringing %d  busy %d  wrap-up %d  paused %d",
		o[queue.Available], o[queue.Ringing], o[queue.Busy], o[queue.WrapUp], o[queue.Paused])
}

func (p *demoProgress) line(pr demo.Progress) {
	state := ""
	if pr.Draining && pr.InProgress > 0 {
		state = " (last calls ending)"
	}
	fmt.Fprintf(p.w, "%s  calls %d, %d in progress%s | waiting %s | operators %s | %s\n",
		pr.At.In(p.loc).Format("15:04"), pr.Placed, pr.InProgress, state, p.waitingText(pr, "="),
		operatorsText(pr), outcomesText(pr.Outcomes))
}

func (p *demoProgress) draw(pr demo.Progress) {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", p.drawn)
	}
	state := ""
	if pr.Draining && pr.InProgress > 0 {
		state = "   last calls ending"
	}
	lines := []string{
		fmt.Sprintf("Simulated %s (%s elapsed)   calls %d, in progress %d%s",
			pr.At.In(p.loc).Format("Mon 02 Jan 15:04:05"), pr.Elapsed.Round(time.Minute), pr.Placed, pr.InProgress, state),
		"Waiting     " + p.waitingText(pr, " "),
		"Operators   " + operatorsText(pr),
		"Outcomes    " + outcomesText(pr.Outcomes),
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	p.drawn = len(lines)
	_, _ = io.WriteString(p.w, b.String())
}

// pointAtEmbedded makes cfg the configuration of the demo's switchboard:
// the embedded Asterisk, Redis and record file, the scenario's operators,
// and the working directory for recordings and the spool. Secrets are
// the embedded world's (the ARI password, the HMAC key made for the
// run), handed over directly: nothing is read from the environment.
func pointAtEmbedded(cfg *config.Config, emb *demo.Embedded, ops []demo.Operator) {
	user, _ := emb.Asterisk.Credentials()
	cfg.ARI.URL, cfg.ARI.Username = emb.Asterisk.URL, user
	cfg.Redis.Addr, cfg.Redis.DB, cfg.Redis.Password = emb.RedisAddr(), 0, config.SecretRef{}
	cfg.CDR.Driver, cfg.CDR.Path, cfg.CDR.SpoolDir = config.DriverSQLite, emb.DBPath, emb.Path("spool")
	cfg.IVR.RecordingsDir = emb.Path("recordings")
	cfg.Operators = nil
	for _, o := range ops {
		cfg.Operators = append(cfg.Operators, config.Operator{ID: o.ID, Name: o.Name, Endpoint: o.Endpoint(), Languages: o.Languages})
	}
}

// switchboard is the switchboard run in this process by `helpline demo`
// and `helpline bench`: the same pieces `helpline serve` runs, on an
// emulated Asterisk, with the queue and the blacklist on a Redis (the
// demo's embedded one, or the bench's real one) and the records in the
// store the caller opened.
type switchboard struct {
	queue     queue.Queue
	blacklist blacklist.Store
	hasher    *callerid.Hasher
	records   cdr.Store
	rdb       *redis.Client
	events    *ari.Events
	http      []*http.Transport
	cancel    context.CancelFunc
	done      chan struct{}
}

// switchboardEnv is what startSwitchboard wires the switchboard to.
type switchboardEnv struct {
	// asterisk gives the ARI credentials and tells when the app is
	// connected; cfg.ARI.URL says where to reach it (the bench puts a
	// request recorder in front of it).
	asterisk *aritest.Server
	// hmacKey hashes caller numbers (made for the run).
	hmacKey   string
	redisAddr string
	// records is the open record store; the switchboard closes it (if it
	// is an io.Closer) when it closes.
	records cdr.Store
	clock   clockwork.Clock
	// act, when set, instruments the HTTP transport, the Redis client, the
	// sockets and the record writer so that the demo's driver can wait for
	// the switchboard between clock steps.
	act *demo.Activity
	// redisHooks are added to the switchboard's Redis client (the bench
	// counts its round trips).
	redisHooks []redis.Hook
	// writer, when set, wraps the record writer the flow uses (the bench
	// counts the writes).
	writer func(cdr.Writer) cdr.Writer
}

// startSwitchboard wires and starts the switchboard as `helpline serve`
// does (startNode), from the same mapping of the configuration (wire.go:
// flowConfig, ariConfig, redisPrefix, blacklistPolicy), with these
// differences: the clock is env's (the demo's simulated one); the
// connections may be instrumented (env.act); and there is no health
// listener nor Redis fallback (the Redis is the run's own). On error the
// record store is closed too.
func startSwitchboard(ctx context.Context, cfg *config.Config, env switchboardEnv, logger zerolog.Logger) (sb *switchboard, err error) {
	sb = &switchboard{done: make(chan struct{}), records: env.records}
	defer func() {
		if err != nil {
			sb.close()
		}
	}()
	if sb.hasher, err = callerid.NewHasher([]byte(env.hmacKey)); err != nil {
		return nil, err
	}
	act := env.act
	ropts := &redis.Options{Addr: env.redisAddr}
	if act != nil {
		ropts.Dialer = act.Dial(nil)
	}
	sb.rdb = redis.NewClient(ropts)
	if act != nil {
		sb.rdb.AddHook(act.RedisHook())
	}
	for _, h := range env.redisHooks {
		sb.rdb.AddHook(h)
	}
	var langs []string
	for _, l := range cfg.Languages {
		langs = append(langs, l.Code)
	}
	if sb.queue, err = queue.NewRedis(sb.rdb, queue.RedisOptions{Prefix: redisPrefix(cfg), Service: cfg.Service, Languages: langs, Logger: logger}); err != nil {
		return nil, err
	}
	if sb.blacklist, err = blacklist.NewRedis(sb.rdb, blacklist.RedisOptions{Prefix: redisPrefix(cfg), Policy: blacklistPolicy(cfg)}); err != nil {
		return nil, err
	}
	_, password := env.asterisk.Credentials()
	acfg := ariConfig(cfg, password)
	// Sized for many calls at once (see ari.NewTransport), like serve's.
	restTransport := ari.NewTransport()
	if act != nil {
		restTransport.DialContext = act.Dial(nil)
	}
	wsTransport := restTransport.Clone()
	sb.http = []*http.Transport{restTransport, wsTransport}
	var rt http.RoundTripper = restTransport
	if act != nil {
		rt = act.Transport(restTransport)
	}
	client, err := ari.NewClient(acfg, ari.WithHTTPClient(&http.Client{Transport: rt}), ari.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	if sb.events, err = ari.OpenEvents(acfg, ari.EventsOptions{
		PingInterval: -1, Logger: logger, HTTPClient: &http.Client{Transport: wsTransport},
	}); err != nil {
		return nil, err
	}
	var w cdr.Writer = sb.records
	if env.writer != nil {
		w = env.writer(w)
	}
	if act != nil {
		act.Watch(func() (uint64, int64) {
			st := sb.events.Stats()
			return st.Frames + st.Delivered, st.Backlog
		})
		w = act.Writer(w)
	}
	flow, err := ivr.New(flowConfig(cfg), ivr.Deps{
		Queue: sb.queue, CDR: w, Identifier: sb.hasher,
		Blocklist: flowBlocklist{sb.blacklist}, Schedule: ivr.ScheduleFunc(cfg.OpenLanguages),
		Clock: env.clock, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("call flow: %w", err)
	}
	app, err := ariapp.New(ariapp.Options{
		Client: client, Events: sb.events, Flow: flow, Clock: env.clock, Logger: logger, DrainTimeout: 5 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sb.cancel = cancel
	flowDone, appDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(flowDone); _ = flow.Run(runCtx) }()
	go func() {
		defer close(appDone)
		if err := app.Run(runCtx); err != nil {
			logger.Error().Err(err).Msg("switchboard: ARI app stopped")
		}
	}()
	go func() { <-flowDone; <-appDone; close(sb.done) }()
	wait, stopWait := context.WithTimeout(ctx, 10*time.Second)
	defer stopWait()
	if err := env.asterisk.AwaitApp(wait, cfg.ARI.App); err != nil {
		cancel()
		<-sb.done
		return nil, fmt.Errorf("the switchboard did not connect to the emulated Asterisk: %w", err)
	}
	return sb, nil
}

// stop stops the switchboard, calling advance (if set: the demo moves its
// simulated clock) while the calls drain, and closes its connections.
func (sb *switchboard) stop(advance func()) {
	sb.cancel()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-sb.done:
			sb.close()
			return
		default:
		}
		if time.Now().After(deadline) {
			sb.close()
			return
		}
		if advance != nil {
			advance()
		}
		time.Sleep(time.Millisecond)
	}
}

func (sb *switchboard) close() {
	if sb.events != nil {
		_ = sb.events.Close()
	}
	for _, t := range sb.http {
		t.CloseIdleConnections()
	}
	if sb.rdb != nil {
		_ = sb.rdb.Close()
	}
	if c, ok := sb.records.(io.Closer); ok {
		_ = c.Close()
	}
}
