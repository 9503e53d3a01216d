package ivr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
)

func TestBlacklisted(t *testing.T) {
	tests := []struct {
		mode  ivr.BlockMode
		cause int
		want  []string
	}{
		{ivr.BlockBusy, 17, []string{"ring", "hangup 17"}},
		{ivr.BlockCongestion, 34, []string{"ring", "hangup 34"}},
		{ivr.BlockMessage, 16, []string{"ring", "answer", "play it " + string(pBlocked), "hangup 16"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			h := newHarness(t, time.Time{}, withConfig(func(c *ivr.Config) { c.BlockMode = tt.mode }))
			h.block.blocked[h.hashOf(testNumber)] = "flags"
			// Another spelling of the same number is the same caller.
			c := h.dial("0039 333 1234567")
			rec := h.record(c)
			if rec.Outcome != cdr.Blacklisted || rec.HangupBy != cdr.HangupSystem || rec.HangupCause != tt.cause {
				t.Errorf("outcome %s by %s cause %d; want blacklisted by system cause %d", rec.Outcome, rec.HangupBy, rec.HangupCause, tt.cause)
			}
			if rec.Note != "blocked: flags" || rec.CallerHash != h.hashOf(testNumber) || rec.Withheld {
				t.Errorf("note %q hash %q withheld %v", rec.Note, rec.CallerHash, rec.Withheld)
			}
			if !rec.QueuedAt.IsZero() || rec.Language != "" || !rec.ArrivedAt.Equal(monday15) || !rec.EndedAt.Equal(monday15) {
				t.Errorf("times/language: %+v", rec)
			}
			wantRequests(t, c, tt.want)
			if answered := c.Answered(); answered != (tt.mode == ivr.BlockMessage) {
				t.Errorf("answered = %v in %s mode", answered, tt.mode)
			}
			if n := h.counter("helpline_ivr_calls_total", "outcome", "blacklisted"); n != 1 {
				t.Errorf("calls_total{blacklisted} = %v", n)
			}
			h.noLeaks()
		})
	}
}

func TestWithheldCallerIsNeverChecked(t *testing.T) {
	h := newHarness(t, time.Time{})
	// A blacklist that would block anyone it is asked about.
	h.block.onCheck = func() { t.Error("blacklist consulted for a withheld caller") }
	h.login("op1", ivrtest.Answers(0), "it")
	h.pause("op1", "break")
	c := h.dial("anonymous", ivrtest.OnPlay(pWelcome, ivrtest.Press("1")), ivrtest.OnMOH(ivrtest.HangUp(16)))
	rec := h.record(c)
	if rec.Outcome != cdr.Abandoned || !rec.Withheld || rec.CallerHash != "" || rec.Language != "it" {
		t.Errorf("record %+v; want abandoned, withheld, no hash, it", rec)
	}
	if h.block.checks() != 0 {
		t.Errorf("blacklist checked %d times", h.block.checks())
	}
	h.noLeaks()
}

func TestBlacklistFailureLetsTheCallerThrough(t *testing.T) {
	tests := []struct {
		name string
		set  func(*blocklist)
	}{
		{"error", func(b *blocklist) { b.err = errors.New("dial tcp 127.0.0.1:6379: connection refused") }},
		{"timeout", func(b *blocklist) { b.hang = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			h.block.blocked[h.hashOf(testNumber)] = "flags" // would be blocked
			tt.set(h.block)
			h.login("op1", ivrtest.Answers(0), "it")
			c := h.dial(testNumber, ivrtest.OnPlay(pWelcome, ivrtest.Press("1")))
			if tt.name == "timeout" {
				// dispatcher tick + the blacklist's timeout
				h.advance(2, h.cfg.BlacklistTimeout)
			}
			h.awaitReq(c, "bridge", 1)
			c.HangUp(16)
			rec := h.record(c)
			if rec.Outcome != cdr.Answered || !rec.Fallback || rec.Operator != "op1" {
				t.Errorf("record %+v; want answered by op1 with Fallback", rec)
			}
			if n := h.counter("helpline_ivr_blacklist_skipped_total"); n != 1 {
				t.Errorf("blacklist_skipped_total = %v", n)
			}
			h.noLeaks()
		})
	}
}

func TestWelcomeHangup(t *testing.T) {
	tests := []struct {
		name  string
		steps []ivrtest.Step
		setup func(h *harness)
		want  []string
	}{
		{
			name:  "during the welcome",
			steps: []ivrtest.Step{ivrtest.OnPlay(pWelcome, ivrtest.HangUp(16))},
			want:  []string{"ring", "answer", "play it " + string(pWelcome)},
		},
		{
			name: "before the answer",
			setup: func(h *harness) {
				h.block.onCheck = func() {
					for _, c := range h.net.Calls() {
						c.HangUp(127)
					}
				}
			},
			want: []string{"ring"},
		},
		{
			name:  "during the menu",
			steps: []ivrtest.Step{ivrtest.OnPlay(pMenuEN, ivrtest.HangUp(16))},
			want:  menuRequests(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			h.login("op1", ivrtest.Answers(0), "it", "en")
			if tt.setup != nil {
				tt.setup(h)
			}
			c := h.dial(testNumber, tt.steps...)
			rec := h.record(c)
			if rec.Outcome != cdr.WelcomeHangup || rec.HangupBy != cdr.HangupCaller || rec.HangupCause != c.HangupCause() {
				t.Errorf("record %+v; want welcome_hangup by caller", rec)
			}
			if !rec.QueuedAt.IsZero() || rec.Language != "" {
				t.Errorf("queued %v language %q", rec.QueuedAt, rec.Language)
			}
			wantRequests(t, c, tt.want)
			h.noLeaks()
		})
	}
}
