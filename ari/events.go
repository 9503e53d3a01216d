package ari

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// EventsOptions tune an Events stream. The zero value is ready to use.
type EventsOptions struct {
	// SubscribeAll asks Asterisk for every event of the system, not only
	// those of the app's channels (subscribeAll=true).
	SubscribeAll bool
	// Backoff gives the wait before redial attempt n (n from 1). The
	// default is ExponentialBackoff(100ms, 10s). Tests inject ConstantBackoff(0).
	Backoff func(attempt int) time.Duration
	// PingInterval is how often a WebSocket ping checks the socket (default
	// 10s; negative disables). A ping unanswered within PingTimeout
	// (default 5s) closes the socket, which then reconnects.
	PingInterval, PingTimeout time.Duration
	// ReadLimit caps one message (default 4 MiB); a bigger one drops the
	// socket, which then reconnects.
	ReadLimit int64
	// HistorySize is how many recent events SubscribeSince can replay
	// (default 4096).
	HistorySize int
	// MaxBacklog cuts off a subscription whose queue exceeds it (see
	// ErrSubscriptionOverflow). 0, the default, never cuts anyone off.
	MaxBacklog int
	// HTTPClient dials the WebSocket; nil uses a default client.
	HTTPClient *http.Client
	// Logger receives connection changes and anomalies (the zero Logger
	// logs nothing). Messages never include event contents.
	Logger zerolog.Logger
	// Registerer, when set, gets the stream's counters as Prometheus metrics
	// (helpline_ari_*).
	Registerer prometheus.Registerer
	// Clock drives backoff waits, pings and synthetic timestamps (default real time).
	Clock clockwork.Clock
}

// ConnState is the state of the event WebSocket.
type ConnState int32

// Connection states.
const (
	// StateConnecting: dialling, before the first socket opened.
	StateConnecting ConnState = iota
	// StateConnected: a socket is open and events flow.
	StateConnected
	// StateReconnecting: the socket was lost; redialling with backoff.
	StateReconnecting
	// StateReplaced: Asterisk sent ApplicationReplaced (another client took
	// the app). The stream does not redial, so two nodes do not steal the
	// app from each other forever; close it and decide.
	StateReplaced
	// StateClosed: Close was called.
	StateClosed
)

func (s ConnState) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateReplaced:
		return "replaced"
	case StateClosed:
		return "closed"
	}
	return "ConnState(" + strconv.Itoa(int(s)) + ")"
}

// Events is the ARI event WebSocket of one Stasis application, kept open
// for the life of the process: it redials with backoff whenever the socket
// is lost and then emits *Reconnected. Subscribe to receive events.
type Events struct {
	cfg    Config
	opts   EventsOptions
	wsURL  string
	header http.Header
	clock  clockwork.Clock
	log    zerolog.Logger
	stats  counters
	hub    *hub

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	state   ConnState
	changed chan struct{} // closed and replaced at every state change

	closeOnce sync.Once
}

// OpenEvents starts the event stream of cfg.Application and returns at
// once; the socket is dialled in the background (WaitConnected waits for
// it). Dial failures, 401 included, are logged, counted and retried with
// backoff, so the process may start before Asterisk does.
func OpenEvents(cfg Config, opts EventsOptions) (*Events, error) {
	root, err := cfg.root()
	if err != nil {
		return nil, err
	}
	if cfg.Application == "" {
		return nil, errors.New("ari: config: Application is empty (the Stasis app to receive events for)")
	}
	ws := *root
	if ws.Scheme == "https" {
		ws.Scheme = "wss"
	} else {
		ws.Scheme = "ws"
	}
	ws.Path = ws.Path + "/events"
	ws.RawPath = ""
	ws.RawQuery = url.Values{"app": {cfg.Application}, "subscribeAll": {strconv.FormatBool(opts.SubscribeAll)}}.Encode()

	if opts.Backoff == nil {
		opts.Backoff = ExponentialBackoff(100*time.Millisecond, 10*time.Second)
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 10 * time.Second
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 5 * time.Second
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = 4 << 20
	}
	if opts.HistorySize <= 0 {
		opts.HistorySize = 4096
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	e := &Events{
		cfg: cfg, opts: opts, wsURL: ws.String(), clock: opts.Clock,
		log:     opts.Logger.With().Str("component", "ari-events").Str("app", cfg.Application).Logger(),
		header:  http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))}},
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	e.hub = newHub(opts.HistorySize, opts.MaxBacklog, &e.stats, e.warnBacklog)
	if opts.Registerer != nil {
		if err := e.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.run(ctx)
	return e, nil
}

// SubscribeAll returns a subscription to every event, in arrival order.
func (e *Events) SubscribeAll() (*Subscription, error) { return e.hub.subscribe(true, nil, nil) }

