package aritest

import (
	"container/heap"
	"time"
)

// The world runs on one mutex and one agenda of timed actions. Every entry
// point (an HTTP request, a test driving a phone, the clock's wake-up) takes
// the lock with lock(), which first runs every action already due, and
// leaves with unlock(), which runs the actions that became due meanwhile and
// re-arms a single clock timer for the next one.
//
// An action runs with the world's time (s.vnow) set to its own due time, not
// to the clock's reading. So when a test advances a fake clock by ten
// minutes in one step, a chain of prompts (each starting when the previous
// ends) still gets the timestamps and lengths it would have had in real
// time: clockwork's AfterFunc alone would start each link of the chain at
// the end of the jump.

// action is one scheduled step of the world.
type action struct {
	due      time.Time
	seq      uint64
	fn       func()
	index    int
	canceled bool
}

// cancel keeps a pending action from running. Safe on nil and on actions
// that already ran.
func (a *action) cancel() {
	if a != nil {
		a.canceled = true
	}
}

// agenda is a min-heap of actions by due time, then by scheduling order
// (container/heap's methods follow).
type agenda []*action

func (h agenda) Len() int { return len(h) }
func (h agenda) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h agenda) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *agenda) Push(x any)   { a := x.(*action); a.index = len(*h); *h = append(*h, a) }
func (h *agenda) Pop() any {
	old := *h
	n := len(old)
	a := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return a
}

// lock takes the world lock and catches the world up with the clock.
func (s *Server) lock() {
	s.mu.Lock()
	s.runDue()
}

// unlock runs what became due, re-arms the wake-up timer, wakes the
// Await helpers and releases the world lock.
func (s *Server) unlock() {
	s.runDue()
	s.armWake()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// now is the world's time: the due time of the running action, else the
// clock's reading. It never goes backwards.
func (s *Server) now() time.Time { return s.vnow }

// after schedules fn to run d after the world's current time. d <= 0 runs
// it before the current entry point returns, after what is already queued
// for the same instant.
func (s *Server) after(d time.Duration, fn func()) *action {
	if d < 0 {
		d = 0
	}
	s.seq++
	a := &action{due: s.vnow.Add(d), seq: s.seq, fn: fn}
	heap.Push(&s.agenda, a)
	return a
}

func (s *Server) runDue() {
	now := s.clock.Now()
	for len(s.agenda) > 0 && !s.agenda[0].due.After(now) {
		a := heap.Pop(&s.agenda).(*action)
		if a.canceled {
			continue
		}
		if a.due.After(s.vnow) {
			s.vnow = a.due
		}
		a.fn()
	}
	if now.After(s.vnow) {
		s.vnow = now
	}
}

func (s *Server) armWake() {
	for len(s.agenda) > 0 && s.agenda[0].canceled {
		heap.Pop(&s.agenda)
	}
	if len(s.agenda) == 0 || s.closed {
		if s.wake != nil {
			s.wake.Stop()
			s.wake = nil
		}
		return
	}
	due := s.agenda[0].due
	if s.wake != nil && s.wakeAt.Equal(due) {
		return
	}
	if s.wake != nil {
		s.wake.Stop()
	}
	s.wakeAt = due
	s.wake = s.clock.AfterFunc(due.Sub(s.clock.Now()), func() {
		s.lock()
		s.unlock()
	})
}

// Flush runs every action that is due at the clock's current reading. A
// test that advanced a fake clock can call it to see the effects at once,
// without waiting for the emulator's timer goroutine; the Await helpers do
// not need it.
func (s *Server) Flush() {
	s.lock()
	s.unlock()
}
