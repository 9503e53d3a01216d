package ivr_test

import (
	"context"
	"errors"
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

// A call whose channel vanished with its engine (the adapter's note
// starts with ivr.NoteEngineRestart) is the helpline's loss, not the
// caller's hang-up: unanswered if she never reached an operator, answered
// if she was talking; HangupBy system either way, the note kept.
func TestEngineRestartOutcome(t *testing.T) {
	const note = ivr.NoteEngineRestart + ": Asterisk restarted; the channel vanished with it"
	tests := []struct {
		name  string
		reach func(h *harness, c *ivrtest.Call)
		steps []ivrtest.Step
		want  cdr.Outcome
	}{
		{"welcome", func(h *harness, c *ivrtest.Call) { h.awaitReq(c, "play", 1) }, nil, cdr.Unanswered},
		{"waiting", func(h *harness, c *ivrtest.Call) { waitingOperator(h); h.awaitQueued(c) }, []ivrtest.Step{pressIT}, cdr.Unanswered},
		// The flow has a note of its own ("voicemail: hung up before
		// recording"): the engine's comes first all the same.
		{"voicemail intro", func(h *harness, c *ivrtest.Call) {
			waitingOperator(h)
			h.net.SetDuration(ivr.DefaultConfig().Prompts.VoicemailIntro, time.Minute)
			h.awaitQueued(c)
			c.Press("9")
			h.awaitReq(c, "play it "+string(ivr.DefaultConfig().Prompts.VoicemailIntro), 1)
		}, []ivrtest.Step{pressIT}, cdr.Unanswered},
		{"talking", func(h *harness, c *ivrtest.Call) {
			h.login("op1", ivrtest.Answers(0), "it")
			h.awaitReq(c, "bridge", 1)
		}, []ivrtest.Step{pressIT}, cdr.Answered},
		// The operator's leg is seen gone first: the flow must not take
		// it for the operator hanging up.
		{"talking, leg first", func(h *harness, c *ivrtest.Call) {
			h.login("op1", ivrtest.Answers(0), "it")
			h.awaitReq(c, "bridge", 1)
			c.Legs()[0].Vanish(0, note)
			h.awaitReq(c, "bridge_destroy", 1)
			if c.Count("hangup") != 0 {
				h.t.Errorf("the flow hung up a caller lost with the engine: %q", c.Requests())
			}
		}, []ivrtest.Step{pressIT}, cdr.Answered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			c := h.dial(testNumber, tt.steps...)
			tt.reach(h, c)
			c.Vanish(0, note)
			rec := h.record(c)
			if rec.Outcome != tt.want || rec.HangupBy != cdr.HangupSystem || !strings.HasPrefix(rec.Note, ivr.NoteEngineRestart) {
				t.Errorf("record %+v; want %s, by the system, with the engine's note", rec, tt.want)
			}
			if err := rec.Validate(); err != nil {
				t.Error(err)
			}
			if rec.Outcome == cdr.Unanswered && (rec.QueuedAt.IsZero() || rec.Language == "") {
				t.Errorf("unanswered record %+v without queue time or language", rec)
			}
		})
	}
}

// readoptNext stops the flow's dispatcher and starts the next process's
// flow over the same queue and store.
func readoptNext(h *harness) *ivr.Flow {
	h.t.Helper()
	h.stopRun()
	<-h.runDone
	h.reg = prometheus.NewRegistry()
	next := h.newFlow(h.cfg)
	go func() { _ = next.Run(h.ctx) }()
	return next
}

// A talk left bridged by a process that stopped is watched to its end by
// the next one, with the mark's connect time and operator; nothing is
// asked of the caller's channel but the end of the talk.
func TestReadoptTalk(t *testing.T) {
	h := newHarness(t, time.Time{})
	h.login("op1", ivrtest.Answers(0), "it")
	c := h.net.Dial(testNumber, pressIT)
	appCtx, stop := context.WithCancel(h.ctx)
	done := make(chan result, 1)
	go func() {
		rec, err := h.flow.Handle(appCtx, c, c.Number())
		done <- result{rec, err}
	}()
	h.awaitReq(c, "bridge", 1)
	connected := h.clock.Now()
	stop()
	if r := <-done; !errors.Is(r.err, ivr.ErrShutdown) {
		t.Fatalf("Handle after shutdown: %v; want ErrShutdown", r.err)
	}
	legs, bridges := c.Legs(), c.Bridges()
	if len(legs) != 1 || len(bridges) != 1 || !legs[0].Up() {
		t.Fatalf("talk not left as it was: %d legs, %d bridges", len(legs), len(bridges))
	}
	next := readoptNext(h)
	h.clock.Advance(30 * time.Second)
	before := len(c.Requests())
	resumed := make(chan result, 1)
	go func() {
		rec, err := next.Readopt(h.ctx, c, c.Number(), ivr.Adoption{
			Arrived: monday15, Answered: true, Leg: legs[0], Bridge: bridges[0],
			Mark: ivr.Mark{Stage: ivr.StageTalk, Language: "it", QueuedAt: monday15, ConnectedAt: connected, Operator: "op1"},
		})
		resumed <- result{rec, err}
	}()
	h.eventually("talk watched", func() bool { return next.Active() == 1 })
	c.HangUp(16)
	r := <-resumed
	if r.err != nil {
		t.Fatal(r.err)
	}
	if rec := r.rec; rec.Outcome != cdr.Answered || !rec.ConnectedAt.Equal(connected.UTC()) || rec.Operator != "op1" ||
		rec.HangupBy != cdr.HangupCaller || rec.TalkSeconds() < 30 {
		t.Errorf("record %+v; want answered, connected at %v", rec, connected.UTC())
	}
	if got := c.Requests()[before:]; slices.Contains(got, "answer") || slices.Contains(got, "bridge") {
		t.Errorf("the re-adopted talk was redone: %q", got)
	}
	h.eventually("leg hung up", func() bool { return !legs[0].Up() })
	if op := h.operator("op1"); op.State != queue.WrapUp {
		t.Errorf("op1 %s after the talk; want wrap-up", op.State)
	}
	if n, _ := h.store.Count(h.ctx, cdr.Filter{}); n != 1 {
		t.Errorf("%d CDRs; want 1", n)
	}
}

