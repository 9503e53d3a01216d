package queue

import (
	"maps"
	"slices"
	"time"
)

// This file holds what Failover needs from Memory's insides: the shadow
// (a Memory whose maps are written directly, mirroring what Redis holds of
// this node after each successful Redis call) and the seeding of the
// fallback Memory from it. It lives in package queue, not a sub-package,
// because an exact copy of state (offers with their expiry, busy and
// wrap-up operators, IdleSince) cannot be built through the Queue methods:
// nothing in the contract creates a busy operator out of thin air.

// shadowCall records a call this node enqueued (or learnt from Redis).
func (m *Memory) shadowEnqueue(c Call) {
	c, err := validateCall(m.service, c)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.calls[c.ID]; !ok {
		m.calls[c.ID] = &memCall{Call: c}
	}
}

// shadowLeave removes a call; an operator it was ringing is available again
// (keeping IdleSince, as Leave does).
func (m *Memory) shadowLeave(callID string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[callID]
	if !ok {
		return
	}
	delete(m.calls, callID)
	if op := m.ops[c.offeredTo]; op != nil && op.State == Ringing && op.CallID == callID {
		op.State, op.Since, op.CallID = Available, ms(now), ""
	}
}

// shadowOp applies fn to the operator id, creating it logged out first when
// create is true; unknown operators are skipped otherwise (a later resync
// from Redis learns them).
func (m *Memory) shadowOp(id string, create bool, fn func(op *Operator)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	op, ok := m.ops[id]
	if !ok {
		if !create {
			return
		}
		op = &Operator{ID: id, State: LoggedOut}
		m.ops[id] = op
	}
	fn(op)
}

// unoffer clears the offer of the call ringing op, if the shadow has it.
// m.mu must be held.
func (m *Memory) unoffer(op *Operator) {
	if op.State != Ringing {
		return
	}
	if c, ok := m.calls[op.CallID]; ok && c.offeredTo == op.ID {
		c.offeredTo, c.expires = "", time.Time{}
	}
	op.CallID = ""
}

func (m *Memory) shadowLogin(in Operator, now time.Time) {
	in, err := validateOperator(in)
	if err != nil {
		return
	}
	now = ms(now)
	m.shadowOp(in.ID, true, func(op *Operator) {
		op.Endpoint, op.Skills = in.Endpoint, in.Skills
		if op.State == LoggedOut {
			op.State, op.Since, op.IdleSince, op.PauseReason, op.WrapUntil, op.CallID = Available, now, now, "", time.Time{}, ""
		}
	})
}

func (m *Memory) shadowLogout(id string, now time.Time) {
	m.shadowOp(id, false, func(op *Operator) {
		m.unoffer(op)
		op.State, op.Since, op.PauseReason, op.WrapUntil, op.CallID = LoggedOut, ms(now), "", time.Time{}, ""
	})
}

func (m *Memory) shadowPause(id, reason string, now time.Time) {
	m.shadowOp(id, false, func(op *Operator) {
		if op.State == Paused {
			op.PauseReason = reason
			return
		}
		m.unoffer(op)
		op.State, op.Since, op.PauseReason, op.WrapUntil, op.CallID = Paused, ms(now), reason, time.Time{}, ""
	})
}

func (m *Memory) shadowUnpause(id string, now time.Time) {
	now = ms(now)
	m.shadowOp(id, false, func(op *Operator) {
		op.State, op.Since, op.IdleSince, op.PauseReason = Available, now, now, ""
	})
}

// shadowOffer records an offer Redis made. An operator the shadow did not
// know yet is learnt with the offer's language as skill.
func (m *Memory) shadowOffer(o Offer, now time.Time) {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.calls[o.CallID]; ok {
		c.offeredTo, c.expires = o.OperatorID, ms(o.Expires)
	}
	op, ok := m.ops[o.OperatorID]
	if !ok {
		op = &Operator{ID: o.OperatorID, Endpoint: o.Endpoint, Skills: []string{o.Language}, IdleSince: now}
		m.ops[o.OperatorID] = op
	}
	op.State, op.Since, op.CallID = Ringing, now, o.CallID
}

func (m *Memory) shadowAnswered(o Offer, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.calls, o.CallID)
	if op, ok := m.ops[o.OperatorID]; ok {
		op.State, op.Since, op.CallID = Busy, ms(now), o.CallID
	}
}

func (m *Memory) shadowRingFailed(o Offer, pause bool, reason string, now time.Time) {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.calls[o.CallID]; ok && c.offeredTo == o.OperatorID {
		c.offeredTo, c.expires = "", time.Time{}
	}
	op, ok := m.ops[o.OperatorID]
	if !ok {
		return
	}
	op.CallID, op.Since = "", now
	if pause {
		op.State, op.PauseReason = Paused, reason
	} else {
		op.State, op.IdleSince = Available, now
	}
}

func (m *Memory) shadowFinish(id string, wrapUntil, now time.Time) {
	now, wrapUntil = ms(now), ms(wrapUntil)
	m.shadowOp(id, false, func(op *Operator) {
		op.CallID, op.Since = "", now
		if wrapUntil.After(now) {
			op.State, op.WrapUntil = WrapUp, wrapUntil
		} else {
			op.State, op.IdleSince = Available, now
		}
	})
}

// memState is a deep copy of a Memory's calls and operators.
type memState struct {
	calls map[string]*memCall
	ops   map[string]*Operator
}

func copyState(calls map[string]*memCall, ops map[string]*Operator) memState {
	s := memState{calls: make(map[string]*memCall, len(calls)), ops: make(map[string]*Operator, len(ops))}
	for id, c := range calls {
		cc := *c
		s.calls[id] = &cc
	}
	for id, op := range ops {
		o := copyOp(op)
		s.ops[id] = &o
	}
	return s
}

// export returns a deep copy of m's state.
func (m *Memory) export() memState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copyState(m.calls, m.ops)
}

// load replaces m's state with a copy of s, made consistent: an operator
// ringing for a call s does not hold (another node's call) is made
// available, keeping IdleSince. Watchers get one event per waiting call
// and per operator so that a dispatcher following them runs at once.
func (m *Memory) load(s memState, now time.Time) {
	s = copyState(s.calls, s.ops)
	now = ms(now)
	for _, op := range s.ops {
		if op.State != Ringing {
			continue
		}
		if c, ok := s.calls[op.CallID]; !ok || c.offeredTo != op.ID {
			op.State, op.Since, op.CallID = Available, now, ""
		}
	}
	for _, c := range s.calls {
		if c.offeredTo == "" {
			continue
		}
		if op, ok := s.ops[c.offeredTo]; !ok || op.State != Ringing || op.CallID != c.ID {
			c.offeredTo, c.expires = "", time.Time{}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls, m.ops = s.calls, s.ops
	calls := slices.SortedFunc(maps.Values(m.calls), callLess)
	for _, c := range calls {
		m.emit(Event{Kind: EventEnqueued, At: c.Enqueued, CallID: c.ID, Language: c.Language})
	}
	for _, id := range slices.Sorted(maps.Keys(m.ops)) {
		if op := m.ops[id]; op.State != LoggedOut {
			m.opEvent(op, now)
		}
	}
}

// pendingOffers reports whether any offer is outstanding and the earliest
// expiry among them (after returning those expired by now).
func (m *Memory) pendingOffers(now time.Time) (bool, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.housekeep(now)
	var first time.Time
	found := false
	for _, c := range m.calls {
		if c.offeredTo != "" {
			if !found || c.expires.Before(first) {
				first = c.expires
			}
			found = true
		}
	}
	return found, first
}
