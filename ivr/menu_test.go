package ivr_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
)

// waitingOperator logs in an operator with every test language and pauses
// them: callers wait in the queue instead of ending as "no operator".
func waitingOperator(h *harness) {
	h.t.Helper()
	h.login("op1", ivrtest.Answers(0), "it", "en", "fr")
	h.pause("op1", "break")
}

func TestDigitBargesIntoTheWelcome(t *testing.T) {
	tests := []struct {
		name  string
		steps []ivrtest.Step
		lang  string
		want  []string
	}{
		{
			name:  "open language is the choice",
			steps: []ivrtest.Step{ivrtest.OnPlay(pWelcome, ivrtest.Press("2"))},
			lang:  "en",
			want:  []string{"ring", "answer", "play it " + string(pWelcome), "stop play", "moh_start"},
		},
		{
			name: "closed language stops the welcome, the menu follows",
			steps: []ivrtest.Step{
				ivrtest.OnPlay(pWelcome, ivrtest.Press("3")),
				ivrtest.OnPlay(pMenuEN, ivrtest.Press("2")),
			},
			lang: "en",
			want: []string{"ring", "answer", "play it " + string(pWelcome), "stop play",
				"play it " + string(pMenuIT), "play en " + string(pMenuEN), "moh_start"},
		},
		{
			name: "garbage key stops the welcome without costing a try",
			steps: []ivrtest.Step{
				ivrtest.OnPlay(pWelcome, ivrtest.Press("#")),
				ivrtest.OnPlay(pMenuIT, ivrtest.Press("1")),
			},
			lang: "it",
			want: []string{"ring", "answer", "play it " + string(pWelcome), "stop play",
				"play it " + string(pMenuIT), "moh_start"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			h.net.SetDuration(pWelcome, 30*time.Second)
			waitingOperator(h)
			c := h.dial(testNumber, append(tt.steps, ivrtest.OnMOH(ivrtest.HangUp(16)))...)
			rec := h.record(c)
			if rec.Outcome != cdr.Abandoned || rec.Language != tt.lang {
				t.Errorf("outcome %s language %q; want abandoned in %q", rec.Outcome, rec.Language, tt.lang)
			}
			wantRequests(t, c, tt.want)
			if c.Count("play it "+string(pInvalid)) != 0 {
				t.Error("the welcome's key was counted as a wrong menu choice")
			}
			h.noLeaks()
		})
	}
}

func TestLanguageMenu(t *testing.T) {
	menu := func(langs ...string) []string {
		var out []string
		for _, l := range langs {
			out = append(out, "play "+l+" sound:helpline/menu-"+l)
		}
		return out
	}
	head := []string{"ring", "answer", "play it " + string(pWelcome)}
	invalid := "play it " + string(pInvalid)
	summer := time.Date(2026, 6, 1, 19, 59, 0, 0, rome) // a Monday, CEST
	tests := []struct {
		name   string
		start  time.Time
		steps  []ivrtest.Step
		silent int // menu timeouts to let pass
		lang   string
		want   []string
	}{
		{
			name:  "closed language neither offered nor accepted, invalid twice gives Italian",
			start: monday15,
			steps: []ivrtest.Step{
				ivrtest.OnPlayN(pMenuEN, 1, ivrtest.Press("3")),
				ivrtest.OnPlayN(pMenuEN, 2, ivrtest.Press("3")),
			},
			lang: "it",
			want: slices.Concat(head, menu("it", "en"), []string{invalid}, menu("it", "en"), []string{"moh_start"}),
		},
		{
			name:   "silence twice gives Italian",
			start:  monday15,
			silent: 2,
			lang:   "it",
			want:   slices.Concat(head, menu("it", "en"), []string{invalid}, menu("it", "en"), []string{"moh_start"}),
		},
		{
			name:  "wrong then right",
			start: monday15,
			steps: []ivrtest.Step{
				ivrtest.OnPlayN(pMenuIT, 1, ivrtest.Press("7")),
				ivrtest.OnPlayN(pMenuEN, 1, ivrtest.Press("2")),
			},
			lang: "en",
			want: slices.Concat(head, menu("it"), []string{invalid}, menu("it", "en"), []string{"moh_start"}),
		},
		{
			name:  "English at 19:59",
			start: time.Date(2026, 11, 23, 19, 59, 0, 0, rome),
			steps: []ivrtest.Step{ivrtest.OnPlay(pMenuEN, ivrtest.Press("2"))},
			lang:  "en",
			want:  slices.Concat(head, menu("it", "en"), []string{"moh_start"}),
		},
		{
			name:  "English at 19:59 summer time",
			start: summer,
			steps: []ivrtest.Step{ivrtest.OnPlay(pMenuEN, ivrtest.Press("2"))},
			lang:  "en",
			want:  slices.Concat(head, menu("it", "en"), []string{"moh_start"}),
		},
		{
			name:  "English at 20:01: no menu, Italian, the key is not accepted",
			start: time.Date(2026, 11, 23, 20, 1, 0, 0, rome),
			steps: []ivrtest.Step{ivrtest.OnPlay(pWelcome, ivrtest.Press("2"))},
			lang:  "it",
			want:  slices.Concat(head, []string{"moh_start"}),
		},
		{
			name:  "French in its hours",
			start: time.Date(2026, 11, 23, 11, 0, 0, 0, rome),
			steps: []ivrtest.Step{ivrtest.OnPlay(pMenuFR, ivrtest.Press("3"))},
			lang:  "fr",
			want:  slices.Concat(head, menu("it", "en", "fr"), []string{"moh_start"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.start)
			waitingOperator(h)
			c := h.dial(testNumber, append(tt.steps, ivrtest.OnMOH(ivrtest.HangUp(16)))...)
			for i := 1; i <= tt.silent; i++ {
				h.awaitReq(c, "play en "+string(pMenuEN), i)
				h.advance(2, h.cfg.MenuTimeout) // dispatcher tick + menu timeout
			}
			rec := h.record(c)
			if rec.Language != tt.lang || rec.Outcome != cdr.Abandoned {
				t.Errorf("language %q outcome %s; want %q abandoned", rec.Language, rec.Outcome, tt.lang)
			}
			wantRequests(t, c, tt.want)
			for _, r := range c.Requests() {
				if strings.Contains(r, "menu-fr") && tt.lang != "fr" {
					t.Errorf("closed French offered: %q", r)
				}
			}
			h.noLeaks()
		})
	}
}