// An answered caller neither queued nor marked was in the welcome or the
// menu: the next process plays the menu (not the welcome) and queues her
// in the language she picks.
func TestReadoptMenu(t *testing.T) {
	h := newHarness(t, time.Time{})
	h.login("op1", ivrtest.Answers(0), "en")
	c := h.net.Dial(testNumber, ivrtest.OnPlay(pMenuEN, ivrtest.Press("2")))
	if err := c.Answer(h.ctx); err != nil { // the previous process's answer
		t.Fatal(err)
	}
	next := readoptNext(h)
	resumed := make(chan result, 1)
	go func() {
		rec, err := next.Readopt(h.ctx, c, c.Number(), ivr.Adoption{Arrived: monday15, Answered: true})
		resumed <- result{rec, err}
	}()
	h.awaitReq(c, "bridge", 1)
	c.HangUp(16)
	r := <-resumed
	if r.err != nil {
		t.Fatal(r.err)
	}
	if rec := r.rec; rec.Outcome != cdr.Answered || rec.Language != "en" || !rec.ArrivedAt.Equal(monday15.UTC()) {
		t.Errorf("record %+v", rec)
	}
	if n := c.Count("play it " + string(pWelcome)); n != 0 {
		t.Errorf("welcome played %d times to a re-adopted caller", n)
	}
	if n := c.Count("answer"); n != 1 {
		t.Errorf("%d answers; want the previous process's only", n)
	}
}

// A caller who hangs up while no process runs leaves no channel: the
// next process closes her call from the journal (abandoned, out of the
// queue); a call that ends normally leaves nothing in the journal.
func TestSweepClosesCallsEndedUnseen(t *testing.T) {
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
	queued := h.clock.Now()
	stop()
	if r := <-done; !errors.Is(r.err, ivr.ErrShutdown) {
		t.Fatalf("Handle: %v", r.err)
	}
	c.HangUp(16) // while no process runs
	next := readoptNext(h)
	h.clock.Advance(time.Minute)
	n, err := next.Sweep(h.ctx, func(string) bool { return false })
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 call closed", n, err)
	}
	rec, err := h.store.Get(h.ctx, c.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Outcome != cdr.Abandoned || !rec.QueuedAt.Equal(queued.UTC()) || rec.Note != ivr.NoteEndedUnseen ||
		rec.CallerHash != h.hashOf(testNumber) || rec.Validate() != nil {
		t.Errorf("record %+v (%v)", rec, rec.Validate())
	}
	if _, err := h.q.Position(h.ctx, c.ID()); err == nil {
		t.Error("the call is still in the queue")
	}
	if open, _ := h.jrnl.Open(h.ctx); len(open) != 0 {
		t.Errorf("journal still holds %+v", open)
	}
	if n, _ := next.Sweep(h.ctx, func(string) bool { return false }); n != 0 {
		t.Errorf("a second sweep closed %d calls", n)
	}
}

// A caller who hangs up in a talk before the next process could read the
// channel's mark (the channel and its variable are gone) is re-adopted
// from the journal's last step: answered, with her operator, language and
// connect time — not back at the language menu as a welcome hang-up.
func TestReadoptGoneTalkFromJournal(t *testing.T) {
	h := newHarness(t, time.Time{})
	h.login("op1", ivrtest.Answers(0), "it")
	c := h.net.Dial(testNumber, pressIT)
	appCtx, stop := context.WithCancel(h.ctx)
	done := make(chan result, 1)
	go func() {
		rec, err := h.flow.Handle(appCtx, c, c.Number())
		done <- result{rec, err}
	}()
	h.awaitReq(c, "bridge", 1)
	connected := h.clock.Now()
	stop()
	if r := <-done; !errors.Is(r.err, ivr.ErrShutdown) {
		t.Fatalf("Handle after shutdown: %v; want ErrShutdown", r.err)
	}
	next := readoptNext(h)
	h.clock.Advance(10 * time.Second)
	c.HangUp(16) // before the next process could read the mark
	rec, err := next.Readopt(h.ctx, c, c.Number(), ivr.Adoption{Arrived: monday15, Answered: true})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Outcome != cdr.Answered || rec.Operator != "op1" || rec.Language != "it" ||
		!rec.ConnectedAt.Equal(connected.UTC()) || rec.Validate() != nil {
		t.Errorf("record %+v (%v); want answered by op1 in it, connected at %v", rec, rec.Validate(), connected.UTC())
	}
	if open, _ := h.jrnl.Open(h.ctx); len(open) != 0 {
		t.Errorf("journal still holds %+v", open)
	}
}
