package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/bench"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/cdr/postgres"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// benchOptions are the flags of `helpline bench`.
type benchOptions struct {
	rate                   float64
	duration, talk, hold   time.Duration
	ring, prompt, drain    time.Duration
	operators, plateau     int
	redis, cdr, cpuprofile string
	log, memprofile        string
	seed                   uint64
	quiet                  bool
}

func newBenchCmd(d *Deps) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generator: calls at a target rate against a real Redis, with latency, memory and loss figures",
		Long: `Runs the switchboard in this process - the same call flow, queue, blacklist and
record writer as 'helpline serve' - against an emulated Asterisk, a real Redis
and the chosen call-record store, and places calls at --rate per second for
--duration: each caller is answered, presses 1 during the welcome, waits in the
queue (giving up after her patience, exponential with mean --hold) and is rung
through to one of --operators emulated softphones, which answer after --ring
and hang up after their talk time (exponential across operators, mean --talk).
Prompts last --prompt. Times are real time: give them compressed for a dense
run, or real for a day-like one.

At the end it prints the call setups per second achieved; the control plane's
latency per step (p50/p99/max: StasisStart to the answer request, the digit to
the next prompt, the digit to the originate when an operator is free, an
operator freed to the originate when a call waits), the Redis round trips
per call, the record writes per second, the CPU used, the peak RSS, and the
lost calls and lost records, which must be zero (exit status 1 otherwise).

With --plateau K the operators start paused: callers arrive until K wait at
once, the live heap per waiting call is measured, then the operators are
unpaused and the queue drains.

Without --redis a throwaway redis-server (in memory, loopback) is started.
--cdr is sqlite (a temporary file, removed at the end), memory, or a
PostgreSQL DSN (postgres://...).`,
		Example: `  helpline bench --rate 100 --duration 30s --operators 300 --talk 2s --hold 20s
  helpline bench --rate 500 --duration 60s --operators 1500 --talk 2s --hold 10s --cdr sqlite
  helpline bench --rate 500 --plateau 5000 --operators 200 --talk 200ms
  helpline bench --rate 100 --duration 20s --cpuprofile cpu.prof --redis 127.0.0.1:6379`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runBench(ctx, c, d, o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.rate, "rate", 100, "call arrivals per second (Poisson)")
	f.DurationVar(&o.duration, "duration", 30*time.Second, "how long calls keep arriving")
	f.IntVar(&o.operators, "operators", 300, "operators logged in (each speaks every language)")
	f.DurationVar(&o.talk, "talk", 2*time.Second, "mean talk time (exponential across operators)")
	f.DurationVar(&o.hold, "hold", 20*time.Second, "callers' mean patience in the queue (exponential); 0: wait for ever")
	f.DurationVar(&o.ring, "ring", 50*time.Millisecond, "how long an operator's phone rings before she answers")
	f.DurationVar(&o.prompt, "prompt", 200*time.Millisecond, "length of every prompt")
	f.DurationVar(&o.drain, "drain", time.Minute, "after the arrivals, how long to wait for calls to end and records to land")
	f.IntVar(&o.plateau, "plateau", 0, "memory run: operators paused until this many calls wait at once")
	f.StringVar(&o.redis, "redis", "", "Redis host:port (default: start a throwaway redis-server)")
	f.StringVar(&o.cdr, "cdr", "sqlite", "call-record store: sqlite, memory, or a PostgreSQL DSN")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file")
	f.StringVar(&o.memprofile, "memprofile", "", "with --plateau: write the heap profile at the plateau to this file")
	f.StringVar(&o.log, "log", "", "write the switchboard's log to this file (default: errors only, on stderr)")
	f.Uint64Var(&o.seed, "seed", 1, "random seed (arrivals, patience, talk times)")
	f.BoolVar(&o.quiet, "quiet", false, "no progress line every second")
	return cmd
}

// parseBench checks the flags: every bad value is a usage error naming it.
func parseBench(c *cobra.Command, o *benchOptions) error {
	p := prefix(c)
	switch {
	case !(o.rate > 0) || o.rate > 100000:
		return usageErrorf("%sinvalid --rate %v: want calls per second, more than 0 and at most 100000", p, o.rate)
	case o.duration <= 0 && o.plateau == 0:
		return usageErrorf("%sinvalid --duration %v: want more than 0", p, o.duration)
	case o.operators < 1 || o.operators > 100000:
		return usageErrorf("%sinvalid --operators %d: want 1 to 100000", p, o.operators)
	case o.talk <= 0:
		return usageErrorf("%sinvalid --talk %v: want more than 0", p, o.talk)
	case o.hold < 0:
		return usageErrorf("%sinvalid --hold %v: want 0 (for ever) or more", p, o.hold)
	case o.ring <= 0:
		return usageErrorf("%sinvalid --ring %v: want more than 0", p, o.ring)
	case o.prompt <= 0:
		return usageErrorf("%sinvalid --prompt %v: want more than 0", p, o.prompt)
	case o.drain <= 0:
		return usageErrorf("%sinvalid --drain %v: want more than 0", p, o.drain)
	case o.plateau < 0 || o.plateau > 1_000_000:
		return usageErrorf("%sinvalid --plateau %d: want 0 (off) to 1000000", p, o.plateau)
	}
	switch {
	case o.cdr == "sqlite", o.cdr == "memory":
	case strings.HasPrefix(o.cdr, "postgres://"), strings.HasPrefix(o.cdr, "postgresql://"), strings.Contains(o.cdr, "="):
	default:
		return usageErrorf("%sinvalid --cdr %q: want sqlite, memory or a PostgreSQL DSN (postgres://...)", p, o.cdr)
	}
	return nil
}

