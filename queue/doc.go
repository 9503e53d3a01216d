// Package queue holds the calls waiting for an operator and the operators
// who can take them, and matches the two.
//
// The matching must be atomic across every helpline node sharing one
// Redis: two nodes assigning at once must never ring one operator for two
// callers, nor offer one caller to two operators. So each step that reads
// and writes several pieces of state (Assign, Answered, RingFailed, Leave,
// Logout…) is a single Lua script in the Redis store, and every step takes
// the caller's clock reading as an argument instead of the server's or the
// node's wall clock: the stores hold no clock, tests drive time by hand,
// and a reservation's expiry means the same thing on every node.
//
// An offer is a reservation, not an assignment: the caller is held for an
// operator while the softphone rings, and if the ringing node dies the
// reservation simply expires and the caller goes back to their place.
// "Their place" is the Enqueued time, kept through offers, failures,
// restarts and re-adoption, because a caller who waited ten minutes must
// not be overtaken because an operator's phone did not answer.
//
// Memory is more than a test double: it is what keeps calls flowing when
// Redis is unreachable (IsUnavailable tells the two kinds of failure
// apart), so it implements the same contract and runs the same suite
// (package queuetest) as the Redis store.
//
// Failover is what a node actually uses: Redis while it answers, Memory on
// this node while it does not, and a reconciliation when it returns (the
// node's waiting calls re-enqueued in their order, its operators' states
// written back). It lives here rather than in a sub-package because
// loading Memory with an exact copy of state — offers with their expiry,
// busy and wrap-up operators — needs Memory's insides: no Queue method
// makes an operator busy out of thin air.
//
// Calls carry their ID and a display Tag, never a number: the queue is
// shared state and must be safe to show on a supervisor's screen. State
// changes are streamed as Events (Watcher) so that screen follows without
// polling.
package queue
