package ariapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
)

// Flow runs one inbound call to its end; *ivr.Flow implements it.
type Flow interface {
	Handle(ctx context.Context, call ivr.Call, callerNumber string) (cdr.Record, error)
}

// Resumer re-adopts a call a previous process left waiting in the queue;
// *ivr.Flow implements it. The default Adopter uses it when the Flow has it.
type Resumer interface {
	Resume(ctx context.Context, call ivr.Call, callerNumber string, arrived time.Time) (cdr.Record, error)
}

// OperatorHandler takes the channels of operators' softphones dialling
// into the app (Stasis(helpline,operator,<id>)): feature codes, a later
// piece of work. It owns the call until it returns; the app releases the
// channel's subscription then (it does not hang it up).
type OperatorHandler interface {
	HandleOperator(ctx context.Context, call *Call, operatorID string, args []string)
}

// OperatorHandlerFunc adapts a function to OperatorHandler.
type OperatorHandlerFunc func(ctx context.Context, call *Call, operatorID string, args []string)

// HandleOperator calls f.
func (f OperatorHandlerFunc) HandleOperator(ctx context.Context, call *Call, operatorID string, args []string) {
	f(ctx, call, operatorID, args)
}

// Options configure an App. Client, Events and Flow are required.
type Options struct {
	// Client makes the REST calls; its Config().Application is the app.
	Client *ari.Client
	// Events is the app's event stream (ari.OpenEvents with the same
	// Application, subscribeAll=false). The App subscribes to it; its
	// owner closes it after Run returned.
	Events *ari.Events
	// Flow runs inbound calls.
	Flow Flow
	// Operators takes operators dialling in. Nil: each is hung up without
	// an answer, with a log line (feature codes are not built yet).
	Operators OperatorHandler
	// Adopter decides about channels of the app this process does not
	// know, found at start and after a reconnect (see Orphan). Nil:
	// DefaultAdopter.
	Adopter Adopter
	// DrainTimeout bounds how long Run lets calls in progress go on after
	// its context ended (default 2 minutes); then their flows are stopped
	// and the calls left in Stasis for the next process to re-adopt.
	DrainTimeout time.Duration
	// RequestTimeout bounds each REST call (default 10 s). Requests are
	// never abandoned half-way because a flow's context ended: a play or
	// an originate Asterisk may have started must be known, to be undone.
	RequestTimeout time.Duration
	// Logger gets the adapter's logs: channel ids, never caller numbers.
	Logger zerolog.Logger
	// Clock times the drain and the bounded waits (default real time).
	Clock clockwork.Clock
	// Registerer receives the helpline_ariapp_* metrics (nil: none).
	Registerer prometheus.Registerer
}

// App binds the call flow to one Asterisk through ARI (one per node). Run
// it; it hands every caller entering Stasis(<app>,inbound) to the Flow as
// an ivr.Call.
type App struct {
	client   *ari.Client
	events   *ari.Events
	flow     Flow
	ops      OperatorHandler
	adopter  Adopter
	name     string
	drain    time.Duration
	reqTO    time.Duration
	log      zerolog.Logger
	clock    clockwork.Clock
	m        *metrics
	token    string
	seq      atomic.Uint64
	activity atomic.Uint64 // events handled (tests wait for quiet)

	callsCtx    context.Context
	cancelCalls context.CancelFunc

	mu        sync.Mutex
	boot      time.Time // Asterisk's startup time, as last read
	chans     map[string]*channel
	accepting bool
	running   bool
	active    int
	idle      chan struct{} // closed when active drops to 0 while draining
	wg        sync.WaitGroup
}

