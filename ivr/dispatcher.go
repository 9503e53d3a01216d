package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	cluster *Cluster
}

// Cluster is what a node needs to share its queue with other nodes, each
// attached to its own Asterisk (see "Several nodes" in the package doc).
type Cluster struct {
	// Nodes is the queue's multi-node side (both queue stores implement
	// it; normally the same store as the flow's queue).
	Nodes queue.Nodes
	// Trunks maps every other node to the dial string of this node's
	// inter-node trunk towards it, "<tech>/<trunk endpoint>" (e.g.
	// "PJSIP/internode-node2"): an operator hosted there is rung as
	// "<tech>/<their user>@<trunk endpoint>".
	Trunks map[string]string
	// HeartbeatTTL is how long one beat keeps this node alive (the node
	// beats, and reaps dead nodes, every third of it). Zero: 15 s.
	HeartbeatTTL time.Duration
}

// defaultHeartbeatTTL is Cluster.HeartbeatTTL's default: long enough to
// ride out a restart of the app (calls in Stasis are re-adopted with their
// place), short enough that a dead node's operators stop being offered
// calls quickly.
const defaultHeartbeatTTL = 15 * time.Second

// Join makes the dispatcher one node among several sharing the queue:
// offers for other nodes' calls are handed over to them, operators hosted
// elsewhere are rung through the inter-node trunk, the node beats, and
// dead nodes are reaped. Call it before Run.
func (d *Dispatcher) Join(c Cluster) error {
	if c.Nodes == nil {
		return fmt.Errorf("ivr: join: Cluster.Nodes is nil")
	}
	if c.HeartbeatTTL == 0 {
		c.HeartbeatTTL = defaultHeartbeatTTL
	}
	if c.HeartbeatTTL < 3*time.Millisecond {
		return fmt.Errorf("ivr: join: heartbeat TTL %v too short", c.HeartbeatTTL)
	}
	for node, trunk := range c.Trunks {
		if _, err := viaTrunk("PJSIP/x", trunk); err != nil {
			return fmt.Errorf("ivr: join: trunk to node %q: %w", node, err)
		}
	}
	d.cluster = &c
	return nil
}

