package ivr

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// queueStage is step 3–4 of the flow: the caller waits in the queue of
// lang (entered at enqueued) until an operator answers, they leave a
// message, they hang up, or nobody can answer. nil: the outcome is set.
func (s *session) queueStage(ctx context.Context, lang string, enqueued time.Time) error {
	s.setQueueCall(lang, enqueued)
	offers := s.f.disp.register(s.qcall.ID)
	defer s.f.disp.unregister(s.qcall.ID)

	// The queue is a new listening step: keys pressed before it (the rest
	// of a menu burst) mean nothing here.
	s.flush()
	s.startMOH(ctx)
	if err := s.enqueue(ctx); err != nil {
		switch {
		case errors.Is(err, ErrShutdown):
			return err
		case errors.Is(err, errGone):
			s.callerEnded(cdr.WelcomeHangup, "")
		default:
			s.unanswered(ctx, "queue_unavailable: "+err.Error())
		}
		return nil
	}
	s.rec.QueuedAt = enqueued.UTC()
	s.log.Info().Str("lang", lang).Msg("call queued")
	s.journal(ctx)
	s.f.disp.Kick()
	return s.loop(ctx, offers, stepWait)
}

// setQueueCall fills s.qcall for lang and enqueued (the queue entry's
// shape), without entering the queue.
func (s *session) setQueueCall(lang string, enqueued time.Time) {
	s.lang = lang
	s.rec.Language = lang
	s.qcall = queue.Call{
		ID:       s.call.ID(),
		Service:  s.f.cfg.Service,
		Language: lang,
		Node:     s.f.cfg.Node,
		Tag:      s.ident.Tag(),
		Enqueued: enqueued,
	}
}

// loop runs the queue's steps from next until the call ends (nil, the
// outcome is set) or the app stops (ErrShutdown).
func (s *session) loop(ctx context.Context, offers <-chan queue.Offer, next step) error {
	for {
		var err error
		switch next {
		case stepWait:
			next, err = s.wait(ctx, offers)
		case stepVoicemail:
			next, err = s.voicemail(ctx)
		}
		if err != nil {
			// ErrShutdown: leave the call waiting, with music, for the
			// next process.
			if s.inQueue && !s.moh {
				s.startMOH(s.bg(ctx))
			}
			return err
		}
		if next == stepDone {
			s.cleanup(ctx)
			return nil
		}
	}
}

// cleanup makes sure an ended call holds nothing: no queue entry, no music.
func (s *session) cleanup(ctx context.Context) {
	s.leave(ctx)
	s.stopMOH(ctx)
}

// enqueue puts s.qcall in the queue, retrying with backoff.
func (s *session) enqueue(ctx context.Context) error {
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.f.deps.Queue.Enqueue(ctx, s.qcall)
		if err == nil {
			s.inQueue = true
			return nil
		}
		if ctx.Err() != nil {
			return ErrShutdown
		}
		s.queueError("enqueue", err)
		if attempt >= s.f.cfg.EnqueueAttempts {
			return err
		}
		if err := s.sleep(ctx, backoff); err != nil {
			return err
		}
		backoff *= 2
	}
}

// leave takes the call out of the queue (if it is there), freeing an
// operator it was offered to.
func (s *session) leave(ctx context.Context) {
	if !s.inQueue {
		return
	}
	s.inQueue = false
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		op, err := s.f.deps.Queue.Leave(s.bg(ctx), s.qcall.ID, s.now())
		if err == nil || errors.Is(err, queue.ErrUnknownCall) {
			if op != "" {
				s.f.disp.Kick()
			}
			return
		}
		s.queueError("leave", err)
		if attempt == 3 {
			s.log.Error().Msg("queue entry could not be removed; it stays until the queue expires it")
			return
		}
		t := s.f.clock.NewTimer(backoff)
		<-t.Chan()
		backoff *= 2
	}
}

// operators counts the operators with the call's skill: logged in (any
// state but logged out) and staffed (logged in and not paused).
func (s *session) operators(ctx context.Context) (loggedIn, staffed int, err error) {
	snap, err := s.f.deps.Queue.Snapshot(ctx, s.now())
	if err != nil {
		s.queueError("snapshot", err)
		return 0, 0, err
	}
	for _, op := range snap.Operators {
		if op.State == queue.LoggedOut || op.State == "" || !slices.Contains(op.Skills, s.lang) {
			continue
		}
		loggedIn++
		if op.State != queue.Paused {
			staffed++
		}
	}
	return loggedIn, staffed, nil
}

// announcement is a position announcement being played.
type announcement struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (a *announcement) stop() {
	a.cancel()
	<-a.done
}

