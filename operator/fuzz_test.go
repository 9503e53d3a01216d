package operator_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// FuzzDialIn: whatever an operator's phone dials or keys, the handler
// returns, hangs the call up, and logs the operator in only for *11.
func FuzzDialIn(f *testing.F) {
	for _, s := range []string{"*11", "*12", "*13", "*131", "*139", "*14", "*20", "*201234", "*2112", "9000", "", "#", "*", "**11", "*11#", "\x00*11", "123*#ABCD0", "*1\u00e91", " *11 "} {
		f.Add(s, "*11#")
		f.Add("9000", s)
	}
	f.Fuzz(func(t *testing.T, dialled, keys string) {
		// Keys beyond the phone's DTMF buffer (32) would be dropped and the
		// code would end by the clock instead: another test's business.
		if !utf8.ValidString(dialled) || !utf8.ValidString(keys) || len(keys) > 30 {
			t.Skip()
		}
		h := newHarness(t)
		code := strings.TrimSpace(dialled)
		direct := strings.HasPrefix(code, "*") || code == "*11" || code == "*12" || code == "*13"
		if !direct {
			// Keyed after the answer: valid keys up to '#', at most 24.
			var b strings.Builder
			n := 0
			for _, r := range keys + "#" {
				if !ivr.Digit(r).Valid() {
					continue
				}
				if r == '#' || n == 24 {
					break
				}
				b.WriteRune(r)
				n++
			}
			code = b.String()
		}
		c, done := h.dialIn("PJSIP/op1", dialled, ivrtest.OnPlay("sound:helpline/operator-enter-code", ivrtest.Press(keys+"#")))
		// Whatever waits on the clock (a code ended by a pause) gets it.
		h.advanceUntil("handler returned", time.Second, time.Minute, func() bool {
			select {
			case <-done:
				return true
			default:
				return false
			}
		})
		if c.Up() {
			t.Fatalf("dialled %q keys %q: the call was left up (%q)", dialled, keys, c.Requests())
		}
		op, _ := h.q.Operator(h.ctx, "op1")
		if loggedIn := op.State == queue.Available; loggedIn != (code == "*11") {
			t.Fatalf("dialled %q keys %q (code %q): op1 %s", dialled, keys, code, op.State)
		}
	})
}