// New checks opts and registers the metrics.
func New(opts Options) (*App, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("ariapp: Options.Client is nil")
	case opts.Events == nil:
		return nil, errors.New("ariapp: Options.Events is nil")
	case opts.Flow == nil:
		return nil, errors.New("ariapp: Options.Flow is nil")
	}
	name := opts.Client.Config().Application
	if name == "" {
		return nil, errors.New("ariapp: the ARI client's Config.Application is empty")
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 2 * time.Minute
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	var tok [4]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("ariapp: id token: %w", err)
	}
	a := &App{
		client: opts.Client, events: opts.Events, flow: opts.Flow, ops: opts.Operators,
		adopter: opts.Adopter, name: name, drain: opts.DrainTimeout, reqTO: opts.RequestTimeout,
		log:   opts.Logger.With().Str("component", "ariapp").Logger(),
		clock: opts.Clock, m: m, token: hex.EncodeToString(tok[:]),
		chans: map[string]*channel{},
	}
	if a.ops == nil {
		a.ops = OperatorHandlerFunc(a.refuseOperator)
	}
	if a.adopter == nil {
		a.adopter = DefaultAdopter
	}
	a.callsCtx, a.cancelCalls = context.WithCancel(context.Background())
	return a, nil
}

// Run handles the app's calls until ctx ends, then drains: no new call is
// taken (callers arriving now are left in Stasis, unanswered, for the
// next process), calls in progress go on for up to DrainTimeout, then
// their flows are stopped (ivr.ErrShutdown: left in Stasis for
// re-adoption). Run returns once every handler returned. It fails at once
// if the event stream cannot subscribe or never connects before ctx ends.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return errors.New("ariapp: Run called twice")
	}
	a.running, a.accepting = true, true
	a.mu.Unlock()
	defer a.cancelCalls()

	// Subscribe first, list second: no StasisStart can fall between.
	all, err := a.events.SubscribeAll()
	if err != nil {
		return fmt.Errorf("ariapp: subscribe: %w", err)
	}
	defer all.Close()
	if err := a.events.WaitConnected(ctx); err != nil {
		a.stopAccepting()
		return fmt.Errorf("ariapp: %w", err)
	}
	a.log.Info().Str("app", a.name).Msg("ARI app running")
	a.noteBoot(ctx)
	if live, ok := a.reconcile(ctx, "start"); ok {
		a.wg.Add(1)
		go a.sweep(ctx, live)
	}
	// The loop outlives ctx while the calls drain: callers arriving then
	// are seen (and left in Stasis), a reconnect is still reconciled.
	loopCtx, stopLoop := context.WithCancel(context.Background())
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		a.shutdown()
		stopLoop()
	}()
	for {
		ev, err := all.Next(loopCtx)
		if err != nil {
			if loopCtx.Err() == nil {
				a.log.Error().Err(err).Msg("event stream ended; no new calls can be taken")
			}
			break
		}
		switch e := ev.(type) {
		case *ari.StasisStart:
			a.stasisStart(e)
		case *ari.Reconnected:
			a.log.Warn().Int("attempts", e.Attempts).Dur("down", e.Down).Msg("event stream reconnected: reconciling")
			why := "reconnect"
			if a.noteBoot(loopCtx) {
				why = "asterisk restart"
			}
			a.reconcile(loopCtx, why)
		case *ari.ApplicationReplaced:
			a.log.Error().Msg("another client took over the ARI application: this node no longer receives calls")
		}
		a.activity.Add(1)
	}
	<-drained
	return nil
}

func (a *App) stopAccepting() {
	a.mu.Lock()
	a.accepting = false
	a.mu.Unlock()
}

// shutdown drains the calls in progress (see Run).
func (a *App) shutdown() {
	a.mu.Lock()
	a.accepting = false
	n := a.active
	idle := make(chan struct{})
	if n == 0 {
		close(idle)
	} else {
		a.idle = idle
	}
	a.mu.Unlock()
	if n > 0 {
		a.log.Info().Int("calls", n).Dur("bound", a.drain).Msg("stopping: letting calls in progress finish")
		t := a.clock.NewTimer(a.drain)
		select {
		case <-idle:
		case <-t.Chan():
			a.log.Warn().Int("calls", a.Active()).Msg("drain bound reached: stopping the flows, calls left in Stasis for re-adoption")
		}
		t.Stop()
	}
	a.cancelCalls()
	a.wg.Wait()
	a.log.Info().Msg("ARI app stopped")
}

// Active is the number of inbound calls being handled.
func (a *App) Active() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.active
}

// requestContext bounds one REST call: it is not cancelled with ctx (see
// Options.RequestTimeout) but carries its values.
func (a *App) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), a.reqTO)
}

