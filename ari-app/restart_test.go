package ariapp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/report"
)

// These tests kill the app's process (stack.kill: every request of it
// fails from then on, nothing is cleaned up) with a call in each state,
// start a new process over the same Asterisk, Redis and CDR store, and
// check that the call goes on and ends with exactly one CDR, with its
// original times and operator, and that nobody hung the caller up.

// sinceRestart returns the requests made after mark (a length of
// srv.Requests() taken at the restart).
func (s *stack) requestsSince(mark int) []aritest.Request {
	return s.srv.Requests()[mark:]
}

// oneCDR checks the store holds exactly n records.
func (s *stack) cdrCount(n int) {
	s.t.Helper()
	got, err := s.store.Count(s.ctx, cdr.Filter{})
	if err != nil || got != n {
		s.t.Errorf("%d CDRs (%v), want %d", got, err, n)
	}
}

// notHungUpByUs checks no process of the app hung the caller up.
func (s *stack) notHungUpByUs(c *aritest.Call) {
	s.t.Helper()
	for _, r := range find(s.srv.Requests(), http.MethodDelete, "/channels/{channelId}") {
		if r.Path == "/channels/"+c.ChannelID() {
			s.t.Errorf("the app hung the caller up: %s %s", r.Method, r.Path)
		}
	}
	if h, ended := c.Ended(); ended && h.By != aritest.ByCaller {
		s.t.Errorf("caller's call ended %+v, want by the caller", h)
	}
}

// answers counts the answers sent for a channel.
func answers(rs []aritest.Request, id string) int {
	n := 0
	for _, r := range find(rs, http.MethodPost, "/channels/{channelId}/answer") {
		if r.Path == "/channels/"+id+"/answer" {
			n++
		}
	}
	return n
}