// viaTrunk is the dial string that reaches endpoint (as registered on the
// node that hosts it, "<tech>/<user>") from another node through trunk
// ("<tech>/<trunk endpoint>"): "<tech>/<user>@<trunk endpoint>", which
// Asterisk's PJSIP sends as an INVITE to <user> at the trunk's peer.
func viaTrunk(endpoint, trunk string) (string, error) {
	ttech, tname, ok := strings.Cut(trunk, "/")
	if !ok || ttech == "" || tname == "" || strings.ContainsAny(tname, "/@") {
		return "", fmt.Errorf("trunk %q is not <tech>/<endpoint>", trunk)
	}
	_, user, ok := strings.Cut(endpoint, "/")
	user, _, _ = strings.Cut(user, "@")
	if !ok || user == "" || strings.Contains(user, "/") {
		return "", fmt.Errorf("operator endpoint %q is not <tech>/<user>", endpoint)
	}
	return ttech + "/" + user + "@" + tname, nil
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
	// Several nodes: beat (and reap) every third of the TTL, and take the
	// offers other nodes hand over for our calls.
	var beat <-chan time.Time
	var handed <-chan queue.Offer
	if c := d.cluster; c != nil {
		d.beat(ctx)
		bt := d.clock.NewTicker(c.HeartbeatTTL / 3)
		defer bt.Stop()
		beat = bt.Chan()
		ch, err := c.Nodes.HandedOver(ctx, d.node)
		if err != nil {
			d.log.Error().Err(err).Msg("cannot receive offers from other nodes; they will expire")
		} else {
			handed = ch
		}
	}
	stuck := !d.round(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat:
			d.beat(ctx)
			continue
		case o, ok := <-handed:
			if !ok {
				handed = nil
				continue
			}
			if now := d.clock.Now(); !now.Before(o.Expires) {
				// Expired on the way (this node was slow): the queue has
				// returned it, and may have offered the call again.
				// Ringing it now could ring the operator twice.
				d.log.Debug().Str("call", o.CallID).Str("operator", o.OperatorID).Msg("handed-over offer expired before it arrived; dropped")
				continue
			}
			if !d.local(ctx, o, d.clock.Now(), true) {
				stuck = true
			}
			continue
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

// beat renews this node's heartbeat and reaps the nodes whose heartbeat
// expired (every node does: the step is atomic and idempotent). A reap
// frees operators and may reorder the queue: kick a round.
func (d *Dispatcher) beat(ctx context.Context) {
	c := d.cluster
	now := d.clock.Now()
	revived, err := c.Nodes.Heartbeat(ctx, d.node, now, c.HeartbeatTTL)
	if err != nil {
		if ctx.Err() == nil {
			d.m.queueErrors.WithLabelValues("heartbeat").Inc()
			d.log.Warn().Err(err).Msg("heartbeat failed; other nodes may declare this one dead")
		}
		return
	}
	if revived > 0 {
		d.log.Info().Int("operators", revived).Msg("node beating again: its unreachable operators are available")
		d.Kick()
	}
	dead, err := c.Nodes.Reap(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			d.m.queueErrors.WithLabelValues("reap").Inc()
			d.log.Warn().Err(err).Msg("reaping dead nodes failed")
		}
		return
	}
	if len(dead) > 0 {
		d.log.Warn().Strs("nodes", dead).Msg("nodes stopped beating: their operators are paused unreachable, their calls removed")
		d.Kick()
	}
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
	if c := d.cluster; c != nil && o.Node != "" && o.Node != d.node {
		// Another node's call: only that node can bridge it.
		err := c.Nodes.HandOver(ctx, o)
		if err == nil {
			d.m.assign.Observe(d.clock.Since(assigned).Seconds())
			return true
		}
		d.m.queueErrors.WithLabelValues("hand_over").Inc()
		d.log.Warn().Err(err).Str("call", o.CallID).Str("node", o.Node).Msg("hand-over failed; offer returned")
		d.giveBack(ctx, o, d.clock.Now())
		return false
	}
	return d.local(ctx, o, assigned, false)
}

// route rewrites o's endpoint for an operator hosted on another node: the
// leg is originated here, to them through the inter-node trunk.
func (d *Dispatcher) route(ctx context.Context, o queue.Offer) (queue.Offer, error) {
	c := d.cluster
	if c == nil {
		return o, nil
	}
	host, err := c.Nodes.HostOf(ctx, o.OperatorID)
	if err != nil {
		// The shared store is unreachable: the queue runs on its
		// in-process fallback, where operators log in again on this node,
		// so ring them here rather than not at all.
		d.m.queueErrors.WithLabelValues("host_of").Inc()
		d.log.Warn().Err(err).Str("operator", o.OperatorID).Msg("cannot tell where the operator is registered; ringing them as hosted here")
		return o, nil
	}
	if host == "" || host == d.node {
		return o, nil
	}
	trunk, ok := c.Trunks[host]
	if !ok {
		return o, fmt.Errorf("operator %s is hosted on node %q, which has no trunk configured", o.OperatorID, host)
	}
	ep, err := viaTrunk(o.Endpoint, trunk)
	if err != nil {
		return o, err
	}
	o.Endpoint = ep
	// If this node dies while they talk, the reap frees them (no flow
	// would ever Finish the call); failing to record it only loses that.
	if err := c.Nodes.Remote(ctx, o.OperatorID, o.CallID, d.node); err != nil {
		d.m.queueErrors.WithLabelValues("remote").Inc()
		d.log.Warn().Err(err).Str("operator", o.OperatorID).Msg("cannot record the cross-node ring")
	}
	return o, nil
}

// giveBack returns an offer nobody here will ring to the queue, the
// operator available again.
func (d *Dispatcher) giveBack(ctx context.Context, o queue.Offer, now time.Time) {
	if err := d.q.RingFailed(ctx, o, false, "", now); err != nil &&
		!errors.Is(err, queue.ErrOfferLost) && !errors.Is(err, queue.ErrUnknownCall) {
		d.m.queueErrors.WithLabelValues("ring_failed").Inc()
		d.log.Warn().Err(err).Str("call", o.CallID).Msg("returning an undeliverable offer failed; it will expire")
	}
}

// local hands o, an offer for one of this node's calls (assigned here, or
// handed over by the node that assigned it), to its call's flow. It
// reports whether the round may go on.
func (d *Dispatcher) local(ctx context.Context, o queue.Offer, assigned time.Time, handed bool) bool {
	d.mu.Lock()
	ch, ok := d.calls[o.CallID]
	started := d.started
	d.mu.Unlock()
	if ok {
		routed, err := d.route(ctx, o)
		if err != nil {
			d.m.queueErrors.WithLabelValues("route").Inc()
			d.log.Error().Err(err).Str("call", o.CallID).Str("operator", o.OperatorID).Msg("cannot reach the operator from this node; offer returned")
			d.giveBack(ctx, o, d.clock.Now())
			return false
		}
		o = routed
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
	if handed && !ok {
		// Handed over by another node for a call whose flow is about to
		// leave (its Leave frees the operator) or is not re-adopted yet:
		// returning it would make the assigning node offer it again at
		// once, in a loop between nodes. The reservation bounds the wait.
		log.Debug().Msg("handed-over offer for a call not registered here; left to expire")
		return true
	}
	// Another node's call on a node that did not Join, a call whose flow
	// is about to leave, or a call not re-adopted yet: return it with its
	// place and stop this round so the same match is not retried at once.
	log.Debug().Bool("registered", ok).Msg("offer not deliverable here; returned to the queue")
	d.giveBack(ctx, o, now)
	return false
}
