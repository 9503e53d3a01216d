package ari

import (
	"encoding/json"
	"time"
)

// Types of the events this package makes up itself; Asterisk never sends them.
const (
	// TypeReconnected is the type of *Reconnected.
	TypeReconnected = "Reconnected"
	// TypeInvalidEvent is the type of *InvalidEvent.
	TypeInvalidEvent = "InvalidEvent"
)

// Reconnected is emitted by Events to every subscription after the event
// WebSocket was lost and has been opened again. Asterisk replays nothing:
// whatever happened in between (a digit, a hang-up) is lost, while calls
// stay in Stasis. On Reconnected an application reconciles its state with
// GET /channels (Client.Channels().List) or GET /applications/{app}.
type Reconnected struct {
	Header
	// Attempts is how many dials the outage took (1 when the first redial worked).
	Attempts int `json:"attempts"`
	// Down is how long no socket was open.
	Down time.Duration `json:"down"`
	// Cause says why the previous socket ended.
	Cause string `json:"cause,omitempty"`
}

// Refs returns nil: a Reconnected concerns every object and is delivered
// to every subscription regardless of its ids.
func (*Reconnected) Refs() []Ref { return nil }

// InvalidEvent is a WebSocket message DecodeEvent rejected (not JSON, no
// type, a field of the wrong JSON type). Events delivers it instead of
// dropping it, counts it, and keeps the connection going.
type InvalidEvent struct {
	Header
	// Raw is the message as received.
	Raw json.RawMessage `json:"raw"`
	// Err is DecodeEvent's *DecodeError.
	Err error `json:"-"`
}

// Refs guesses the objects the message concerns, as UnknownEvent.Refs does
// (a wrong-typed field elsewhere does not stop "channel" from decoding).
func (e *InvalidEvent) Refs() []Ref { return (&UnknownEvent{Raw: e.Raw}).Refs() }
