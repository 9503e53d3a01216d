package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/cdr/spool"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/journal"
	"github.com/helpline-it/helpline/queue"
)

// serveOptions are the flags of `helpline serve`.
type serveOptions struct {
	configFile string
	logLevel   string
	drain      time.Duration
}

// serveHooks let tests listen on a port of their choosing and learn when
// the node is up. Nil fields are the production behaviour.
type serveHooks struct {
	// listen opens the health/metrics listener (default net.Listen).
	listen func(addr string) (net.Listener, error)
	// started is called with the listener's address once everything runs.
	started func(addr string)
}

// Bounds of the start and of the stop.
const (
	redisStartTimeout = 3 * time.Second
	httpStopTimeout   = 5 * time.Second
	defaultDrain      = 2 * time.Minute
)

func newServeCmd(d *Deps) *cobra.Command { return newServeCmdHooks(d, nil) }

func newServeCmdHooks(d *Deps, hooks *serveHooks) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the switchboard: take the calls Asterisk hands to the ARI app",
		Long: `Runs one switchboard node: connects to Asterisk's ARI (the Stasis app of
ari.app), to Redis (queues, operators, blacklist) and to the call-record store,
and runs the call flow for every caller entering Stasis(<app>,inbound).

Secrets come from the environment or files named in the configuration: the ARI
password and the privacy HMAC key are required; without the key the node
refuses to start (caller numbers would have nothing to hash them with).

If Redis cannot be reached, at start or in the middle of a run, the node goes
on with an in-process queue, skips the blacklist check, and says so loudly in
the log: a caller must never be lost to a Redis outage. It probes Redis and,
once it answers, writes its waiting calls (in their order) and its operators'
states back and uses it again. Call records of calls that lived through such a
period carry the fallback mark.

On http.listen it serves /healthz (the process is alive), /readyz (the ARI
event stream is connected, the record store open, the node not stopping) and
/metrics
(Prometheus). SIGTERM or SIGINT stops it gracefully: no new call is taken
(callers arriving are left in Stasis for the next process), calls in progress
may finish for up to --drain, then the node exits.`,
		Example: `  HELPLINE_ARI_PASSWORD=... HELPLINE_HMAC_KEY=$(cat /run/secrets/hmac) \
    helpline serve --config /etc/helpline/helpline.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runServe(ctx, c, d, o, hooks)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "the configuration file (required)")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&o.drain, "drain", defaultDrain, "on stop, how long calls in progress may go on before the node exits")
	return cmd
}

// runServe runs the node until ctx ends (SIGTERM/SIGINT in production).
func runServe(ctx context.Context, c *cobra.Command, d *Deps, o *serveOptions, hooks *serveHooks) error {
	p := prefix(c)
	if o.configFile == "" {
		return usageErrorf("%smissing --config FILE", p)
	}
	level, err := zerolog.ParseLevel(o.logLevel)
	if err != nil || o.logLevel == "" {
		return usageErrorf("%s--log-level %q: want debug, info, warn or error", p, o.logLevel)
	}
	if o.drain < 0 {
		return usageErrorf("%s--drain %v: must not be negative", p, o.drain)
	}
	if hooks == nil {
		hooks = &serveHooks{}
	}
	cfg, err := loadConfig(c, d, o.configFile)
	if err != nil {
		return err
	}
	secrets, err := cfg.Secrets(d.Getenv)
	if err != nil {
		var se *config.SecretError
		for _, e := range unjoin(err) {
			if errors.As(e, &se) {
				fmt.Fprintf(d.Stderr, "%s: %v\n", cfg.File, se)
			}
		}
		if secrets.HMACKey.IsZero() {
			fmt.Fprintf(d.Stderr, "helpline: serve: refusing to start without the privacy key (%s): caller numbers must be hashed before anything stores them\n", cfg.Privacy.HMACKey.Key)
		}
		return exitStatus(exitUsage)
	}
	log := zerolog.New(d.Stderr).Level(level).With().Timestamp().Str("service", cfg.Service).Str("node", cfg.NodeID).Logger()
	n, err := startNode(ctx, cfg, secrets, d, o, hooks, log)
	if err != nil {
		log.Error().Err(err).Msg("not started")
		return fmt.Errorf("%s%w", p, err)
	}
	return n.wait()
}

// node is one running switchboard node.
type node struct {
	log   zerolog.Logger
	store *engine.Store
	spool *spool.Spool
	// replayStop and replayDone stop and await the spool's replayer.
	replayStop context.CancelFunc
	replayDone chan struct{}
	rdb        *redis.Client
	events     *ari.Events
	http       *http.Server
	ops        *operatorSide
	storeUp    atomic.Bool
	draining   atomic.Bool
	// queue is Redis with the in-process fallback; Fallback() is live.
	queue *queue.Failover

	appDone  chan error
	flowDone chan struct{}
	httpDone chan error
	stopFlow context.CancelFunc
}

// startNode opens every connection and starts the flow, the ARI app and
// the HTTP listener. On error everything opened is closed again.
func startNode(ctx context.Context, cfg *config.Config, secrets config.Secrets, d *Deps, o *serveOptions,
	hooks *serveHooks, log zerolog.Logger) (_ *node, err error) {
	n := &node{log: log}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	fallbackGauge := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "helpline_serve_redis_fallback",
		Help: "1 while the node runs on the in-process queue because Redis is unreachable (at start or since; reconciliation included).",
	})
	reg.MustRegister(fallbackGauge)

	hasher, err := callerid.NewHasher([]byte(secrets.HMACKey.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("privacy key: %w", err)
	}

	// Call records: the configured store, and the spool that keeps what
	// it refuses (cdr/spool). An unwritable spool stops the start here
	// rather than losing a record during a call; the replayer empties the
	// spool into the store now and periodically.
	if n.store, err = engine.Open(ctx, cfg.CDR, engine.Options{Now: d.Clock.Now, Logger: log, Password: secrets.PostgresPassword}); err != nil {
		return nil, err
	}
	n.storeUp.Store(true)
	if n.spool, err = spool.Open(spool.Options{Dir: cfg.CDR.SpoolDir, Clock: d.Clock, Logger: log, Registerer: reg}); err != nil {
		return nil, err
	}
	replayer, err := spool.NewReplayer(n.spool, n.store, spool.ReplayerOptions{})
	if err != nil {
		return nil, err
	}
	rctx, replayStop := context.WithCancel(context.WithoutCancel(ctx))
	n.replayStop, n.replayDone = replayStop, make(chan struct{})
	go func() { defer close(n.replayDone); _ = replayer.Run(rctx) }()
	// A record the store refuses goes to the spool at once, so it is on
	// disk before the call's outcome counts as written (cdr/spool doc.go);
	// the flow's own retry and Spool are the last resort behind that.
	var records cdr.Writer = spool.Fallback{Store: n.store, Spool: n.spool, Logger: log}
	var spooled cdr.Writer = n.spool
	opRecords := records

	// Redis, or the in-process fallback.
	var q queue.Queue
	var block ivr.Blocklist
	var bls blacklist.Store
	network, addr := cfg.Redis.Network()
	rdb := redis.NewClient(&redis.Options{Network: network, Addr: addr, DB: cfg.Redis.DB, Password: secrets.RedisPassword.Reveal()})
	if s := cfg.Redis.Sentinel; s != nil {
		// The master through Sentinel: go-redis asks the sentinels and
		// follows their failovers (a failover reads as a short outage,
		// which the queue's fallback covers).
		_ = rdb.Close()
		rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.Addrs,
			DB: cfg.Redis.DB, Password: secrets.RedisPassword.Reveal()})
	}
	pctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
	perr := rdb.Ping(pctx).Err()
	cancel()
	var langs []string
	for _, l := range cfg.Languages {
		langs = append(langs, l.Code)
	}
	// The queue is a queue.Failover over Redis: it switches to an
	// in-process queue whenever Redis is unavailable (at start, or in the
	// middle of a run), probes it and writes the node's state back when it
	// returns. The blacklist check is skipped (counted, logged, CDR
	// marked) by the flow while Redis does not answer.
	n.rdb = rdb
	rq, err := queue.NewRedis(rdb, queue.RedisOptions{Prefix: redisPrefix(cfg), Service: cfg.Service, Languages: langs, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	bl, err := blacklist.NewRedis(rdb, blacklist.RedisOptions{Prefix: redisPrefix(cfg), Policy: blacklistPolicy(cfg)})
	if err != nil {
		return nil, fmt.Errorf("blacklist: %w", err)
	}
	if perr != nil {
		fallbackGauge.Set(1)
		log.Error().Err(perr).Str("redis", cfg.Redis.Addr).
			Msg("REDIS UNREACHABLE AT START: running on the IN-PROCESS queue, blacklist checks skipped; calls keep flowing, operators must log in again on this node; the node switches back by itself once Redis answers")
	}
	if n.queue, err = queue.NewFailover(rq, queue.FailoverOptions{
		Service: cfg.Service, Node: cfg.NodeID, Clock: d.Clock, Logger: log, Registerer: reg,
		StartInFallback: perr != nil,
		OnSwitch: func(fallback bool) {
			if fallback {
				fallbackGauge.Set(1)
			} else {
				fallbackGauge.Set(0)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q, block, bls = n.queue, flowBlocklist{bl}, bl
	records, spooled = fallbackRecords{records, n.queue, d.Clock}, fallbackRecords{spooled, n.queue, d.Clock}
	opRecords = fallbackRecords{opRecords, n.queue, d.Clock}
	qc, err := queue.NewCollector(q, queue.CollectorOptions{Service: cfg.Service, Languages: langs, Now: d.Clock.Now})
	if err != nil {
		return nil, fmt.Errorf("queue metrics: %w", err)
	}
	if err := reg.Register(qc); err != nil {
		return nil, fmt.Errorf("queue metrics: %w", err)
	}

	// ARI.
	acfg := ariConfig(cfg, secrets.ARIPassword.Reveal())
	client, err := ari.NewClient(acfg, ari.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("ari: %w", err)
	}
	if n.events, err = ari.OpenEvents(acfg, ari.EventsOptions{Logger: log, Registerer: reg, Clock: d.Clock}); err != nil {
		return nil, fmt.Errorf("ari events: %w", err)
	}

	// Operators: feature codes from the softphones, flags, calls to the
	// network, transfers. The handler is also the flow's talk handler, so
	// keys an operator presses during a call reach it.
	// Several nodes (cfg.Nodes): an operator logging in here is hosted
	// here, and rung from the other nodes through their trunk to this one.
	opQ := q
	if len(cfg.Nodes) > 0 {
		opQ = queue.HostLogins(q, rq, cfg.NodeID, func(id string, err error) {
			log.Warn().Err(err).Str("operator", id).Msg("cannot record where the operator is registered; other nodes ring them as their own")
		})
	}
	if n.ops, err = newOperatorSide(ctx, cfg, opQ, n.rdb, bls, opRecords, hasher, d, log, reg); err != nil {
		return nil, err
	}
	flow, err := ivr.New(flowConfig(cfg), ivr.Deps{
		Queue: q, CDR: records, Spool: spooled, Identifier: hasher, Blocklist: block,
		Schedule: ivr.ScheduleFunc(cfg.OpenLanguages), Talk: n.ops.handler,
		// Calls that end between a SIGKILL and the next process are
		// closed from this journal (ari-app sweeps it at start).
		Journal: journal.NewRedis(n.rdb, redisPrefix(cfg)+":", cfg.NodeID),
		Clock:   d.Clock, Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("call flow: %w", err)
	}
	if len(cfg.Nodes) > 0 {
		trunks := map[string]string{}
		for id, nd := range cfg.Nodes {
			if id != cfg.NodeID {
				trunks[id] = nd.Trunk
			}
		}
		if err := flow.Dispatcher().Join(ivr.Cluster{Nodes: rq, Trunks: trunks}); err != nil {
			return nil, fmt.Errorf("call flow: %w", err)
		}
	}
	app, err := ariapp.New(ariapp.Options{
		Client: client, Events: n.events, Flow: flow, DrainTimeout: o.drain,
		Operators: n.ops.ariHandler(),
		Clock:     d.Clock, Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}

	// Health and metrics, first: a port in use is a start-up error.
	listen := hooks.listen
	if listen == nil {
		listen = func(a string) (net.Listener, error) { return net.Listen("tcp", a) }
	}
	ln, err := listen(cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	// The admin API (admin.go) shares the listener; its drain stops the
	// node as SIGTERM does.
	ctx, adminDrain := context.WithCancel(ctx)
	admin := newAdminAPI(cfg, secrets.AdminToken, q, client.Recordings(), d.Clock, log, adminDrain)
	n.http = &http.Server{Handler: admin.mount(n.handler(reg)), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 8 << 10}
	n.httpDone = make(chan error, 1)
	go func() { n.httpDone <- n.http.Serve(ln) }()

	flowCtx, stopFlow := context.WithCancel(context.WithoutCancel(ctx))
	n.stopFlow = stopFlow
	n.flowDone = make(chan struct{})
	go func() {
		defer close(n.flowDone)
		qDone := make(chan struct{}) // the queue's probing outlives no flow
		go func() { defer close(qDone); _ = n.queue.Run(flowCtx) }()
		_ = flow.Run(flowCtx)
		<-qDone
	}()
	n.appDone = make(chan error, 1)
	go func() { n.appDone <- app.Run(ctx) }()
	go func() {
		<-ctx.Done()
		n.draining.Store(true)
		log.Info().Dur("bound", o.drain).Msg("stop requested: taking no new call, letting calls in progress finish")
	}()
	log.Info().Str("http", ln.Addr().String()).Str("ari", acfg.URL).Str("app", acfg.Application).
		Bool("redis_fallback", n.queue.Fallback()).Msg("helpline node started")
	if hooks.started != nil {
		hooks.started(ln.Addr().String())
	}
	return n, nil
}

// wait returns once the ARI app has drained (after ctx ended), then stops
// the rest in order: flow, HTTP, connections.
func (n *node) wait() error {
	err := <-n.appDone
	n.stopFlow()
	<-n.flowDone
	sctx, cancel := context.WithTimeout(context.Background(), httpStopTimeout)
	defer cancel()
	if herr := n.http.Shutdown(sctx); herr != nil {
		_ = n.http.Close()
	}
	<-n.httpDone
	n.close()
	if err != nil {
		n.log.Error().Err(err).Msg("stopped with an error")
		return err
	}
	n.log.Info().Msg("helpline node stopped")
	return nil
}

func (n *node) close() {
	if n.events != nil {
		_ = n.events.Close()
	}
	if n.rdb != nil {
		_ = n.rdb.Close()
	}
	n.ops.close()
	if n.replayStop != nil {
		n.replayStop()
		<-n.replayDone
	}
	if n.spool != nil {
		_ = n.spool.Close()
	}
	if n.store != nil && n.storeUp.Swap(false) {
		_ = n.store.Close()
	}
}

// handler serves /healthz, /readyz and /metrics; anything else is 404,
// any method but GET and HEAD 405.
func (n *node) handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		st := n.events.State()
		var problems []string
		if st != ari.StateConnected {
			problems = append(problems, "ari events "+st.String())
		}
		if !n.storeUp.Load() {
			problems = append(problems, "call-record store closed")
		}
		if n.draining.Load() {
			problems = append(problems, "stopping: draining calls in progress")
		}
		if len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			for _, p := range problems {
				_, _ = fmt.Fprintln(w, p)
			}
			return
		}
		if n.queue != nil && n.queue.Fallback() {
			_, _ = fmt.Fprintln(w, "ok (redis fallback: in-process queue)")
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// fallbackRecords marks the records of calls whose life overlapped a
// period when the node's queue ran in process (cdr.Record.Fallback), for
// the report's footnote. The flow marks a skipped blacklist check itself.
type fallbackRecords struct {
	w     cdr.Writer
	q     *queue.Failover
	clock clockwork.Clock
}

func (f fallbackRecords) Write(ctx context.Context, r cdr.Record) error {
	from, to := r.ArrivedAt, r.EndedAt
	if to.IsZero() {
		to = f.clock.Now()
	}
	if from.IsZero() {
		from = to
	}
	if f.q.FallbackBetween(from, to) {
		r.Fallback = true
	}
	return f.w.Write(ctx, r)
}
