package queue

import (
	"context"
	"errors"
	"time"
)

// State is an operator's state. The zero value is LoggedOut.
type State string

// Operator states. Transitions (each one atomic in the store):
//
//	logged_out --Login--> available --Assign--> ringing --Answered--> busy
//	busy --Finish--> wrapup --(until passes)--> available
//	ringing --RingFailed(pause=true)--> paused
//	ringing --RingFailed(pause=false) | offer expiry | Leave--> available
//	available|wrapup|ringing --Pause--> paused --Unpause--> available
//	any --Logout--> logged_out
//
// Whenever a ringing operator stops ringing without answering (RingFailed,
// expiry, Pause, Logout) the offered call goes back to the queue with its
// original Enqueued time, so no later call overtakes it.
//
// IdleSince, which orders available operators, is set to the instant the
// operator became free: Login, Unpause and the end of a wrap-up
// (WrapUntil). An operator whose offer ended unanswered (RingFailed with
// pause=false, expiry) goes to the back (IdleSince = now) so the next
// Assign tries someone else; one whose caller hung up while ringing (Leave)
// keeps their IdleSince, since they lost nothing by their own doing.
//
// Times are kept at millisecond precision by every store.
const (
	LoggedOut State = "logged_out"
	Available State = "available"
	Ringing   State = "ringing"
	Busy      State = "busy"
	WrapUp    State = "wrapup"
	Paused    State = "paused"
)

// Sentinel errors callers branch on (wrapped with context by the stores).
var (
	// ErrNoMatch: no waiting call has an available operator with its skill.
	ErrNoMatch = errors.New("queue: no call/operator match")
	// ErrUnknownCall: the call is not (or no longer) in the queue.
	ErrUnknownCall = errors.New("queue: unknown call")
	// ErrUnknownOperator: the operator is not known to the queue.
	ErrUnknownOperator = errors.New("queue: unknown operator")
	// ErrOfferLost: the offer expired or was withdrawn (the caller hung
	// up, the reservation TTL passed) before it was acted upon.
	ErrOfferLost = errors.New("queue: offer no longer valid")
	// ErrBadState: the operator is not in a state that allows the action
	// (e.g. Unpause of an operator who is busy).
	ErrBadState = errors.New("queue: operator state does not allow this")
	// ErrInvalid: an argument is malformed (empty ID, missing language,
	// zero Enqueued time, non-positive TTL, a call of another service…).
	// The wrapping error names the problem.
	ErrInvalid = errors.New("queue: invalid argument")
	// ErrUnavailable: the store could not be reached (network failure,
	// timeout, or a server that cannot serve: loading, read-only replica,
	// out of memory). This, and only this, is the cue to switch to the
	// in-process fallback; a refusal by a reachable server (a bug in a
	// script, a wrong password) is a different error. Use IsUnavailable.
	ErrUnavailable = errors.New("queue: store unavailable")
)

// IsUnavailable reports whether err means the store could not be reached
// and the caller should fall back to an in-process queue.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// Call is a caller waiting for an operator. It carries no number: Tag is
// a short non-reversible label for the supervisor's view.
type Call struct {
	ID       string
	Service  string
	Language string
	// Node is the helpline node that owns the caller's channel; the offer
	// must be acted on there.
	Node string
	Tag  string
	// Enqueued is when the call entered the queue; it orders the queue and
	// is kept across offers, restarts and re-adoption.
	Enqueued time.Time
}

// Operator is an operator as the queue sees them.
type Operator struct {
	ID       string
	Endpoint string
	Skills   []string
	State    State
	// Since is when the operator entered State.
	Since time.Time
	// IdleSince orders available operators: longest idle is offered first.
	IdleSince   time.Time
	PauseReason string
	// WrapUntil is when a wrap-up ends (State == WrapUp).
	WrapUntil time.Time
	// CallID is the call ringing or talking with the operator, if any.
	CallID string
}

