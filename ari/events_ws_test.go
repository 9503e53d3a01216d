package ari_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/helpline-it/helpline/ari"
)

// fakeAsterisk accepts the event WebSocket like Asterisk does and hands
// each accepted socket to the test, which writes frames and drops it.
type fakeAsterisk struct {
	t      *testing.T
	srv    *httptest.Server
	conns  chan *websocket.Conn
	dials  atomic.Int32
	reject atomic.Int32 // HTTP status to answer instead of upgrading; 0 upgrades
	// answerPings false leaves pings unanswered (no reader on the server side).
	answerPings atomic.Bool
}

func newFakeAsterisk(t *testing.T) *fakeAsterisk {
	t.Helper()
	fa := &fakeAsterisk{t: t, conns: make(chan *websocket.Conn, 8)}
	fa.answerPings.Store(true)
	fa.srv = httptest.NewServer(http.HandlerFunc(fa.serve))
	t.Cleanup(fa.srv.Close)
	return fa
}

func (fa *fakeAsterisk) serve(w http.ResponseWriter, r *http.Request) {
	fa.dials.Add(1)
	if r.URL.Path != "/ari/events" || r.URL.Query().Get("app") != "helpline" || r.URL.Query().Get("subscribeAll") != "false" {
		fa.t.Errorf("dial %s?%s, want /ari/events?app=helpline&subscribeAll=false", r.URL.Path, r.URL.RawQuery)
	}
	if st := fa.reject.Load(); st != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(st))
		_, _ = w.Write([]byte(`{"message":"Authentication required"}`))
		return
	}
	if u, pw, ok := r.BasicAuth(); !ok || u != testUser || pw != testPassword {
		fa.t.Errorf("websocket basic auth %q/%v, want the configured credentials", u, ok)
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		fa.t.Errorf("accept: %v", err)
		return
	}
	if fa.answerPings.Load() {
		c.CloseRead(context.Background()) // answers pings, discards data
	}
	fa.conns <- c
}

// next returns the next accepted socket.
func (fa *fakeAsterisk) next(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case c := <-fa.conns:
		t.Cleanup(func() { _ = c.CloseNow() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no WebSocket dial reached the fake Asterisk")
		return nil
	}
}

func send(t *testing.T, c *websocket.Conn, frames ...string) {
	t.Helper()
	for _, f := range frames {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(f)); err != nil {
			t.Fatalf("write frame: %v", err)
		}
	}
}

func openEvents(t *testing.T, fa *fakeAsterisk, opts ari.EventsOptions) *ari.Events {
	t.Helper()
	if opts.Backoff == nil {
		opts.Backoff = ari.ConstantBackoff(0)
	}
	ev, err := ari.OpenEvents(ari.Config{URL: fa.srv.URL + "/ari", Username: testUser, Password: testPassword, Application: "helpline"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ev.Close() })
	return ev
}

// recv takes the next event of a subscription, failing after 10 s.
func recv(t *testing.T, s *ari.Subscription) ari.Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription closed early (Err=%v)", s.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return nil
	}
}

