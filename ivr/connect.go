package ivr

import (
	"context"
	"errors"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// Pause reasons the flow gives the queue when an operator's phone rang in
// vain.
const (
	// PauseNoAnswer: the operator did not answer, was busy or rejected.
	PauseNoAnswer = "no_answer"
	// PauseUnreachable: the phone could not be rung at all (not
	// registered, unknown endpoint, congestion).
	PauseUnreachable = "unreachable"
)

// engineRetryDelay is how long an offer is held after the engine failed
// to ring the operator, before it is returned.
const engineRetryDelay = time.Second

// ringGuard is how long ivr lets an operator's phone ring before it
// cancels the leg itself: the engine's own timeout plus half of the
// margin of the offer's reservation, so a ring never outlives its offer.
func (c Config) ringGuard() time.Duration {
	return c.RingTimeout + (c.OfferTTL-c.RingTimeout)/2
}

// abandon: the caller hung up while waiting.
func (s *session) abandon(ctx context.Context) {
	s.leave(ctx)
	s.callerEnded(cdr.Abandoned, "")
}

// unanswered ends a call nobody could answer, politely.
func (s *session) unanswered(ctx context.Context, note string) {
	s.leave(ctx)
	s.stopMOH(ctx)
	if s.up() {
		_, _ = s.play(s.bg(ctx), false, s.lang, s.f.cfg.PromptsFor(s.lang).Unanswered)
	}
	s.log.Info().Str("note", note).Msg("call unanswered")
	s.systemEnd(ctx, cdr.Unanswered, note)
}

// hangupLeg hangs an operator's leg up if it is still there.
func (s *session) hangupLeg(ctx context.Context, leg Leg) {
	select {
	case <-leg.Done():
		return
	default:
	}
	if err := leg.Hangup(s.bg(ctx), CauseNormal); err != nil && !errors.Is(err, ErrHangup) {
		s.f.m.engineErrors.WithLabelValues("leg_hangup").Inc()
		s.log.Warn().Err(err).Str("leg", leg.ID()).Msg("hanging up the operator's leg failed")
	}
}

// ring rings the operator of offer o while the caller keeps waiting with
// music. ended: the call is over (outcome set); otherwise the caller is
// back to waiting in their place.
func (s *session) ring(ctx context.Context, o queue.Offer) (ended bool, err error) {
	log := s.log.With().Str("operator", o.OperatorID).Logger()
	if o.CallID != s.qcall.ID {
		log.Error().Str("offer_call", o.CallID).Msg("offer for another call; returned")
		s.ringFailed(ctx, o, false, "")
		return false, nil
	}
	s.startMOH(ctx)
	log.Debug().Str("endpoint", o.Endpoint).Msg("ringing operator")
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		leg Leg
		err error
	}
	res := make(chan result, 1)
	go func() {
		leg, err := s.call.Originate(rctx, OriginateRequest{
			Endpoint: o.Endpoint,
			Operator: o.OperatorID,
			Timeout:  s.f.cfg.RingTimeout,
			Label:    s.f.cfg.Service + " " + s.lang,
		})
		res <- result{leg, err}
	}()
	guard := s.f.clock.NewTimer(s.f.cfg.ringGuard())
	defer guard.Stop()
	for {
		select {
		case r := <-res:
			guard.Stop()
			return s.rang(ctx, o, r.leg, r.err, false)
		case <-guard.Chan():
			cancel()
			r := <-res
			return s.rang(ctx, o, r.leg, r.err, true)
		case <-s.call.Done():
			cancel()
			if r := <-res; r.leg != nil {
				s.hangupLeg(ctx, r.leg)
			}
			log.Info().Msg("caller hung up while the operator's phone rang")
			s.abandon(ctx)
			return true, nil
		case <-ctx.Done():
			cancel()
			if r := <-res; r.leg != nil {
				s.hangupLeg(ctx, r.leg)
			}
			s.ringFailed(s.bg(ctx), o, false, "")
			return true, ErrShutdown
		case <-s.digits:
			// Keys pressed while an operator's phone rings are discarded.
		}
	}
}

