package ari

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Why a subscription ended, from Subscription.Err.
var (
	// ErrEventsClosed: the Events stream was closed; queued events were
	// still delivered before the channel closed.
	ErrEventsClosed = errors.New("ari: event stream closed")
	// ErrSubscriptionOverflow: more than EventsOptions.MaxBacklog events
	// waited for this subscriber, which was cut off (counted and logged;
	// the events queued before were still delivered).
	ErrSubscriptionOverflow = errors.New("ari: subscription backlog limit exceeded")
	// ErrSubscriptionClosed: Next was called after Close.
	ErrSubscriptionClosed = errors.New("ari: subscription closed")
	// ErrHistoryGone: SubscribeSince was given an event that has left the
	// stream's history (or never was in it).
	ErrHistoryGone = errors.New("ari: event no longer in the stream history")
)

// counters are the Events statistics; see EventStats.
type counters struct {
	frames, decoded, unknown, malformed, unrouted  atomic.Uint64
	reconnects, dialFailures, overflows, delivered atomic.Uint64
	backlog, maxBacklog                            atomic.Int64
}

// EventStats is a snapshot of an Events stream's counters.
type EventStats struct {
	// Frames is every WebSocket message read.
	Frames uint64
	// Decoded is the messages DecodeEvent accepted (Unknown included).
	Decoded uint64
	// Unknown is the messages of a type the schema does not list.
	Unknown uint64
	// Malformed is the messages DecodeEvent rejected, delivered as *InvalidEvent.
	Malformed uint64
	// Unrouted is the events no subscription matched (nobody listening).
	Unrouted uint64
	// Delivered is the events handed to subscribers' channels.
	Delivered uint64
	// Reconnects is the sockets opened after a lost one.
	Reconnects uint64
	// DialFailures is the failed dials (refused, 401, timeout...).
	DialFailures uint64
	// Overflows is the subscriptions cut off by MaxBacklog.
	Overflows uint64
	// Backlog is the events queued for subscribers and not yet taken.
	Backlog int64
	// MaxBacklog is the longest queue one subscription has had.
	MaxBacklog int64
}

func (c *counters) snapshot() EventStats {
	return EventStats{
		Frames: c.frames.Load(), Decoded: c.decoded.Load(), Unknown: c.unknown.Load(),
		Malformed: c.malformed.Load(), Unrouted: c.unrouted.Load(), Delivered: c.delivered.Load(),
		Reconnects: c.reconnects.Load(), DialFailures: c.dialFailures.Load(), Overflows: c.overflows.Load(),
		Backlog: c.backlog.Load(), MaxBacklog: c.maxBacklog.Load(),
	}
}

// hub fans events out to subscriptions. dispatch runs on the reader
// goroutine and never blocks on a subscriber: each subscription has its own
// queue, drained into its channel by its own goroutine.
type hub struct {
	mu      sync.Mutex
	all     map[*Subscription]struct{}
	byID    map[string]map[*Subscription]struct{}
	subs    map[*Subscription]struct{}
	history []Event // ring of the last len(history) events
	next    int     // where the next event goes in history
	filled  bool
	closed  bool
	max     int // per-subscription backlog limit, 0 for none
	stats   *counters
	warn    func(s *Subscription, backlog int, overflow bool)
}

func newHub(historySize, maxBacklog int, stats *counters, warn func(*Subscription, int, bool)) *hub {
	if historySize < 1 {
		historySize = 1
	}
	return &hub{
		all: map[*Subscription]struct{}{}, byID: map[string]map[*Subscription]struct{}{},
		subs: map[*Subscription]struct{}{}, history: make([]Event, historySize),
		max: maxBacklog, stats: stats, warn: warn,
	}
}

// dispatch queues ev for every subscription it concerns: the subscriptions
// to all events, those holding one of ev's ids, and every subscription
// when toEveryone is set (Reconnected).
func (h *hub) dispatch(ev Event, toEveryone bool) {
	refs := ev.Refs()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.history[h.next] = ev
	h.next = (h.next + 1) % len(h.history)
	if h.next == 0 {
		h.filled = true
	}
	var targets []*Subscription
	if toEveryone {
		for s := range h.subs {
			targets = append(targets, s)
		}
	} else {
		for s := range h.all {
			targets = append(targets, s)
		}
		for _, r := range refs {
			for s := range h.byID[r.ID] {
				if !s.all && !containsSub(targets, s) {
					targets = append(targets, s)
				}
			}
		}
	}
	if len(targets) == 0 {
		h.stats.unrouted.Add(1)
		return
	}
	for _, s := range targets {
		h.push(s, ev)
	}
}

func containsSub(list []*Subscription, s *Subscription) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// push queues ev for s; h.mu is held.
func (h *hub) push(s *Subscription, ev Event) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if h.max > 0 && len(s.queue) >= h.max {
		s.ended, s.err = true, ErrSubscriptionOverflow
		n := len(s.queue)
		s.mu.Unlock()
		s.signal()
		h.remove(s)
		h.stats.overflows.Add(1)
		h.warn(s, n, true)
		return
	}
	s.queue = append(s.queue, ev)
	n := len(s.queue)
	s.mu.Unlock()
	s.signal()
	h.stats.backlog.Add(1)
	for {
		m := h.stats.maxBacklog.Load()
		if int64(n) <= m || h.stats.maxBacklog.CompareAndSwap(m, int64(n)) {
			break
		}
	}
	// Warn at 1024 queued events and every doubling after: a subscriber
	// that stopped reading shows in the logs long before memory does.
	if n >= 1024 && n&(n-1) == 0 {
		h.warn(s, n, false)
	}
}

