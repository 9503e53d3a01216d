package aritest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
)

// world is everything the emulated Asterisk knows. It is guarded by
// Server.mu; every method runs with the lock held.
type world struct {
	s *Server

	channels  map[string]*channel
	chanOrder []*channel
	bridges   map[string]*bridge
	brOrder   []*bridge
	playbacks []*playback
	live      map[string]*liveRecording
	stored    map[string]*storedRecording
	apps      map[string]*app
	appOrder  []*app
	endpoints []*endpoint
	globals   map[string]string
	devices   map[string]string // Stasis-controlled device states
	sockets   []*wsConn
	calls     []*Call

	uniqueSeq int // the sequence part of generated channel ids
	pjsipSeq  int // PJSIP/<endpoint>-%08x
	localSeq  int // Local/<exten>@<ctx>-%08x;n
	uuidSeq   int
	events    []LoggedEvent
}

// LoggedEvent is one event the emulator raised, whether or not an app was
// connected to receive it.
type LoggedEvent struct {
	// Time is the world's time of the event.
	Time time.Time
	// Event is the typed event, without Application (see Apps).
	Event ari.Event
	// Apps are the applications it was delivered to; empty when nobody
	// was subscribed or connected.
	Apps []string
}

func (w *world) init(s *Server) {
	w.s = s
	w.channels = map[string]*channel{}
	w.bridges = map[string]*bridge{}
	w.live = map[string]*liveRecording{}
	w.stored = map[string]*storedRecording{}
	w.apps = map[string]*app{}
	w.globals = map[string]string{}
	w.devices = map[string]string{}
	for _, e := range s.cfg.Endpoints {
		ep := &endpoint{Endpoint: e}
		if ep.Context == "" {
			ep.Context = "from-sip"
		}
		w.endpoints = append(w.endpoints, ep)
	}
}

// ---- applications and subscriptions ----

// sub are the reasons an app follows a channel.
type sub uint8

const (
	subStasis    sub = 1 << iota // in the app's Stasis
	subOriginate                 // originated by the app: followed until destroyed
	subExplicit                  // POST /applications/{app}/subscription
)

type app struct {
	name       string
	sock       *wsConn
	subscribed bool // has had a socket; Asterisk keeps the app registered afterwards
	all        bool // subscribeAll
	chans      map[string]sub
	bridges    map[string]bool
	endpoints  map[string]bool
	devices    map[string]bool
	allowed    []json.RawMessage
	disallowed []json.RawMessage
}

func (w *world) app(name string) *app {
	a := w.apps[name]
	if a == nil {
		a = &app{name: name, chans: map[string]sub{}, bridges: map[string]bool{}, endpoints: map[string]bool{}, devices: map[string]bool{}}
		w.apps[name] = a
		w.appOrder = append(w.appOrder, a)
	}
	return a
}

// active reports whether an app has a connected event socket: Stasis() on
// an app without one fails, as in Asterisk.
func (w *world) active(name string) *app {
	if a := w.apps[name]; a != nil && a.sock != nil {
		return a
	}
	return nil
}

func (a *app) follow(ch *channel, why sub) { a.chans[ch.id] |= why }

func (a *app) unfollow(ch *channel, why sub) {
	if v, ok := a.chans[ch.id]; ok {
		v &^= why
		if v == 0 {
			delete(a.chans, ch.id)
		} else {
			a.chans[ch.id] = v
		}
	}
}

func (a *app) wants(ev ari.Event) bool {
	if !a.filterAllows(ev.EventType()) {
		return false
	}
	if a.all {
		return true
	}
	for _, r := range ev.Refs() {
		switch r.Kind {
		case ari.RefChannel:
			if a.chans[r.ID] != 0 {
				return true
			}
		case ari.RefBridge:
			if a.bridges[r.ID] {
				return true
			}
		case ari.RefEndpoint:
			if a.endpoints[r.ID] {
				return true
			}
		case ari.RefDeviceState:
			if a.devices[r.ID] {
				return true
			}
		}
	}
	return false
}

func (a *app) filterAllows(typ string) bool {
	match := func(list []json.RawMessage) bool {
		for _, raw := range list {
			var f struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(raw, &f) == nil && f.Type == typ {
				return true
			}
		}
		return false
	}
	if len(a.allowed) > 0 && !match(a.allowed) {
		return false
	}
	return !match(a.disallowed)
}

