package ari

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is one message of the ARI event WebSocket: a generated struct per
// event model of events.json (*StasisStart, *ChannelDtmfReceived, ...), an
// *UnknownEvent for a type the schema does not list, or one of the
// synthetic events this package adds (*Reconnected, *InvalidEvent).
type Event interface {
	// EventType is the "type" key, e.g. "StasisStart".
	EventType() string
	// EventHeader returns the keys every event carries.
	EventHeader() *Header
	// Refs lists the channels, bridges, playbacks, recordings, endpoints
	// and device states the event concerns; per-id subscriptions route on it.
	Refs() []Ref
}

// Header holds the keys common to every ARI event (models Message and
// Event of events.json). Every event struct embeds it.
type Header struct {
	// Type is "type", the event's model name.
	Type string `json:"type"`
	// AsteriskID is "asterisk_id", the sending Asterisk's entity id (optional).
	AsteriskID string `json:"asterisk_id,omitempty"`
	// Application is "application", the Stasis app the event is for.
	Application string `json:"application,omitempty"`
	// Timestamp is "timestamp", when Asterisk raised the event.
	Timestamp Time `json:"timestamp,omitzero"`
}

// EventType returns h.Type.
func (h *Header) EventType() string { return h.Type }

// EventHeader returns h itself.
func (h *Header) EventHeader() *Header { return h }

// UnknownEvent is an event whose type this package's schema does not list
// (a newer Asterisk, a module we did not expect). It is delivered like any
// other event, never dropped: Raw keeps the whole message.
type UnknownEvent struct {
	Header
	// Raw is the complete JSON message as received.
	Raw json.RawMessage `json:"-"`
}

// MarshalJSON writes the original message.
func (e *UnknownEvent) MarshalJSON() ([]byte, error) { return e.Raw, nil }

// Refs guesses the objects an unknown event concerns from the keys the
// known events use ("channel", "bridge", "playback", "recording", "peer").
func (e *UnknownEvent) Refs() []Ref {
	var probe struct {
		Channel   *struct{ ID string }   `json:"channel"`
		Peer      *struct{ ID string }   `json:"peer"`
		Bridge    *struct{ ID string }   `json:"bridge"`
		Playback  *struct{ ID string }   `json:"playback"`
		Recording *struct{ Name string } `json:"recording"`
	}
	if json.Unmarshal(e.Raw, &probe) != nil {
		return nil
	}
	var dst []Ref
	for _, r := range []struct {
		kind RefKind
		ok   bool
		id   func() string
	}{
		{RefChannel, probe.Channel != nil, func() string { return probe.Channel.ID }},
		{RefChannel, probe.Peer != nil, func() string { return probe.Peer.ID }},
		{RefBridge, probe.Bridge != nil, func() string { return probe.Bridge.ID }},
		{RefPlayback, probe.Playback != nil, func() string { return probe.Playback.ID }},
		{RefRecording, probe.Recording != nil, func() string { return probe.Recording.Name }},
	} {
		if r.ok && r.id() != "" {
			dst = append(dst, Ref{r.kind, r.id()})
		}
	}
	return dst
}

// RefKind is the kind of Asterisk object a Ref names. The values are the
// prefixes ARI uses in target_uri and eventSource ("channel:<id>").
type RefKind string

// The kinds of objects events refer to.
const (
	RefChannel     RefKind = "channel"
	RefBridge      RefKind = "bridge"
	RefPlayback    RefKind = "playback"
	RefRecording   RefKind = "recording"
	RefEndpoint    RefKind = "endpoint"
	RefDeviceState RefKind = "deviceState"
)

// Ref names one Asterisk object: a channel id, bridge id, playback id,
// recording name, endpoint "tech/resource" or device name.
type Ref struct {
	Kind RefKind
	ID   string
}

// String returns "kind:id", the form of ARI's eventSource and target_uri.
func (r Ref) String() string { return string(r.Kind) + ":" + r.ID }

// ParseRef parses "kind:id" (a target_uri such as "channel:1795446033.2").
func ParseRef(s string) (Ref, bool) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return Ref{}, false
	}
	return Ref{RefKind(kind), id}, true
}

