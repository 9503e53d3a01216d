package aritest_test

import (
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ari/aritest"
)

func TestRoutingAndAuth(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path string
		status       int
		message      string
		gap          bool
	}{
		{"GET", "/nope", 404, "Resource not found", false},
		{"GET", "/channels/x/nope", 404, "Resource not found", false},
		{"PUT", "/channels", 405, "Invalid method", false},
		{"GET", "/channels/does-not-exist", 404, "Channel not found", false},
		{"GET", "/sounds", 404, "Resource not found", true},
		{"POST", "/channels/c1/snoop", 404, "Resource not found", true},
		{"GET", "/recordings/stored/folder/x", 404, "Resource not found", false},
	} {
		r := f.do(tc.method, tc.path, "", nil)
		if r.status != tc.status || r.body["message"] != tc.message {
			t.Errorf("%s %s = %d %v, want %d %q", tc.method, tc.path, r.status, r.body, tc.status, tc.message)
		}
		gaps := f.srv.Gaps()
		recorded := slices.ContainsFunc(gaps, func(g aritest.Gap) bool { return g.Method == tc.method && g.Path == tc.path })
		if recorded != tc.gap {
			t.Errorf("%s %s recorded as emulator gap = %v, want %v (gaps %v)", tc.method, tc.path, recorded, tc.gap, gaps)
		}
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/ari/asterisk/ping", nil)
	req.SetBasicAuth("asterisk", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong password: status %d, want 401", resp.StatusCode)
	}
	if r := f.do("GET", "/asterisk/ping", "", nil); r.status != 200 || r.body["ping"] != "pong" {
		t.Errorf("ping = %d %v", r.status, r.body)
	}
}

// A PSTN call through its whole life: Stasis, answer, a prompt, a digit,
// the caller's BYE; and what the caller heard.
func TestInboundCall(t *testing.T) {
	f := newFixture(t)
	call, err := f.srv.Call(ctxFor(t), "+390612345678", "1522", aritest.CallOptions{CallerName: "Anna"})
	if err != nil {
		t.Fatal(err)
	}
	start := f.app.await("StasisStart", nil)
	ch := start["channel"].(map[string]any)
	if id := chanID(start); id != call.ChannelID() || ch["state"] != "Ring" || ch["language"] != "it" {
		t.Fatalf("StasisStart channel = %v, want %s in Ring, language it", ch, call.ChannelID())
	}
	if args := start["args"].([]any); len(args) != 1 || args[0] != "inbound" {
		t.Fatalf("args = %v, want [inbound]", args)
	}
	if c := ch["caller"].(map[string]any); c["number"] != "+390612345678" || c["name"] != "Anna" {
		t.Fatalf("caller = %v", c)
	}
	id := call.ChannelID()
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	if err := call.AwaitAnswered(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	f.app.await("ChannelStateChange", func(e map[string]any) bool { return e["channel"].(map[string]any)["state"] == "Up" })
	r := f.do("POST", "/channels/"+id+"/play/pb1", q("media", "sound:hello-world"), nil)
	f.expect(r, 201, "play")
	if r.body["state"] != "queued" || r.body["target_uri"] != "channel:"+id {
		t.Fatalf("play response = %v", r.body)
	}
	f.app.await("PlaybackStarted", nil)
	if err := call.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	f.advance(280 * time.Millisecond)
	d := f.app.await("ChannelDtmfReceived", nil)
	if d["digit"] != "5" || d["duration_ms"] != float64(280) {
		t.Fatalf("dtmf event = %v", d)
	}
	f.advance(time.Second) // hello-world lasts 650 ms
	if e := f.app.await("PlaybackFinished", nil); e["playback"].(map[string]any)["state"] != "done" {
		t.Fatalf("PlaybackFinished = %v", e)
	}
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	hr := f.app.await("ChannelHangupRequest", nil)
	if _, has := hr["cause"]; has {
		t.Fatalf("a SIP BYE gives ChannelHangupRequest without cause, got %v", hr)
	}
	f.app.await("StasisEnd", nil)
	h, err := call.AwaitHangup(ctxFor(t))
	if err != nil || h.By != aritest.ByCaller || h.Cause != 16 {
		t.Fatalf("hangup = %+v, %v; want by caller, cause 16", h, err)
	}
	heard := call.Heard()
	if len(heard) != 1 || heard[0].Media != "sound:hello-world" || heard[0].State != "done" || heard[0].End.Sub(heard[0].Start) != 650*time.Millisecond {
		t.Fatalf("heard = %+v, want hello-world played 650ms to the end", heard)
	}
	if r := f.do("GET", "/channels/"+id, "", nil); r.status != 404 {
		t.Fatalf("channel after hangup: %d", r.status)
	}
	if err := call.SendDTMF("1"); !errors.Is(err, aritest.ErrCallEnded) {
		t.Fatalf("SendDTMF after hangup = %v, want ErrCallEnded", err)
	}
}

func TestHangupCauses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		query   string
		wantBy  aritest.HungUpBy
		cause   int
		caller  func(*aritest.Call) error
		hrCause any
	}{
		{"app default", "", aritest.ByApp, 16, nil, float64(32)},
		{"app busy", "reason=busy", aritest.ByApp, 17, nil, float64(32)},
		{"app reason_code", "reason_code=21", aritest.ByApp, 21, nil, float64(32)},
		{"caller cancels while ringing", "", aritest.ByCaller, 127, (*aritest.Call).Hangup, float64(127)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			call, err := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
			if err != nil {
				t.Fatal(err)
			}
			f.app.await("StasisStart", nil)
			if tc.caller != nil {
				if err := tc.caller(call); err != nil {
					t.Fatal(err)
				}
			} else {
				f.expect(f.do("DELETE", "/channels/"+call.ChannelID(), tc.query, nil), 204, "hangup")
			}
			hr := f.app.await("ChannelHangupRequest", nil)
			if hr["cause"] != tc.hrCause {
				t.Errorf("ChannelHangupRequest cause = %v, want %v", hr["cause"], tc.hrCause)
			}
			h, err := call.AwaitHangup(ctxFor(t))
			if err != nil || h.By != tc.wantBy || h.Cause != tc.cause {
				t.Fatalf("hangup = %+v, %v; want %s cause %d", h, err, tc.wantBy, tc.cause)
			}
		})
	}
	f := newFixture(t)
	call, _ := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	f.app.await("StasisStart", nil)
	if r := f.do("DELETE", "/channels/"+call.ChannelID(), "reason=bogus", nil); r.status != 400 || r.body["message"] != "Invalid reason for hangup reason provided" {
		t.Fatalf("bad reason = %d %v", r.status, r.body)
	}
}

