package ari_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/helpline-it/helpline/ari"
)

// FuzzDecodeEvent feeds DecodeEvent arbitrary messages. Its seed corpus in
// testdata/fuzz/FuzzDecodeEvent holds one event of each shape found in the
// Asterisk traces plus a few broken ones. Properties: no panic; an error
// is always a *DecodeError of a known kind; an accepted event has a type,
// answers Refs, and re-encodes to JSON that decodes again to the same
// type and re-encodes identically.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"type":"ChannelHangupRequest","timestamp":"2026-11-23T15:03:02.855+0000","channel":{"id":"1.2"},"application":"helpline"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ari.DecodeEvent(data)
		if err != nil {
			var de *ari.DecodeError
			if ev != nil || !errors.As(err, &de) || !(errors.Is(err, ari.ErrMalformedEvent) || errors.Is(err, ari.ErrMissingType)) {
				t.Fatalf("DecodeEvent(%q) = %v, %v: want a nil event and a *DecodeError", data, ev, err)
			}
			return
		}
		if ev.EventType() == "" || ev.EventHeader() == nil {
			t.Fatalf("accepted %q with an empty type", data)
		}
		_ = ev.Refs()
		first, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal %T from %q: %v", ev, data, err)
		}
		again, err := ari.DecodeEvent(first)
		if err != nil {
			t.Fatalf("re-decode of %s (from %q): %v", first, data, err)
		}
		if again.EventType() != ev.EventType() {
			t.Fatalf("type changed on round trip: %q → %q", ev.EventType(), again.EventType())
		}
		second, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if _, unknown := ev.(*ari.UnknownEvent); !unknown && !bytes.Equal(first, second) {
			t.Fatalf("re-encoding not stable:\n%s\n%s", first, second)
		}
	})
}