// newID returns an id for a leg, playback or bridge: unique in this
// process (sequence) and across restarts (random token).
func (a *App) newID(prefix string) string {
	return "hl-" + a.token + "-" + prefix + strconv.FormatUint(a.seq.Add(1), 10)
}

func (a *App) remember(c *channel) {
	a.mu.Lock()
	a.chans[c.id] = c
	a.mu.Unlock()
}

func (a *App) forget(c *channel) {
	a.mu.Lock()
	if a.chans[c.id] == c {
		delete(a.chans, c.id)
	}
	a.mu.Unlock()
}

func (a *App) known(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chans[id] != nil
}

// classify reads a channel's Stasis args: ["inbound"] a caller;
// ["operator", id] an operator dialling in; ["operator", id, call] a leg
// we originated. Anything else is taken for a caller: a misconfigured
// dialplan must not cost a caller the call.
func classify(args []string) (kind, string) {
	if len(args) >= 1 && args[0] == "operator" {
		op := ""
		if len(args) >= 2 {
			op = args[1]
		}
		if len(args) >= 3 {
			return kindLeg, op
		}
		return kindOperator, op
	}
	return kindInbound, ""
}

// stasisStart takes a channel entering the app.
func (a *App) stasisStart(e *ari.StasisStart) {
	id := e.Channel.ID
	if a.known(id) {
		return // one of our legs answering, or a channel already adopted
	}
	k, op := classify(e.Args)
	log := a.log.With().Str("channel", id).Str("kind", string(k)).Logger()
	if len(e.Args) == 0 || (k == kindInbound && e.Args[0] != "inbound") {
		log.Warn().Int("args", len(e.Args)).Msg("channel entered the app with unexpected arguments; handled as a caller")
	}
	if k == kindLeg {
		// A leg we did not originate (a previous process's): its call's
		// flow is gone, nobody would bridge it.
		log.Warn().Msg("operator leg of an unknown call answered; hanging it up")
		go a.hangupUnknown(id)
		return
	}
	sub, err := a.events.SubscribeSince(e, id)
	if errors.Is(err, ari.ErrHistoryGone) {
		// Far behind: subscribe now and accept that the events between
		// StasisStart and now are lost (a recheck will catch a hang-up).
		log.Warn().Err(err).Msg("StasisStart out of the event history; subscribing from now")
		sub, err = a.events.Subscribe(id)
	}
	if err != nil {
		log.Error().Err(err).Msg("cannot subscribe to the channel's events; call left in Stasis")
		return
	}
	c := a.newChannel(id, k)
	c.created = true
	c.snap = e.Channel
	c.start(sub)
	if !a.take(c) {
		a.m.leftInStasis.Inc()
		log.Warn().Msg("app stopping: call left in Stasis, unanswered, for the next process")
		c.release()
		return
	}
	if k == kindInbound {
		go a.runInbound(&Call{c}, e.Channel.Caller.Number, nil)
		return
	}
	go a.runOperator(&Call{c}, op, e.Args)
}

// take registers c as a call in progress, unless the app is stopping.
func (a *App) take(c *channel) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.accepting {
		return false
	}
	a.chans[c.id] = c
	a.m.channels.WithLabelValues(string(c.kind)).Inc()
	if c.kind == kindInbound {
		a.active++
		a.m.active.Inc()
	}
	a.wg.Add(1)
	return true
}

// finished undoes take.
func (a *App) finished(c *channel) {
	c.release()
	a.mu.Lock()
	if c.kind == kindInbound {
		a.active--
		a.m.active.Dec()
		if a.active == 0 && a.idle != nil {
			close(a.idle)
			a.idle = nil
		}
	}
	a.mu.Unlock()
	a.wg.Done()
}