// Originating to a softphone: each behaviour gives the causes and Dial
// statuses of the traces.
func TestOriginatePhone(t *testing.T) {
	for _, tc := range []struct {
		name      string
		phone     aritest.Phone
		wait      time.Duration
		cause     float64
		techCause float64
		dial      string
	}{
		{"busy", aritest.Phone{Answer: aritest.RejectBusy}, 2 * time.Second, 17, 486, "BUSY"},
		{"decline", aritest.Phone{Answer: aritest.RejectDecline}, 2 * time.Second, 21, 603, "NOANSWER"},
		{"unavailable", aritest.Phone{Answer: aritest.RejectUnavailable}, 2 * time.Second, 19, 480, "NOANSWER"},
		{"congestion", aritest.Phone{Answer: aritest.RejectCongestion}, 2 * time.Second, 34, 503, "CONGESTION"},
		{"no answer", aritest.Phone{Answer: aritest.RingForever}, 5 * time.Second, 19, 480, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *aritest.Config) {
				c.Endpoints = aritest.DefaultEndpoints()
				c.Endpoints[1].Phone = tc.phone
			})
			r := f.do("POST", "/channels", q("endpoint", "PJSIP/op1001", "app", "helpline", "appArgs", "operator,op1001", "channelId", "op-1", "timeout", "5"), nil)
			f.expect(r, 200, "originate")
			if r.body["state"] != "Down" || r.body["id"] != "op-1" {
				t.Fatalf("originate response = %v", r.body)
			}
			f.app.await("Dial", func(e map[string]any) bool { return e["dialstatus"] == "RINGING" })
			f.advance(tc.wait)
			d := f.app.await("ChannelDestroyed", nil)
			if d["cause"] != tc.cause || d["tech_cause"] != tc.techCause {
				t.Fatalf("ChannelDestroyed = %v, want cause %v tech_cause %v", d, tc.cause, tc.techCause)
			}
			types := f.app.types()
			if tc.dial != "" {
				if !slices.Contains(types, "ChannelHangupRequest") {
					t.Errorf("a reject comes with ChannelHangupRequest: %v", types)
				}
				f.app.next = 0
				e := f.app.await("Dial", func(e map[string]any) bool { return e["dialstatus"] == tc.dial })
				_ = e
			} else if slices.Contains(types, "ChannelHangupRequest") {
				t.Errorf("an originate timeout has no ChannelHangupRequest: %v", types)
			}
		})
	}
	t.Run("allocation failures", func(t *testing.T) {
		f := newFixture(t)
		for _, ep := range []string{"PJSIP/op1002", "PJSIP/op9999", "Bogus/1"} {
			r := f.do("POST", "/channels", q("endpoint", ep, "app", "helpline"), nil)
			if r.status != 500 || r.body["error"] != "Allocation failed" {
				t.Errorf("%s: %d %s, want 500 {\"error\":\"Allocation failed\"}", ep, r.status, r.raw)
			}
		}
	})
}

