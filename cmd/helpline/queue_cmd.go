package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/liveview"
	"github.com/helpline-it/helpline/queue"
)

// queueOptions are the flags of `helpline queue`.
type queueOptions struct {
	configFile, redisAddr, prefix, service, db string
	once, json, readOnly                       bool
	supervisor, audit, tz                      string
	refresh, alert                             time.Duration
}

func newQueueCmd(d *Deps) *cobra.Command {
	o := &queueOptions{}
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Live view of the queues and operators, for the shift supervisor",
		Long: `Shows, full screen and live, who waits (per language: position, time waiting,
the caller's short tag - never a number), who is free, ringing, busy, in
wrap-up or paused, and today's counters since local midnight (offered,
answered, abandoned, voicemail, unanswered, share answered within 20 s and
60 s, average wait) with the definitions of the quarterly report.

Updates are pushed by the queue's events; the picture is also re-read every
--refresh. When Redis cannot be reached the screen says so, shows how old its
data is, and recovers by itself.

From the view a supervisor can pause, unpause or log out the selected
operator; each action is confirmed (y/n) and written, with the supervisor's
name (--supervisor, default $USER), to the audit trail (--audit).

--once prints the picture once as plain text; --json prints it as JSON
(the shape is documented in package liveview, "version": 1). Both exit 1
when the queue cannot be read, after printing what they know.

When stdout is not a terminal the view prints one summary line per change.`,
		Example: `  helpline queue --config /etc/helpline/helpline.yaml
  helpline queue --redis 127.0.0.1:6379 --db /var/lib/helpline/cdr.db
  helpline queue --config helpline.yaml --json | jq .languages[0].waiting`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runQueue(c, d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "helpline YAML configuration (Redis, service, languages, operators, call records)")
	f.StringVar(&o.redisAddr, "redis", "", "Redis address host:port or unix socket path (overrides the config's redis.addr)")
	f.StringVar(&o.prefix, "prefix", "", `Redis key prefix (default: the config's redis.key_prefix, else "helpline")`)
	f.StringVar(&o.service, "service", "", "service to show (default: the config's service, else the only one in Redis)")
	f.StringVar(&o.db, "db", "", "SQLite call-record database for today's counters (default: the config's cdr.path)")
	f.BoolVar(&o.once, "once", false, "print the picture once as plain text and exit")
	f.BoolVar(&o.json, "json", false, "print the picture once as JSON and exit")
	f.StringVar(&o.supervisor, "supervisor", "", "who acts from this view, for the audit trail (default $USER)")
	f.StringVar(&o.audit, "audit", "", "audit trail of supervisor actions, JSON lines (default $XDG_STATE_HOME/helpline/queue-audit.jsonl)")
	f.BoolVar(&o.readOnly, "read-only", false, "no actions: pause, unpause and log out are disabled")
	f.StringVar(&o.tz, "tz", "", "time zone of the clock and of \"today\" (default: the config's timezone, else local)")
	f.DurationVar(&o.refresh, "refresh", liveview.DefaultRefresh, "safety refresh between pushed events")
	f.DurationVar(&o.alert, "alert", 0, "highlight callers waiting this long (default: the config's queue.longest_wait_alert, else 2m)")
	return cmd
}

// queueSetup is what the flags resolve to.
type queueSetup struct {
	opts    liveview.Options
	client  *redis.Client
	q       *queue.Redis
	records *engine.Store
	addr    string
}

func (s *queueSetup) close() {
	if s.records != nil {
		_ = s.records.Close()
	}
	if s.client != nil {
		_ = s.client.Close()
	}
}

func runQueue(c *cobra.Command, d *Deps, o *queueOptions) error {
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if o.refresh < time.Second {
		return usageErrorf("%sinvalid --refresh %v: at least 1s", prefix(c), o.refresh)
	}
	if o.alert < 0 {
		return usageErrorf("%sinvalid --alert %v: must be positive", prefix(c), o.alert)
	}
	s, err := setupQueue(ctx, c, d, o)
	if err != nil {
		return err
	}
	defer s.close()

	if o.once || o.json {
		b, err := liveview.Once(ctx, liveview.Deps{Queue: s.q, Records: recordsOrNil(s.records)}, s.opts)
		if o.json {
			if werr := liveview.WriteJSON(d.Stdout, b); werr != nil {
				return werr
			}
		} else if werr := liveview.WriteText(d.Stdout, b, termWidth(d.Stdout)); werr != nil {
			return werr
		}
		if err != nil {
			return fmt.Errorf("%sRedis at %s: %w", prefix(c), s.addr, err)
		}
		return nil
	}
	return runLive(ctx, c, d, o, s)
}