// Offer reserves one waiting call for one operator while the operator's
// phone rings. It expires at Expires unless Answered or RingFailed is
// called first (RingFailed with pause=false is the plain release).
//
// An offer is identified by CallID, OperatorID and Expires together: after
// an expiry the same call may be offered to the same operator again, and a
// late answer to the stale offer must not confirm the new one.
type Offer struct {
	CallID     string
	OperatorID string
	Endpoint   string
	Language   string
	Node       string
	Expires    time.Time
}

// Snapshot is the whole queue at one instant, for announcements and the
// supervisor's live view.
type Snapshot struct {
	At time.Time
	// Waiting calls per language, oldest first (offered calls included,
	// flagged by OfferedTo).
	Waiting   map[string][]WaitingCall
	Operators []Operator
}

// WaitingCall is a Call plus its current offer, if any.
type WaitingCall struct {
	Call
	OfferedTo string
}

// Queue is the shared state of waiting calls and operators. Every method
// is atomic across helpline nodes sharing the store. Time is passed in by
// the caller (from its injected clock) so that stores hold no clock.
//
// Implementations: Redis (the real one, Lua scripts) and Memory (tests,
// the demo and the in-process fallback when Redis is down); one contract
// suite runs over both.
type Queue interface {
	// Enqueue adds a call. Idempotent by call ID: re-enqueueing a known
	// call keeps its original Enqueued time and place.
	Enqueue(ctx context.Context, c Call) error
	// Leave removes a call (abandoned, voicemail, max wait, connected
	// elsewhere). If the call was being offered, the operator returns to
	// available and their ID is returned so the ringing leg can be
	// cancelled. Leaving an unknown call returns ErrUnknownCall.
	Leave(ctx context.Context, callID string, now time.Time) (operatorID string, err error)
	// Position is the 1-based place of the call among those waiting in
	// its language (calls being offered count as ahead).
	Position(ctx context.Context, callID string) (int, error)

	// Login makes the operator available with the given skills (idempotent;
	// a logged-in operator keeps their state, skills are updated).
	Login(ctx context.Context, op Operator, now time.Time) error
	// Logout logs the operator out; an offer ringing them is returned to
	// the queue with its place.
	Logout(ctx context.Context, operatorID string, now time.Time) error
	// Pause pauses an available, wrap-up or ringing operator with reason
	// (a ringing offer is returned to the queue with its place). Pausing a
	// paused operator updates the reason. Busy or logged out: ErrBadState.
	Pause(ctx context.Context, operatorID, reason string, now time.Time) error
	// Unpause makes a paused operator available; any other state is
	// ErrBadState.
	Unpause(ctx context.Context, operatorID string, now time.Time) error

	// Assign atomically matches the oldest waiting call that has an
	// available operator with its language skill to the longest-idle such
	// operator, and reserves both until now+ttl. It first promotes
	// operators whose wrap-up ended by now and returns expired offers to
	// the queue. ErrNoMatch when nothing can be matched.
	Assign(ctx context.Context, now time.Time, ttl time.Duration) (Offer, error)
	// Answered confirms an offer: the call leaves the queue and the
	// operator becomes busy. ErrOfferLost if the offer is gone.
	Answered(ctx context.Context, o Offer, now time.Time) error
	// RingFailed returns the call to its place; the operator is paused
	// with reason (auto-pause after no answer) when pause is true, or made
	// available again otherwise.
	RingFailed(ctx context.Context, o Offer, pause bool, reason string, now time.Time) error
	// Finish ends the operator's call: wrap-up until wrapUntil (or
	// available at once when wrapUntil is not after now). Only a busy
	// operator can finish: ErrBadState otherwise.
	Finish(ctx context.Context, operatorID string, wrapUntil, now time.Time) error

	// Operator returns one operator's state as last written (a wrap-up
	// that ended is promoted by the next Assign or Snapshot). A logged-out
	// operator who was ever known is returned with State LoggedOut.
	Operator(ctx context.Context, operatorID string) (Operator, error)
	// Snapshot returns every waiting call and every logged-in operator
	// (ordered by ID), after promoting due wrap-ups and returning expired
	// offers as Assign does.
	Snapshot(ctx context.Context, now time.Time) (Snapshot, error)
}
