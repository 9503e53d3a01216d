package ivr_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
)

// firstNote is a journal that, at the first Note, calls at (once).
type firstNote struct {
	ivr.Journal
	once sync.Once
	at   func()
}

func (j *firstNote) Note(ctx context.Context, r cdr.Record) error {
	err := j.Journal.Note(ctx, r)
	j.once.Do(j.at)
	return err
}

// The journal holds a call from its very first moment: nothing is done
// for it (no request to the engine, not even the "call arrived" log line)
// before its record is noted. A process that dies right after — here the
// flow is stopped at the first note — and a caller who hangs up before
// the next one runs still leave a record for the sweep to close.
func TestJournalFirst(t *testing.T) {
	var h *harness
	var requests []string
	var logged bool
	var stop context.CancelFunc
	var c *ivrtest.Call
	h = newHarness(t, time.Time{}, func(h *harness) {
		h.wrapJournal = func(j ivr.Journal) ivr.Journal {
			return &firstNote{Journal: j, at: func() {
				logged = strings.Contains(h.logs.String(), "call arrived")
				requests = c.Requests()
				stop()
			}}
		}
	})
	c = h.net.Dial(testNumber, pressIT)
	appCtx, cancel := context.WithCancel(h.ctx)
	stop = cancel
	done := make(chan error, 1)
	go func() {
		_, err := h.flow.Handle(appCtx, c, c.Number())
		done <- err
	}()
	err := <-done
	if logged {
		t.Error(`"call arrived" was logged before the journal held the call`)
	}
	if len(requests) > 0 {
		t.Errorf("requests %q before the journal held the call", requests)
	}
	if !errors.Is(err, ivr.ErrShutdown) {
		t.Fatalf("Handle: %v, want ErrShutdown", err)
	}
	c.HangUp(16) // while no process runs
	next := readoptNext(h)
	n, err := next.Sweep(h.ctx, func(string) bool { return false })
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 call closed", n, err)
	}
	rec, err := h.store.Get(h.ctx, c.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Outcome != cdr.WelcomeHangup || rec.Note != ivr.NoteEndedUnseen || rec.Validate() != nil {
		t.Errorf("record %+v (%v)", rec, rec.Validate())
	}
}