// TestRestartWaiting: the caller waits 30 s in the queue (her operator on
// a break), the process dies; the new one keeps her place and queue time,
// and she is answered when the operator comes back.
func TestRestartWaiting(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "it")
	if err := s.q.Pause(s.ctx, "op1001", "coffee", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.dial(callerNumber, pressOne...)
	s.until("caller waiting", time.Minute, func() bool { return heard(c, "moh", "") })
	queued := s.clock.Now()
	s.advance(30 * time.Second)
	s.restart()
	if n := s.counter("helpline_ariapp_orphans_total", "kind", "inbound"); n != 1 {
		t.Fatalf("orphans %v, want 1", n)
	}
	if err := s.q.Unpause(s.ctx, "op1001", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	s.advance(5 * time.Second)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.Language != "it" ||
		!rec.ArrivedAt.Equal(s.start.UTC()) || rec.QueuedAt.Sub(queued).Abs() > time.Second || rec.WaitSeconds() < 30 {
		t.Errorf("CDR %+v, want queued at about %v (kept across the restart)", rec, queued.UTC())
	}
	s.cdrCount(1)
	if n := answers(s.srv.Requests(), c.ChannelID()); n != 1 {
		t.Errorf("%d answers, want the first process's only", n)
	}
	s.notHungUpByUs(c)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartRinging: the process dies while the operator's phone rings
// for the caller. The new one hangs the ringing leg up, returns the offer
// (the operator is not paused: it was not her fault) and offers the call
// again, in its place: the operator answers the second ring.
func TestRestartRinging(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer, RingFor: 10 * time.Second},
	})...))
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	var legID string
	s.until("operator ringing", time.Minute, func() bool {
		for _, ch := range s.srv.Channels() {
			if strings.HasPrefix(ch.Name, "PJSIP/op1001") {
				legID = ch.ID
				return true
			}
		}
		return false
	})
	queued := s.clock.Now()
	s.advance(3 * time.Second)
	mark := len(s.srv.Requests())
	s.restart()
	after := s.requestsSince(mark)
	var cancelled bool
	for _, r := range find(after, http.MethodDelete, "/channels/{channelId}") {
		cancelled = cancelled || r.Path == "/channels/"+legID
	}
	if !cancelled {
		t.Errorf("the ringing leg %s was not hung up by the new process: %q", legID, routes(after))
	}
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if op := s.operator("op1001"); op.State != queue.Busy {
		t.Errorf("operator %+v, want busy with the call", op)
	}
	if n := len(find(s.srv.Requests(), http.MethodPost, "/channels")); n != 2 {
		t.Errorf("%d originates, want 2 (one per process)", n)
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.QueuedAt.Sub(queued).Abs() > time.Second {
		t.Errorf("CDR %+v, want queued at about %v", rec, queued.UTC())
	}
	s.cdrCount(1)
	s.notHungUpByUs(c)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartTalking: the process dies while the caller talks with the
// operator. The new one must not touch the talk: it finds the bridge and
// the operator's leg, watches them, and writes the one CDR when the
// caller hangs up, with the first process's connect time and operator.
func TestRestartTalking(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	connected := s.clock.Now()
	s.advance(20 * time.Second)
	mark := len(s.srv.Requests())
	s.restart()
	s.advance(40 * time.Second)
	// The talk goes on: only reads (and the event subscription) since.
	for _, r := range s.requestsSince(mark) {
		if r.Method != http.MethodGet {
			t.Errorf("the new process changed the talk: %s %s", r.Method, r.Path)
		}
	}
	if _, ended := c.Ended(); ended {
		t.Fatal("the talk was cut by the restart")
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	hungUp := s.clock.Now()
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.HangupBy != cdr.HangupCaller ||
		rec.ConnectedAt.Sub(connected).Abs() > time.Second || rec.EndedAt.Sub(hungUp).Abs() > time.Second ||
		rec.TalkSeconds() < 59 || rec.QueuedAt.IsZero() || rec.Language != "it" {
		t.Errorf("CDR %+v, want connected at about %v and ended at about %v", rec, connected.UTC(), hungUp.UTC())
	}
	s.cdrCount(1)
	s.notHungUpByUs(c)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	if op := s.operator("op1001"); op.State != queue.WrapUp && op.State != queue.Available {
		t.Errorf("operator %+v after the talk, want wrap-up or available", op)
	}
	s.noLeaks()
	s.noNumberLeak(callerNumber)
}

// TestRestartTalkOperatorHangsUp: the operator ends a talk the new
// process re-adopted: the caller is hung up by the flow's own rule (the
// helpline side ended the talk), one CDR, by the operator.
func TestRestartTalkOperatorHangsUp(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer, TalkFor: 60 * time.Second},
	})...))
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	connected := s.clock.Now()
	s.advance(10 * time.Second)
	s.restart()
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.HangupBy != cdr.HangupOperator ||
		rec.ConnectedAt.Sub(connected).Abs() > time.Second || rec.TalkSeconds() < 55 {
		t.Errorf("CDR %+v", rec)
	}
	s.cdrCount(1)
	s.until("caller hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartVoicemail: the process dies while the caller records a
// message. The recording is let finish (Asterisk goes on recording); the
// new process follows it to its end, thanks the caller and writes one
// voicemail CDR naming the file.
func TestRestartVoicemail(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "it")
	if err := s.q.Pause(s.ctx, "op1001", "meeting", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.dial(callerNumber, pressOne...)
	s.until("caller waiting", time.Minute, func() bool { return heard(c, "moh", "") })
	queued := s.clock.Now()
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
	s.advance(2 * time.Second)
	s.restart()
	s.advance(3 * time.Second)
	if err := c.SendDTMF("#"); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Voicemail || rec.Voicemail != name || rec.HangupBy != cdr.HangupSystem ||
		rec.QueuedAt.Sub(queued).Abs() > time.Second || rec.Language != "it" {
		t.Errorf("CDR %+v", rec)
	}
	s.cdrCount(1)
	if n := len(find(s.srv.Requests(), http.MethodPost, "/channels/{channelId}/record")); n != 1 {
		t.Errorf("%d record requests, want the first process's only", n)
	}
	if !heard(c, "playback", string(ivr.DefaultConfig().Prompts.VoicemailThanks)) {
		t.Error("the caller was not thanked")
	}
	data, _, err := s.client.Recordings().StoredFileBytes(s.ctx, name, 1<<20)
	if err != nil || len(data) < 44+16000*4 {
		t.Errorf("stored %d bytes, %v; want ≥4 s of wav", len(data), err)
	}
	s.noLeaks()
	s.noNumberLeak(callerNumber)
}

// TestRestartWelcome: the process dies during the welcome (before any
// key). The new one does not answer again nor replay the welcome: the
// caller gets the language menu, chooses English and is queued; the CDR
// keeps the channel's arrival time.
func TestRestartWelcome(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "it", "en")
	c := s.dial(callerNumber)
	s.until("welcome playing", time.Minute, func() bool { return heard(c, "playback", string(pWelcome)) })
	s.restart()
	s.until("menu playing", time.Minute, func() bool { return heard(c, "playback", string(pMenuEN)) })
	if err := c.SendDTMF("2"); err != nil {
		t.Fatal(err)
	}
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Language != "en" || !rec.ArrivedAt.Equal(s.start.UTC()) {
		t.Errorf("CDR %+v", rec)
	}
	s.cdrCount(1)
	if n := answers(s.srv.Requests(), c.ChannelID()); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
	welcomes := 0
	for _, h := range c.Heard() {
		if h.Kind == "playback" && h.Media == string(pWelcome) {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Errorf("welcome played %d times, want once", welcomes)
	}
	s.notHungUpByUs(c)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartUnanswered: a caller in Stasis not answered yet (the process
// died between StasisStart and the answer) is run from the start.
func TestRestartUnanswered(t *testing.T) {
	var c *aritest.Call
	s := newStack(t, withRedis(), withSQLite(), beforeStart(func(s *stack, acfg ari.Config) {
		old, err := ari.OpenEvents(acfg, ari.EventsOptions{PingInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.srv.AwaitApp(s.ctx, "helpline"); err != nil {
			t.Fatal(err)
		}
		if c, err = s.srv.Call(s.ctx, callerNumber, helplineNumber, aritest.CallOptions{Script: pressOne}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.srv.AwaitEvent(s.ctx, func(e ari.Event) bool { return e.EventType() == ari.TypeStasisStart }); err != nil {
			t.Fatal(err)
		}
		_ = old.Close()
	}))
	s.login("op1001", "it")
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || !rec.ArrivedAt.Equal(s.start.UTC()) {
		t.Errorf("CDR %+v", rec)
	}
	s.cdrCount(1)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartMark: the talk's mark on the caller's channel holds the
// operator and the times, never the caller's number.
func TestRestartMark(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	v, err := s.client.Channels().GetVariable(s.ctx, c.ChannelID(), ariapp.MarkVariable)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ivr.ParseMark(v)
	if err != nil || m.Stage != ivr.StageTalk || m.Operator != "op1001" || m.Language != "it" || m.ConnectedAt.IsZero() {
		t.Errorf("mark %q = %+v, %v", v, m, err)
	}
	if strings.Contains(v, strings.TrimPrefix(callerNumber, "+")) {
		t.Errorf("mark %q carries the caller's number", v)
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	s.cdrOf(c, callerNumber)
	s.noNumberLeak(callerNumber)
}

// TestAsteriskRestart: Asterisk dies and comes back with calls in the
// welcome, waiting and talking. After the event stream is back, the app
// finds a new startup time and every call gone: each is closed with one
// CDR whose note says engine_restart — unanswered if it never reached an
// operator, answered (cut short) if it did — never as a caller's hang-up.
func TestAsteriskRestart(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer}, "op1002": {Answer: aritest.Answer},
	})...))
	s.login("op1001", "it")
	talking := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(talking, "bridge", "") })
	s.login("op1002", "it")
	if err := s.q.Pause(s.ctx, "op1002", "meeting", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	const waitingNumber, welcomeNumber = "+393330000001", "+393330000002"
	waiting := s.dial(waitingNumber, pressOne...)
	s.until("caller waiting", time.Minute, func() bool { return heard(waiting, "moh", "") })
	welcome := s.dial(welcomeNumber)
	s.until("welcome playing", time.Minute, func() bool { return heard(welcome, "playback", string(pWelcome)) })
	s.advance(5 * time.Second)

	s.srv.RestartAsterisk()
	s.waitFor("event stream lost", func() bool { return s.events.State() == ari.StateReconnecting })
	if n := len(s.srv.Channels()); n != 0 {
		t.Fatalf("%d channels after the restart, want none", n)
	}
	s.advance(3 * time.Second) // Asterisk boots
	s.reconnect()

	for _, tc := range []struct {
		name   string
		call   *aritest.Call
		number string
		want   cdr.Outcome
	}{
		{"talking", talking, callerNumber, cdr.Answered},
		{"waiting", waiting, waitingNumber, cdr.Unanswered},
		{"welcome", welcome, welcomeNumber, cdr.Unanswered},
	} {
		rec := s.cdrOf(tc.call, tc.number)
		if rec.Outcome != tc.want || rec.HangupBy != cdr.HangupSystem || !strings.HasPrefix(rec.Note, ivr.NoteEngineRestart) {
			t.Errorf("%s: CDR %+v, want %s with an engine_restart note", tc.name, rec, tc.want)
		}
		if tc.want == cdr.Unanswered && (rec.QueuedAt.IsZero() || rec.Language == "") {
			t.Errorf("%s: CDR %+v: an unanswered call needs its queue time and language", tc.name, rec)
		}
	}
	if rec := s.cdrOf(talking, callerNumber); rec.Operator != "op1001" || rec.TalkSeconds() < 5 {
		t.Errorf("talk cut short: CDR %+v", rec)
	}
	s.cdrCount(3)
	if n := s.counter("helpline_ariapp_asterisk_restarts_total"); n != 1 {
		t.Errorf("restarts %v, want 1", n)
	}
	if n := s.counter("helpline_ariapp_vanished_channels_total"); n < 3 {
		t.Errorf("vanished %v, want the three callers (and the leg)", n)
	}
	// The quarterly report counts the two that never reached an
	// operator as unanswered and says so.
	period, err := report.NewPeriod("2026-11-01", "2026-12-01", rome)
	if err != nil {
		t.Fatal(err)
	}
	res, err := report.FromStore(s.ctx, s.store, period, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in := res.Inbound; in.Unanswered != 2 || in.Answered != 1 || in.EngineRestart != 3 || in.EngineRestartUnanswered != 2 {
		t.Errorf("report inbound %+v, want 2 unanswered and 3 lost with the restart", in)
	}
	if report.NoteEngineRestart != ivr.NoteEngineRestart {
		t.Errorf("report counts notes %q, the flow writes %q", report.NoteEngineRestart, ivr.NoteEngineRestart)
	}
	// The waiting call is out of the queue: it must not be offered to
	// anyone again.
	snap, err := s.q.Snapshot(s.ctx, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for lang, calls := range snap.Waiting {
		if len(calls) > 0 {
			t.Errorf("queue %s still holds %d calls", lang, len(calls))
		}
	}
	s.noLeaks()
}

// TestRestartMenu: the process dies while the language menu plays (the
// welcome is over, no key yet). The new process plays the menu again;
// the caller's choice takes her to her language's queue.
func TestRestartMenu(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "en")
	c := s.dial(callerNumber)
	s.until("menu playing", time.Minute, func() bool { return heard(c, "playback", string(pMenuIT)) })
	s.restart()
	s.until("menu again", time.Minute, func() bool {
		n := 0
		for _, h := range c.Heard() {
			if h.Kind == "playback" && h.Media == string(pMenuIT) {
				n++
			}
		}
		return n == 2
	})
	if err := c.SendDTMF("2"); err != nil {
		t.Fatal(err)
	}
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Language != "en" || rec.Operator != "op1001" || !rec.ArrivedAt.Equal(s.start.UTC()) {
		t.Errorf("CDR %+v", rec)
	}
	s.cdrCount(1)
	s.notHungUpByUs(c)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestStopThenReadoptTalk: an orderly stop (SIGTERM) lets a talk go on
// past the drain bound, bridged, with no CDR; the next process re-adopts
// it and writes the one CDR with the first connect time.
func TestStopThenReadoptTalk(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	connected := s.clock.Now()
	s.stop() // drains for 10 s, then leaves the talk to the next process
	if _, ended := c.Ended(); ended {
		t.Fatal("the orderly stop cut the talk")
	}
	s.cdrCount(0)
	s.dead = append(s.dead, s.proc)
	s.startProcess(nil)
	s.waitFor("new process reconciled", func() bool { return s.counter("helpline_ariapp_reconciles_total") >= 1 })
	s.settle()
	s.advance(10 * time.Second)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.ConnectedAt.Sub(connected).Abs() > time.Second || rec.TalkSeconds() < 19 {
		t.Errorf("CDR %+v, want connected at about %v", rec, connected.UTC())
	}
	s.cdrCount(1)
	s.notHungUpByUs(c)
	s.until("operator hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartCallEndedWhileDown: calls that end between the SIGKILL and
// the new process leave no channel to find; the journal the flow keeps in
// Redis still has them, and the new process closes each with its one
// CDR: the waiting caller as abandoned (out of the queue), the talk as
// answered (the operator gets her wrap-up), both noted ended_unseen.
func TestRestartCallEndedWhileDown(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer}, "op1002": {Answer: aritest.Answer},
	})...))
	s.login("op1001", "it")
	talker := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(talker, "bridge", "") })
	connected := s.clock.Now()
	s.login("op1002", "it")
	if err := s.q.Pause(s.ctx, "op1002", "meeting", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	const waiterNumber = "+393330000003"
	waiter := s.dial(waiterNumber, pressOne...)
	s.until("caller waiting", time.Minute, func() bool { return heard(waiter, "moh", "") })
	queued := s.clock.Now()
	s.advance(10 * time.Second)

	s.kill()
	for _, c := range []*aritest.Call{talker, waiter} {
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
	}
	s.startProcess(nil)
	s.waitFor("new process reconciled", func() bool { return s.counter("helpline_ariapp_reconciles_total") >= 1 })
	s.settle()

	rec := s.cdrOf(talker, callerNumber)
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.ConnectedAt.Sub(connected).Abs() > time.Second ||
		rec.Note != ivr.NoteEndedUnseen {
		t.Errorf("talker: CDR %+v", rec)
	}
	rec = s.cdrOf(waiter, waiterNumber)
	if rec.Outcome != cdr.Abandoned || rec.QueuedAt.Sub(queued).Abs() > time.Second || rec.Note != ivr.NoteEndedUnseen {
		t.Errorf("waiter: CDR %+v", rec)
	}
	s.cdrCount(2)
	snap, err := s.q.Snapshot(s.ctx, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for lang, calls := range snap.Waiting {
		if len(calls) > 0 {
			t.Errorf("queue %s still holds %d calls", lang, len(calls))
		}
	}
	if op := s.operator("op1001"); op.State != queue.WrapUp && op.State != queue.Available {
		t.Errorf("operator %+v, want her wrap-up after the talk", op)
	}
	s.until("operator's leg hung up", time.Minute, func() bool { return len(s.srv.Channels()) == 0 })
	s.noLeaks()
}

// TestRestartVoicemailUnmarked: the voicemail mark never landed on the
// channel (Asterisk refused it) and the process dies while the caller
// records. The recording says what the mark does not: the new process
// lets it finish and ends the call as voicemail, not back at the menu.
func TestRestartVoicemailUnmarked(t *testing.T) {
	s := newStack(t, withRedis(), withSQLite())
	s.login("op1001", "en")
	if err := s.q.Pause(s.ctx, "op1001", "meeting", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.dial(callerNumber, aritest.App{Name: "Wait", Data: "1"}, aritest.App{Name: "SendDTMF", Data: "2"})
	s.until("caller waiting", time.Minute, func() bool { return heard(c, "moh", "") })
	queued := s.clock.Now()
	s.srv.InjectFault(aritest.Fault{Method: http.MethodPost, Route: "/channels/" + c.ChannelID() + "/variable", Times: 5})
	if err := c.SendDTMF("9"); err != nil {
		t.Fatal(err)
	}
	name := ivr.VoicemailName(c.ChannelID())
	s.until("recording", time.Minute, func() bool {
		_, err := s.client.Recordings().Live(s.ctx, name)
		return err == nil
	})
	if _, err := s.client.Channels().GetVariable(s.ctx, c.ChannelID(), ariapp.MarkVariable); !errors.Is(err, ari.ErrNotFound) {
		t.Fatalf("mark read %v, want none (refused)", err)
	}
	if err := c.Speak(4 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.advance(2 * time.Second)
	s.restart()
	s.advance(3 * time.Second)
	if err := c.SendDTMF("#"); err != nil {
		t.Fatal(err)
	}
	rec := s.cdrOf(c, callerNumber)
	if rec.Outcome != cdr.Voicemail || rec.Voicemail != name || rec.HangupBy != cdr.HangupSystem ||
		rec.Language != "en" || rec.QueuedAt.Sub(queued).Abs() > time.Second {
		t.Errorf("CDR %+v", rec)
	}
	s.cdrCount(1)
	if n := len(find(s.srv.Requests(), http.MethodPost, "/channels/{channelId}/record")); n != 1 {
		t.Errorf("%d record requests, want the first process's only", n)
	}
	if !heard(c, "playback", string(ivr.DefaultConfig().Prompts.VoicemailThanks)) {
		t.Error("the caller was not thanked")
	}
	s.noLeaks()
}
