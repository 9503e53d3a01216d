package queue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the in-process Queue: goroutine-safe, one mutex around plain
// maps. It serves tests, the demo and — above all — the fallback that
// keeps calls flowing when Redis is unreachable, so it implements the
// whole contract, with the same ordering rules and millisecond precision
// as Redis (the same suite runs over both).
//
// Memory suits the sizes of a helpline (hundreds of waiting calls, a few
// hundred operators): Assign scans them, it does not index them.
type Memory struct {
	service string

	mu      sync.Mutex
	calls   map[string]*memCall
	ops     map[string]*Operator
	subs    map[*memSub]struct{}
	dropped atomic.Int64
	nodes   memNodes // multi-node state (nodes_memory.go)
}

type memCall struct {
	Call
	offeredTo string
	expires   time.Time
}

type memSub struct{ ch chan Event }

// memSubBuffer is how many events a slow watcher may lag behind before
// events are dropped for it.
const memSubBuffer = 256

// NewMemory returns an empty in-process queue for service (the calls it
// accepts must carry that Service, or none).
func NewMemory(service string) (*Memory, error) {
	if err := checkName("service", service); err != nil {
		return nil, err
	}
	return &Memory{
		service: service,
		calls:   make(map[string]*memCall),
		ops:     make(map[string]*Operator),
		subs:    make(map[*memSub]struct{}),
	}, nil
}

var _ Queue = (*Memory)(nil)
var _ Watcher = (*Memory)(nil)

// nameRE bounds what may become part of a Redis key (service, language):
// no separators, no hash-tag braces, no spaces.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func checkName(what, v string) error {
	if !nameRE.MatchString(v) {
		return fmt.Errorf("%w: %s %q must be 1-32 letters, digits, '-' or '_'", ErrInvalid, what, v)
	}
	return nil
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty %s ID", ErrInvalid, what)
	}
	return checkText(what+" ID", id)
}

// checkText refuses control characters (and over-long values) in the
// free-text fields a store keeps: the Redis records are tab-separated, and
// a newline in a log field is an injection.
func checkText(what, v string) error {
	if len(v) > 256 {
		return fmt.Errorf("%w: %s longer than 256 bytes", ErrInvalid, what)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s %q contains a control character", ErrInvalid, what, v)
		}
	}
	return nil
}

// ms truncates t to the millisecond precision every store keeps.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

// validateCall checks and normalises a call for service.
func validateCall(service string, c Call) (Call, error) {
	if err := checkID("call", c.ID); err != nil {
		return c, err
	}
	if c.Service == "" {
		c.Service = service
	} else if c.Service != service {
		return c, fmt.Errorf("%w: call %s is for service %q, this queue serves %q", ErrInvalid, c.ID, c.Service, service)
	}
	if err := checkName("language", c.Language); err != nil {
		return c, fmt.Errorf("call %s: %w", c.ID, err)
	}
	if err := errors.Join(checkText("node", c.Node), checkText("tag", c.Tag)); err != nil {
		return c, fmt.Errorf("call %s: %w", c.ID, err)
	}
	if c.Enqueued.IsZero() {
		return c, fmt.Errorf("%w: call %s has no Enqueued time", ErrInvalid, c.ID)
	}
	c.Enqueued = ms(c.Enqueued)
	return c, nil
}

func validateOperator(op Operator) (Operator, error) {
	if err := checkID("operator", op.ID); err != nil {
		return op, err
	}
	if err := checkText("endpoint", op.Endpoint); err != nil {
		return op, fmt.Errorf("operator %s: %w", op.ID, err)
	}
	if len(op.Skills) == 0 {
		return op, fmt.Errorf("%w: operator %s has no language skill", ErrInvalid, op.ID)
	}
	skills := make([]string, 0, len(op.Skills))
	for _, s := range op.Skills {
		if err := checkName("skill", s); err != nil {
			return op, fmt.Errorf("operator %s: %w", op.ID, err)
		}
		if !slices.Contains(skills, s) {
			skills = append(skills, s)
		}
	}
	slices.Sort(skills)
	op.Skills = skills
	return op, nil
}

