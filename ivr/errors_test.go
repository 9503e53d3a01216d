package ivr_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// Engine failures while the caller is still there never strand them: the
// flow carries on, or puts them back in the queue in their place, and the
// call is answered all the same.
func TestEngineErrorsDoNotStrandTheCaller(t *testing.T) {
	tests := []struct {
		name   string
		fail   func(c *ivrtest.Call)
		steps  []ivrtest.Step
		drive  func(h *harness, c *ivrtest.Call)
		op     string // engine_errors_total label
		rings  int    // originates until answered
		paused bool   // the operator starts paused (unpaused by drive)
		queued time.Duration
	}{
		{
			name:  "welcome fails to play",
			fail:  func(c *ivrtest.Call) { c.Fail("play", nil) },
			steps: []ivrtest.Step{ivrtest.OnPlay(pMenuIT, ivrtest.Press("1"))},
			op:    "play", rings: 1,
		},
		{
			name: "music on hold fails",
			fail: func(c *ivrtest.Call) { c.Fail("moh_start", nil) },
			op:   "moh_start", rings: 1,
		},
		{
			name: "bridge fails: back in the queue",
			fail: func(c *ivrtest.Call) { c.Fail("bridge", nil) },
			op:   "bridge", rings: 2,
		},
		{
			name: "originate fails in the engine: retried, nobody paused",
			fail: func(c *ivrtest.Call) { c.Fail("originate", nil) },
			drive: func(h *harness, c *ivrtest.Call) {
				h.awaitReq(c, "originate", 1)
				h.eventually("the engine error seen", func() bool {
					return h.counter("helpline_ivr_engine_errors_total", "op", "originate") == 1
				})
				h.advance(3, time.Second) // tick, max wait, the hold before returning the offer
			},
			op: "originate", rings: 2,
		},
		{
			name:   "recording fails: back in the queue",
			fail:   func(c *ivrtest.Call) { c.Fail("record", nil) },
			steps:  []ivrtest.Step{pressIT, ivrtest.OnMOH(ivrtest.Press("9"))},
			paused: true,
			drive: func(h *harness, c *ivrtest.Call) {
				h.awaitReq(c, "record", 1)
				h.awaitReq(c, "moh_start", 2)
				if err := h.q.Unpause(h.ctx, "op1", h.clock.Now()); err != nil {
					h.t.Fatal(err)
				}
			},
			op: "record", rings: 1,
		},
		{
			name: "the engine claims a hang-up that did not happen",
			fail: func(c *ivrtest.Call) {
				c.Fail("play", fmt.Errorf("404 Channel not found: %w", ivr.ErrHangup))
			},
			steps: []ivrtest.Step{ivrtest.OnPlay(pMenuIT, ivrtest.Press("1"))},
			drive: func(h *harness, c *ivrtest.Call) {
				h.awaitReq(c, "play it "+string(pWelcome), 1)
				h.advance(2, 2*time.Second) // tick, the grace for Done
			},
			rings: 1, queued: 2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			h.login("op1", ivrtest.Answers(0), "it")
			if tt.paused {
				h.pause("op1", "break")
			}
			steps := tt.steps
			if steps == nil {
				steps = []ivrtest.Step{pressIT}
			}
			c := h.net.Dial(testNumber, steps...)
			tt.fail(c)
			h.handle(c)
			if tt.drive != nil {
				tt.drive(h, c)
			}
			bridges := 1
			if tt.op == "bridge" {
				bridges = 2 // the failed one, then the good one
			}
			h.awaitReq(c, "bridge leg", bridges)
			c.HangUp(16)
			rec := h.record(c)
			if rec.Outcome != cdr.Answered || rec.Operator != "op1" || !rec.QueuedAt.Equal(monday15.Add(tt.queued)) || rec.Voicemail != "" {
				t.Errorf("record %+v; want answered by op1, queued at %v", rec, monday15.Add(tt.queued))
			}
			if got := len(originates(c)); got != tt.rings {
				t.Errorf("%d originates; want %d (%q)", got, tt.rings, c.Requests())
			}
			if tt.op != "" {
				if n := h.counter("helpline_ivr_engine_errors_total", "op", tt.op); n != 1 {
					t.Errorf("engine_errors_total{%s} = %v", tt.op, n)
				}
			}
			if op := h.operator("op1"); op.State != queue.WrapUp {
				t.Errorf("op1 %s (%s); want wrap-up", op.State, op.PauseReason)
			}
			h.noLeaks()
		})
	}
}