func mustSub(t *testing.T) func(*ari.Subscription, error) *ari.Subscription {
	return func(s *ari.Subscription, err error) *ari.Subscription {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
}

func traceEventBodies(t testing.TB, file string) []string {
	t.Helper()
	var out []string
	for _, l := range readTrace(t, filepath.Join(tracesDir(t), file)) {
		if l.Dir == "event" && l.Conn <= 1 {
			out = append(out, string(l.Body))
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEventsRouteInOrder(t *testing.T) {
	fa := newFakeAsterisk(t)
	reg := prometheus.NewRegistry()
	events := openEvents(t, fa, ari.EventsOptions{Registerer: reg})
	all := mustSub(t)(events.SubscribeAll())
	const caller = "1795446033.2"
	perCall := mustSub(t)(events.Subscribe(caller))
	pbOnly := mustSub(t)(events.Subscribe("pb-welcome-1795446033.2"))
	conn := fa.next(t)
	if err := events.WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}

	frames := traceEventBodies(t, "inbound_answer_play_dtmf_hangup.jsonl")
	unknown := `{"type":"ChannelTeleported","application":"helpline","channel":{"id":"` + caller + `"}}`
	malformed := `{"type":"ChannelDtmfReceived","digit":5,"channel":{"id":"` + caller + `"}}`
	garbage := `not json at all`
	frames = append(frames, unknown, malformed, garbage)
	send(t, conn, frames...)

	var wantCall, wantPB []string
	for i, f := range frames {
		ev := recv(t, all)
		var head struct{ Type string }
		_ = json.Unmarshal([]byte(f), &head)
		switch {
		case f == garbage || f == malformed:
			inv, ok := ev.(*ari.InvalidEvent)
			if !ok || string(inv.Raw) != f || !errors.Is(inv.Err, ari.ErrMalformedEvent) {
				t.Fatalf("frame %d: got %T %+v, want InvalidEvent", i, ev, ev)
			}
		case f == unknown:
			if _, ok := ev.(*ari.UnknownEvent); !ok || ev.EventType() != "ChannelTeleported" {
				t.Fatalf("frame %d: got %T, want UnknownEvent", i, ev)
			}
		case ev.EventType() != head.Type:
			t.Fatalf("frame %d: got %s, want %s (order broken)", i, ev.EventType(), head.Type)
		}
		ids := make([]string, 0)
		for _, r := range ev.Refs() {
			ids = append(ids, r.ID)
		}
		if slices.Contains(ids, caller) {
			wantCall = append(wantCall, f)
		}
		if slices.Contains(ids, "pb-welcome-1795446033.2") {
			wantPB = append(wantPB, f)
		}
	}
	if len(wantCall) < 6 || len(wantPB) != 2 {
		t.Fatalf("trace gives %d events for the call, %d for the playback", len(wantCall), len(wantPB))
	}
	for _, tc := range []struct {
		sub  *ari.Subscription
		want []string
	}{{perCall, wantCall}, {pbOnly, wantPB}} {
		for i, f := range tc.want {
			ev := recv(t, tc.sub)
			var head struct{ Type string }
			_ = json.Unmarshal([]byte(f), &head)
			if ev.EventType() != head.Type && ev.EventType() != ari.TypeInvalidEvent {
				t.Fatalf("per-id event %d: %s, want %s", i, ev.EventType(), head.Type)
			}
		}
		if n := tc.sub.Backlog(); n != 0 {
			t.Errorf("per-id subscription has %d extra events", n)
		}
	}
	st := events.Stats()
	if st.Frames != uint64(len(frames)) || st.Malformed != 2 || st.Unknown != 1 || st.Decoded != uint64(len(frames)-2) {
		t.Errorf("stats %+v", st)
	}
	if events.State() != ari.StateConnected {
		t.Errorf("state %v after bad frames, want connected", events.State())
	}
	if got := metricValue(t, reg, "helpline_ari_events_malformed_total"); got != 2 {
		t.Errorf("malformed metric %v, want 2", got)
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestEventsReconnectAfterDrop(t *testing.T) {
	fa := newFakeAsterisk(t)
	events := openEvents(t, fa, ari.EventsOptions{})
	all := mustSub(t)(events.SubscribeAll())
	call := mustSub(t)(events.Subscribe("1795446140.175"))
	first := fa.next(t)
	frames := traceEventBodies(t, "app_reconnect.jsonl")
	send(t, first, frames[0])
	if ev := recv(t, all); ev.EventType() != ari.TypeStasisStart {
		t.Fatalf("first event %s", ev.EventType())
	}
	if ev := recv(t, call); ev.EventType() != ari.TypeStasisStart {
		t.Fatalf("first call event %s", ev.EventType())
	}

	// Asterisk goes away: the next dial is refused once, then accepted.
	fa.reject.Store(http.StatusServiceUnavailable)
	_ = first.CloseNow()
	waitFor(t, "a refused redial", func() bool { return events.Stats().DialFailures >= 1 })
	if s := events.State(); s != ari.StateReconnecting {
		t.Errorf("state while down: %v", s)
	}
	fa.reject.Store(0)
	second := fa.next(t)

	for _, sub := range []*ari.Subscription{all, call} {
		ev := recv(t, sub)
		rc, ok := ev.(*ari.Reconnected)
		if !ok {
			t.Fatalf("after the drop got %T, want *ari.Reconnected", ev)
		}
		if rc.Attempts < 2 || rc.Down < 0 || rc.Application != "helpline" || rc.Timestamp.IsZero() || rc.Cause == "" {
			t.Errorf("Reconnected %+v", rc)
		}
	}
	send(t, second, frames[len(frames)-1])
	if ev := recv(t, call); len(ev.Refs()) == 0 || ev.Refs()[0].ID != "1795446140.175" {
		t.Fatalf("after reconnect got %T %v", ev, ev.Refs())
	}
	st := events.Stats()
	if st.Reconnects != 1 || st.DialFailures < 1 || events.State() != ari.StateConnected {
		t.Errorf("stats %+v state %v", st, events.State())
	}
}

func TestEventsDialUnauthorizedKeepsTrying(t *testing.T) {
	fa := newFakeAsterisk(t)
	fa.reject.Store(http.StatusUnauthorized)
	events := openEvents(t, fa, ari.EventsOptions{})
	waitFor(t, "three refused dials", func() bool { return events.Stats().DialFailures >= 3 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := events.WaitConnected(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitConnected = %v, want context.Canceled", err)
	}
	fa.reject.Store(0)
	fa.next(t)
	if err := events.WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEventsSubscribeSinceMissesNothing(t *testing.T) {
	fa := newFakeAsterisk(t)
	events := openEvents(t, fa, ari.EventsOptions{HistorySize: 64})
	all := mustSub(t)(events.SubscribeAll())
	conn := fa.next(t)
	frames := traceEventBodies(t, "sipp_inbound_cancel_before_answer.jsonl")
	send(t, conn, frames...)
	// Read the whole burst from the all-stream first: when we subscribe,
	// the hang-up of the call has already been dispatched.
	var got []ari.Event
	for range frames {
		got = append(got, recv(t, all))
	}
	ss, ok := got[0].(*ari.StasisStart)
	if !ok {
		t.Fatalf("first event %T", got[0])
	}
	sub := mustSub(t)(events.SubscribeSince(ss, ss.Channel.ID))
	var types []string
	for range got[1:] {
		types = append(types, recv(t, sub).EventType())
	}
	if !slices.Contains(types, ari.TypeChannelHangupRequest) || !slices.Contains(types, ari.TypeStasisEnd) {
		t.Errorf("replayed %v, want the hang-up and StasisEnd", types)
	}
	if _, err := events.SubscribeSince(&ari.StasisStart{}, "x"); !errors.Is(err, ari.ErrHistoryGone) {
		t.Errorf("SubscribeSince(foreign event) = %v, want ErrHistoryGone", err)
	}
}

func TestEventsOverflowCutsOffLoudly(t *testing.T) {
	fa := newFakeAsterisk(t)
	events := openEvents(t, fa, ari.EventsOptions{MaxBacklog: 2})
	slow, err := events.Subscribe("1795446033.2") // nobody reads it yet
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slow.Close)
	conn := fa.next(t)
	frames := traceEventBodies(t, "inbound_answer_play_dtmf_hangup.jsonl")
	send(t, conn, frames...)
	waitFor(t, "all frames dispatched", func() bool { return events.Stats().Frames == uint64(len(frames)) })
	var n int
	for range slow.Events() {
		n++
	}
	if n < 2 || n > 3 {
		t.Errorf("slow subscriber got %d events before the cut, want the 2 queued (+1 in hand)", n)
	}
	if !errors.Is(slow.Err(), ari.ErrSubscriptionOverflow) || events.Stats().Overflows != 1 {
		t.Errorf("Err=%v stats=%+v", slow.Err(), events.Stats())
	}
	// The stream itself goes on for everybody else.
	fast := mustSub(t)(events.SubscribeAll())
	send(t, conn, frames[0])
	if ev := recv(t, fast); ev.EventType() != ari.TypeStasisStart {
		t.Errorf("after the cut got %s", ev.EventType())
	}
}

func TestEventsCloseDrainsSubscriptions(t *testing.T) {
	fa := newFakeAsterisk(t)
	events := openEvents(t, fa, ari.EventsOptions{})
	all := mustSub(t)(events.SubscribeAll())
	conn := fa.next(t)
	frames := traceEventBodies(t, "dtmf_garbage.jsonl")
	send(t, conn, frames...)
	waitFor(t, "all frames queued", func() bool { return events.Stats().Frames == uint64(len(frames)) })
	if err := events.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range all.Events() {
		n++
	}
	if n != len(frames) || !errors.Is(all.Err(), ari.ErrEventsClosed) || events.State() != ari.StateClosed {
		t.Errorf("after Close: %d of %d events, Err=%v, state %v", n, len(frames), all.Err(), events.State())
	}
	if _, err := events.Subscribe("x"); !errors.Is(err, ari.ErrEventsClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
}

func TestEventsApplicationReplacedStopsRedialling(t *testing.T) {
	fa := newFakeAsterisk(t)
	events := openEvents(t, fa, ari.EventsOptions{})
	all := mustSub(t)(events.SubscribeAll())
	conn := fa.next(t)
	send(t, conn, `{"type":"ApplicationReplaced","application":"helpline","timestamp":"2026-11-23T15:02:20.231+0000"}`)
	if ev := recv(t, all); ev.EventType() != ari.TypeApplicationReplaced {
		t.Fatalf("got %s", ev.EventType())
	}
	_ = conn.CloseNow()
	err := events.WaitConnected(context.Background())
	if err == nil || !strings.Contains(err.Error(), "replaced") || events.State() != ari.StateReplaced {
		t.Fatalf("WaitConnected = %v, state %v", err, events.State())
	}
	_ = events.Close()
	if n := fa.dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1: a replaced app must not be taken back", n)
	}
}

func TestEventsPingTimeoutReconnects(t *testing.T) {
	fa := newFakeAsterisk(t)
	fa.answerPings.Store(false) // a peer that stopped answering
	clock := clockwork.NewFakeClock()
	events := openEvents(t, fa, ari.EventsOptions{Clock: clock, PingInterval: 10 * time.Second, PingTimeout: 20 * time.Millisecond})
	all := mustSub(t)(events.SubscribeAll())
	fa.next(t)
	fa.answerPings.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // the keepalive ticker
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	fa.next(t) // the ping went unanswered, the socket was dropped and redialled
	rc, ok := recv(t, all).(*ari.Reconnected)
	if !ok {
		t.Fatal("want Reconnected after the ping timeout")
	}
	if rc.Attempts != 1 || rc.Cause == "" {
		t.Errorf("Reconnected %+v: want the first redial to have worked, with a cause", rc)
	}
}

func TestOpenEventsRejectsBadConfig(t *testing.T) {
	if _, err := ari.OpenEvents(ari.Config{URL: "http://127.0.0.1:1/ari"}, ari.EventsOptions{}); err == nil || !strings.Contains(err.Error(), "Application") {
		t.Errorf("no application: %v", err)
	}
	if _, err := ari.OpenEvents(ari.Config{URL: "127.0.0.1:8088", Application: "helpline"}, ari.EventsOptions{}); err == nil {
		t.Error("URL without scheme accepted")
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := ari.ExponentialBackoff(100*time.Millisecond, 2*time.Second)
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 6: 2 * time.Second, 60: 2 * time.Second} {
		for range 50 {
			if d := b(attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

// Next must be interruptible by its context while nothing arrives
// (CyCoreSystems' ari.Once evaluated the receive before its select).
func TestSubscriptionNextHonoursContext(t *testing.T) {
	fa := newFakeAsterisk(t)
	events := openEvents(t, fa, ari.EventsOptions{})
	sub := mustSub(t)(events.Subscribe("1795446033.2"))
	conn := fa.next(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := sub.Next(ctx)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel = %v, want context.Canceled", err)
	}
	send(t, conn, traceEventBodies(t, "inbound_answer_play_dtmf_hangup.jsonl")[0])
	ev, err := sub.Next(context.Background())
	if err != nil || ev.EventType() != ari.TypeStasisStart {
		t.Fatalf("Next = %v, %v", ev, err)
	}
	sub.Close()
	if _, err := sub.Next(context.Background()); !errors.Is(err, ari.ErrSubscriptionClosed) {
		t.Fatalf("Next after Close = %v, want ErrSubscriptionClosed", err)
	}
}