func TestGarbageDTMFInTheMenu(t *testing.T) {
	h := newHarness(t, time.Time{})
	waitingOperator(h)
	// The trace's burst (dtmf_garbage.jsonl) lands during the menu, with
	// bytes no phone can send mixed in: the first real key ('#') is one
	// wrong try; the rest of the burst — a '9' (voicemail) and a '2'
	// (English) included — is thrown away, not carried into the next try
	// or into the queue.
	c := h.dial(testNumber,
		ivrtest.OnPlayN(pMenuIT, 1, ivrtest.Press("x\x00#9D2ABCD0*")),
		ivrtest.OnPlayN(pMenuEN, 1, ivrtest.Press("1")),
	)
	h.awaitQueued(c)
	h.await("music on hold", c.MOH)
	c.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Abandoned || rec.Language != "it" || rec.Voicemail != "" {
		t.Errorf("record %+v; want abandoned in Italian, no voicemail", rec)
	}
	if n := c.Count("play it " + string(pInvalid)); n != 1 {
		t.Errorf("invalid-choice prompt played %d times; want 1 (a burst is one press)", n)
	}
	if n := c.Count("record"); n != 0 {
		t.Error("a stray 9 from the menu started a voicemail")
	}
	h.noLeaks()
}

// menuModel is the DTMF rules of doc.go for the menu at monday15 (Italian
// '1' and English '2' open), with burst[i] pressed during the i-th menu
// prompt: the first valid key of a try decides, the rest of its burst is
// thrown away, silence or a wrong key costs a try, two tries then Italian.
func menuModel(bursts ...string) string {
	for _, b := range bursts {
		for _, r := range b {
			if !ivr.Digit(r).Valid() {
				continue
			}
			switch r {
			case '1':
				return "it"
			case '2':
				return "en"
			}
			break // a wrong key: this try is over
		}
	}
	return "it"
}

func FuzzMenuKeys(f *testing.F) {
	for _, seed := range [][2]string{
		{"2", ""}, {"1", ""}, {"", ""}, {"3", "2"}, {"123*#ABCD0", "9#*"}, {"x", "2"}, {"#9D2", "1"},
		{"ABCD", "*#"}, {"\x00\xff", "\x002"}, {"22222", "11111"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, b1, b2 string) {
		if len(b1) > 32 || len(b2) > 32 {
			// Beyond ivrtest's 32-key buffer keys are dropped (the
			// adapter contract), which the model does not know.
			return
		}
		h := newHarness(t, time.Time{})
		waitingOperator(h)
		c := h.dial("anonymous", // withheld: no blacklist timer in the way
			ivrtest.OnPlayN(pMenuIT, 1, ivrtest.Press(b1)),
			ivrtest.OnPlayN(pMenuIT, 2, ivrtest.Press(b2)),
		)
		// Let the menu time out as often as it needs (at most twice); in
		// the queue the same advance only eats into the max wait.
		for range 2 {
			if c.MOH() {
				break
			}
			h.advance(2, h.cfg.MenuTimeout) // tick + the menu timeout (or the max wait)
		}
		h.awaitQueued(c)
		c.HangUp(16)
		rec := h.record(c)
		if want := menuModel(b1, b2); rec.Language != want || rec.Outcome != cdr.Abandoned {
			t.Fatalf("bursts %q, %q: language %q outcome %s; want %q abandoned (requests %q)",
				b1, b2, rec.Language, rec.Outcome, want, c.Requests())
		}
		h.noLeaks()
	})
}
