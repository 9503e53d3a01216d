package queue_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/queue"
)

func TestDecodeEvent(t *testing.T) {
	good := []struct {
		in   string
		want queue.Event
	}{
		{`{"kind":"offered","at":1772445600123,"call":"c1","op":"op1","lang":"it","state":"ringing"}`,
			queue.Event{Kind: queue.EventOffered, At: time.UnixMilli(1772445600123), CallID: "c1", OperatorID: "op1", Language: "it", State: queue.Ringing}},
		{`{"kind":"operator","at":0,"op":"x","state":"paused","reason":"no_answer","future":1}`,
			queue.Event{Kind: queue.EventOperator, At: time.UnixMilli(0), OperatorID: "x", State: queue.Paused, Reason: "no_answer"}},
	}
	for _, tc := range good {
		got, err := queue.DecodeEvent([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("DecodeEvent(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		// Round trip through MarshalJSON.
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := queue.DecodeEvent(b); err != nil || again != got {
			t.Errorf("round trip of %+v = %+v, %v (wire %s)", got, again, err, b)
		}
	}
	bad := map[string]string{
		`not json`:                         "decoding event",
		`{"at":1}`:                         `missing "kind"`,
		`{"kind":"exploded","at":1}`:       `unknown kind "exploded"`,
		`{"kind":"left"}`:                  `missing "at"`,
		`{"kind":"left","at":"yesterday"}`: "decoding event",
	}
	for in, want := range bad {
		if _, err := queue.DecodeEvent([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeEvent(%s) err = %v; want it to mention %q", in, err, want)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"kind":"offered","at":1772445600123,"call":"c1","op":"op1","lang":"it","state":"ringing"}`))
	f.Add([]byte(`{"kind":"returned","at":1,"call":"c","reason":"expired"}`))
	f.Add([]byte(`{"kind":"left","at":1e300}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := queue.DecodeEvent(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", ev, err)
		}
		again, err := queue.DecodeEvent(out)
		if err != nil || again != ev {
			t.Fatalf("round trip %+v -> %s -> %+v, %v", ev, out, again, err)
		}
	})
}

// TestMemoryWatchDropsForSlowReader: a watcher that never reads must not
// stall the queue; its losses are counted.
func TestMemoryWatchDropsForSlowReader(t *testing.T) {
	m, err := queue.NewMemory("svc")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := m.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1772445600000)
	const n = 300
	for i := range n {
		c := queue.Call{ID: "c" + string(rune('a'+i%26)) + time.Duration(i).String(), Language: "it", Enqueued: at}
		if err := m.Enqueue(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Dropped(); got != n-256 {
		t.Fatalf("Dropped() = %d; want %d", got, n-256)
	}
}
