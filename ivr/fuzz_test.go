package ivr_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
)

// FuzzWaitingKeys is the DTMF collector of the queue: a caller waiting
// with music presses any burst of keys (garbage runes, NULs, the sixteen
// DTMF keys, UTF-8 and not) and then the voicemail key. Whatever came
// before, the burst must not end, move or re-prompt the call: the first
// valid '9' (the voicemail digit) takes the caller to the message, and
// nothing else is asked of them. The call ends with exactly one valid CDR
// and nothing leaks.
func FuzzWaitingKeys(f *testing.F) {
	for _, seed := range []string{
		"", "1", "123*#ABCD0", "\x00\xff", "#", "##**", "9", "99", "x9", "\u0669", "ABCD", "0000000",
		"\xf0\x9f\x98\x80", "*#*#*#", "abcd", " 9 ", "\t\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, keys string) {
		// Beyond ivrtest's 32-key buffer keys are dropped (the adapter
		// contract); keep the burst and the final '9' inside it.
		if utf8.RuneCountInString(keys) > 30 {
			return
		}
		h := newHarness(t, time.Time{})
		waitingOperator(h)
		c := h.dial("anonymous", pressIT) // withheld: no blacklist check in the way
		h.awaitQueued(c)
		before := len(c.Requests())
		c.Press(keys + "9")
		h.awaitReq(c, "record", 1)
		reqs := c.Requests()[before:]
		// Only the voicemail's own requests followed the burst: the music
		// stops, the intro plays, the recording starts (then, if a '#' of
		// the burst reached the recording, the thanks and the hang-up).
		if len(reqs) < 3 || reqs[0] != "moh_stop" || !strings.HasPrefix(reqs[1], "play it ") ||
			!strings.HasPrefix(reqs[2], "record vm-") {
			t.Fatalf("keys %q: after the burst the caller got %q; want moh_stop, the intro, the recording", keys, reqs)
		}
		c.HangUp(16) // a no-op when a '#' already ended the message
		rec := h.record(c)
		if rec.Outcome != cdr.Voicemail || rec.Voicemail != ivr.VoicemailName(c.ID()) {
			t.Fatalf("keys %q: CDR %+v; want voicemail %s", keys, rec, ivr.VoicemailName(c.ID()))
		}
		h.noLeaks()
	})
}

// FuzzVoicemailName: whatever an engine uses as a channel id, the
// recording's name is one safe file-name segment: "vm-" and one character
// of [A-Za-z0-9._-] per rune of the id, never a path (no '/', '\', no
// "." or ".." element), and distinct ids that differ in a safe character
// keep differing.
func FuzzVoicemailName(f *testing.F) {
	for _, seed := range []string{
		"1732372177.12", "node1/7", "", "..", "../../etc/passwd", "a\\b", "%2e%2e%2f", "\x00", "\xff\xfe",
		"C:\\x", "/abs", "ünï", "vm-..",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		name := ivr.VoicemailName(id)
		if !strings.HasPrefix(name, "vm-") {
			t.Fatalf("VoicemailName(%q) = %q: lacks the vm- prefix", id, name)
		}
		if got, want := len(name), 3+utf8.RuneCountInString(id); got != want {
			t.Fatalf("VoicemailName(%q) = %q: %d bytes, want %d (one per rune)", id, name, got, want)
		}
		for i := 0; i < len(name); i++ {
			b := name[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b == '_') {
				t.Fatalf("VoicemailName(%q) = %q: byte %q at %d is not file-name safe", id, name, b, i)
			}
		}
		if filepath.Base(name) != name || filepath.Clean(name) != name || name == "." || name == ".." {
			t.Fatalf("VoicemailName(%q) = %q is not a single path element", id, name)
		}
		// Safe ids map to themselves: no two engine ids of the usual
		// form share a recording.
		safe := true
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
				safe = false
				break
			}
		}
		if safe && name != "vm-"+id {
			t.Fatalf("VoicemailName(%q) = %q; a safe id must be kept as is", id, name)
		}
	})
}
