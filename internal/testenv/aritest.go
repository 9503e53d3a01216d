package testenv

import (
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
)

// AritestOption adjusts how StartAritest starts the emulator.
type AritestOption func(*aritestSettings)

type aritestSettings struct {
	cfg       aritest.Config
	allowGaps bool
}

// AritestConfig edits the emulator's configuration (softphone behaviours,
// prompt lengths, dialplan, credentials) before it starts.
func AritestConfig(edit func(*aritest.Config)) AritestOption {
	return func(s *aritestSettings) { edit(&s.cfg) }
}

// AritestClock runs the emulated world on clock, typically a
// clockwork.FakeClock shared with the code under test.
func AritestClock(clock clockwork.Clock) AritestOption {
	return func(s *aritestSettings) { s.cfg.Clock = clock }
}

// AllowAritestGaps keeps StartAritest from failing the test when the code
// under test used something the emulator does not emulate; the test then
// checks Server.Gaps itself.
func AllowAritestGaps() AritestOption {
	return func(s *aritestSettings) { s.allowGaps = true }
}

// StartAritest starts an in-process Asterisk emulator for t. Its world log
// goes to t.Logf (shown when the test fails, or with -v), it is closed when
// the test ends, and the test fails if the code under test made a request
// or reached a situation the emulator does not emulate: an emulator gap
// must never pass for success.
func StartAritest(t testing.TB, opts ...AritestOption) *aritest.Server {
	t.Helper()
	var s aritestSettings
	for _, o := range opts {
		o(&s)
	}
	if s.cfg.Logf == nil {
		s.cfg.Logf = t.Logf
	}
	srv := aritest.NewServer(s.cfg)
	t.Cleanup(func() {
		srv.Close()
		if s.allowGaps {
			return
		}
		if gaps := srv.Gaps(); len(gaps) > 0 {
			var b strings.Builder
			for _, g := range gaps {
				b.WriteString("\n\t" + g.String())
			}
			t.Errorf("testenv: the code under test used what aritest does not emulate (extend aritest, or pass AllowAritestGaps and check Gaps):%s", b.String())
		}
	})
	return srv
}