// Shutdown leaves a waiting caller as they are (queued, with music, no
// CDR); a new process resumes them in their place and writes the one CDR.
func TestShutdownThenResume(t *testing.T) {
	h := newHarness(t, time.Time{})
	waitingOperator(h)
	c := h.net.Dial(testNumber, pressIT)
	appCtx, stop := context.WithCancel(h.ctx)
	done := make(chan result, 1)
	go func() {
		rec, err := h.flow.Handle(appCtx, c, c.Number())
		done <- result{rec, err}
	}()
	h.awaitQueued(c)
	h.advance(2, time.Minute) // tick, max wait
	stop()
	r := <-done
	if !errors.Is(r.err, ivr.ErrShutdown) {
		t.Fatalf("Handle after shutdown: %v; want ErrShutdown", r.err)
	}
	if !c.Up() || !c.MOH() {
		t.Fatalf("shutdown touched the caller: up %v, music %v; requests %q", c.Up(), c.MOH(), c.Requests())
	}
	if _, err := h.store.Get(h.ctx, c.ID()); err == nil {
		t.Fatal("a CDR was written for a call left for re-adoption")
	}
	h.awaitQueued(c)

	// The next process (the old one's dispatcher stops with it).
	h.stopRun()
	<-h.runDone
	h.reg = prometheus.NewRegistry()
	next := h.newFlow(h.cfg)
	go func() { _ = next.Run(h.ctx) }()
	if _, err := next.Resume(h.ctx, h.net.Dial("+39 06 0000 0000"), "", monday15); !errors.Is(err, ivr.ErrNotQueued) {
		t.Errorf("Resume of a call the queue does not know: %v; want ErrNotQueued", err)
	}
	resumed := make(chan result, 1)
	go func() {
		rec, err := next.Resume(h.ctx, c, c.Number(), monday15)
		resumed <- result{rec, err}
	}()
	h.awaitReq(c, "moh_start", 2)
	if err := h.q.Unpause(h.ctx, "op1", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.awaitReq(c, "bridge", 1)
	c.HangUp(16)
	r = <-resumed
	if r.err != nil {
		t.Fatalf("Resume: %v", r.err)
	}
	rec := r.rec
	if rec.Outcome != cdr.Answered || !rec.QueuedAt.Equal(monday15) || !rec.ConnectedAt.Equal(monday15.Add(time.Minute)) ||
		rec.Language != "it" || rec.CallerHash != h.hashOf(testNumber) {
		t.Errorf("resumed record %+v; want answered, queued at %v", rec, monday15)
	}
	if err := rec.Validate(); err != nil {
		t.Error(err)
	}
	if n, _ := h.store.Count(h.ctx, cdr.Filter{}); n != 1 {
		t.Errorf("%d CDRs; want 1", n)
	}
	if got := c.Requests(); slices.Contains(got[4:], "answer") || c.Count("play") != 1 {
		t.Errorf("the resumed caller heard the welcome again: %q", got)
	}
	if leaks := h.net.Leaks(); len(leaks) > 0 {
		t.Errorf("leaks: %q", leaks)
	}
}

func TestCDRWriteIsRetried(t *testing.T) {
	h := newHarness(t, time.Time{})
	h.block.blocked[h.hashOf(testNumber)] = "flags"
	h.cdrW.failures = 2
	c := h.dial(testNumber)
	h.awaitReq(c, "hangup", 1)
	h.advance(2, 200*time.Millisecond) // tick, the first backoff
	h.advance(2, 400*time.Millisecond) // tick, the second
	rec := h.record(c)
	if rec.Outcome != cdr.Blacklisted {
		t.Errorf("outcome %s", rec.Outcome)
	}
	if n := h.counter("helpline_ivr_cdr_write_failures_total"); n != 2 {
		t.Errorf("cdr_write_failures_total = %v; want 2", n)
	}
	if h.cdrW.attempts != 3 {
		t.Errorf("%d attempts; want 3", h.cdrW.attempts)
	}
}

func TestCDRThatCannotBeWrittenGoesToTheSpoolAndTheLog(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.CDRRetryFor = time.Second }))
	h.block.blocked[h.hashOf(testNumber)] = "flags"
	h.cdrW.failures = 1 << 30
	c := h.dial(testNumber)
	h.awaitReq(c, "hangup", 1)
	h.advance(2, 200*time.Millisecond)
	h.advance(2, 400*time.Millisecond)
	r := h.wait(c)
	if r.err != nil {
		t.Fatalf("Handle: %v (the spool took the record)", r.err)
	}
	got, err := h.spool.Get(h.ctx, c.ID())
	if err != nil || got.Outcome != cdr.Blacklisted {
		t.Fatalf("spool: %+v, %v", got, err)
	}
	if !strings.Contains(h.logs.String(), "CDR handed to the spool") {
		t.Error("the spooling was not logged")
	}
}