// A Manual phone is answered by the test; TalkFor hangs it up later.
func TestManualPhoneAndTalkTime(t *testing.T) {
	f := newFixture(t, func(c *aritest.Config) {
		c.Endpoints = aritest.DefaultEndpoints()
		c.Endpoints[1].Phone = aritest.Phone{Answer: aritest.Manual, TalkFor: 10 * time.Second}
	})
	f.expect(f.do("POST", "/channels", q("endpoint", "PJSIP/op1001", "app", "helpline", "appArgs", "operator,op1001"), map[string]any{
		"variables": map[string]string{"HELPLINE_CALL": "x1"},
	}), 200, "originate")
	ph, err := f.srv.AwaitRinging(ctxFor(t), "op1001")
	if err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute) // a manual phone rings until told otherwise (timeout 30 s default)
	if _, ended := ph.Ended(); !ended {
		t.Fatal("the originate timeout (30 s) did not end the ringing")
	}
	f.expect(f.do("POST", "/channels", q("endpoint", "PJSIP/op1001", "app", "helpline", "appArgs", "operator,op1001"), nil), 200, "originate")
	ph, err = f.srv.AwaitRinging(ctxFor(t), "op1001")
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.Answer(); err != nil {
		t.Fatal(err)
	}
	s := f.app.await("StasisStart", nil)
	if args := s["args"].([]any); len(args) != 2 || args[1] != "op1001" {
		t.Fatalf("args = %v", args)
	}
	f.advance(10 * time.Second)
	f.app.await("StasisEnd", nil)
	if h, _ := ph.Ended(); h.By != aritest.ByCaller {
		t.Fatalf("after TalkFor the phone hangs up itself; got %+v", h)
	}
}

