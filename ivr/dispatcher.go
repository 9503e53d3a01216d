package ivr

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/queue"
)

// maxAssignRound bounds the offers made in one dispatch round, so that a
// busy queue cannot starve the dispatcher's other work; a full round kicks
// the next one.
const maxAssignRound = 64

// Dispatcher matches waiting calls with available operators (one per
// node). It runs queue.Assign whenever something may have made a match
// possible — a call enqueued, an operator available (login, unpause, a
// ring that failed, a call left while offered), a wrap-up ending — and on
// a periodic tick as a safety net, and hands each Offer to the flow of its
// call, which rings the operator.
//
// When the queue is a queue.Watcher (both stores are) the dispatcher
// follows its events, so an operator logging in or unpausing on any node
// wakes it; otherwise the operator side of the app (feature codes: login,
// unpause) must call Kick after changing an operator's state.
type Dispatcher struct {
	q       queue.Queue
	clock   clockwork.Clock
	log     zerolog.Logger
	node    string
	ttl     time.Duration
	every   time.Duration
	adopt   time.Duration
	m       *metrics
	kick    chan struct{}
	mu      sync.Mutex
	calls   map[string]chan queue.Offer
	started time.Time
}

func newDispatcher(q queue.Queue, clock clockwork.Clock, log zerolog.Logger, cfg Config, m *metrics) *Dispatcher {
	return &Dispatcher{
		q:     q,
		clock: clock,
		log:   log.With().Str("component", "dispatcher").Logger(),
		node:  cfg.Node,
		ttl:   cfg.OfferTTL,
		every: cfg.DispatchEvery,
		adopt: max(time.Minute, 2*cfg.OfferTTL),
		m:     m,
		kick:  make(chan struct{}, 1),
		calls: map[string]chan queue.Offer{},
	}
}

// Kick asks for a dispatch round soon. It never blocks; kicks that arrive
// while one is pending are merged.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// WakeAt kicks the dispatcher at t (on the injected clock): the end of an
// operator's wrap-up.
func (d *Dispatcher) WakeAt(t time.Time) {
	wait := t.Sub(d.clock.Now())
	if wait <= 0 {
		d.Kick()
		return
	}
	d.clock.AfterFunc(wait, d.Kick)
}

// Run dispatches until ctx is cancelled; it returns nil then.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	d.started = d.clock.Now()
	d.mu.Unlock()
	tick := d.clock.NewTicker(d.every)
	defer tick.Stop()
	var events <-chan queue.Event
	if w, ok := d.q.(queue.Watcher); ok {
		ch, err := w.Watch(ctx)
		if err != nil {
			d.log.Warn().Err(err).Msg("cannot watch queue events; relying on kicks and ticks")
		} else {
			events = ch
		}
	}
	// stuck: the last round returned an offer nobody here could take.
	// Returning it produced events that would wake us at once for the
	// same match; until the next tick, events are not followed.
	stuck := !d.round(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.kick:
		case <-tick.Chan():
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if stuck || !wakes(ev) {
				continue
			}
		}
		stuck = !d.round(ctx)
	}
}

// wakes reports whether a queue event may have made a match possible:
// a call entered or came back, or an operator became available (on any
// node: with the Redis store, events are shared).
func wakes(ev queue.Event) bool {
	switch ev.Kind {
	case queue.EventEnqueued, queue.EventReturned:
		return true
	case queue.EventOperator:
		return ev.State == queue.Available
	}
	return false
}

// register makes offers for callID reach the returned channel. The flow
// registers before it enqueues and unregisters after it left the queue, so
// an own call that the queue offers is always registered (except right
// after a restart, before re-adoption).
func (d *Dispatcher) register(callID string) <-chan queue.Offer {
	ch := make(chan queue.Offer, 1)
	d.mu.Lock()
	d.calls[callID] = ch
	d.mu.Unlock()
	return ch
}

func (d *Dispatcher) unregister(callID string) {
	d.mu.Lock()
	delete(d.calls, callID)
	d.mu.Unlock()
}

// registered is the number of calls registered (for tests: no leak).
func (d *Dispatcher) registered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.calls)
}

// round assigns until nothing matches. It reports false when it stopped
// on an offer it could not deliver.
func (d *Dispatcher) round(ctx context.Context) bool {
	for range maxAssignRound {
		now := d.clock.Now()
		o, err := d.q.Assign(ctx, now, d.ttl)
		if errors.Is(err, queue.ErrNoMatch) {
			return true
		}
		if err != nil {
			if ctx.Err() == nil {
				d.m.queueErrors.WithLabelValues("assign").Inc()
				d.log.Warn().Err(err).Msg("assign failed; retrying on the next tick")
			}
			return true
		}
		if !d.deliver(ctx, o, now) {
			return false
		}
	}
	d.Kick()
	return true
}

// deliver hands o to its call's flow, or deals with an offer nobody here
// can act on. It reports whether the round may go on. assigned is when
// the Assign that made o was called (for helpline_assign_seconds).
func (d *Dispatcher) deliver(ctx context.Context, o queue.Offer, assigned time.Time) bool {
	d.mu.Lock()
	ch, ok := d.calls[o.CallID]
	started := d.started
	d.mu.Unlock()
	if ok {
		select {
		case ch <- o:
			d.m.assign.Observe(d.clock.Since(assigned).Seconds())
			return true
		default:
			// The flow has an offer it has not read yet; it cannot
			// take two. Return this one.
		}
	}
	now := d.clock.Now()
	log := d.log.With().Str("call", o.CallID).Str("operator", o.OperatorID).Str("node", o.Node).Logger()
	if !ok && o.Node == d.node && now.Sub(started) >= d.adopt {
		// Our call, but no flow runs it and none re-adopted it in time:
		// an orphan (its channel vanished while the app was down). Left
		// in place it would be offered first forever and starve the calls
		// behind it. Leave frees the operator.
		log.Error().Msg("orphan queue entry: no flow owns this call; removing it from the queue")
		if _, err := d.q.Leave(ctx, o.CallID, now); err != nil && !errors.Is(err, queue.ErrUnknownCall) {
			d.m.queueErrors.WithLabelValues("leave").Inc()
			log.Error().Err(err).Msg("removing orphan queue entry failed")
			return false
		}
		return true
	}
	// Another node's call (multi-node hand-over is not built yet), a call
	// whose flow is about to leave, or a call not re-adopted yet: return
	// it with its place and stop this round so the same match is not
	// retried at once.
	log.Debug().Bool("registered", ok).Msg("offer not deliverable here; returned to the queue")
	if err := d.q.RingFailed(ctx, o, false, "", now); err != nil &&
		!errors.Is(err, queue.ErrOfferLost) && !errors.Is(err, queue.ErrUnknownCall) {
		d.m.queueErrors.WithLabelValues("ring_failed").Inc()
		log.Warn().Err(err).Msg("returning an undeliverable offer failed; it will expire")
	}
	return false
}
