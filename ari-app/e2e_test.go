package ariapp_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
)

// pressOne is a caller who presses 1 (Italian) one second into the call.
var pressOne = []aritest.App{{Name: "Wait", Data: "1"}, {Name: "SendDTMF", Data: "1"}}

// TestAnswered: caller → welcome, interrupted by 1 → queue with music →
// the PJSIP operator answers → bridge → the caller hangs up → the app
// hangs the operator up and deletes the bridge; one answered CDR.
func TestAnswered(t *testing.T) {
	s := newStack(t, withRedis())
	s.login("op1001", "it", "en")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	s.advance(10 * time.Second) // talk
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.Language != "it" ||
		rec.HangupBy != cdr.HangupCaller || rec.HangupCause != ivr.CauseNormal {
		t.Errorf("CDR %+v", rec)
	}
	if talk := rec.TalkSeconds(); talk < 10 || talk > 11 {
		t.Errorf("talk %.1fs, want about 10s", talk)
	}
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })

	id := c.ChannelID()
	reqs := s.srv.Requests()
	originates := find(reqs, http.MethodPost, "/channels")
	if len(originates) != 1 {
		t.Fatalf("originates %d, want 1: %v", len(originates), routes(reqs))
	}
	o := originates[0]
	leg := o.Query.Get("channelId")
	for k, want := range map[string]string{
		"endpoint": "PJSIP/op1001", "app": "helpline", "appArgs": "operator,op1001," + id, "timeout": "20",
	} {
		if got := o.Query.Get(k); got != want {
			t.Errorf("originate %s=%q, want %q", k, got, want)
		}
	}
	if leg == "" || !strings.HasPrefix(o.Query.Get("callerId"), `"1522 it"`) {
		t.Errorf("originate channelId %q callerId %q", leg, o.Query.Get("callerId"))
	}
	bridges := find(reqs, http.MethodPost, "/bridges")
	if len(bridges) != 1 || bridges[0].Query.Get("type") != "mixing" || bridges[0].Query.Get("bridgeId") == "" {
		t.Fatalf("bridge requests %+v", bridges)
	}
	br := bridges[0].Query.Get("bridgeId")
	add := find(reqs, http.MethodPost, "/bridges/{bridgeId}/addChannel")
	if len(add) != 1 || add[0].Query.Get("channel") != id+","+leg {
		t.Errorf("addChannel %+v", add)
	}
	// Every request but the reads, in order (this test has one call).
	want := []string{
		"POST /channels/{channelId}/ring",
		"POST /channels/{channelId}/answer",
		"POST /channels/{channelId}/play", // welcome
		"DELETE /playbacks/{playbackId}",  // barged in by 1
		"POST /channels/{channelId}/moh",  // queue
		"POST /channels",                  // originate
		"DELETE /channels/{channelId}/moh",
		"POST /bridges",
		"POST /bridges/{bridgeId}/addChannel",
		"POST /channels/{channelId}/variable", // the talk's mark, for a re-adoption
		"DELETE /channels/{channelId}",        // the operator's leg, after the caller left
		"DELETE /bridges/{bridgeId}",
	}
	got := routes(slices.DeleteFunc(slices.Clone(reqs), func(r aritest.Request) bool { return r.Method == http.MethodGet }))
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
	if pb := find(reqs, http.MethodPost, "/channels/{channelId}/play")[0]; pb.Path != "/channels/"+id+"/play" ||
		pb.Query.Get("media") != string(pWelcome) || pb.Query.Get("lang") != "it" ||
		find(reqs, http.MethodDelete, "/playbacks/{playbackId}")[0].Path != "/playbacks/"+pb.Query.Get("playbackId") {
		t.Errorf("welcome %+v not the playback stopped", pb)
	}
	hangups := find(reqs, http.MethodDelete, "/channels/{channelId}")
	if len(hangups) != 1 || hangups[0].Path != "/channels/"+leg || hangups[0].Query.Get("reason") != "normal" {
		t.Errorf("hang-ups %+v, want the leg's only", hangups)
	}
	if d := find(reqs, http.MethodDelete, "/bridges/{bridgeId}"); len(d) != 1 || d[0].Path != "/bridges/"+br {
		t.Errorf("bridge deletes %+v", d)
	}
	if op := s.operator("op1001"); op.State != queue.WrapUp {
		t.Errorf("operator %+v, want in wrap-up", op)
	}
	s.noLeaks()
	s.noNumberLeak(callerNumber)
}

