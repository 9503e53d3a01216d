package ivr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
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
		{"talking", func(h *harness, c *ivrtest.Call) {
			h.login("op1", ivrtest.Answers(0), "it")
			h.awaitReq(c, "bridge", 1)
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
