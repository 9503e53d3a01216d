package cdr

import (
	"context"
	"errors"
	"time"
)

// Direction of a call.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Outcome is how a call ended. Every call ends in exactly one.
type Outcome string

// Inbound outcomes (DESIGN.md "Inbound call flow and its outcomes").
const (
	Answered      Outcome = "answered"
	Unanswered    Outcome = "unanswered"
	Voicemail     Outcome = "voicemail"
	Abandoned     Outcome = "abandoned"
	Blacklisted   Outcome = "blacklisted"
	WelcomeHangup Outcome = "welcome_hangup"
)

// Outbound outcomes (calls to the anti-violence network). Answered is
// shared with inbound.
const (
	Busy     Outcome = "busy"
	NoAnswer Outcome = "no_answer"
	Failed   Outcome = "failed"
)

// Who hung up a call.
const (
	HangupCaller   = "caller"
	HangupOperator = "operator"
	HangupSystem   = "system"
)

// ErrInvalid marks a record that breaks the rules of its direction and
// outcome (see Record.Validate).
var ErrInvalid = errors.New("cdr: invalid record")

// Record is one call. Times are UTC; optional times are zero when the call
// never reached that step. It never holds a raw number: CallerHash and
// CalleeHash are keyed HMACs (package callerid).
type Record struct {
	ID        string
	Direction Direction
	Service   string
	Outcome   Outcome

	ArrivedAt   time.Time
	QueuedAt    time.Time
	ConnectedAt time.Time
	EndedAt     time.Time

	Language string
	Operator string

	CallerHash string
	Withheld   bool
	CalleeHash string
	// Target is the directory code of the service called (outbound) or
	// to which the caller was transferred (inbound).
	Target string

	HangupCause int
	HangupBy    string
	// Voicemail is the recording's name for voicemail outcomes.
	Voicemail string
	// Transfer notes a transfer of an inbound caller: "blind:<code>:<result>".
	Transfer string
	// Fallback is true when the call was handled while Redis was
	// unreachable (in-process queue, blacklist skipped).
	Fallback bool
	// Note says why an abnormal end happened (e.g. "asterisk_restart").
	Note string
}

// WaitSeconds is the wait from queue entry to operator, for answered
// inbound calls; 0 otherwise.
func (r Record) WaitSeconds() float64 {
	if r.QueuedAt.IsZero() || r.ConnectedAt.IsZero() {
		return 0
	}
	return r.ConnectedAt.Sub(r.QueuedAt).Seconds()
}

// TalkSeconds is the answered part of the call; 0 if never connected.
func (r Record) TalkSeconds() float64 {
	if r.ConnectedAt.IsZero() || r.EndedAt.Before(r.ConnectedAt) {
		return 0
	}
	return r.EndedAt.Sub(r.ConnectedAt).Seconds()
}

// Writer persists records. Write is idempotent by ID: writing a record
// whose ID is already stored changes nothing and returns nil, so a retried
// or re-adopted call is never counted twice. A nil error means the record
// is durable.
type Writer interface {
	Write(ctx context.Context, r Record) error
}