// No raw number reaches the logs, whatever happens to the call.
func TestLogsNeverHoldTheNumber(t *testing.T) {
	h := newHarness(t, time.Time{})
	h.login("op1", ivrtest.Answers(0), "it")
	h.block.blocked[h.hashOf("+39 347 765 4321")] = "flags"
	b := h.dial("+39 347 765 4321")
	h.record(b)
	c := h.dial(testNumber, pressIT)
	h.awaitReq(c, "bridge", 1)
	c.HangUp(16)
	h.record(c)
	logs := h.logs.String()
	for _, digits := range []string{"3477654321", "347 765", "3331234567", "333 123", "1234567", "7654321"} {
		if strings.Contains(logs, digits) {
			t.Errorf("logs contain %q:\n%s", digits, logs)
		}
	}
	if !strings.Contains(logs, h.hasher.Identify(testNumber).String()) {
		t.Error("logs do not name the caller by identity")
	}
}

func TestPositionAnnouncements(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.AnnounceEvery = time.Minute }))
	// op1 talks with a first caller: staffed but busy.
	h.login("op1", ivrtest.Answers(0), "it")
	first := h.dial("+39 06 1111 1111", pressIT)
	h.awaitReq(first, "bridge", 1)
	c := h.dial(testNumber, pressIT)
	h.awaitQueued(c)
	h.advance(4, time.Minute) // tick, max wait, announcements, first's... none: first talks without timers
	want := "play it " + strings.Join([]string{string(pPosition), "number:1", "sound:helpline/expected-wait",
		"number:6", "sound:helpline/minutes", "sound:helpline/voicemail-offer"}, ",")
	h.awaitReq(c, want, 1)
	h.awaitReq(c, "moh_start", 2)
	wantRequests(t, c, slices.Concat(queuedRequests, []string{"moh_stop", want, "moh_start"}))
	c.HangUp(16)
	first.HangUp(16)
	if rec := h.record(c); rec.Outcome != cdr.Abandoned {
		t.Errorf("outcome %s", rec.Outcome)
	}
	h.record(first)
	h.noLeaks()
}

// An offer that arrives during a position announcement stops it; music
// is back on while the operator's phone rings.
func TestOfferStopsTheAnnouncement(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.AnnounceEvery = time.Minute }))
	h.net.SetDuration(pPosition, 30*time.Second)
	h.login("op1", ivrtest.Answers(0), "it")
	h.pause("op1", "break")
	c := h.dial(testNumber, pressIT)
	h.awaitQueued(c)
	h.advance(3, time.Minute) // tick, max wait, announcements
	h.await("announcement playing", c.Playing)
	if err := h.q.Unpause(h.ctx, "op1", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.awaitReq(c, "bridge", 1)
	c.HangUp(16)
	if rec := h.record(c); rec.Outcome != cdr.Answered || !rec.ConnectedAt.Equal(monday15.Add(time.Minute)) {
		t.Errorf("record %+v", rec)
	}
	announce := "play it " + string(pPosition) + ",number:1,sound:helpline/voicemail-offer"
	wantRequests(t, c, slices.Concat(queuedRequests, []string{"moh_stop", announce, "stop play", "moh_start",
		"originate PJSIP/op1 20s", "leg leg-2 answered", "moh_stop", "bridge leg-2", "hangup leg-2 16", "bridge_destroy"}))
	h.noLeaks()
}