func TestPlaybacks(t *testing.T) {
	f := newFixture(t, func(c *aritest.Config) {
		c.Sounds = map[string]time.Duration{"a": 2 * time.Second, "b": 3 * time.Second, "gone": aritest.Missing}
	})
	call, _ := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	id := f.app.await("StasisStart", nil)["channel"].(map[string]any)["id"].(string)
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:a", "playbackId", "p1"), nil), 201, "play a")
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:b", "playbackId", "p2"), nil), 201, "play b")
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:a", "playbackId", "p3"), nil), 201, "play a again")
	if r := f.do("GET", "/playbacks/p2", "", nil); r.body["state"] != "queued" {
		t.Fatalf("p2 behind p1 = %v, want queued", r.body)
	}
	f.expect(f.do("DELETE", "/playbacks/p3", "", nil), 204, "cancel queued p3")
	// pause p1 for 5 s: it ends 5 s late
	f.advance(time.Second)
	f.expect(f.do("POST", "/playbacks/p1/control", q("operation", "pause"), nil), 204, "pause")
	if r := f.do("GET", "/playbacks/p1", "", nil); r.body["state"] != "paused" {
		t.Fatalf("paused playback = %v", r.body)
	}
	f.advance(5 * time.Second)
	f.expect(f.do("POST", "/playbacks/p1/control", q("operation", "unpause"), nil), 204, "unpause")
	f.advance(999 * time.Millisecond)
	if r := f.do("GET", "/playbacks/p1", "", nil); r.body["state"] != "playing" {
		t.Fatalf("p1 1 ms before its end = %v", r.body)
	}
	f.advance(time.Millisecond)
	if r := f.do("GET", "/playbacks/p2", "", nil); r.body["state"] != "playing" {
		t.Fatalf("p2 after p1 = %v", r.body)
	}
	if r := f.do("POST", "/playbacks/p1/control", q("operation", "bogus"), nil); r.status != 404 {
		t.Fatalf("control of a finished playback: %d", r.status)
	}
	if r := f.do("POST", "/playbacks/p2/control", q("operation", "bogus"), nil); r.status != 400 || r.body["message"] != "Invalid operation bogus" {
		t.Fatalf("bogus operation: %d %v", r.status, r.body)
	}
	f.advance(3 * time.Second)
	f.app.await("PlaybackFinished", func(e map[string]any) bool { return e["playback"].(map[string]any)["id"] == "p3" })
	// The order of the app's events.
	var got []string
	for _, e := range f.app.all() {
		if p, ok := e["playback"].(map[string]any); ok {
			got = append(got, e["type"].(string)+" "+p["id"].(string)+" "+p["state"].(string))
		}
	}
	want := []string{
		"PlaybackStarted p1 playing", "PlaybackStarted p1 playing", "PlaybackFinished p1 done",
		"PlaybackStarted p2 playing", "PlaybackFinished p2 done", "PlaybackFinished p3 done",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("playback events:\n got %q\nwant %q", got, want)
	}
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:gone", "playbackId", "p4"), nil), 201, "missing sound")
	f.app.await("PlaybackFinished", func(e map[string]any) bool { return e["playback"].(map[string]any)["state"] == "failed" })
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:b", "playbackId", "p5"), nil), 201, "play b")
	_ = call.Hangup()
	f.app.await("PlaybackFinished", func(e map[string]any) bool {
		p := e["playback"].(map[string]any)
		return p["id"] == "p5" && p["state"] == "failed"
	})
}

func (c *appConn) all() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.events...)
}

// Asterisk runs ARI commands one at a time on the channel: setting a
// variable during a prompt is answered when the prompt ends.
func TestSetVariableWaitsForThePrompt(t *testing.T) {
	f := newFixture(t)
	f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	id := chanID(f.app.await("StasisStart", nil))
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	f.expect(f.do("POST", "/channels/"+id+"/play", q("media", "sound:demo-congrats"), nil), 201, "play")
	res := f.doAsync("POST", "/channels/"+id+"/variable", q("variable", "X", "value", "1"))
	if _, err := f.srv.AwaitRequest(ctxFor(t), "POST", "/channels/{channelId}/variable"); err != nil {
		t.Fatal(err)
	}
	f.advance(27 * time.Second)
	select {
	case r := <-res:
		t.Fatalf("POST /variable answered (%d) while the 27.1 s prompt still played", r.status)
	default:
	}
	f.advance(200 * time.Millisecond)
	if r := <-res; r.status != 204 {
		t.Fatalf("POST /variable after the prompt: %d", r.status)
	}
	if r := f.do("GET", "/channels/"+id+"/variable", q("variable", "X"), nil); r.body["value"] != "1" {
		t.Fatalf("GET variable = %v", r.body)
	}
}