// announce starts the position and expected-wait announcement (music on
// hold is stopped for it; the wait loop restarts it when it is done).
func (s *session) announce(ctx context.Context) *announcement {
	cfg := s.f.cfg
	pos, err := s.f.deps.Queue.Position(ctx, s.qcall.ID)
	if err != nil {
		s.queueError("position", err)
		return nil
	}
	_, staffed, _ := s.operators(ctx)
	p := cfg.PromptsFor(s.lang)
	media := []Media{p.Position, Number(pos), p.PositionEnd}
	if wait, ok := queue.ExpectedWait(pos, staffed, cfg.AverageHandle); ok {
		media = append(media, p.ExpectedWait, Number(minutesToSay(wait)), p.Minutes)
	}
	if cfg.VoicemailDigit != 0 {
		media = append(media, p.VoicemailOffer)
	}
	media = slices.DeleteFunc(media, func(m Media) bool { return m == "" })
	s.stopMOH(ctx)
	actx, cancel := context.WithCancel(ctx)
	a := &announcement{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		err := s.call.Play(actx, s.lang, media...)
		if err != nil && actx.Err() == nil && !errors.Is(err, ErrHangup) {
			s.f.m.engineErrors.WithLabelValues("play").Inc()
		}
	}()
	return a
}

// wait is the caller waiting in the queue with music on hold.
func (s *session) wait(ctx context.Context, offers <-chan queue.Offer) (step, error) {
	cfg := s.f.cfg
	clock := s.f.clock
	maxWait := clock.NewTimer(max(0, s.qcall.Enqueued.Add(cfg.MaxWait).Sub(s.now())))
	defer maxWait.Stop()
	var announceC <-chan time.Time
	if cfg.AnnounceEvery > 0 {
		tk := clock.NewTicker(cfg.AnnounceEvery)
		defer tk.Stop()
		announceC = tk.Chan()
	}
	// Whether anybody could answer is asked beside the wait, not before
	// it: the count reads the whole queue (a Snapshot), and an offer that
	// the dispatcher already made must not wait for it (issue #10: no
	// Redis round trip on the event-in → originate path that correctness
	// does not need). An offer that comes first settles the question.
	nobodyBefore := false
	firstCheck := make(chan bool, 1)
	go func() {
		n, _, err := s.operators(ctx)
		firstCheck <- err == nil && n == 0
	}()
	var checkT clockwork.Timer
	var checkC <-chan time.Time
	if cfg.NoOperatorGrace > 0 {
		checkT = clock.NewTimer(cfg.NoOperatorGrace)
		defer checkT.Stop()
		checkC = checkT.Chan()
	}
	var ann *announcement
	stopAnn := func() {
		if ann != nil {
			ann.stop()
			ann = nil
		}
	}
	defer stopAnn()
	for {
		var annDone <-chan struct{}
		if ann != nil {
			annDone = ann.done
		}
		select {
		case nobody := <-firstCheck:
			firstCheck = nil
			if nobody {
				if cfg.NoOperatorGrace == 0 {
					stopAnn()
					s.unanswered(ctx, "no_operator")
					return stepDone, nil
				}
				nobodyBefore = true
			}
		case <-s.call.Done():
			stopAnn()
			s.abandon(ctx)
			return stepDone, nil
		case <-ctx.Done():
			stopAnn()
			return stepDone, ErrShutdown
		case d := <-s.digits:
			if cfg.VoicemailDigit != 0 && d == cfg.VoicemailDigit {
				stopAnn()
				return stepVoicemail, nil
			}
			// Any other key means nothing here: discarded.
		case o := <-offers:
			stopAnn()
			// A key the caller pressed before the offer came wins over
			// it: leaving the queue voids the offer.
			for {
				d, ok := s.pollDigit()
				if !ok {
					break
				}
				if cfg.VoicemailDigit != 0 && d == cfg.VoicemailDigit {
					return stepVoicemail, nil
				}
			}
			ended, err := s.ring(ctx, o)
			if err != nil || ended {
				return stepDone, err
			}
			if s.requeued {
				// Back from a failed transfer: a fresh max wait.
				s.requeued = false
				if !maxWait.Stop() {
					select { // it fired during the talk
					case <-maxWait.Chan():
					default:
					}
				}
				maxWait.Reset(cfg.MaxWait)
			}
			s.flush()
		case <-maxWait.Chan():
			stopAnn()
			s.unanswered(ctx, "max_wait")
			return stepDone, nil
		case <-announceC:
			if ann == nil {
				ann = s.announce(ctx)
			}
		case <-annDone:
			ann = nil
			s.startMOH(ctx)
		case <-checkC:
			if firstCheck != nil {
				// The grace ran out before the first count came: it
				// counts as the "before" (it is moments away).
				nobodyBefore = <-firstCheck
				firstCheck = nil
			}
			n, _, err := s.operators(ctx)
			nobody := err == nil && n == 0
			if nobody && nobodyBefore {
				stopAnn()
				s.unanswered(ctx, "no_operator")
				return stepDone, nil
			}
			nobodyBefore = nobody
			checkT.Reset(cfg.NoOperatorGrace)
		}
	}
}
