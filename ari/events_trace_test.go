package ari_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
)

// dropEmpty removes "" strings (and objects left empty) so a decoded and
// re-encoded event can be compared with the original: optional strings are
// omitted when empty, and Asterisk sends some of them as "" (Dial.forward).
func dropEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if s, ok := e.(string); ok && s == "" {
				continue
			}
			out[k] = dropEmpty(e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
	}
	return v
}

// TestDecodeEveryTraceEvent decodes every event a real Asterisk 22 sent in
// the traces: none may fail, none of a schema type may come out as
// UnknownEvent, and re-encoding must give the same JSON (nothing lost or
// renamed; timestamps in Asterisk's own layout).
func TestDecodeEveryTraceEvent(t *testing.T) {
	known := map[string]bool{}
	for _, typ := range ari.KnownEventTypes() {
		known[typ] = true
	}
	total := 0
	types := map[string]int{}
	for _, f := range traceFiles(t) {
		for _, l := range readTrace(t, f) {
			if l.Dir != "event" {
				continue
			}
			total++
			where := fmt.Sprintf("%s:%d", l.file, l.line)
			ev, err := ari.DecodeEvent(l.Body)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			var head struct{ Type string }
			_ = json.Unmarshal(l.Body, &head)
			types[head.Type]++
			if ev.EventType() != head.Type {
				t.Errorf("%s: EventType() = %q, want %q", where, ev.EventType(), head.Type)
			}
			if _, unknown := ev.(*ari.UnknownEvent); unknown && known[head.Type] {
				t.Errorf("%s: schema type %s decoded as UnknownEvent", where, head.Type)
			}
			h := ev.EventHeader()
			if h.Application != "helpline" || h.AsteriskID == "" || h.Timestamp.IsZero() {
				t.Errorf("%s: header %+v", where, *h)
			}
			again, err := json.Marshal(ev)
			if err != nil {
				t.Errorf("%s: marshal: %v", where, err)
				continue
			}
			var a, b any
			_ = json.Unmarshal(l.Body, &a)
			_ = json.Unmarshal(again, &b)
			if !reflect.DeepEqual(dropEmpty(a), dropEmpty(b)) {
				t.Errorf("%s: round trip differs\n got: %s\nwant: %s", where, again, l.Body)
			}
		}
	}
	if total < 299 { // the traces hold 299 event lines
		t.Fatalf("decoded only %d events; are the traces complete?", total)
	}
	t.Logf("decoded %d events of %d types", total, len(types))
}

func traceEvent(t *testing.T, file string, line int) ari.Event {
	t.Helper()
	lines := readTrace(t, filepath.Join(tracesDir(t), file))
	if line < 1 || line > len(lines) || lines[line-1].Dir != "event" {
		t.Fatalf("%s:%d is not an event line", file, line)
	}
	ev, err := ari.DecodeEvent(lines[line-1].Body)
	if err != nil {
		t.Fatalf("%s:%d: %v", file, line, err)
	}
	return ev
}