// rang deals with the end of a ring: answered, or failed.
func (s *session) rang(ctx context.Context, o queue.Offer, leg Leg, err error, guardFired bool) (bool, error) {
	if err == nil && leg != nil {
		return s.connect(ctx, o, leg)
	}
	log := s.log.With().Str("operator", o.OperatorID).Logger()
	var oe *OriginateError
	switch {
	case errors.As(err, &oe):
		failure := oe.Failure()
		reason := PauseNoAnswer
		if failure == FailFailed || failure == FailCongestion {
			reason = PauseUnreachable
		}
		s.f.m.ringFailures.WithLabelValues(string(failure)).Inc()
		log.Info().Int("cause", oe.Cause).Str("failure", string(failure)).Str("pause", reason).Msg("operator did not answer; auto-paused")
		s.ringFailed(ctx, o, true, reason)
	case guardFired:
		s.f.m.ringFailures.WithLabelValues(string(FailNoAnswer)).Inc()
		log.Warn().Msg("operator's phone outlived the ring timeout; cancelled and auto-paused")
		s.ringFailed(ctx, o, true, PauseNoAnswer)
	default:
		// The engine failed, not the operator: no pause. The
		// reservation is held for engineRetryDelay first, so that a broken
		// engine is retried once a second rather than in a tight loop.
		s.engineError("originate", err)
		if err := s.sleep(ctx, engineRetryDelay); err != nil {
			s.ringFailed(ctx, o, false, "")
			if errors.Is(err, errGone) {
				s.abandon(ctx)
				return true, nil
			}
			return true, err
		}
		s.ringFailed(ctx, o, false, "")
		return false, nil
	}
	s.f.disp.Kick()
	return false, nil
}

// ringFailed returns the call to its place in the queue.
func (s *session) ringFailed(ctx context.Context, o queue.Offer, pause bool, reason string) {
	err := s.f.deps.Queue.RingFailed(s.bg(ctx), o, pause, reason, s.now())
	if err != nil && !errors.Is(err, queue.ErrOfferLost) {
		s.queueError("ring_failed", err)
	}
}

// finishOperator ends the operator's call with a wrap-up until until.
func (s *session) finishOperator(ctx context.Context, operatorID string, until time.Time) {
	if err := s.f.deps.Queue.Finish(s.bg(ctx), operatorID, until, s.now()); err != nil {
		s.queueError("finish", err)
	}
	s.f.disp.WakeAt(until)
}

// connect takes an answered leg to talk: the queue is told, music stops,
// the bridge goes up (outcome answered) and the call lasts until either
// side hangs up.
func (s *session) connect(ctx context.Context, o queue.Offer, leg Leg) (bool, error) {
	log := s.log.With().Str("operator", o.OperatorID).Logger()
	if err := s.f.deps.Queue.Answered(ctx, o, s.now()); err != nil {
		if errors.Is(err, queue.ErrOfferLost) || errors.Is(err, queue.ErrUnknownCall) {
			// The reservation expired and the call went back to the
			// queue (it may be ringing elsewhere already): this leg must go.
			log.Warn().Err(err).Msg("offer lost before the operator answered; leg hung up, caller keeps waiting")
			s.hangupLeg(ctx, leg)
			s.f.disp.Kick()
			return false, nil
		}
		// The store failed but the operator is on the line: the caller
		// comes first.
		s.queueError("answered", err)
	}
	s.inQueue = false
	if !s.up() {
		s.hangupLeg(ctx, leg)
		s.finishOperator(ctx, o.OperatorID, s.now())
		s.callerEnded(cdr.Abandoned, "caller hung up as the operator answered")
		return true, nil
	}
	s.stopMOH(ctx)
	// The talk starts when the bridge is asked for: that is when the
	// engine joins the two (the request returns once they are joined).
	connected := s.now().UTC()
	br, err := s.call.Bridge(ctx, leg)
	if err != nil {
		s.hangupLeg(ctx, leg)
		s.finishOperator(ctx, o.OperatorID, s.now())
		if s.hungUp(err) {
			s.callerEnded(cdr.Abandoned, "caller hung up as the operator answered")
			return true, nil
		}
		if ctx.Err() != nil {
			return true, ErrShutdown
		}
		// Fall back to the queue, in the caller's original place.
		s.engineError("bridge", err)
		s.startMOH(ctx)
		if err := s.enqueue(ctx); err != nil {
			if errors.Is(err, ErrShutdown) {
				return true, err
			}
			if errors.Is(err, errGone) {
				s.abandon(ctx)
				return true, nil
			}
			s.unanswered(ctx, "queue_unavailable: "+err.Error())
			return true, nil
		}
		s.f.disp.Kick()
		return false, nil
	}
	if s.rec.ConnectedAt.IsZero() {
		// A caller back from a failed transfer keeps the first answer.
		s.rec.ConnectedAt = connected
		s.rec.Operator = o.OperatorID
	}
	s.rec.Outcome = cdr.Answered
	s.answered = true
	log.Info().Msg("connected")
	// What the queue forgets now (it dropped the entry), the channel and
	// the journal keep: a new process re-adopts the talk with its times
	// (from the journal when the caller is gone before it could read the
	// channel's mark).
	s.mark(ctx, Mark{Stage: StageTalk, Language: s.lang, QueuedAt: s.rec.QueuedAt,
		ConnectedAt: s.rec.ConnectedAt, Operator: s.rec.Operator})
	s.journal(ctx)
	return s.talk(ctx, o, leg, br, connected)
}