// TestAbandoned: the caller hangs up while waiting (the only operator is
// paused); the CDR is abandoned and no operator was rung.
func TestAbandoned(t *testing.T) {
	s := newStack(t, withRedis())
	s.login("op1001", "it")
	if err := s.q.Pause(s.ctx, "op1001", "coffee", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.dial(callerNumber, pressOne...)
	s.until("caller waiting with music", time.Minute, func() bool { return heard(c, "moh", "") })
	s.advance(30 * time.Second)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Abandoned || rec.HangupBy != cdr.HangupCaller || rec.Language != "it" {
		t.Errorf("CDR %+v", rec)
	}
	if w := rec.EndedAt.Sub(rec.QueuedAt); w < 30*time.Second || w > 31*time.Second {
		t.Errorf("waited %v, want about 30s", w)
	}
	if n := len(find(s.srv.Requests(), http.MethodPost, "/channels")); n != 0 {
		t.Errorf("%d originates, want none", n)
	}
	s.noLeaks()
}

// TestOperatorBusyNextOperator: the longest-idle operator's phone answers
// 486 Busy Here (cause 17): she is auto-paused and the next operator is
// rung; the caller keeps waiting and is answered by him.
func TestOperatorBusyNextOperator(t *testing.T) {
	s := newStack(t, withRedis(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.RejectBusy},
		"op1002": {Answer: aritest.Answer},
	})...))
	s.login("op1001", "it")
	s.advance(time.Second)
	s.login("op1002", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if op := s.operator("op1001"); op.State != queue.Paused || op.PauseReason != ivr.PauseNoAnswer {
		t.Errorf("op1001 %+v, want paused (no_answer)", op)
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1002" {
		t.Errorf("CDR %+v", rec)
	}
	var eps []string
	for _, r := range find(s.srv.Requests(), http.MethodPost, "/channels") {
		eps = append(eps, r.Query.Get("endpoint"))
	}
	if !slices.Equal(eps, []string{"PJSIP/op1001", "PJSIP/op1002"}) {
		t.Errorf("rang %v", eps)
	}
	if n := s.counter("helpline_ariapp_originates_total", "result", "busy"); n != 1 {
		t.Errorf("busy originates %v, want 1", n)
	}
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRingTimeoutNextOperator: a phone that rings forever is given up by
// Asterisk after the ring timeout (cause 19, no final Dial): auto-pause,
// next operator.
func TestRingTimeoutNextOperator(t *testing.T) {
	s := newStack(t, withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.RingForever},
		"op1002": {Answer: aritest.Answer},
	})...))
	s.login("op1001", "it")
	s.advance(time.Second)
	s.login("op1002", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", 2*time.Minute, func() bool { return heard(c, "bridge", "") })
	first := find(s.srv.Requests(), http.MethodPost, "/channels")[0]
	if ep, to := first.Query.Get("endpoint"), first.Query.Get("timeout"); ep != "PJSIP/op1001" || to != "20" {
		t.Errorf("first ring %s timeout %s", ep, to)
	}
	if op := s.operator("op1001"); op.State != queue.Paused || op.PauseReason != ivr.PauseNoAnswer {
		t.Errorf("op1001 %+v, want paused (no_answer)", op)
	}
	if n := s.counter("helpline_ariapp_originates_total", "result", "no_answer"); n != 1 {
		t.Errorf("no_answer originates %v, want 1", n)
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1002" {
		t.Errorf("CDR %+v", rec)
	}
	if w := rec.WaitSeconds(); w < 20 || w > 30 {
		t.Errorf("waited %.1fs, want the 20s ring plus op1002's 3s", w)
	}
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestBlacklistedBusy: a blocked caller is rejected with busy (cause 17)
// without ever being answered.
func TestBlacklistedBusy(t *testing.T) {
	b := &blocklist{blocked: map[string]bool{}}
	s := newStack(t, withBlocklist(b))
	b.blocked[s.hasher.Identify(callerNumber).Hash] = true
	s.login("op1001", "it")
	c := s.dial(callerNumber)
	h, err := c.AwaitHangup(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Cause != ivr.CauseBusy || c.Answered() {
		t.Errorf("hang-up %+v answered=%v, want busy without answer", h, c.Answered())
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Blacklisted || rec.HangupCause != ivr.CauseBusy || rec.HangupBy != cdr.HangupSystem {
		t.Errorf("CDR %+v", rec)
	}
	got := routes(s.requests(c.ChannelID()))
	want := []string{"POST /channels/{channelId}/ring", "DELETE /channels/{channelId}"}
	if !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if r := find(s.srv.Requests(), http.MethodDelete, "/channels/{channelId}"); len(r) != 1 || r[0].Query.Get("reason") != "busy" {
		t.Errorf("reject %+v, want reason=busy", r)
	}
	s.noLeaks()
}

// TestHangupDuringWelcome: the caller hangs up 1 s into the welcome:
// ChannelHangupRequest, PlaybackFinished "failed", StasisEnd (the order of
// caller_hangs_up_during_welcome.jsonl) end the call as welcome_hangup.
func TestHangupDuringWelcome(t *testing.T) {
	s := newStack(t)
	s.login("op1001", "it")
	c := s.dial(callerNumber, aritest.App{Name: "Wait", Data: "1"}, aritest.App{Name: "Hangup"})
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.WelcomeHangup || rec.HangupBy != cdr.HangupCaller || rec.HangupCause != ivr.CauseNormal {
		t.Errorf("CDR %+v", rec)
	}
	var order []string
	for _, e := range s.srv.Events() {
		if len(e.Apps) == 0 {
			continue // not delivered to the app
		}
		switch ev := e.Event.(type) {
		case *ari.ChannelHangupRequest, *ari.StasisEnd:
			order = append(order, ev.EventType())
		case *ari.PlaybackFinished:
			order = append(order, ev.EventType()+" "+ev.Playback.State)
		}
	}
	if want := []string{"ChannelHangupRequest", "PlaybackFinished failed", "StasisEnd"}; !slices.Equal(order, want) {
		t.Errorf("events %q, want %q", order, want)
	}
	if n := s.counter("helpline_ivr_engine_errors_total", "op", "play"); n != 0 {
		t.Errorf("a hang-up counted as %v engine errors", n)
	}
	s.noLeaks()
}

// TestVoicemail: a waiting caller presses 9, hears the intro, records
// (beep, # ends it) and hangs up after the thanks; the recording exists
// in Asterisk under the CDR's name.
func TestVoicemail(t *testing.T) {
	s := newStack(t)
	s.login("op1001", "it")
	if err := s.q.Pause(s.ctx, "op1001", "meeting", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.dial(callerNumber, pressOne...)
	s.until("caller waiting", time.Minute, func() bool { return heard(c, "moh", "") })
	if err := c.SendDTMF("9"); err != nil {
		t.Fatal(err)
	}
	name := ivr.VoicemailName(c.ChannelID())
	s.until("recording", time.Minute, func() bool {
		_, err := s.client.Recordings().Live(s.ctx, name)
		return err == nil
	})
	if err := c.Speak(4 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.advance(5 * time.Second)
	if err := c.SendDTMF("#"); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Voicemail || rec.Voicemail != name || rec.HangupBy != cdr.HangupSystem {
		t.Errorf("CDR %+v", rec)
	}
	r := find(s.srv.Requests(), http.MethodPost, "/channels/{channelId}/record")
	if len(r) != 1 {
		t.Fatalf("record requests %d", len(r))
	}
	for k, want := range map[string]string{"name": name, "format": "wav", "maxDurationSeconds": "120",
		"beep": "true", "terminateOn": "#", "ifExists": "append"} {
		if got := r[0].Query.Get(k); got != want {
			t.Errorf("record %s=%q, want %q", k, got, want)
		}
	}
	st, err := s.client.Recordings().Stored(s.ctx, name)
	if err != nil {
		t.Fatalf("recording not kept: %v", err)
	}
	data, _, err := s.client.Recordings().StoredFileBytes(s.ctx, name, 1<<20)
	if err != nil || st.Format != "wav" || len(data) < 44+16000*5 {
		t.Errorf("stored %+v, %d bytes, %v; want ≥5 s of wav", st, len(data), err)
	}
	s.noLeaks()
}

// TestLocalCaller: a caller simulated with Local channels, as in most of
// the traces (the app drives the ;2 half; the ;1 half runs the caller's
// script: 1 during the welcome, 20 s later Hangup(16)).
func TestLocalCaller(t *testing.T) {
	s := newStack(t)
	s.login("op1001", "it")
	c, err := s.srv.Call(s.ctx, callerNumber, helplineNumber, aritest.CallOptions{Tech: aritest.Local,
		Script: []aritest.App{{Name: "Wait", Data: "1"}, {Name: "SendDTMF", Data: "1"}, {Name: "Wait", Data: "20"}, {Name: "Hangup", Data: "16"}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Language != "it" || rec.HangupBy != cdr.HangupCaller || rec.HangupCause != ivr.CauseNormal {
		t.Errorf("CDR %+v", rec)
	}
	if !strings.HasSuffix(c.Channel().Name, ";2") {
		t.Errorf("the app drove %s, want the ;2 half", c.Channel().Name)
	}
	s.until("every channel gone", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}