// openBenchRecords opens the record store of --cdr; close removes what the
// bench created.
func openBenchRecords(ctx context.Context, o *benchOptions, log zerolog.Logger) (cdr.Store, func(), error) {
	switch o.cdr {
	case "memory":
		return cdrmemory.New(), func() {}, nil
	case "sqlite":
		dir, err := os.MkdirTemp("", "helpline-bench-")
		if err != nil {
			return nil, nil, err
		}
		db, err := sqlite.Open(ctx, filepath.Join(dir, "cdr.db"), sqlite.Options{Logger: log})
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, nil, err
		}
		return db, func() { _ = db.Close(); _ = os.RemoveAll(dir) }, nil
	}
	db, err := postgres.Open(ctx, o.cdr, postgres.Options{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}

func runBench(ctx context.Context, c *cobra.Command, d *Deps, o *benchOptions) error {
	if err := parseBench(c, o); err != nil {
		return err
	}
	out := d.Stdout
	logger, closeLog, err := demoLogger(d, o.log)
	if err != nil {
		return usageErrorf("%sinvalid --log %s: %v", prefix(c), o.log, err)
	}
	defer closeLog()

	addr, redisNote := o.redis, "given"
	if addr == "" {
		srv, err := bench.StartRedis(ctx)
		if err != nil {
			return err
		}
		defer srv.Close()
		addr, redisNote = srv.Addr, "throwaway redis-server"
	}
	// A DSN may hold a password: it is never printed.
	cdrName := o.cdr
	if strings.Contains(cdrName, "://") || strings.Contains(cdrName, "=") {
		cdrName = "postgres"
	}
	records, closeRecords, err := openBenchRecords(ctx, o, logger)
	if err != nil {
		return fmt.Errorf("bench: --cdr %s: %w", cdrName, err)
	}
	defer closeRecords()

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return usageErrorf("%sinvalid --cpuprofile %s: %v", prefix(c), o.cpuprofile, err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	fmt.Fprintf(out, "helpline bench: rate %g/s for %s, %d operators, talk %s, hold %s, ring %s, prompt %s, plateau %d, cdr %s, redis %s (%s)\n",
		o.rate, o.duration, o.operators, o.talk, o.hold, o.ring, o.prompt, o.plateau, cdrName, addr, redisNote)
	opts := bench.Options{
		Rate: o.rate, Duration: o.duration, Operators: o.operators, Talk: o.talk, Hold: o.hold,
		Ring: o.ring, Prompt: o.prompt, Plateau: o.plateau, Drain: o.drain, Seed: o.seed,
		Records: records, RedisAddr: addr, Logger: logger, HeapProfile: o.memprofile,
	}
	if !o.quiet {
		opts.Progress = func(s string) { fmt.Fprintln(d.Stderr, "  "+s) }
	}
	res, err := bench.Run(ctx, opts, func(ctx context.Context, w bench.World) (bench.Node, error) {
		sb, err := startSwitchboard(ctx, w.Config, switchboardEnv{
			asterisk: w.Asterisk, hmacKey: w.HMACKey, redisAddr: addr, records: nonClosing{records},
			clock: clockwork.NewRealClock(), redisHooks: []redis.Hook{w.RedisHook}, writer: w.Writer,
		}, logger)
		if err != nil {
			return bench.Node{}, fmt.Errorf("bench: %w", err)
		}
		return bench.Node{Queue: sb.queue, Stop: func() { sb.stop(nil) }}, nil
	})
	if err != nil {
		return err
	}
	res.Print(out)
	if res.LostCalls > 0 || res.LostRecords > 0 {
		return fmt.Errorf("bench: %d lost calls and %d lost records", res.LostCalls, res.LostRecords)
	}
	return nil
}

// nonClosing keeps the switchboard from closing the bench's store: the
// bench still reads it after the switchboard stops.
type nonClosing struct{ cdr.Store }