// voicemail records a message: the caller leaves the queue first.
func (s *session) voicemail(ctx context.Context) (step, error) {
	s.log.Info().Msg("caller chose voicemail")
	// The journal's copy names the message, so a call that ends while no
	// process runs is closed as one (and a new process that finds the
	// caller gone re-adopts it as one); the CDR's own field is set once
	// the recording is kept.
	jr := s.rec
	jr.Voicemail = VoicemailName(s.qcall.ID)
	if j := s.f.deps.Journal; j != nil {
		jctx, cancel := context.WithTimeout(s.bg(ctx), journalTimeout)
		if err := j.Note(jctx, jr); err != nil {
			s.f.m.queueErrors.WithLabelValues("journal").Inc()
		}
		cancel()
	}
	// Then the mark, before the queue entry goes and long before the
	// recording starts (a value set during it would wait for its end on
	// Asterisk): a process that dies after this lets the recording finish
	// and keeps it; one that dies before finds the caller still queued.
	s.mark(ctx, Mark{Stage: StageVoicemail, Language: s.lang, QueuedAt: s.rec.QueuedAt, Voicemail: VoicemailName(s.qcall.ID)})
	s.leave(ctx)
	s.stopMOH(ctx)
	return s.recordVoicemail(ctx)
}

// recordVoicemail plays the intro and records the message (the caller is
// out of the queue).
func (s *session) recordVoicemail(ctx context.Context) (step, error) {
	cfg := s.f.cfg
	if _, err := s.play(ctx, false, s.lang, cfg.PromptsFor(s.lang).VoicemailIntro); err != nil {
		if errors.Is(err, errGone) {
			s.callerEnded(cdr.Abandoned, "voicemail: hung up before recording")
			return stepDone, nil
		}
		return stepDone, err
	}
	s.flush()
	name := VoicemailName(s.qcall.ID)
	rec, err := s.call.Record(ctx, RecordRequest{
		Name:        name,
		Format:      cfg.VoicemailFormat,
		MaxDuration: cfg.VoicemailMax,
		Beep:        true,
		TerminateOn: '#',
	})
	if err != nil {
		if ctx.Err() != nil {
			return stepDone, ErrShutdown
		}
		if s.hungUp(err) {
			s.callerEnded(cdr.Abandoned, "voicemail: recording failed: "+err.Error())
			return stepDone, nil
		}
		return s.requeueAfterRecordError(ctx, err)
	}
	return s.voicemailKept(ctx, rec, name)
}

// requeueAfterRecordError takes a caller whose recording the engine
// failed, and who is still there, back to the queue in their place.
func (s *session) requeueAfterRecordError(ctx context.Context, err error) (step, error) {
	s.engineError("record", err)
	s.startMOH(ctx)
	if err := s.enqueue(ctx); err != nil {
		if errors.Is(err, ErrShutdown) {
			return stepDone, err
		}
		if errors.Is(err, errGone) {
			s.callerEnded(cdr.Abandoned, "")
			return stepDone, nil
		}
		s.unanswered(ctx, "queue_unavailable: "+err.Error())
		return stepDone, nil
	}
	s.flush() // the '#' that may have ended the failed recording
	s.f.disp.Kick()
	return stepWait, nil
}

// voicemailKept ends a call whose message was recorded.
func (s *session) voicemailKept(ctx context.Context, rec Recording, name string) (step, error) {
	cfg := s.f.cfg
	if rec.Name == "" {
		rec.Name = name
	}
	s.rec.Voicemail = rec.Name
	s.log.Info().Str("recording", rec.Name).Dur("duration", rec.Duration).Msg("voicemail recorded")
	if s.up() {
		s.flush()
		_, _ = s.play(s.bg(ctx), false, s.lang, cfg.PromptsFor(s.lang).VoicemailThanks)
	}
	s.systemEnd(ctx, cdr.Voicemail, "")
	return stepDone, nil
}
