package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
)

// CDR write backoff: from cdrBackoffMin doubling to cdrBackoffMax, for
// Config.CDRRetryFor in all.
const (
	cdrBackoffMin = 200 * time.Millisecond
	cdrBackoffMax = 30 * time.Second
)

// finish closes the record and writes it: exactly once per call, at the
// end, whatever path led there.
func (s *session) finish(ctx context.Context) (cdr.Record, error) {
	if s.rec.Outcome == "" {
		// Every path sets an outcome; if one did not, the call still
		// gets its record rather than vanishing from the report.
		s.log.Error().Msg("call ended without an outcome; recorded as unanswered")
		s.systemEnd(ctx, cdr.Unanswered, "internal: no outcome")
	}
	if s.rec.EndedAt.IsZero() {
		s.rec.EndedAt = s.now().UTC()
	}
	note := s.lost
	if n, ok := s.call.(HangupNoter); ok && n.HangupNote() != "" {
		note = n.HangupNote()
	}
	switch {
	case note == "" || strings.Contains(s.rec.Note, note):
	case strings.HasPrefix(note, NoteEngineRestart):
		// First: the report counts the notes that start with it.
		s.rec.Note = strings.TrimSuffix(note+"; "+s.rec.Note, "; ")
	default:
		s.rec.Note = strings.TrimPrefix(s.rec.Note+"; "+note, "; ")
	}
	if strings.HasPrefix(note, NoteEngineRestart) {
		s.engineRestarted()
	}
	if cdr.Queued(s.rec.Outcome) && s.rec.QueuedAt.IsZero() {
		// Unanswered before the caller could be queued (the engine could
		// not answer, the queue refused the call): the report counts it
		// among the queued calls, which all have a queue time and a
		// language, so the moment we gave up and the language the caller
		// would have been served in stand in.
		s.rec.QueuedAt = s.rec.EndedAt
		if s.rec.Language == "" {
			s.rec.Language = s.f.cfg.DefaultLanguage
		}
	}
	s.f.m.calls.WithLabelValues(string(s.rec.Outcome)).Inc()
	s.log.Info().
		Str("outcome", string(s.rec.Outcome)).
		Str("lang", s.rec.Language).
		Str("operator", s.rec.Operator).
		Str("by", s.rec.HangupBy).
		Int("cause", s.rec.HangupCause).
		Str("note", s.rec.Note).
		Msg("call over")
	err := s.f.writeCDR(ctx, s.rec, s.log)
	if err == nil {
		s.f.forget(ctx, s.rec.ID)
	}
	return s.rec, err
}

// engineRestarted closes a call whose channel vanished with the engine
// (Asterisk restarted): nobody hung up, the helpline lost the call. One
// that never reached an operator is unanswered (the report counts it so,
// and says how many in its footnote); a talk cut short stays answered (the
// caller did talk) and a message already recorded stays voicemail. The
// note, which starts with NoteEngineRestart, says why in every case.
func (s *session) engineRestarted() {
	switch s.rec.Outcome {
	case cdr.Abandoned, cdr.WelcomeHangup:
		s.rec.Outcome = cdr.Unanswered
		s.rec.Voicemail = ""
	}
	s.rec.HangupBy = cdr.HangupSystem
}

// writeCDR writes r, retrying with backoff for Config.CDRRetryFor; then
// (or when ctx is cancelled) it hands r to the Spool and logs it in full
// at error level, so that a record is never dropped silently. The record
// holds no raw number, so logging it is safe.
func (f *Flow) writeCDR(ctx context.Context, r cdr.Record, log zerolog.Logger) error {
	wctx := context.WithoutCancel(ctx)
	deadline := f.clock.Now().Add(f.cfg.CDRRetryFor)
	backoff := cdrBackoffMin
	var err error
	for attempt := 1; ; attempt++ {
		if err = f.deps.CDR.Write(wctx, r); err == nil {
			if attempt > 1 {
				log.Warn().Int("attempts", attempt).Msg("CDR written after retries")
			}
			return nil
		}
		f.m.cdrFailures.Inc()
		log.Error().Err(err).Int("attempt", attempt).Dur("retry_in", backoff).Msg("CDR write failed; retrying")
		if !f.clock.Now().Add(backoff).Before(deadline) {
			break
		}
		t := f.clock.NewTimer(backoff)
		select {
		case <-t.Chan():
		case <-ctx.Done():
			t.Stop()
		}
		if ctx.Err() != nil {
			break
		}
		backoff = min(2*backoff, cdrBackoffMax)
	}
	err = fmt.Errorf("ivr: CDR %s not written: %w", r.ID, err)
	if f.deps.Spool != nil {
		if serr := f.deps.Spool.Write(wctx, r); serr == nil {
			log.Error().Err(err).Msg("CDR handed to the spool")
			return nil
		} else {
			err = errors.Join(err, fmt.Errorf("spool: %w", serr))
		}
	}
	log.Error().Err(err).Interface("cdr", r).Msg("CDR LOST FROM THE STORE: full record follows, re-import it")
	return err
}
