package aritest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari/aritest"
)

// answered places a PJSIP call and answers it; it returns the call and its
// channel id.
func (f *fixture) answered() (*aritest.Call, string) {
	f.t.Helper()
	call, err := f.srv.Call(ctxFor(f.t), "+39333", "1522", aritest.CallOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	id := chanID(f.app.await("StasisStart", func(e map[string]any) bool { return chanID(e) == call.ChannelID() }))
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	return call, id
}

func TestContinueLeavesStasis(t *testing.T) {
	f := newFixture(t)
	call, id := f.answered()
	f.expect(f.do("POST", "/channels/"+id+"/continue", "", nil), 204, "continue")
	f.app.await("StasisEnd", nil)
	// [from-sip] continues with Hangup() after Stasis
	h, err := call.AwaitHangup(ctxFor(t))
	if err != nil || h.By != aritest.ByNetwork || h.Cause != 16 {
		t.Fatalf("after continue: %+v %v", h, err)
	}
	if r := f.do("POST", "/channels/"+id+"/answer", "", nil); r.status != 404 {
		t.Fatalf("answer after continue: %d", r.status)
	}
}

func TestCreateThenDial(t *testing.T) {
	f := newFixture(t)
	r := f.do("POST", "/channels/create", q("endpoint", "PJSIP/op1001", "app", "helpline", "channelId", "c1"), nil)
	f.expect(r, 200, "create")
	s := f.app.await("StasisStart", nil)
	if chanID(s) != "c1" || s["channel"].(map[string]any)["state"] != "Down" {
		t.Fatalf("StasisStart after create = %v", s)
	}
	f.expect(f.do("POST", "/channels/c1/dial", q("timeout", "10"), nil), 204, "dial")
	f.app.await("Dial", func(e map[string]any) bool { return e["dialstatus"] == "RINGING" })
	f.advance(3 * time.Second)
	f.app.await("Dial", func(e map[string]any) bool { return e["dialstatus"] == "ANSWER" })
	if count(f.app.types(), "StasisStart") != 1 {
		t.Fatalf("a created channel enters Stasis once: %v", f.app.types())
	}
	if r := f.do("POST", "/channels/c1/dial", "", nil); r.status != 409 {
		t.Fatalf("second dial: %d", r.status)
	}
}

func count(l []string, s string) int {
	n := 0
	for _, x := range l {
		if x == s {
			n++
		}
	}
	return n
}

func TestVariables(t *testing.T) {
	f := newFixture(t)
	_, id := f.answered()
	f.expect(f.do("POST", "/channels/"+id+"/variables", "", map[string]any{"variables": map[string]string{"A": "1", "CALLERID(name)": "Z"}}), 204, "set variables")
	r := f.do("GET", "/channels/"+id+"/variables", q("variables", "A,CALLERID(name),CALLERID(num)"), nil)
	vars := r.body["variables"].(map[string]any)
	if vars["A"] != "1" || vars["CALLERID(name)"] != "Z" || vars["CALLERID(num)"] != "+39333" {
		t.Fatalf("variables = %v", r.body)
	}
	f.app.await("ChannelCallerId", nil)
	if r := f.do("GET", "/channels/"+id+"/variable", q("variable", "NOPE"), nil); r.status != 404 || r.body["message"] != "Provided variable was not found" {
		t.Fatalf("missing variable: %d %v", r.status, r.body)
	}
	f.expect(f.do("POST", "/asterisk/variable", q("variable", "G", "value", "g"), nil), 204, "global")
	if r := f.do("GET", "/asterisk/variable", q("variable", "G"), nil); r.body["value"] != "g" {
		t.Fatalf("global = %v", r.body)
	}
}

func TestSubscriptionsAndFilter(t *testing.T) {
	f := newFixture(t)
	other := f.connect("supervisor", false)
	_, id := f.answered()
	if r := f.do("POST", "/applications/supervisor/subscription", q("eventSource", "channel:nope"), nil); r.status != 422 {
		t.Fatalf("subscribe to a missing channel: %d", r.status)
	}
	r := f.do("POST", "/applications/supervisor/subscription", q("eventSource", "channel:"+id), nil)
	f.expect(r, 200, "subscribe")
	if ids := r.body["channel_ids"].([]any); len(ids) != 1 || ids[0] != id {
		t.Fatalf("application after subscribe = %v", r.body)
	}
	f.expect(f.do("PUT", "/applications/supervisor/eventFilter", "", map[string]any{
		"filter": map[string]any{"allowed": []any{map[string]string{"type": "PlaybackStarted"}}},
	}), 200, "filter")
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:hello-world"), nil), 201, "play")
	other.await("PlaybackStarted", nil)
	f.advance(time.Second)
	f.app.await("PlaybackFinished", nil)
	if slices.Contains(other.types(), "PlaybackFinished") {
		t.Fatalf("filtered event delivered: %v", other.types())
	}
	if r := f.do("DELETE", "/applications/supervisor/subscription", q("eventSource", "bridge:nope"), nil); r.status != 422 {
		t.Fatalf("unsubscribe a missing bridge: %d", r.status)
	}
}

func TestDeviceStates(t *testing.T) {
	f := newFixture(t)
	if r := f.do("PUT", "/deviceStates/op1001", q("deviceState", "INUSE"), nil); r.status != 409 {
		t.Fatalf("uncontrolled device: %d", r.status)
	}
	f.expect(f.do("PUT", "/deviceStates/Stasis:op1001", q("deviceState", "INUSE"), nil), 204, "set")
	if r := f.do("GET", "/deviceStates", "", nil); len(r.list) != 1 {
		t.Fatalf("device states = %s", r.raw)
	}
	f.expect(f.do("DELETE", "/deviceStates/Stasis:op1001", "", nil), 204, "delete")
	if r := f.do("GET", "/deviceStates/Stasis:op1001", "", nil); r.body["state"] != "UNKNOWN" {
		t.Fatalf("deleted device = %v", r.body)
	}
}

func TestBridgePlaybackAndHolding(t *testing.T) {
	f := newFixture(t)
	call, id := f.answered()
	f.expect(f.do("POST", "/bridges", q("type", "holding", "bridgeId", "hold"), nil), 200, "holding bridge")
	f.expect(f.do("POST", "/bridges/hold/addChannel", q("channel", id), nil), 204, "add")
	if r := f.do("GET", "/bridges/hold", "", nil); r.body["technology"] != "holding_bridge" || r.body["bridge_type"] != "holding" {
		t.Fatalf("holding bridge = %v", r.body)
	}
	r := f.do("POST", "/bridges/hold/play", q("media", "sound:hello-world", "playbackId", "bp"), nil)
	f.expect(r, 201, "bridge play")
	if r.body["target_uri"] != "bridge:hold" {
		t.Fatalf("bridge playback = %v", r.body)
	}
	f.advance(time.Second)
	f.app.await("PlaybackFinished", func(e map[string]any) bool { return e["playback"].(map[string]any)["id"] == "bp" })
	if r := f.do("POST", "/bridges/hold/removeChannel", q("channel", "nope"), nil); r.status != 400 {
		t.Fatalf("remove unknown channel: %d", r.status)
	}
	f.expect(f.do("POST", "/bridges/hold/removeChannel", q("channel", id), nil), 204, "remove")
	if r := f.do("POST", "/bridges/hold/removeChannel", q("channel", id), nil); r.status != 422 {
		t.Fatalf("remove twice: %d", r.status)
	}
	heard := call.Heard()
	if len(heard) != 2 || heard[0].Kind != "bridge" || heard[1].Media != "sound:hello-world" {
		t.Fatalf("heard %+v", heard)
	}
}

func TestMoveToAnotherApp(t *testing.T) {
	f := newFixture(t)
	other := f.connect("queue", false)
	_, id := f.answered()
	f.expect(f.do("POST", "/channels/"+id+"/move", q("app", "nobody"), nil), 204, "move to missing app")
	f.app.await("ApplicationMoveFailed", nil)
	f.expect(f.do("POST", "/channels/"+id+"/move", q("app", "queue", "appArgs", "it"), nil), 204, "move")
	f.app.await("StasisEnd", nil)
	s := other.await("StasisStart", nil)
	if args := s["args"].([]any); len(args) != 1 || args[0] != "it" {
		t.Fatalf("moved StasisStart args = %v", args)
	}
}

// A hangup fails the playing prompt and drops the queued ones silently.
func TestHangupDropsQueuedPlaybacks(t *testing.T) {
	f := newFixture(t)
	call, id := f.answered()
	for _, pb := range []string{"p1", "p2"} {
		f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:demo-congrats", "playbackId", pb), nil), 201, "play "+pb)
	}
	_ = call.Hangup()
	f.app.await("StasisEnd", nil)
	var got []string
	for _, e := range f.app.all() {
		if p, ok := e["playback"].(map[string]any); ok {
			got = append(got, e["type"].(string)+" "+p["id"].(string)+" "+p["state"].(string))
		}
	}
	want := []string{"PlaybackStarted p1 playing", "PlaybackFinished p1 failed"}
	if !slices.Equal(got, want) {
		t.Fatalf("playback events %q, want %q", got, want)
	}
	if r := f.do("GET", "/playbacks/p2", "", nil); r.status != 404 {
		t.Fatalf("queued playback after hangup: %d", r.status)
	}
}