func as[T ari.Event](t *testing.T, ev ari.Event) T {
	t.Helper()
	v, ok := ev.(T)
	if !ok {
		var zero T
		t.Fatalf("event is %T, want %T", ev, zero)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// TestRepresentativeTraceEvents pins the fields the call flow branches on.
func TestRepresentativeTraceEvents(t *testing.T) {
	tests := []struct {
		file  string
		line  int
		check func(t *testing.T, ev ari.Event)
	}{
		{"sipp_inbound_rfc2833_dtmf.jsonl", 22, func(t *testing.T, ev ari.Event) { // far-end BYE: no cause at all
			e := as[*ari.ChannelHangupRequest](t, ev)
			if e.Cause != nil || e.Soft != nil || e.TechCause != nil || e.Channel.ID != "1795446175.229" {
				t.Errorf("%+v", e)
			}
		}},
		{"sipp_inbound_cancel_before_answer.jsonl", 7, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelHangupRequest](t, ev)
			if !reflect.DeepEqual(e.Cause, ptr(127)) || !reflect.DeepEqual(e.TechCause, ptr(487)) || e.Soft != nil || e.Channel.State != ari.ChannelStateRing {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_pjsip_operator_answer.jsonl", 22, func(t *testing.T, ev ari.Event) { // our DELETE: 32 soft
			e := as[*ari.ChannelHangupRequest](t, ev)
			if !reflect.DeepEqual(e.Cause, ptr(32)) || !reflect.DeepEqual(e.Soft, ptr(true)) {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_busy.jsonl", 10, func(t *testing.T, ev ari.Event) { // cause 0 is present, not absent
			e := as[*ari.ChannelHangupRequest](t, ev)
			if e.Cause == nil || *e.Cause != 0 {
				t.Errorf("cause %v, want a present 0", e.Cause)
			}
		}},
		{"originate_pjsip_busy486.jsonl", 11, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelDestroyed](t, ev)
			if e.Cause != 17 || e.CauseTxt != "User busy" || !reflect.DeepEqual(e.TechCause, ptr(486)) {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_noanswer.jsonl", 13, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelDestroyed](t, ev)
			if e.Cause != 19 || e.TechCause != nil || e.Channel.ID != "orig-originate_noanswer" {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_congestion.jsonl", 11, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelDestroyed](t, ev)
			if e.Cause != 0 || e.CauseTxt != "Unknown" {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_pjsip_busy486.jsonl", 10, func(t *testing.T, ev ari.Event) {
			e := as[*ari.Dial](t, ev)
			if e.DialStatus != "BUSY" || e.DialString != "op1001" || e.Caller != nil || e.Peer.ID != "orig-originate_pjsip_busy486" {
				t.Errorf("%+v", e)
			}
			if got := ari.IDs(e.Refs(), ari.RefChannel); !slices.Equal(got, []string{"orig-originate_pjsip_busy486"}) {
				t.Errorf("Refs channels %v", got)
			}
		}},
		{"sipp_operator_dials_in.jsonl", 4, func(t *testing.T, ev ari.Event) {
			e := as[*ari.StasisStart](t, ev)
			if !slices.Equal(e.Args, []string{"operator", "op1001"}) || e.Channel.Language != "en" || e.ReplaceChannel != nil {
				t.Errorf("%+v", e)
			}
			want := time.Date(2026, 11, 23, 15, 6, 50, 890e6, time.UTC)
			if !e.Timestamp.Equal(want) {
				t.Errorf("timestamp %v, want %v", e.Timestamp, want)
			}
		}},
		{"sipp_operator_dials_in.jsonl", 22, func(t *testing.T, ev ari.Event) {
			e := as[*ari.PlaybackFinished](t, ev)
			if e.Playback.State != ari.PlaybackStateFailed || e.Playback.ID != "pb-ok-1795446410.305" {
				t.Errorf("%+v", e)
			}
			want := []ari.Ref{{Kind: ari.RefPlayback, ID: "pb-ok-1795446410.305"}, {Kind: ari.RefChannel, ID: "1795446410.305"}}
			if !reflect.DeepEqual(e.Refs(), want) {
				t.Errorf("Refs %v, want %v", e.Refs(), want)
			}
		}},
		{"record_voicemail.jsonl", 14, func(t *testing.T, ev ari.Event) {
			e := as[*ari.RecordingFinished](t, ev)
			r := e.Recording
			if r.State != ari.LiveRecordingStateDone || !reflect.DeepEqual(r.Duration, ptr(5)) ||
				!reflect.DeepEqual(r.TalkingDuration, ptr(5)) || !reflect.DeepEqual(r.SilenceDuration, ptr(0)) {
				t.Errorf("%+v", r)
			}
		}},
		{"rest_errors.jsonl", 130, func(t *testing.T, ev ari.Event) { // duration 0, no talking/silence
			r := as[*ari.RecordingFinished](t, ev).Recording
			if !reflect.DeepEqual(r.Duration, ptr(0)) || r.TalkingDuration != nil || r.SilenceDuration != nil {
				t.Errorf("%+v", r)
			}
		}},
		{"sipp_inbound_rfc2833_dtmf.jsonl", 13, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelDtmfReceived](t, ev)
			if e.Digit != "2" || e.DurationMS != 280 {
				t.Errorf("%+v", e)
			}
		}},
		{"dtmf_garbage.jsonl", 22, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelDtmfReceived](t, ev)
			if e.Digit != "D" || e.DurationMS != 100 {
				t.Errorf("%+v", e)
			}
		}},
		{"queue_moh_then_bridge_operator.jsonl", 34, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelEnteredBridge](t, ev)
			if e.Bridge.ID != "bridge-1795446056.43" || !slices.Equal(e.Bridge.Channels, []string{"1795446056.43", "op-1795446056.43"}) ||
				e.Channel == nil || e.Channel.ID != "op-1795446056.43" {
				t.Errorf("%+v", e)
			}
			want := []ari.Ref{{Kind: ari.RefBridge, ID: "bridge-1795446056.43"}, {Kind: ari.RefChannel, ID: "op-1795446056.43"}}
			if !reflect.DeepEqual(e.Refs(), want) {
				t.Errorf("Refs %v, want %v", e.Refs(), want)
			}
		}},
		{"queue_moh_then_bridge_operator.jsonl", 14, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelVarset](t, ev)
			if e.Variable != "HELPLINE_CALLER" || e.Value != "1795446056.43" || e.Channel == nil || e.Channel.ID != "op-1795446056.43;2" {
				t.Errorf("%+v", e)
			}
		}},
		{"inbound_answer_play_dtmf_hangup__subscribeAll.jsonl", 21, func(t *testing.T, ev ari.Event) {
			e := as[*ari.DeviceStateChanged](t, ev)
			if e.DeviceState.State != ari.DeviceStateInuse || e.DeviceState.Name != "Local/800123456@from-pstn" {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_busy.jsonl", 5, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelCallerId](t, ev)
			if e.CallerPresentation != 0 || e.CallerPresentationTxt != "Presentation Allowed, Not Screened" {
				t.Errorf("%+v", e)
			}
		}},
		{"originate_busy.jsonl", 8, func(t *testing.T, ev ari.Event) {
			e := as[*ari.ChannelDialplan](t, ev)
			if e.DialplanApp != "Busy" || e.DialplanAppData != "10" || e.Channel.Dialplan.Priority == 0 {
				t.Errorf("%+v", e)
			}
		}},
		{"sipp_inbound_bridge_pjsip_operator.jsonl", 67, func(t *testing.T, ev ari.Event) {
			e := as[*ari.BridgeDestroyed](t, ev)
			if e.Bridge.Channels == nil || len(e.Bridge.Channels) != 0 || e.Bridge.VideoMode == "" {
				t.Errorf("%+v", e.Bridge)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.file, tt.line), func(t *testing.T) {
			tt.check(t, traceEvent(t, tt.file, tt.line))
		})
	}
}