// The voicemail key works during an announcement too, and stops it.
func TestVoicemailKeyDuringTheAnnouncement(t *testing.T) {
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.AnnounceEvery = time.Minute }))
	h.net.SetDuration(pPosition, 30*time.Second)
	waitingOperator(h)
	c := h.dial(testNumber, pressIT, ivrtest.OnPlay(pPosition, ivrtest.Press("9")), ivrtest.OnRecord(ivrtest.HangUp(16)))
	h.awaitQueued(c)
	h.advance(3, time.Minute) // tick, max wait, announcements
	rec := h.record(c)
	if rec.Outcome != cdr.Voicemail || rec.HangupBy != cdr.HangupCaller {
		t.Errorf("record %+v; want voicemail ended by the caller", rec)
	}
	announce := "play it " + string(pPosition) + ",number:1,sound:helpline/voicemail-offer"
	wantRequests(t, c, slices.Concat(queuedRequests, []string{"moh_stop", announce, "stop play",
		"play it " + string(pVMIntro), "record vm-call-1 wav max=2m0s beep=true term=#"}))
	h.noLeaks()
}

// A caller who chose English hears the queue announcement in English:
// LanguagePrompts["en"] overrides the default prompts, and a prompt the
// language lacks (here Minutes) falls back to the default one.
func TestAnnouncementInTheChosenLanguage(t *testing.T) {
	enPosition := ivr.Sound("helpline/en/position")
	enPositionEnd := ivr.Sound("helpline/en/position_end")
	enWait := ivr.Sound("helpline/en/expected-wait")
	enOffer := ivr.Sound("helpline/en/voicemail-offer")
	h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) {
		c.AnnounceEvery = time.Minute
		c.LanguagePrompts = map[string]ivr.Prompts{"en": {Position: enPosition, PositionEnd: enPositionEnd, ExpectedWait: enWait, VoicemailOffer: enOffer}}
	}))
	h.login("op1", ivrtest.Answers(0), "en")
	first := h.dial("+39 06 1111 1111", ivrtest.OnPlay(pWelcome, ivrtest.Press("2")))
	h.awaitReq(first, "bridge", 1)
	c := h.dial(testNumber, ivrtest.OnPlay(pWelcome, ivrtest.Press("2")))
	h.awaitQueued(c)
	h.advance(4, time.Minute)
	want := "play en " + strings.Join([]string{string(enPosition), "number:1", string(enPositionEnd), string(enWait),
		"number:6", "sound:helpline/minutes", string(enOffer)}, ",")
	h.awaitReq(c, want, 1)
	c.HangUp(16)
	first.HangUp(16)
	if rec := h.record(c); rec.Outcome != cdr.Abandoned || rec.Language != "en" {
		t.Errorf("outcome %s language %s; want abandoned en", rec.Outcome, rec.Language)
	}
	h.record(first)
	h.noLeaks()
}

func TestPromptsForFallsBack(t *testing.T) {
	cfg := ivr.DefaultConfig()
	cfg.LanguagePrompts = map[string]ivr.Prompts{"en": {Unanswered: "sound:helpline/en/unanswered"}}
	en := cfg.PromptsFor("en")
	if en.Unanswered != "sound:helpline/en/unanswered" || en.Position != cfg.Prompts.Position {
		t.Errorf("PromptsFor(en) = %+v", en)
	}
	// The ending of the position goes with its beginning.
	cfg.Prompts.PositionEnd = "sound:helpline/it/position_end"
	cfg.LanguagePrompts["fr"] = ivr.Prompts{Position: "sound:helpline/fr/position"}
	if fr := cfg.PromptsFor("fr"); fr.PositionEnd != "" {
		t.Errorf("PromptsFor(fr) took the default's ending %q after its own position", fr.PositionEnd)
	}
	if en := cfg.PromptsFor("en"); en.PositionEnd != cfg.Prompts.PositionEnd {
		t.Errorf("PromptsFor(en).PositionEnd = %q; want the default's with the default's position", en.PositionEnd)
	}
	if got := cfg.PromptsFor("de"); got != cfg.Prompts {
		t.Errorf("PromptsFor(de) = %+v; want the defaults", got)
	}
}