func recordsOrNil(db *engine.Store) liveview.Records {
	if db == nil {
		return nil // a typed nil would look like a store
	}
	return db
}

// setupQueue resolves the flags and the config into a Redis queue, the
// call records and the view's options. Errors name the flag at fault.
func setupQueue(ctx context.Context, c *cobra.Command, d *Deps, o *queueOptions) (*queueSetup, error) {
	// go-redis logs through a process-wide logger ("failed to dial…"): on
	// a full screen its lines would tear the picture, and elsewhere they
	// repeat what the command says itself.
	redis.SetLogger(quietRedis{})
	s := &queueSetup{}
	var cfg *config.Config
	if o.configFile != "" {
		var err error
		if cfg, err = loadConfig(c, d, o.configFile); err != nil {
			return nil, err
		}
		s.opts = liveview.ConfigOptions(cfg)
	}
	if o.redisAddr == "" && cfg == nil {
		return nil, usageErrorf("%smissing --redis ADDR or --config FILE", prefix(c))
	}

	// Time zone: --tz, the config's, else local.
	switch {
	case o.tz != "":
		loc, err := time.LoadLocation(o.tz)
		if err != nil {
			return nil, usageErrorf("%sinvalid --tz %q: not a known time zone (e.g. Europe/Rome)", prefix(c), o.tz)
		}
		s.opts.Location = loc
	case s.opts.Location == nil:
		s.opts.Location = time.Local
	}
	if o.alert > 0 {
		s.opts.Alert = o.alert
	}
	s.opts.Refresh = o.refresh
	s.opts.Clock = d.Clock

	// Redis.
	ro := &redis.Options{DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: 1}
	keyPrefix := "helpline"
	if cfg != nil {
		ro.Network, ro.Addr = cfg.Redis.Network()
		ro.DB = cfg.Redis.DB
		if cfg.Redis.Password.IsSet() {
			pw, err := cfg.Redis.Password.Resolve(d.Getenv)
			if err != nil {
				return nil, usageErrorf("%s--config %s: %v", prefix(c), o.configFile, err)
			}
			ro.Password = pw.Reveal()
		}
		keyPrefix = liveview.QueuePrefix(cfg.Redis.KeyPrefix)
	}
	if o.redisAddr != "" {
		ro.Network, ro.Addr = config.Redis{Addr: o.redisAddr}.Network()
	}
	if o.prefix != "" {
		keyPrefix = liveview.QueuePrefix(o.prefix)
	}
	s.addr = ro.Addr
	s.client = redis.NewClient(ro)

	// Service: --service, the config's, else the only one in Redis.
	switch {
	case o.service != "":
		s.opts.Service = o.service
	case cfg != nil:
	default:
		found, err := liveview.DiscoverServices(ctx, s.client, keyPrefix)
		switch {
		case err != nil:
			s.close()
			return nil, fmt.Errorf("%sRedis at %s: %w (pass --service to start anyway)", prefix(c), ro.Addr, err)
		case len(found) == 0:
			s.close()
			return nil, usageErrorf("%sno queue under prefix %q in Redis at %s: pass --service (and --prefix)", prefix(c), keyPrefix, ro.Addr)
		case len(found) > 1:
			s.close()
			return nil, usageErrorf("%sseveral services in Redis at %s (%s): pass --service", prefix(c), ro.Addr, strings.Join(found, ", "))
		}
		s.opts.Service = found[0]
	}
	q, err := queue.NewRedis(s.client, queue.RedisOptions{Prefix: keyPrefix, Service: s.opts.Service, Logger: zerolog.Nop()})
	if err != nil {
		s.close()
		return nil, usageErrorf("%s%v", prefix(c), err)
	}
	s.q = q

	// Call records, read only: refuse a missing file rather than create an
	// empty database and show zeros.
	// PostgreSQL is asked when opened.
	var store config.CDR
	flag, use := "--db", true
	switch {
	case o.db != "":
		store = config.CDR{Driver: config.DriverSQLite, Path: o.db}
	case cfg != nil && cfg.CDR.Driver == config.DriverPostgres:
		store, flag = cfg.CDR, "--config cdr.dsn"
	case cfg != nil && cfg.CDR.Path != "":
		store, flag = cfg.CDR, "--config cdr.path"
	default:
		use = false // the view works without today's figures
	}
	if use && store.Driver != config.DriverPostgres {
		if st, err := os.Stat(store.Path); err != nil || st.IsDir() {
			s.close()
			return nil, usageErrorf("%s%s %s: no such database file", prefix(c), flag, store.Path)
		}
	}
	if use {
		db, err := engine.Open(ctx, store, engine.Options{MustExist: true, Getenv: d.Getenv})
		if err != nil {
			s.close()
			return nil, fmt.Errorf("%s%s: %w", prefix(c), flag, err)
		}
		s.records = db
	}
	return s, nil
}