func TestDecodeEventErrors(t *testing.T) {
	for _, tt := range []struct {
		in       string
		kind     error
		typeName string
	}{
		{``, ari.ErrMalformedEvent, ""},
		{`{"type":"StasisStart"`, ari.ErrMalformedEvent, ""},
		{`[]`, ari.ErrMalformedEvent, ""},
		{`"StasisStart"`, ari.ErrMalformedEvent, ""},
		{`{"type":42}`, ari.ErrMalformedEvent, ""},
		{`{}`, ari.ErrMissingType, ""},
		{`null`, ari.ErrMissingType, ""},
		{`{"type":""}`, ari.ErrMissingType, ""},
		{`{"type":"ChannelDestroyed","cause":"sixteen"}`, ari.ErrMalformedEvent, "ChannelDestroyed"},
		{`{"type":"StasisStart","timestamp":"yesterday"}`, ari.ErrMalformedEvent, "StasisStart"},
		{`{"type":"Brand New","timestamp":12}`, ari.ErrMalformedEvent, "Brand New"},
	} {
		ev, err := ari.DecodeEvent([]byte(tt.in))
		var de *ari.DecodeError
		if ev != nil || !errors.As(err, &de) || !errors.Is(err, tt.kind) || de.Type != tt.typeName {
			t.Errorf("DecodeEvent(%q) = %v, %v; want a *DecodeError of kind %v naming type %q", tt.in, ev, err, tt.kind, tt.typeName)
		}
	}
}

func TestUnknownEventIsDeliveredWhole(t *testing.T) {
	raw := []byte(`{"type":"ChannelTeleported","timestamp":"2026-11-23T15:00:33.917+0000","channel":{"id":"1795446033.2"},"to":"mars","asterisk_id":"x","application":"helpline"}`)
	ev, err := ari.DecodeEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	u := as[*ari.UnknownEvent](t, ev)
	if u.Type != "ChannelTeleported" || u.Application != "helpline" || string(u.Raw) != string(raw) {
		t.Errorf("%+v", u)
	}
	raw[0] = 'X' // the caller's buffer may be reused
	if u.Raw[0] != '{' {
		t.Error("UnknownEvent.Raw aliases the input buffer")
	}
	if want := []ari.Ref{{Kind: ari.RefChannel, ID: "1795446033.2"}}; !reflect.DeepEqual(u.Refs(), want) {
		t.Errorf("Refs %v, want %v", u.Refs(), want)
	}
}

func TestTimeLayouts(t *testing.T) {
	want := time.Date(2026, 11, 23, 14, 49, 37, 617e6, time.UTC)
	for _, in := range []string{
		`"2026-11-23T14:49:37.617+0000"`, `"2026-11-23T15:49:37.617+0100"`, `"2026-11-23T14:49:37.617Z"`,
		`"2026-11-23T15:49:37.617+01:00"`, `"2026-11-23T14:49:37.617000+0000"`,
	} {
		var tm ari.Time
		if err := json.Unmarshal([]byte(in), &tm); err != nil || !tm.Equal(want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, tm, err, want)
		}
	}
	out, _ := json.Marshal(ari.Time{Time: want})
	if string(out) != `"2026-11-23T14:49:37.617+0000"` {
		t.Errorf("Marshal = %s", out)
	}
	for _, in := range []string{`"2026-11-23"`, `12`, `"tomorrow"`} {
		var tm ari.Time
		if err := json.Unmarshal([]byte(in), &tm); err == nil {
			t.Errorf("Unmarshal(%s) accepted", in)
		}
	}
	var tm ari.Time
	if err := json.Unmarshal([]byte(`""`), &tm); err != nil || !tm.IsZero() {
		t.Errorf(`Unmarshal("") = %v, %v; want zero`, tm, err)
	}
}
