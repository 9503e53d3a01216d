package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// memNodes is Memory's multi-node state; its zero value is ready (maps
// are made on first use), guarded by Memory.mu.
type memNodes struct {
	beats map[string]time.Time // node -> heartbeat expiry
	dead  map[string]bool
	hosts map[string]string // operator -> node
	hand  map[string]chan Offer
	via   map[string][2]string // operator -> {node, call}
}

// memHandOverBuffer is how many handed-over offers may wait for a node's
// receiver; beyond it HandOver fails (and the offer expires).
const memHandOverBuffer = 64

func (n *memNodes) init() {
	if n.beats == nil {
		n.beats, n.dead, n.hosts, n.hand = map[string]time.Time{}, map[string]bool{}, map[string]string{}, map[string]chan Offer{}
		n.via = map[string][2]string{}
	}
}

// Heartbeat implements Nodes.
func (m *Memory) Heartbeat(ctx context.Context, node string, now time.Time, ttl time.Duration) (int, error) {
	if err := checkName("node", node); err != nil {
		return 0, err
	}
	if ttl < time.Millisecond {
		return 0, fmt.Errorf("%w: heartbeat TTL %v", ErrInvalid, ttl)
	}
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes.init()
	m.nodes.beats[node] = ms(now.Add(ttl))
	if !m.nodes.dead[node] {
		return 0, nil
	}
	delete(m.nodes.dead, node)
	n := 0
	for _, id := range m.hostedBy(map[string]bool{node: true}) {
		op := m.ops[id]
		if op != nil && op.State == Paused && op.PauseReason == ReasonUnreachable {
			op.State, op.Since, op.IdleSince, op.PauseReason = Available, now, now, ""
			m.opEvent(op, now)
			n++
		}
	}
	return n, nil
}

// hostedBy lists, sorted, the operators hosted by the nodes in set.
func (m *Memory) hostedBy(set map[string]bool) []string {
	var ids []string
	for id, node := range m.nodes.hosts {
		if set[node] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Host implements Nodes.
func (m *Memory) Host(ctx context.Context, operatorID, node string) error {
	if err := checkID("operator", operatorID); err != nil {
		return err
	}
	if err := checkName("node", node); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes.init()
	m.nodes.hosts[operatorID] = node
	return nil
}

// HostOf implements Nodes.
func (m *Memory) HostOf(ctx context.Context, operatorID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nodes.hosts[operatorID], nil
}

// Remote implements Nodes.
func (m *Memory) Remote(ctx context.Context, operatorID, callID, node string) error {
	if err := errors.Join(checkID("operator", operatorID), checkID("call", callID), checkName("node", node)); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes.init()
	m.nodes.via[operatorID] = [2]string{node, callID}
	return nil
}

// Reap implements Nodes.
func (m *Memory) Reap(ctx context.Context, now time.Time) ([]string, error) {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes.init()
	dead := map[string]bool{}
	var names []string
	for node, exp := range m.nodes.beats {
		if !exp.After(now) {
			dead[node] = true
			names = append(names, node)
		}
	}
	if len(names) == 0 {
		return []string{}, nil
	}
	slices.Sort(names)
	for _, node := range names {
		delete(m.nodes.beats, node)
		m.nodes.dead[node] = true
	}
	for _, id := range m.hostedBy(dead) {
		op := m.ops[id]
		if op == nil || op.State == LoggedOut || (op.State == Paused && op.PauseReason == ReasonUnreachable) {
			continue
		}
		m.withdraw(op, ReasonUnreachable, now)
		op.State, op.Since, op.PauseReason, op.WrapUntil, op.CallID = Paused, now, ReasonUnreachable, time.Time{}, ""
		m.opEvent(op, now)
	}
	var gone []*memCall
	for _, c := range m.calls {
		if dead[c.Node] {
			gone = append(gone, c)
		}
	}
	slices.SortFunc(gone, func(a, b *memCall) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	for _, c := range gone {
		delete(m.calls, c.ID)
		m.emit(Event{Kind: EventLeft, At: now, CallID: c.ID, OperatorID: c.offeredTo, Language: c.Language, Reason: ReasonNodeDown})
		if op := m.ops[c.offeredTo]; op != nil && op.State == Ringing && op.CallID == c.ID {
			op.State, op.Since, op.CallID = Available, now, ""
			m.opEvent(op, now)
		}
	}
	var talking []string
	for id, v := range m.nodes.via {
		if dead[v[0]] {
			talking = append(talking, id)
		}
	}
	slices.Sort(talking)
	for _, id := range talking {
		v := m.nodes.via[id]
		delete(m.nodes.via, id)
		if op := m.ops[id]; op != nil && op.State == Busy && op.CallID == v[1] {
			op.State, op.Since, op.IdleSince, op.CallID = Available, now, now, ""
			m.opEvent(op, now)
		}
	}
	return names, nil
}

// HandOver implements Nodes. Offers wait in a bounded buffer for the
// node's receiver; a full buffer is an error (the offer then expires).
func (m *Memory) HandOver(ctx context.Context, o Offer) error {
	if err := checkName("node", o.Node); err != nil {
		return fmt.Errorf("hand over %s: %w", o.CallID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes.init()
	ch, ok := m.nodes.hand[o.Node]
	if !ok {
		ch = make(chan Offer, memHandOverBuffer)
		m.nodes.hand[o.Node] = ch
	}
	select {
	case ch <- o:
		return nil
	default:
		return fmt.Errorf("queue: hand over %s to node %s: backlog of %d offers full", o.CallID, o.Node, memHandOverBuffer)
	}
}

// HandedOver implements Nodes.
func (m *Memory) HandedOver(ctx context.Context, node string) (<-chan Offer, error) {
	if err := checkName("node", node); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.nodes.init()
	ch, ok := m.nodes.hand[node]
	if !ok {
		ch = make(chan Offer, memHandOverBuffer)
		m.nodes.hand[node] = ch
	}
	m.mu.Unlock()
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		if m.nodes.hand[node] == ch {
			delete(m.nodes.hand, node)
		}
		close(ch)
		m.mu.Unlock()
	}()
	return ch, nil
}