func (w *world) appJSON(a *app) ari.Application {
	out := ari.Application{
		Name: a.name, ChannelIDs: []string{}, BridgeIDs: []string{}, EndpointIDs: []string{},
		DeviceNames: []string{}, EventsAllowed: nonNilRaw(a.allowed), EventsDisallowed: nonNilRaw(a.disallowed),
	}
	for _, ch := range w.chanOrder {
		if a.chans[ch.id] != 0 {
			out.ChannelIDs = append(out.ChannelIDs, ch.id)
		}
	}
	for _, b := range w.brOrder {
		if a.bridges[b.id] {
			out.BridgeIDs = append(out.BridgeIDs, b.id)
		}
	}
	for k := range a.endpoints {
		out.EndpointIDs = append(out.EndpointIDs, k)
	}
	sort.Strings(out.EndpointIDs)
	for k := range a.devices {
		out.DeviceNames = append(out.DeviceNames, k)
	}
	sort.Strings(out.DeviceNames)
	return out
}

func nonNilRaw(l []json.RawMessage) []json.RawMessage {
	if l == nil {
		return []json.RawMessage{}
	}
	return l
}

// ---- events ----

// emit stamps ev and delivers it to every app that follows one of the
// objects it concerns (or subscribed to all), in emission order.
func (w *world) emit(ev ari.Event) {
	h := ev.EventHeader()
	h.Type = eventTypeName(ev)
	h.Timestamp = ari.Time{Time: w.s.now()}
	h.AsteriskID = w.s.cfg.AsteriskID
	le := LoggedEvent{Time: w.s.now(), Event: ev}
	if d, ok := ev.(dialEvent); ok {
		le.Event = d.Dial
	}
	for _, a := range w.appOrder {
		if a.sock == nil || !a.wants(ev) {
			continue
		}
		h.Application = a.name
		b, err := json.Marshal(ev)
		if err != nil {
			w.s.gap(Gap{Detail: fmt.Sprintf("cannot encode %s: %v", h.Type, err)})
			continue
		}
		a.sock.enqueue(b)
		le.Apps = append(le.Apps, a.name)
	}
	h.Application = ""
	w.events = appendCapped(w.events, le)
	w.s.logf("event %s %v -> %v", h.Type, ev.Refs(), le.Apps)
}

// dialEvent writes a Dial as Asterisk does: with "forward":"" even when
// empty (ari.Dial omits an empty Forward).
type dialEvent struct{ *ari.Dial }

// MarshalJSON adds the empty "forward" Asterisk always sends.
func (d dialEvent) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(d.Dial)
	if err != nil || d.Forward != "" {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["forward"] = json.RawMessage(`""`)
	return json.Marshal(m)
}

func (w *world) emitDial(d ari.Dial) { w.emit(dialEvent{&d}) }

// eventTypeName is the "type" of a generated event struct: its Go name,
// which the generator keeps equal to the schema's model name.
func eventTypeName(ev ari.Event) string {
	if _, ok := ev.(dialEvent); ok {
		return "Dial"
	}
	t := fmt.Sprintf("%T", ev)
	return t[strings.LastIndexByte(t, '.')+1:]
}

// maxLog bounds the event and request logs, so that a long-running demo
// does not grow without end: past it the oldest half is forgotten.
const maxLog = 100_000

func appendCapped[T any](l []T, v T) []T {
	if len(l) >= maxLog {
		l = append(l[:0:0], l[len(l)/2:]...)
	}
	return append(l, v)
}

// ---- ids ----

// newUniqueID returns "<unix seconds>.<sequence>", Asterisk's uniqueid.
func (w *world) newUniqueID() string {
	w.uniqueSeq++
	return fmt.Sprintf("%d.%d", w.s.now().Unix(), w.uniqueSeq)
}

// newUUID returns a deterministic UUID-shaped id (playback ids, SIP
// Call-IDs): tests replaying a run see the same ids.
func (w *world) newUUID() string {
	w.uuidSeq++
	n := w.uuidSeq
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(0xa217e000+n), n&0xffff, n&0xfff, n&0xfff, (int64(n)*0x9e3779b1)&0xffffffffffff)
}

// ---- endpoints ----