// Subscribe returns a subscription to the events concerning any of ids:
// channel ids, bridge ids, playback ids, recording names ("tech/resource"
// for endpoints, device names), as listed by Event.Refs. A playback or
// recording also concerns its target, so a channel's subscription sees
// the PlaybackFinished of media played on it. Events before the call are
// not included; see SubscribeSince.
func (e *Events) Subscribe(ids ...string) (*Subscription, error) {
	return e.hub.subscribe(false, nil, ids)
}

// SubscribeSince is Subscribe, but the subscription also gets the events
// concerning ids that the stream received after ev (an event taken from
// another subscription of this stream), so nothing slips through between
// reading a StasisStart and subscribing to its channel:
//
//	ss := ev.(*ari.StasisStart)
//	sub, err := events.SubscribeSince(ss, ss.Channel.ID)
//
// It fails with ErrHistoryGone when ev is older than the last
// EventsOptions.HistorySize events.
func (e *Events) SubscribeSince(ev Event, ids ...string) (*Subscription, error) {
	if ev == nil {
		return nil, fmt.Errorf("%w: nil event", ErrHistoryGone)
	}
	return e.hub.subscribe(false, ev, ids)
}

// State returns the connection state.
func (e *Events) State() ConnState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// Stats returns the stream's counters.
func (e *Events) Stats() EventStats { return e.stats.snapshot() }

// WaitConnected returns nil once a socket is open, or an error when ctx
// ends or the stream is closed or replaced first. An application should
// wait for it before reconciling with GET /channels at start-up, so no
// event falls between the listing and the socket.
func (e *Events) WaitConnected(ctx context.Context) error {
	for {
		e.mu.Lock()
		st, ch := e.state, e.changed
		e.mu.Unlock()
		switch st {
		case StateConnected:
			return nil
		case StateClosed:
			return ErrEventsClosed
		case StateReplaced:
			return errors.New("ari: event stream replaced by another client of the application")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ari: waiting for the event WebSocket: %w", ctx.Err())
		}
	}
}

// Close closes the socket and stops redialling. Subscriptions get the
// events already queued for them, then their channels close with
// Err() == ErrEventsClosed. Close waits for the background goroutines.
func (e *Events) Close() error {
	e.closeOnce.Do(func() {
		e.cancel()
		<-e.done
		e.hub.close()
		e.setState(StateClosed)
	})
	return nil
}

func (e *Events) setState(s ConnState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == s || e.state == StateClosed {
		return
	}
	e.state = s
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Events) warnBacklog(s *Subscription, n int, overflow bool) {
	if overflow {
		e.log.Error().Int("backlog", n).Int("limit", e.opts.MaxBacklog).Msg("subscriber too slow: subscription cut off")
		return
	}
	e.log.Warn().Int("backlog", n).Msg("subscriber falling behind: events queued")
}