// quietRedis drops go-redis's own log lines; the view and the command's
// errors say the same once, in our words.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func runLive(ctx context.Context, c *cobra.Command, d *Deps, o *queueOptions, s *queueSetup) error {
	tty := queueOnTerminal(d.Stdout)
	deps := liveview.Deps{Queue: s.q, Watcher: s.q, Records: recordsOrNil(s.records)}
	opts := s.opts

	// Actions need a name and an audit trail.
	if !o.readOnly && tty {
		opts.Supervisor = o.supervisor
		if opts.Supervisor == "" {
			opts.Supervisor = d.Getenv("USER")
		}
		if opts.Supervisor == "" {
			return usageErrorf("%swho is acting? pass --supervisor NAME (or --read-only)", prefix(c))
		}
		path := o.audit
		if path == "" {
			path = defaultAuditPath(d.Getenv)
		}
		if path == "" {
			return usageErrorf("%sno place for the audit trail: pass --audit FILE (or --read-only)", prefix(c))
		}
		audit, err := liveview.OpenAuditFile(path)
		if err != nil {
			return usageErrorf("%s--audit: %v (or pass --read-only)", prefix(c), err)
		}
		defer audit.Close()
		deps.Audit = audit
	}

	var popts []tea.ProgramOption
	// SIGINT and SIGTERM cancel ctx (see run); bubbletea's own handler
	// would race with it and can block its shutdown forever.
	popts = append(popts, tea.WithContext(ctx), tea.WithOutput(d.Stdout), tea.WithoutSignalHandler())
	if tty {
		r := lipgloss.NewRenderer(d.Stdout)
		if d.Getenv("NO_COLOR") != "" {
			r.SetColorProfile(termenv.Ascii)
		}
		opts.Renderer = r
		popts = append(popts, tea.WithAltScreen(), tea.WithInput(d.Stdin))
	} else {
		opts.Lines = d.Stdout
		opts.Logger = zerolog.New(d.Stderr).With().Timestamp().Logger()
		popts = append(popts, tea.WithoutRenderer(), tea.WithInput(nil))
	}
	m, err := liveview.New(ctx, deps, opts)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil || errors.Is(err, tea.ErrInterrupted) {
		return nil // SIGINT/SIGTERM: a normal way to leave
	}
	return err
}

// defaultAuditPath is $XDG_STATE_HOME/helpline/queue-audit.jsonl, else
// ~/.local/state/helpline/queue-audit.jsonl; "" without either.
func defaultAuditPath(getenv func(string) string) string {
	if dir := getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "helpline", "queue-audit.jsonl")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "helpline", "queue-audit.jsonl")
	}
	return ""
}

// queueOnTerminal reports whether the view draws on a terminal.
func queueOnTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// termWidth is the terminal's width, or 80 when w is not a terminal.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if width, _, err := term.GetSize(f.Fd()); err == nil && width > 0 {
			return width
		}
	}
	return 80
}
