package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// EventKind says what changed.
type EventKind string

// Event kinds. Every state change of a call or an operator produces one
// event; an Assign that promotes wrap-ups and reaps offers produces one per
// change, in the order they happened.
const (
	// EventEnqueued: a call entered the queue (not repeated by an
	// idempotent re-Enqueue).
	EventEnqueued EventKind = "enqueued"
	// EventLeft: a call left the queue without being answered (Leave).
	EventLeft EventKind = "left"
	// EventOffered: a call was reserved for an operator, who now rings.
	EventOffered EventKind = "offered"
	// EventReturned: an offer ended unanswered and the call is back in its
	// place; Reason is "ring_failed", "expired", "paused" or "logout".
	EventReturned EventKind = "returned"
	// EventAnswered: the operator answered; the call left the queue.
	EventAnswered EventKind = "answered"
	// EventOperator: an operator changed state (State is the new one;
	// Reason is the pause reason when paused).
	EventOperator EventKind = "operator"
)

// Event is one state change, for the supervisor's live view. Events are
// hints to redraw, not a log: a watcher that drops or misses some (slow
// reader, Redis reconnect) re-reads Snapshot, which is always
// authoritative.
//
// On Redis each event is PUBLISHed, from inside the script that made the
// change, on the channel "<prefix>:{<service>}:events" as one JSON object:
//
//	{"kind":"offered","at":1700000000123,"call":"c-42","op":"op-7","lang":"it","state":"ringing"}
//
// with "at" in Unix milliseconds (the caller's clock) and "call", "op",
// "lang", "state", "reason" present when they apply. Events never carry a
// caller number or tag. DecodeEvent reads that form.
type Event struct {
	Kind       EventKind
	At         time.Time
	CallID     string
	OperatorID string
	Language   string
	State      State
	Reason     string
}

type wireEvent struct {
	Kind   EventKind `json:"kind"`
	At     *int64    `json:"at"`
	Call   string    `json:"call,omitempty"`
	Op     string    `json:"op,omitempty"`
	Lang   string    `json:"lang,omitempty"`
	State  State     `json:"state,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// MarshalJSON writes the wire form documented on Event.
func (e Event) MarshalJSON() ([]byte, error) {
	at := e.At.UnixMilli()
	return json.Marshal(wireEvent{Kind: e.Kind, At: &at, Call: e.CallID, Op: e.OperatorID, Lang: e.Language, State: e.State, Reason: e.Reason})
}

// DecodeEvent parses one published event. Unknown fields are ignored (a
// newer node may add some); an unknown kind or a missing time is an error.
func DecodeEvent(b []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return Event{}, fmt.Errorf("queue: decoding event: %w", err)
	}
	switch w.Kind {
	case EventEnqueued, EventLeft, EventOffered, EventReturned, EventAnswered, EventOperator:
	case "":
		return Event{}, fmt.Errorf("queue: decoding event: missing \"kind\"")
	default:
		return Event{}, fmt.Errorf("queue: decoding event: unknown kind %q", w.Kind)
	}
	if w.At == nil {
		return Event{}, fmt.Errorf("queue: decoding event %q: missing \"at\"", w.Kind)
	}
	return Event{Kind: w.Kind, At: time.UnixMilli(*w.At), CallID: w.Call, OperatorID: w.Op,
		Language: w.Lang, State: w.State, Reason: w.Reason}, nil
}

// Watcher is implemented by stores that can stream their Events. It is
// separate from Queue because only the supervisor's view needs it, and a
// fake Queue in a test should not have to provide it.
type Watcher interface {
	// Watch streams events until ctx is done, then closes the channel.
	// The subscription is in place when Watch returns, so a change made
	// afterwards is seen. A slow reader loses events rather than slowing
	// the queue down (see Event).
	Watch(ctx context.Context) (<-chan Event, error)
}