// runInbound runs a caller through the flow. The raw number goes to the
// flow, which hashes it; this package never logs or stores it.
func (a *App) runInbound(c *Call, number string, adopt *Orphan) {
	defer a.finished(c.channel)
	defer a.survive(c)
	var rec cdr.Record
	var err error
	if r, ok := a.flow.(Readopter); ok && adopt != nil {
		rec, err = r.Readopt(a.callsCtx, c, number, c.adoption(a.callsCtx, adopt.Channel, adopt.Legs))
	} else if r, ok := a.flow.(Resumer); ok && adopt != nil {
		arrived := adopt.Channel.CreationTime.Time
		if arrived.IsZero() {
			arrived = a.clock.Now()
		}
		rec, err = r.Resume(a.callsCtx, c, number, arrived)
		if errors.Is(err, ivr.ErrNotQueued) {
			c.log.Info().Msg("re-adopted call not in the queue: running the flow from the start")
			rec, err = a.flow.Handle(a.callsCtx, c, number)
		}
	} else {
		rec, err = a.flow.Handle(a.callsCtx, c, number)
	}
	switch {
	case err == nil:
		c.log.Info().Str("outcome", string(rec.Outcome)).Msg("call handled")
	case errors.Is(err, ivr.ErrShutdown):
		c.log.Warn().Msg("flow stopped: call left in Stasis for re-adoption")
	default:
		c.log.Error().Err(err).Str("outcome", string(rec.Outcome)).Msg("call ended with an error")
	}
	if note := c.HangupNote(); note != "" {
		c.log.Warn().Str("note", note).Str("outcome", string(rec.Outcome)).Msg("call ended without its events")
	}
}

func (a *App) runOperator(c *Call, op string, args []string) {
	defer a.finished(c.channel)
	defer a.survive(c)
	a.ops.HandleOperator(a.callsCtx, c, op, args)
}

// survive keeps a panic in one call's handler from taking every call of
// the node down with the process (as net/http does for a request). The
// call is left as it is in Stasis; once released, the next reconciliation
// (reconnect or restart) offers it to the Adopter again.
func (a *App) survive(c *Call) {
	if r := recover(); r != nil {
		a.m.failed.WithLabelValues("panic").Inc()
		c.log.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("call handler panicked; call left in Stasis")
	}
}

// refuseOperator is the default OperatorHandler: feature codes are not
// built yet, so the softphone's call is hung up without an answer.
func (a *App) refuseOperator(ctx context.Context, c *Call, _ string, args []string) {
	c.log.Info().Int("args", len(args)).Msg("operator dialled in: feature codes not handled yet; hanging up")
	if err := c.Hangup(ctx, ivr.CauseNormal); err != nil {
		c.log.Warn().Err(err).Msg("hanging up the operator's call failed")
	}
}

func (a *App) hangupUnknown(id string) {
	ctx, cancel := a.requestContext(context.Background())
	defer cancel()
	if err := a.client.Channels().Hangup(ctx, id, ari.HangupNormal); err != nil && !errors.Is(err, ari.ErrNotFound) {
		a.log.Warn().Err(err).Str("channel", id).Msg("hanging up an unknown channel failed")
	}
}

// reconcile compares the app's channels on Asterisk with ours, after the
// start and after every reconnect. Our own channels recheck themselves on
// Reconnected (channel.recheck); here the unknown ones are offered to the
// Adopter.
//
// It returns the ids of the app's channels on Asterisk, and false when it
// could not list them.
func (a *App) reconcile(ctx context.Context, why string) (map[string]bool, bool) {
	a.m.reconciles.Inc()
	rctx, cancel := a.requestContext(ctx)
	defer cancel()
	var ids []string
	app, err := a.client.Applications().Get(rctx, a.name)
	if err == nil {
		ids = app.ChannelIDs
	} else {
		a.log.Warn().Err(err).Msg("GET /applications failed; listing every channel instead")
		list, lerr := a.client.Channels().List(rctx)
		if lerr != nil {
			a.log.Error().Err(lerr).Str("why", why).Msg("cannot list channels: reconciliation skipped")
			return nil, false
		}
		for _, ch := range list {
			if _, ok := stasisArgs(ch, a.name); ok {
				ids = append(ids, ch.ID)
			}
		}
	}
	live := map[string]bool{}
	var orphans []*Orphan
	for _, id := range ids {
		live[id] = true
		if a.known(id) || strings.HasSuffix(id, ";2") {
			continue
		}
		ch, err := a.client.Channels().Get(rctx, id)
		if err != nil {
			if errors.Is(err, ari.ErrNotFound) {
				// Hung up since the listing: gone, so the sweep closes
				// its call from the journal.
				delete(live, id)
			} else {
				a.log.Warn().Err(err).Str("channel", id).Msg("cannot read an unknown channel of the app")
			}
			continue
		}
		args, inStasis := stasisArgs(*ch, a.name)
		k, op := classify(args)
		if !inStasis {
			k = kindLeg
		}
		orphans = append(orphans, &Orphan{Channel: *ch, Args: args, InStasis: inStasis, Kind: string(k), Operator: op, app: a})
	}
	// An answered operator leg belongs to its caller's re-adoption (a talk
	// goes on); the other legs (ringing, or of a call that is gone) go
	// to the Adopter first, so a ringing phone is hung up before its call
	// is offered again.
	callers := map[string]*Orphan{}
	for _, o := range orphans {
		if o.InStasis && o.Kind == string(kindInbound) {
			callers[o.Channel.ID] = o
		}
	}
	var legs, rest []*Orphan
	for _, o := range orphans {
		switch {
		case callers[legOf(o)] != nil:
			c := callers[legOf(o)]
			c.Legs = append(c.Legs, o.Channel)
		case o.Kind == string(kindLeg):
			legs = append(legs, o)
		default:
			rest = append(rest, o)
		}
	}
	for _, o := range append(legs, rest...) {
		a.m.orphans.WithLabelValues(o.Kind).Inc()
		a.log.Warn().Str("channel", o.Channel.ID).Str("kind", o.Kind).Bool("in_stasis", o.InStasis).
			Int("legs", len(o.Legs)).Str("why", why).
			Msg("channel of the app not known to this process: offered for re-adoption")
		a.adopter.Adopt(ctx, o)
	}
	if why == "start" {
		a.dropDeadBridges(ctx)
	}
	return live, true
}

