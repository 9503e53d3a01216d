package ivr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// Journal keeps, outside the process, the record so far of every call in
// progress on this node: what its CDR would need if the call ended while
// no process of the app was running (between a SIGKILL and the next
// process), when no channel is left for the next process to find. The
// flow notes the record at each step (arrival, queue, talk, voicemail)
// and forgets it once the CDR is written; the next process closes what is
// left (Flow.Sweep). Records hold no number (the caller's hash only).
// Optional (Deps.Journal); package ivr/journal has a Redis one.
type Journal interface {
	// Note stores r (the call's record so far), replacing the previous one.
	Note(ctx context.Context, r cdr.Record) error
	// Forget drops the call's record (its CDR is written).
	Forget(ctx context.Context, id string) error
	// Open returns the records noted and not forgotten.
	Open(ctx context.Context) ([]cdr.Record, error)
}

// journalTimeout bounds a journal write: the call never waits on it long
// (a silent Redis costs a step a quarter of a second, not the call).
const journalTimeout = 250 * time.Millisecond

// NoteEndedUnseen is the CDR note of a call that ended while no process
// of the app was running, closed from the journal by the next one.
const NoteEndedUnseen = "ended_unseen: the call ended while no process of the app ran; its end time is when the next one found it gone"

// journal notes the record so far; a failure is logged and counted.
func (s *session) journal(ctx context.Context) {
	j := s.f.deps.Journal
	if j == nil {
		return
	}
	jctx, cancel := context.WithTimeout(s.bg(ctx), journalTimeout)
	defer cancel()
	if err := j.Note(jctx, s.rec); err != nil {
		s.f.m.queueErrors.WithLabelValues("journal").Inc()
		s.log.Warn().Err(err).Msg("journal write failed; a restart now would not close this call")
	}
}

func (f *Flow) forget(ctx context.Context, id string) {
	if f.deps.Journal == nil {
		return
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	if err := f.deps.Journal.Forget(jctx, id); err != nil {
		f.m.queueErrors.WithLabelValues("journal").Inc()
		f.log.Warn().Err(err).Str("call", id).Msg("journal: forgetting a closed call failed")
	}
}

func (f *Flow) track(id string) {
	f.mu.Lock()
	f.running[id]++
	f.mu.Unlock()
}

func (f *Flow) untrack(id string) {
	f.mu.Lock()
	if f.running[id]--; f.running[id] <= 0 {
		delete(f.running, id)
	}
	f.mu.Unlock()
}

func (f *Flow) isRunning(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running[id] > 0
}

// Sweep closes the calls of the Journal that ended while no process ran:
// those that live (a channel the engine still has, whatever its state)
// reports gone and that this Flow does not run. Call it once the engine's
// calls have been re-adopted (ari-app does, at start). Each gets its one
// CDR, its outcome from the last step noted — answered (the operator is
// given her wrap-up), voicemail, abandoned (its queue entry is removed,
// freeing an operator it was offered to) or welcome_hangup — with
// NoteEndedUnseen. It returns how many it closed.
func (f *Flow) Sweep(ctx context.Context, live func(id string) bool) (int, error) {
	if f.deps.Journal == nil {
		return 0, nil
	}
	recs, err := f.deps.Journal.Open(ctx)
	if err != nil {
		return 0, fmt.Errorf("ivr: sweep: journal: %w", err)
	}
	n := 0
	var errs []error
	for _, r := range recs {
		if r.ID == "" || live(r.ID) || f.isRunning(r.ID) {
			continue
		}
		r = f.closeUnseen(ctx, r)
		log := f.log.With().Str("call", r.ID).Logger()
		log.Warn().Str("outcome", string(r.Outcome)).Msg("call ended while no process ran: closed from the journal")
		if err := f.writeCDR(ctx, r, log); err != nil {
			errs = append(errs, err)
			continue
		}
		f.m.calls.WithLabelValues(string(r.Outcome)).Inc()
		f.forget(ctx, r.ID)
		n++
	}
	return n, errors.Join(errs...)
}

// closeUnseen gives a journal record its end.
func (f *Flow) closeUnseen(ctx context.Context, r cdr.Record) cdr.Record {
	now := f.clock.Now()
	r.EndedAt = now.UTC()
	r.Note = NoteEndedUnseen
	switch {
	case !r.ConnectedAt.IsZero():
		r.Outcome = cdr.Answered
		r.HangupBy = ""
		if r.Operator != "" {
			wrap := f.cfg.WrapUpAfter(now.Sub(r.ConnectedAt), false)
			if err := f.deps.Queue.Finish(context.WithoutCancel(ctx), r.Operator, now.Add(wrap), now); err != nil &&
				!errors.Is(err, queue.ErrBadState) {
				f.m.queueErrors.WithLabelValues("finish").Inc()
			}
			f.disp.WakeAt(now.Add(wrap))
		}
	case r.Voicemail != "":
		r.Outcome = cdr.Voicemail
		r.HangupBy = cdr.HangupCaller
	case !r.QueuedAt.IsZero():
		r.Outcome = cdr.Abandoned
		r.HangupBy = cdr.HangupCaller
		if op, err := f.deps.Queue.Leave(context.WithoutCancel(ctx), r.ID, now); err == nil && op != "" {
			f.disp.Kick()
		}
	default:
		r.Outcome = cdr.WelcomeHangup
		r.HangupBy = cdr.HangupCaller
	}
	return r
}