func TestRecording(t *testing.T) {
	f := newFixture(t)
	call, _ := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	id := chanID(f.app.await("StasisStart", nil))
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	r := f.do("POST", "/channels/"+id+"/record", q("name", "vm1", "format", "wav", "maxSilenceSeconds", "5", "terminateOn", "#", "beep", "true"), nil)
	f.expect(r, 201, "record")
	if r.body["state"] != "queued" {
		t.Fatalf("record response = %v", r.body)
	}
	f.app.await("RecordingStarted", nil)
	f.advance(time.Second)
	if err := call.Speak(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	f.advance(3 * time.Second)
	_ = call.SendDTMF("#")
	f.advance(time.Second)
	f.app.await("ChannelDtmfReceived", nil)
	fin := f.app.await("RecordingFinished", nil)["recording"].(map[string]any)
	// a SIP phone sends frames all the time: 1 s silence + 3 s talk + 0.28 s
	if fin["state"] != "done" || fin["duration"] != float64(4) || fin["talking_duration"] != float64(3) || fin["silence_duration"] != float64(1) {
		t.Fatalf("RecordingFinished = %v", fin)
	}
	file := f.do("GET", "/recordings/stored/vm1/file", "", nil)
	f.expect(file, 200, "file")
	if file.ctype != "audio/wav" || string(file.raw[:4]) != "RIFF" || string(file.raw[8:12]) != "WAVE" {
		t.Fatalf("file is not a WAV: %q %q", file.ctype, file.raw[:12])
	}
	if n := binary.LittleEndian.Uint32(file.raw[40:44]); int(n) != len(file.raw)-44 || n != 4280*16 {
		t.Fatalf("WAV data size %d, file %d bytes; want 4.28 s of 8 kHz 16-bit", n, len(file.raw))
	}
	f.expect(f.do("POST", "/recordings/stored/vm1/copy", q("destinationRecordingName", "kept/vm1"), nil), 200, "copy")
	f.expect(f.do("DELETE", "/recordings/stored/kept%2Fvm1", "", nil), 204, "delete with %2F")
	if r := f.do("POST", "/channels/"+id+"/record", q("name", "vm1", "format", "wav"), nil); r.status != 409 {
		t.Fatalf("re-record over a stored name with ifExists default: %d", r.status)
	}
	if r := f.do("POST", "/channels/"+id+"/record", q("name", "vm2", "format", "mp9"), nil); r.status != 422 {
		t.Fatalf("unknown format: %d", r.status)
	}
}

// Operator bridged with a caller; the caller hangs up; the app destroys
// the bridge.
func TestBridgeCallerAndOperator(t *testing.T) {
	f := newFixture(t)
	caller, _ := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	cid := chanID(f.app.await("StasisStart", nil))
	f.expect(f.do("POST", "/channels/"+cid+"/answer", "", nil), 204, "answer")
	f.expect(f.do("POST", "/channels/"+cid+"/moh", "", nil), 204, "moh")
	b := f.do("POST", "/bridges", q("type", "mixing", "bridgeId", "b1"), nil)
	f.expect(b, 200, "bridge")
	f.expect(f.do("POST", "/channels", q("endpoint", "PJSIP/op1001", "app", "helpline", "appArgs", "operator", "channelId", "op"), nil), 200, "originate")
	f.advance(3100 * time.Millisecond) // op1001 rings 3 s after its 180

	f.app.await("StasisStart", func(e map[string]any) bool { return chanID(e) == "op" })
	f.expect(f.do("DELETE", "/channels/"+cid+"/moh", "", nil), 204, "moh off")
	f.expect(f.do("POST", "/bridges/b1/addChannel", q("channel", cid+",op"), nil), 204, "addChannel")
	if r := f.do("GET", "/bridges/b1", "", nil); len(r.body["channels"].([]any)) != 2 {
		t.Fatalf("bridge = %v", r.body)
	}
	peer := f.app.await("ChannelVarset", func(e map[string]any) bool { return e["variable"] == "BRIDGEPEER" && chanID(e) == cid })
	if !strings.HasPrefix(peer["value"].(string), "PJSIP/op1001-") {
		t.Fatalf("BRIDGEPEER = %v", peer["value"])
	}
	f.advance(10 * time.Second)
	_ = caller.Hangup()
	f.app.await("ChannelLeftBridge", nil)
	f.expect(f.do("DELETE", "/channels/op", "", nil), 204, "hang up operator")
	f.app.await("ChannelDestroyed", nil)
	f.expect(f.do("DELETE", "/bridges/b1", "", nil), 204, "destroy bridge")
	f.app.await("BridgeDestroyed", nil)
	heard := caller.Heard()
	var kinds []string
	for _, h := range heard {
		kinds = append(kinds, h.Kind+":"+h.Media)
	}
	if !slices.Equal(kinds, []string{"moh:default", "bridge:b1"}) {
		t.Fatalf("caller heard %v", kinds)
	}
	if r := f.do("POST", "/bridges/b1/addChannel", q("channel", cid), nil); r.status != 404 {
		t.Fatalf("addChannel to a destroyed bridge: %d", r.status)
	}
}

// A second socket replaces the first; after a drop nothing is replayed and
// events raised meanwhile are lost, but REST still sees the call.
func TestReconnect(t *testing.T) {
	f := newFixture(t)
	call, _ := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	id := chanID(f.app.await("StasisStart", nil))
	second := f.connect("helpline", false)
	f.app.await("ApplicationReplaced", nil)
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	second.await("ChannelStateChange", nil)
	f.srv.DropWebSockets()
	_ = call.SendDTMF("5")
	f.advance(time.Second)
	third := f.connect("helpline", false)
	r := f.do("GET", "/applications/helpline", "", nil)
	if ids := r.body["channel_ids"].([]any); len(ids) != 1 || ids[0] != id {
		t.Fatalf("application = %v", r.body)
	}
	_ = call.SendDTMF("7")
	f.advance(time.Second)
	d := third.await("ChannelDtmfReceived", nil)
	if d["digit"] != "7" {
		t.Fatalf("first digit after reconnect = %v, want 7 (5 was lost)", d["digit"])
	}
	if slices.Contains(third.types(), "StasisStart") {
		t.Fatalf("StasisStart replayed after reconnect: %v", third.types())
	}
	if slices.Contains(f.app.types(), "ChannelStateChange") {
		t.Fatalf("the replaced socket still got events: %v", f.app.types())
	}
}

func TestFaultInjection(t *testing.T) {
	f := newFixture(t)
	f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	id := chanID(f.app.await("StasisStart", nil))
	f.srv.FailNext("POST", "/channels/{channelId}/answer", 500)
	if r := f.do("POST", "/channels/"+id+"/answer", "", nil); r.status != 500 {
		t.Fatalf("injected fault: %d", r.status)
	}
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer after the fault")
	// Times covers net/http's retries of an idempotent GET.
	f.srv.InjectFault(aritest.Fault{Route: "/asterisk/ping", Drop: true, Times: 5})
	req, _ := http.NewRequest("GET", f.srv.URL+"/ari/asterisk/ping", nil)
	req.Header.Set("Authorization", f.srv.BasicAuth())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request got a response: %d", resp.StatusCode)
	}
	reqs := f.srv.Requests()
	var answers int
	for _, r := range reqs {
		if r.Route == "/channels/{channelId}/answer" {
			answers++
		}
	}
	if answers != 2 {
		t.Fatalf("Requests logged %d answers, want 2", answers)
	}
}