// dropDeadBridges destroys, at start, the bridges a previous process made
// (ids "hl-…") that hold none of the calls now followed: the talk they
// held ended while no process ran, and nobody else would destroy them.
// The bridges of re-adopted talks hold their caller and are kept.
func (a *App) dropDeadBridges(ctx context.Context) {
	rctx, cancel := a.requestContext(ctx)
	defer cancel()
	bridges, err := a.client.Bridges().List(rctx)
	if err != nil {
		a.log.Warn().Err(err).Msg("cannot list bridges at start: leftovers of the previous process stay")
		return
	}
	for _, b := range bridges {
		if !strings.HasPrefix(b.ID, "hl-") || slices.ContainsFunc(b.Channels, a.known) {
			continue
		}
		a.log.Warn().Str("bridge", b.ID).Int("channels", len(b.Channels)).Msg("bridge of a talk that ended while no process ran: destroyed")
		if err := a.client.Bridges().Destroy(rctx, b.ID); err != nil && !errors.Is(err, ari.ErrNotFound) {
			a.log.Warn().Err(err).Str("bridge", b.ID).Msg("destroying a leftover bridge failed")
		}
	}
}

// Sweeper closes the calls that ended while no process of the app ran
// (from the flow's journal); *ivr.Flow implements it. The App calls it
// once, after the reconciliation at start, with the channels Asterisk
// still has.
type Sweeper interface {
	Sweep(ctx context.Context, live func(id string) bool) (int, error)
}

// sweep hands the flow the channels found at start (see Sweeper).
func (a *App) sweep(ctx context.Context, live map[string]bool) {
	defer a.wg.Done()
	sw, ok := a.flow.(Sweeper)
	if !ok {
		return
	}
	n, err := sw.Sweep(context.WithoutCancel(ctx), func(id string) bool { return live[id] || a.known(id) })
	if err != nil {
		a.log.Error().Err(err).Int("closed", n).Msg("closing the calls that ended while no process ran failed")
		return
	}
	if n > 0 {
		a.log.Warn().Int("calls", n).Msg("calls that ended while no process ran: closed from the journal")
	}
}

// stasisArgs reads the Stasis arguments from a channel's dialplan
// location ("Stasis" with data "helpline,inbound"), and whether the
// channel is in our app's Stasis at all.
func stasisArgs(ch ari.Channel, app string) ([]string, bool) {
	if ch.Dialplan.AppName != "Stasis" {
		return nil, false
	}
	parts := strings.Split(ch.Dialplan.AppData, ",")
	if len(parts) == 0 || strings.TrimSpace(parts[0]) != app {
		return nil, false
	}
	return parts[1:], true
}