// run dials, reads until the socket dies, and redials, until Close.
func (e *Events) run(ctx context.Context) {
	defer close(e.done)
	// failures counts failed dials and short-lived sockets since the last
	// stable socket; it drives the backoff. dials counts the dials since
	// the socket was lost, reported as Reconnected.Attempts.
	failures, dials := 0, 0
	var lostAt time.Time
	cause := ""
	connectedOnce := false
	for ctx.Err() == nil {
		if failures > 0 {
			if d := e.opts.Backoff(failures); d > 0 {
				select {
				case <-e.clock.After(d):
				case <-ctx.Done():
					return
				}
			}
		}
		dials++
		conn, err := e.dial(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			e.stats.dialFailures.Add(1)
			ev := e.log.Warn()
			if errors.Is(err, ErrUnauthorized) {
				ev = e.log.Error()
			}
			ev.Err(err).Int("attempt", dials).Msg("event WebSocket dial failed")
			continue
		}
		openedAt := e.clock.Now()
		e.setState(StateConnected)
		if connectedOnce {
			e.stats.reconnects.Add(1)
			down := openedAt.Sub(lostAt)
			e.log.Info().Int("attempts", dials).Dur("down", down).Msg("event WebSocket reconnected")
			e.hub.dispatch(&Reconnected{
				Header:   Header{Type: TypeReconnected, Application: e.cfg.Application, Timestamp: Time{openedAt}},
				Attempts: dials, Down: down, Cause: cause,
			}, true)
		} else {
			e.log.Info().Msg("event WebSocket connected")
		}
		connectedOnce, dials = true, 0
		replaced, err := e.read(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		lostAt = e.clock.Now()
		cause = err.Error()
		if replaced {
			e.log.Error().Err(err).Msg("application replaced by another client: not redialling")
			e.setState(StateReplaced)
			<-ctx.Done()
			return
		}
		e.setState(StateReconnecting)
		e.log.Warn().Err(err).Msg("event WebSocket lost; redialling")
		// A socket that lived a while resets the backoff; one that died at
		// once keeps climbing it, so a server that accepts and drops at
		// once cannot make us spin. Either way the first redial waits
		// Backoff(1), in case Asterisk is restarting.
		if lostAt.Sub(openedAt) >= 5*time.Second {
			failures = 0
		}
		failures++
	}
}

func (e *Events) dial(ctx context.Context) (*websocket.Conn, error) {
	conn, resp, err := websocket.Dial(ctx, e.wsURL, &websocket.DialOptions{
		HTTPClient: e.opts.HTTPClient,
		HTTPHeader: e.header.Clone(),
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != 0 {
			var raw []byte
			if resp.Body != nil {
				raw, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
			}
			return nil, &Error{Status: resp.StatusCode, Message: errorMessage(raw), Method: http.MethodGet, Path: "/events"}
		}
		return nil, &TransportError{Method: http.MethodGet, Path: "/events", Err: err}
	}
	conn.SetReadLimit(e.opts.ReadLimit)
	return conn, nil
}

// read delivers the socket's messages until it fails. replaced reports
// that Asterisk sent ApplicationReplaced on it.
func (e *Events) read(ctx context.Context, conn *websocket.Conn) (replaced bool, err error) {
	connCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	if e.opts.PingInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.keepalive(connCtx, conn)
		}()
	}
	defer func() {
		stop()
		_ = conn.CloseNow()
		wg.Wait()
	}()
	for {
		_, data, err := conn.Read(connCtx)
		if err != nil {
			return replaced, err
		}
		e.stats.frames.Add(1)
		ev, derr := DecodeEvent(data)
		if derr != nil {
			e.stats.malformed.Add(1)
			e.log.Warn().Err(derr).Int("bytes", len(data)).Msg("undecodable event delivered as InvalidEvent")
			inv := &InvalidEvent{Raw: data, Err: derr}
			inv.Type = TypeInvalidEvent
			inv.Application = e.cfg.Application
			inv.Timestamp = Time{e.clock.Now()}
			e.hub.dispatch(inv, false)
			continue
		}
		e.stats.decoded.Add(1)
		if _, ok := ev.(*UnknownEvent); ok {
			e.stats.unknown.Add(1)
			e.log.Debug().Str("type", ev.EventType()).Msg("event type not in the schema delivered as UnknownEvent")
		}
		if ev.EventType() == TypeApplicationReplaced {
			replaced = true
		}
		e.hub.dispatch(ev, false)
		if replaced {
			e.setState(StateReplaced)
		}
	}
}

func (e *Events) keepalive(ctx context.Context, conn *websocket.Conn) {
	t := e.clock.NewTicker(e.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		pctx, cancel := context.WithTimeout(ctx, e.opts.PingTimeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn().Err(err).Msg("event WebSocket ping failed; closing it")
			}
			_ = conn.CloseNow()
			return
		}
	}
}

func (e *Events) register(reg prometheus.Registerer) error {
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "helpline_ari_" + name, Help: help, ConstLabels: prometheus.Labels{"app": e.cfg.Application},
		}, func() float64 { return float64(f()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpline_ari_" + name, Help: help, ConstLabels: prometheus.Labels{"app": e.cfg.Application},
		}, f)
	}
	s := &e.stats
	for _, c := range []prometheus.Collector{
		counter("ws_frames_total", "WebSocket messages read from Asterisk.", s.frames.Load),
		counter("events_unknown_total", "Events of a type the ARI schema does not list (delivered as UnknownEvent).", s.unknown.Load),
		counter("events_malformed_total", "Messages that could not be decoded (delivered as InvalidEvent).", s.malformed.Load),
		counter("events_unrouted_total", "Events no subscription matched.", s.unrouted.Load),
		counter("events_delivered_total", "Events handed to subscribers.", s.delivered.Load),
		counter("ws_reconnects_total", "Event WebSockets reopened after a loss.", s.reconnects.Load),
		counter("ws_dial_failures_total", "Failed event WebSocket dials.", s.dialFailures.Load),
		counter("subscription_overflows_total", "Subscriptions cut off for exceeding the backlog limit.", s.overflows.Load),
		gauge("subscription_backlog", "Events queued for subscribers, not yet taken.", func() float64 { return float64(s.backlog.Load()) }),
		gauge("ws_connected", "1 while the event WebSocket is open.", func() float64 {
			if e.State() == StateConnected {
				return 1
			}
			return 0
		}),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("ari: register metrics: %w", err)
		}
	}
	return nil
}