// Ten minutes of a caller on hold take no wall time on a fake clock.
func TestLongWaitOnFakeClock(t *testing.T) {
	f := newFixture(t)
	call, err := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{
		Tech:   aritest.Local,
		Script: []aritest.App{{Name: "Wait", Data: "600"}, {Name: "Hangup", Data: "16"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := chanID(f.app.await("StasisStart", nil))
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	f.expect(f.do("POST", "/channels/"+id+"/moh", q("mohClass", "default"), nil), 204, "moh")
	f.advance(599 * time.Second)
	if _, ended := call.Ended(); ended {
		t.Fatal("the caller hung up before the 10 minutes")
	}
	f.advance(time.Second)
	hr := f.app.await("ChannelHangupRequest", nil)
	if hr["cause"] != float64(16) {
		t.Fatalf("Local Hangup(16) gives cause 16: %v", hr)
	}
	h, _ := call.AwaitHangup(ctxFor(t))
	if h.By != aritest.ByCaller {
		t.Fatalf("hangup = %+v", h)
	}
	if heard := call.Heard(); len(heard) != 1 || heard[0].Kind != "moh" || heard[0].End.Sub(heard[0].Start) != 10*time.Minute {
		t.Fatalf("heard = %+v, want 10 minutes of music on hold", heard)
	}
}

// Every event the emulator raises is one the ari package decodes.
func TestEventsDecode(t *testing.T) {
	f := newFixture(t)
	call, _ := f.srv.Call(ctxFor(t), "+39333", "1522", aritest.CallOptions{})
	id := chanID(f.app.await("StasisStart", nil))
	f.expect(f.do("POST", "/channels/"+id+"/answer", "", nil), 204, "answer")
	_ = call.Hangup()
	f.app.await("StasisEnd", nil)
	f.app.mu.Lock()
	raws := append([][]byte(nil), f.app.raw...)
	f.app.mu.Unlock()
	if len(raws) < 4 {
		t.Fatalf("only %d events", len(raws))
	}
	for _, raw := range raws {
		ev, err := ari.DecodeEvent(raw)
		if err != nil {
			t.Errorf("DecodeEvent(%s): %v", raw, err)
			continue
		}
		if _, ok := ev.(*ari.UnknownEvent); ok {
			t.Errorf("event unknown to package ari: %s", raw)
		}
		if h := ev.EventHeader(); h.Application != "helpline" || h.Timestamp.IsZero() || h.AsteriskID == "" {
			t.Errorf("event header %+v", h)
		}
	}
}