// Endpoint is one PJSIP endpoint of the emulated pjsip.conf: the PSTN trunk
// that inbound calls come from, or an operator's softphone.
type Endpoint struct {
	// Resource is the endpoint name ("op1001"); the technology is PJSIP.
	Resource string
	// Offline means no contact is registered: originating to it fails
	// with 500 {"error":"Allocation failed"} and it lists as "offline".
	Offline bool
	// Context is the dialplan context of calls the endpoint places
	// ("from-sip" for the trunk, "from-operators" for softphones).
	// Empty means "from-sip".
	Context string
	// Phone is what the device does when it is called.
	Phone Phone
}

// PhoneAnswer is how a called softphone ends its ringing.
type PhoneAnswer int

// The outcomes a softphone can give to an INVITE, with the cause Asterisk
// reports for each (see the README of the traces).
const (
	// Answer answers (200 OK) after Phone.RingFor.
	Answer PhoneAnswer = iota
	// RejectBusy answers 486 Busy Here: cause 17, dialstatus BUSY.
	RejectBusy
	// RejectDecline answers 603 Decline: cause 21, dialstatus NOANSWER.
	RejectDecline
	// RejectUnavailable answers 480 Temporarily Unavailable: cause 19, NOANSWER.
	RejectUnavailable
	// RejectCongestion answers 503 Service Unavailable: cause 34, CONGESTION.
	RejectCongestion
	// RingForever never answers; the originate timeout ends the call
	// (cause 19, tech_cause 480, no ChannelHangupRequest, no final Dial).
	RingForever
	// Manual leaves the answer to the test, through the *Call that
	// Server.AwaitRinging returns.
	Manual
)

// Phone scripts a softphone being called.
type Phone struct {
	// Answer is the final response; the zero value answers.
	Answer PhoneAnswer
	// RingFor is how long it rings (180) before its final response.
	// Zero means 3 s for Answer and 2 s for the rejects, as in the traces.
	RingFor time.Duration
	// TalkFor, when positive, hangs up (BYE) this long after answering.
	TalkFor time.Duration
}

type endpoint struct {
	Endpoint
}

func (e *endpoint) state() string {
	if e.Offline {
		return ari.EndpointStateOffline
	}
	return ari.EndpointStateOnline
}

func (w *world) endpoint(resource string) *endpoint {
	for _, e := range w.endpoints {
		if e.Resource == resource {
			return e
		}
	}
	return nil
}

func (w *world) endpointJSON(e *endpoint) ari.Endpoint {
	out := ari.Endpoint{Technology: "PJSIP", Resource: e.Resource, State: e.state(), ChannelIDs: []string{}}
	for _, ch := range w.chanOrder {
		if ch.kind == kindPJSIP && ch.endpoint == e.Resource {
			out.ChannelIDs = append(out.ChannelIDs, ch.id)
		}
	}
	return out
}

// DefaultEndpoints are the endpoints of the recording's pjsip.conf: the
// "sipp" PSTN trunk, softphone op1001 (answers after 3 s of ringing) and
// op1002 (no contact registered).
func DefaultEndpoints() []Endpoint {
	return []Endpoint{
		{Resource: "sipp", Context: "from-sip"},
		{Resource: "op1001", Context: "from-operators", Phone: Phone{Answer: Answer, RingFor: 3 * time.Second}},
		{Resource: "op1002", Context: "from-operators", Offline: true},
	}
}

// DefaultSounds are the lengths of the core sounds the traces play, as
// measured there (demo-congrats ran 27.1 s to its end in rest_errors;
// hello-world 0.65 s in app_reconnect; demo-thanks is what makes the
// recording of record_voicemail 5.11 s long).
func DefaultSounds() map[string]time.Duration {
	return map[string]time.Duration{
		"demo-congrats": 27148 * time.Millisecond,
		"hello-world":   650 * time.Millisecond,
		"demo-thanks":   4461 * time.Millisecond,
		"agent-user":    4915 * time.Millisecond,
		"agent-loginok": 1700 * time.Millisecond,
		"beep":          250 * time.Millisecond,
		"silence/1":     time.Second,
		"silence/2":     2 * time.Second,
	}
}

// Missing, as the length of a sound in Config.Sounds, makes it a missing
// file: its playback starts and fails at once, as on Asterisk.
const Missing time.Duration = -1

// soundLength says how long a sound plays and whether the file exists.
func (s *Server) soundLength(name string) (time.Duration, bool) {
	for _, key := range []string{name, "sound:" + name} {
		if d, ok := s.cfg.Sounds[key]; ok {
			return d, d >= 0
		}
	}
	if s.cfg.StrictSounds {
		return 0, false
	}
	return s.cfg.DefaultSoundLength, true
}