// remove unregisters s; h.mu is held.
func (h *hub) remove(s *Subscription) {
	delete(h.subs, s)
	delete(h.all, s)
	for id := range s.ids {
		if m := h.byID[id]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(h.byID, id)
			}
		}
	}
}

func (h *hub) index(s *Subscription, ids []string) {
	for _, id := range ids {
		if _, ok := s.ids[id]; ok {
			continue
		}
		s.ids[id] = struct{}{}
		m := h.byID[id]
		if m == nil {
			m = map[*Subscription]struct{}{}
			h.byID[id] = m
		}
		m[s] = struct{}{}
	}
}

func (h *hub) subscribe(all bool, since Event, ids []string) (*Subscription, error) {
	s := &Subscription{
		hub: h, all: all, ids: map[string]struct{}{},
		notify: make(chan struct{}, 1), done: make(chan struct{}), out: make(chan Event),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrEventsClosed
	}
	if since != nil {
		replay, ok := h.after(since)
		if !ok {
			return nil, fmt.Errorf("%w (history keeps %d events)", ErrHistoryGone, len(h.history))
		}
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		for _, ev := range replay {
			if all || concerns(ev, want) {
				s.queue = append(s.queue, ev)
			}
		}
		h.stats.backlog.Add(int64(len(s.queue)))
	}
	h.subs[s] = struct{}{}
	if all {
		h.all[s] = struct{}{}
	}
	h.index(s, ids)
	if len(s.queue) > 0 {
		s.signal()
	}
	go s.pump()
	return s, nil
}

// after returns the events that followed ev in the history, oldest first.
func (h *hub) after(ev Event) ([]Event, bool) {
	n := len(h.history)
	count := h.next
	if h.filled {
		count = n
	}
	for back := 1; back <= count; back++ {
		i := (h.next - back + n) % n
		if h.history[i] == ev {
			out := make([]Event, 0, back-1)
			for j := back - 1; j >= 1; j-- {
				out = append(out, h.history[(h.next-j+n)%n])
			}
			return out, true
		}
	}
	return nil, false
}

func concerns(ev Event, ids map[string]bool) bool {
	if _, ok := ev.(*Reconnected); ok {
		return true
	}
	for _, r := range ev.Refs() {
		if ids[r.ID] {
			return true
		}
	}
	return false
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		s.mu.Lock()
		if !s.ended {
			s.ended, s.err = true, ErrEventsClosed
		}
		s.mu.Unlock()
		s.signal()
		h.remove(s)
	}
	clear(h.history)
}

// Subscription receives, in arrival order, the events of an Events stream
// that concern its ids (or all of them, from SubscribeAll), plus every
// *Reconnected. Its queue has no fixed size: the WebSocket reader never
// waits for a slow subscriber and never drops an event silently (see the
// package documentation for the overflow policy). Close it when done.
type Subscription struct {
	hub    *hub
	all    bool
	ids    map[string]struct{} // guarded by hub.mu
	notify chan struct{}       // capacity 1: "the queue changed"
	done   chan struct{}       // closed by Close
	out    chan Event

	mu     sync.Mutex
	queue  []Event
	ended  bool  // no more events will be queued; drain then close out
	err    error // why it ended
	closed bool  // Close was called
}

// Events returns the channel the subscription's events arrive on. It is
// closed after Close, or once the queued events are delivered when the
// stream closes or the subscription overflows (see Err).
func (s *Subscription) Events() <-chan Event { return s.out }

// Err says why the subscription ended: nil while it runs or after Close,
// ErrEventsClosed or ErrSubscriptionOverflow otherwise.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Add makes the subscription also receive the events concerning ids,
// e.g. a bridge the call joined, from the next event on.
func (s *Subscription) Add(ids ...string) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if _, live := s.hub.subs[s]; live {
		s.hub.index(s, ids)
	}
}

// Next waits for the subscription's next event. It returns ctx's error if
// ctx ends first (the wait and ctx are one select, so cancelling always
// interrupts it), and Err() (or ErrSubscriptionClosed after Close) once
// the subscription has ended and its queue is drained.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-s.out:
		if ok {
			return ev, nil
		}
		if err := s.Err(); err != nil {
			return nil, err
		}
		return nil, ErrSubscriptionClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Backlog is how many events wait in the subscription's queue.
func (s *Subscription) Backlog() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Close ends the subscription at once; queued events are discarded and
// the Events channel is closed. Close is idempotent.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	s.hub.remove(s)
	s.hub.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.ended = true
	s.hub.stats.backlog.Add(-int64(len(s.queue)))
	s.queue = nil
	close(s.done)
}

func (s *Subscription) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// pump moves queued events to the out channel, one at a time, until Close
// or until the subscription has ended and its queue is empty.
func (s *Subscription) pump() {
	defer close(s.out)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 {
			ended := s.ended
			s.mu.Unlock()
			if ended {
				return
			}
			select {
			case <-s.notify:
			case <-s.done:
				return
			}
			s.mu.Lock()
		}
		ev := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		s.hub.stats.backlog.Add(-1)
		select {
		case s.out <- ev:
			s.hub.stats.delivered.Add(1)
		case <-s.done:
			return
		}
	}
}