// emit fans ev out to watchers; called with mu held so order is kept. A
// full watcher loses the event (counted in Dropped) rather than stalling
// the queue.
func (m *Memory) emit(ev Event) {
	ev.At = ms(ev.At)
	for s := range m.subs {
		select {
		case s.ch <- ev:
		default:
			m.dropped.Add(1)
		}
	}
}

// Dropped is how many events were lost by slow watchers.
func (m *Memory) Dropped() int64 { return m.dropped.Load() }

// Watch implements Watcher.
func (m *Memory) Watch(ctx context.Context) (<-chan Event, error) {
	s := &memSub{ch: make(chan Event, memSubBuffer)}
	m.mu.Lock()
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		delete(m.subs, s)
		close(s.ch)
		m.mu.Unlock()
	}()
	return s.ch, nil
}

func (m *Memory) opEvent(op *Operator, at time.Time) {
	m.emit(Event{Kind: EventOperator, At: at, OperatorID: op.ID, State: op.State, Reason: op.PauseReason})
}

// housekeep promotes ended wrap-ups and returns expired offers, as of now.
func (m *Memory) housekeep(now time.Time) {
	now = ms(now)
	var due []*Operator
	for _, op := range m.ops {
		if op.State == WrapUp && !op.WrapUntil.After(now) {
			due = append(due, op)
		}
	}
	slices.SortFunc(due, func(a, b *Operator) int {
		if c := a.WrapUntil.Compare(b.WrapUntil); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, op := range due {
		op.State, op.Since, op.IdleSince, op.WrapUntil = Available, op.WrapUntil, op.WrapUntil, time.Time{}
		m.opEvent(op, op.Since)
	}
	var expired []*memCall
	for _, c := range m.calls {
		if c.offeredTo != "" && !c.expires.After(now) {
			expired = append(expired, c)
		}
	}
	slices.SortFunc(expired, func(a, b *memCall) int {
		if c := a.expires.Compare(b.expires); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, c := range expired {
		op := m.ops[c.offeredTo]
		m.returnCall(c, "expired", now)
		if op != nil && op.State == Ringing && op.CallID == c.ID {
			op.State, op.Since, op.IdleSince, op.CallID = Available, now, now, ""
			m.opEvent(op, now)
		}
	}
}

// returnCall puts an offered call back in its place.
func (m *Memory) returnCall(c *memCall, reason string, now time.Time) {
	op := c.offeredTo
	c.offeredTo, c.expires = "", time.Time{}
	m.emit(Event{Kind: EventReturned, At: now, CallID: c.ID, OperatorID: op, Language: c.Language, Reason: reason})
}

// Enqueue implements Queue.
func (m *Memory) Enqueue(ctx context.Context, c Call) error {
	c, err := validateCall(m.service, c)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.calls[c.ID]; ok {
		return nil
	}
	m.calls[c.ID] = &memCall{Call: c}
	m.emit(Event{Kind: EventEnqueued, At: c.Enqueued, CallID: c.ID, Language: c.Language})
	return nil
}

// Leave implements Queue.
func (m *Memory) Leave(ctx context.Context, callID string, now time.Time) (string, error) {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[callID]
	if !ok {
		return "", fmt.Errorf("leave %q: %w", callID, ErrUnknownCall)
	}
	delete(m.calls, callID)
	opID := c.offeredTo
	m.emit(Event{Kind: EventLeft, At: now, CallID: c.ID, OperatorID: opID, Language: c.Language})
	if opID != "" {
		if op := m.ops[opID]; op != nil && op.State == Ringing && op.CallID == callID {
			// The caller hung up: the operator lost nothing and keeps
			// their IdleSince (their place among idle operators).
			op.State, op.Since, op.CallID = Available, now, ""
			m.opEvent(op, now)
		}
	}
	return opID, nil
}

// less orders calls: oldest first, then by ID (as a Redis ZSET does).
func callLess(a, b *memCall) int {
	if c := a.Enqueued.Compare(b.Enqueued); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Position implements Queue.
func (m *Memory) Position(ctx context.Context, callID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[callID]
	if !ok {
		return 0, fmt.Errorf("position of %q: %w", callID, ErrUnknownCall)
	}
	pos := 1
	for _, o := range m.calls {
		if o.Language == c.Language && callLess(o, c) < 0 {
			pos++
		}
	}
	return pos, nil
}

// Login implements Queue.
func (m *Memory) Login(ctx context.Context, in Operator, now time.Time) error {
	in, err := validateOperator(in)
	if err != nil {
		return err
	}
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	op, ok := m.ops[in.ID]
	if !ok {
		op = &Operator{ID: in.ID, State: LoggedOut}
		m.ops[in.ID] = op
	}
	op.Endpoint, op.Skills = in.Endpoint, in.Skills
	if op.State == LoggedOut {
		op.State, op.Since, op.IdleSince, op.PauseReason, op.WrapUntil, op.CallID = Available, now, now, "", time.Time{}, ""
		m.opEvent(op, now)
	}
	return nil
}

func (m *Memory) op(id string) (*Operator, error) {
	op, ok := m.ops[id]
	if !ok {
		return nil, fmt.Errorf("operator %q: %w", id, ErrUnknownOperator)
	}
	return op, nil
}

// withdraw returns the call ringing op to the queue, if any.
func (m *Memory) withdraw(op *Operator, reason string, now time.Time) {
	if op.State != Ringing {
		return
	}
	if c, ok := m.calls[op.CallID]; ok && c.offeredTo == op.ID {
		m.returnCall(c, reason, now)
	}
	op.CallID = ""
}

// Logout implements Queue.
func (m *Memory) Logout(ctx context.Context, operatorID string, now time.Time) error {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	op, err := m.op(operatorID)
	if err != nil {
		return err
	}
	if op.State == LoggedOut {
		return nil
	}
	m.withdraw(op, "logout", now)
	op.State, op.Since, op.PauseReason, op.WrapUntil, op.CallID = LoggedOut, now, "", time.Time{}, ""
	m.opEvent(op, now)
	return nil
}

// Pause implements Queue.
func (m *Memory) Pause(ctx context.Context, operatorID, reason string, now time.Time) error {
	if err := checkText("pause reason", reason); err != nil {
		return err
	}
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	op, err := m.op(operatorID)
	if err != nil {
		return err
	}
	switch op.State {
	case Paused:
		if op.PauseReason != reason {
			op.PauseReason = reason
			m.opEvent(op, now)
		}
		return nil
	case Available, WrapUp, Ringing:
	default:
		return fmt.Errorf("pause operator %q (%s): %w", operatorID, op.State, ErrBadState)
	}
	m.withdraw(op, "paused", now)
	op.State, op.Since, op.PauseReason, op.WrapUntil, op.CallID = Paused, now, reason, time.Time{}, ""
	m.opEvent(op, now)
	return nil
}

// Unpause implements Queue.
func (m *Memory) Unpause(ctx context.Context, operatorID string, now time.Time) error {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	op, err := m.op(operatorID)
	if err != nil {
		return err
	}
	if op.State != Paused {
		return fmt.Errorf("unpause operator %q (%s): %w", operatorID, op.State, ErrBadState)
	}
	op.State, op.Since, op.IdleSince, op.PauseReason = Available, now, now, ""
	m.opEvent(op, now)
	return nil
}

// Assign implements Queue.
func (m *Memory) Assign(ctx context.Context, now time.Time, ttl time.Duration) (Offer, error) {
	if ttl <= 0 {
		return Offer{}, fmt.Errorf("%w: assign with reservation TTL %v", ErrInvalid, ttl)
	}
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.housekeep(now)
	// Longest-idle available operator per skill.
	best := make(map[string]*Operator)
	for _, op := range m.ops {
		if op.State != Available {
			continue
		}
		for _, s := range op.Skills {
			b := best[s]
			if b == nil || op.IdleSince.Before(b.IdleSince) || (op.IdleSince.Equal(b.IdleSince) && op.ID < b.ID) {
				best[s] = op
			}
		}
	}
	var call *memCall
	for _, c := range m.calls {
		if c.offeredTo != "" || best[c.Language] == nil {
			continue
		}
		if call == nil || callLess(c, call) < 0 {
			call = c
		}
	}
	if call == nil {
		return Offer{}, ErrNoMatch
	}
	op := best[call.Language]
	expires := ms(now.Add(ttl))
	call.offeredTo, call.expires = op.ID, expires
	op.State, op.Since, op.CallID = Ringing, now, call.ID
	m.emit(Event{Kind: EventOffered, At: now, CallID: call.ID, OperatorID: op.ID, Language: call.Language, State: Ringing})
	return Offer{CallID: call.ID, OperatorID: op.ID, Endpoint: op.Endpoint, Language: call.Language, Node: call.Node, Expires: expires}, nil
}

// offer finds the live offer o, reaping it if it expired.
func (m *Memory) offer(o Offer, now time.Time) (*memCall, *Operator, error) {
	m.housekeep(now)
	c, ok := m.calls[o.CallID]
	if !ok || c.offeredTo != o.OperatorID || o.OperatorID == "" || !c.expires.Equal(ms(o.Expires)) {
		return nil, nil, fmt.Errorf("offer of call %q to %q: %w", o.CallID, o.OperatorID, ErrOfferLost)
	}
	op := m.ops[o.OperatorID]
	if op == nil || op.State != Ringing || op.CallID != o.CallID {
		// Cannot happen while the invariants hold; refuse rather than guess.
		return nil, nil, fmt.Errorf("offer of call %q to %q: operator not ringing it: %w", o.CallID, o.OperatorID, ErrOfferLost)
	}
	return c, op, nil
}

// Answered implements Queue.
func (m *Memory) Answered(ctx context.Context, o Offer, now time.Time) error {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	c, op, err := m.offer(o, now)
	if err != nil {
		return err
	}
	delete(m.calls, c.ID)
	op.State, op.Since = Busy, now
	m.emit(Event{Kind: EventAnswered, At: now, CallID: c.ID, OperatorID: op.ID, Language: c.Language, State: Busy})
	return nil
}

// RingFailed implements Queue.
func (m *Memory) RingFailed(ctx context.Context, o Offer, pause bool, reason string, now time.Time) error {
	if err := checkText("pause reason", reason); err != nil {
		return err
	}
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	c, op, err := m.offer(o, now)
	if err != nil {
		return err
	}
	m.returnCall(c, "ring_failed", now)
	op.CallID, op.Since = "", now
	if pause {
		op.State, op.PauseReason = Paused, reason
	} else {
		op.State, op.IdleSince = Available, now
	}
	m.opEvent(op, now)
	return nil
}

// Finish implements Queue.
func (m *Memory) Finish(ctx context.Context, operatorID string, wrapUntil, now time.Time) error {
	now, wrapUntil = ms(now), ms(wrapUntil)
	m.mu.Lock()
	defer m.mu.Unlock()
	op, err := m.op(operatorID)
	if err != nil {
		return err
	}
	if op.State != Busy {
		return fmt.Errorf("finish operator %q (%s): %w", operatorID, op.State, ErrBadState)
	}
	op.CallID, op.Since = "", now
	if wrapUntil.After(now) {
		op.State, op.WrapUntil = WrapUp, wrapUntil
	} else {
		op.State, op.IdleSince = Available, now
	}
	m.opEvent(op, now)
	return nil
}

func copyOp(op *Operator) Operator {
	o := *op
	o.Skills = slices.Clone(op.Skills)
	return o
}

// Operator implements Queue.
func (m *Memory) Operator(ctx context.Context, operatorID string) (Operator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	op, err := m.op(operatorID)
	if err != nil {
		return Operator{}, err
	}
	return copyOp(op), nil
}

// Snapshot implements Queue.
func (m *Memory) Snapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.housekeep(now)
	s := Snapshot{At: now, Waiting: make(map[string][]WaitingCall)}
	calls := make([]*memCall, 0, len(m.calls))
	for _, c := range m.calls {
		calls = append(calls, c)
	}
	slices.SortFunc(calls, callLess)
	for _, c := range calls {
		s.Waiting[c.Language] = append(s.Waiting[c.Language], WaitingCall{Call: c.Call, OfferedTo: c.offeredTo})
	}
	for _, op := range m.ops {
		if op.State != LoggedOut {
			s.Operators = append(s.Operators, copyOp(op))
		}
	}
	slices.SortFunc(s.Operators, func(a, b Operator) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}