// IDs returns the ids of the refs of the given kind, in order.
func IDs(refs []Ref, kind RefKind) []string {
	var ids []string
	for _, r := range refs {
		if r.Kind == kind {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func (c *Channel) appendRefs(dst []Ref) []Ref {
	if c.ID == "" {
		return dst
	}
	return append(dst, Ref{RefChannel, c.ID})
}

func (b *Bridge) appendRefs(dst []Ref) []Ref {
	if b.ID == "" {
		return dst
	}
	return append(dst, Ref{RefBridge, b.ID})
}

// A playback also concerns its target (target_uri "channel:<id>" or
// "bridge:<id>"), so a channel's subscribers see its PlaybackFinished.
func (p *Playback) appendRefs(dst []Ref) []Ref {
	if p.ID != "" {
		dst = append(dst, Ref{RefPlayback, p.ID})
	}
	if r, ok := ParseRef(p.TargetURI); ok {
		dst = append(dst, r)
	}
	return dst
}

// A live recording concerns its name and its target, as a playback does.
func (l *LiveRecording) appendRefs(dst []Ref) []Ref {
	if l.Name != "" {
		dst = append(dst, Ref{RefRecording, l.Name})
	}
	if r, ok := ParseRef(l.TargetURI); ok {
		dst = append(dst, r)
	}
	return dst
}

func (e *Endpoint) appendRefs(dst []Ref) []Ref {
	if e.Technology == "" && e.Resource == "" {
		return dst
	}
	return append(dst, Ref{RefEndpoint, e.Technology + "/" + e.Resource})
}

func (d *DeviceState) appendRefs(dst []Ref) []Ref {
	if d.Name == "" {
		return dst
	}
	return append(dst, Ref{RefDeviceState, d.Name})
}

// Errors DecodeEvent reports, matched with errors.Is through *DecodeError.
var (
	// ErrMalformedEvent: the message is not a JSON object, or a known key
	// has the wrong JSON type.
	ErrMalformedEvent = errors.New("ari: malformed event")
	// ErrMissingType: the message is a JSON object without a string "type".
	ErrMissingType = errors.New("ari: event without type")
)

// DecodeError is why DecodeEvent rejected a message.
type DecodeError struct {
	// Type is the event's "type" when it could be read.
	Type string
	// Kind is ErrMalformedEvent or ErrMissingType.
	Kind error
	// Err is the underlying JSON error, if any.
	Err error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Type != "" {
		fmt.Fprintf(&b, " %q", e.Type)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind sentinel and the JSON error.
func (e *DecodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// DecodeEvent decodes one event message. A type the schema lists gives its
// struct; any other type gives an *UnknownEvent, not an error. Keys the
// struct does not know are ignored and missing keys stay zero, so a newer
// Asterisk still decodes. The error, always a *DecodeError, is for messages
// that are not JSON objects, lack a string "type", or carry a known key with
// the wrong JSON type.
func DecodeEvent(data []byte) (Event, error) {
	var probe struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, &DecodeError{Kind: ErrMalformedEvent, Err: err}
	}
	if probe.Type == nil || *probe.Type == "" {
		return nil, &DecodeError{Kind: ErrMissingType}
	}
	ev := newEvent(*probe.Type)
	if ev == nil {
		u := &UnknownEvent{Raw: json.RawMessage(append([]byte(nil), data...))}
		ev = u
	}
	target := any(ev)
	if u, ok := ev.(*UnknownEvent); ok {
		target = &u.Header
	}
	if err := json.Unmarshal(data, target); err != nil {
		return nil, &DecodeError{Type: *probe.Type, Kind: ErrMalformedEvent, Err: err}
	}
	// encoding/json matches keys case-insensitively; keep the exact type.
	ev.EventHeader().Type = *probe.Type
	return ev, nil
}

// Time returns when Asterisk raised the event (zero for synthetic events
// that carry no timestamp).
func (h *Header) Time() time.Time { return h.Timestamp.Time }
