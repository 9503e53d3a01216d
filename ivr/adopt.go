package ivr

import (
	"context"
	"errors"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// Adoption is what survives of a call a previous process of the app was
// running when it died (SIGKILL, crash: nothing was cleaned up), as the
// engine shows it to the next process. See doc.go, "Restarts".
type Adoption struct {
	// Arrived is when the call reached the engine (the channel's
	// creation time): the CDR's ArrivedAt.
	Arrived time.Time
	// Answered: the channel is up (the previous process answered it).
	Answered bool
	// Mark is what the previous process wrote on the channel (zero: none).
	Mark Mark
	// Leg and Bridge are the operator's leg found bridged with the caller
	// and that bridge, when the call was in a talk. Leg is nil when the
	// operator's leg is gone; Bridge may be nil too.
	Leg    Leg
	Bridge Bridge
	// BridgedAt is when the bridge was made (its creation time): the
	// connect time of a talk when the Mark does not say it.
	BridgedAt time.Time
	// Operator is the operator of Leg (from the engine's own bookkeeping),
	// when the Mark does not say it.
	Operator string
}

// Readopt takes back a call a previous process left, in whatever state it
// was, and runs it to its one CDR:
//
//   - waiting in the queue: Resume's path (place, language and times
//     kept); if it was being offered (an operator's phone rang), the
//     offer is returned first (Leave, then the same entry again: same
//     Enqueued time, so the same place) and the call is offered anew;
//     the adapter hangs the ringing leg up;
//   - in a talk (Mark StageTalk, or a Leg handed over): the talk goes on,
//     watched, and ends with the original connect time and operator;
//   - leaving a message (Mark StageVoicemail): the recording is let
//     finish and kept (RecordingAwaiter), then the call ends as
//     voicemail;
//   - answered but neither queued nor marked (the welcome or the menu):
//     the language menu again, then the queue (see doc.go for why);
//   - not answered yet: the flow from the start (Handle), with the
//     original arrival time.
func (f *Flow) Readopt(ctx context.Context, call Call, callerNumber string, a Adoption) (cdr.Record, error) {
	if a.Arrived.IsZero() {
		a.Arrived = f.clock.Now()
	}
	s := f.newSession(call, callerNumber, a.Arrived)
	f.active.Add(1)
	defer f.active.Add(-1)
	f.track(s.rec.ID)
	defer f.untrack(s.rec.ID)
	if err := s.readopt(ctx, a); err != nil {
		return s.rec, err
	}
	return s.finish(ctx)
}

// queued returns the call's queue entry, if the queue has it.
func (s *session) queued(ctx context.Context) (*queue.WaitingCall, error) {
	snap, err := s.f.deps.Queue.Snapshot(ctx, s.now())
	if err != nil {
		return nil, err
	}
	for _, calls := range snap.Waiting {
		for i := range calls {
			if calls[i].ID == s.call.ID() {
				return &calls[i], nil
			}
		}
	}
	return nil, nil
}

func (s *session) readopt(ctx context.Context, a Adoption) error {
	m := a.Mark
	if a.Leg != nil && a.Bridge == nil {
		// Answered but never bridged: nobody will; the call is offered anew.
		s.hangupLeg(ctx, a.Leg)
		a.Leg = nil
	}
	wc, err := s.queued(ctx)
	if err != nil {
		// Without the queue the mark and the engine still tell a talk or
		// a message; a waiting call is queued again below.
		s.queueError("snapshot", err)
	}
	if m.IsZero() && wc == nil {
		// No mark to read (the channel went before it could be read, or
		// the mark never landed): the journal tells the last step noted.
		if r, ok := s.journaled(ctx); ok {
			m = markOf(r)
			a.Mark = m
			if m.IsZero() && !r.QueuedAt.IsZero() && !s.up() {
				// Out of the queue (being offered) when the process died,
				// and gone since: the caller gave up waiting.
				s.restoreQueued(Mark{Language: r.Language, QueuedAt: r.QueuedAt})
				s.log.Info().Msg("re-adopted call gone after leaving the queue: abandoned")
				s.callerEnded(cdr.Abandoned, "")
				return nil
			}
		}
	}
	talking := a.Leg != nil || (m.Stage == StageTalk && wc == nil)
	if wc == nil && !talking && m.Stage != StageVoicemail && !a.Answered {
		s.log.Info().Msg("call re-adopted before its answer: the flow from the start")
		return s.run(ctx)
	}
	s.f.m.active.Inc()
	defer s.f.m.active.Dec()
	switch {
	case wc != nil && !talking:
		s.log.Info().Time("enqueued", wc.Enqueued).Str("lang", wc.Language).Str("offered_to", wc.OfferedTo).
			Msg("call re-adopted in the queue")
		if m.Stage == StageTalk {
			// Back in the queue after a failed transfer: the caller
			// talked already and keeps the outcome answered.
			s.answered = true
			s.rec.ConnectedAt, s.rec.Operator = m.ConnectedAt.UTC(), m.Operator
		}
		if wc.OfferedTo != "" {
			// The offer's ring died with the previous process: take the
			// call out (the operator is free again) and put it back with
			// its Enqueued time, so it keeps its place.
			if op, err := s.f.deps.Queue.Leave(s.bg(ctx), wc.ID, s.now()); err != nil && !errors.Is(err, queue.ErrUnknownCall) {
				s.queueError("leave", err)
			} else if op != "" {
				s.log.Info().Str("operator", op).Msg("offer of the previous process returned")
			}
		}
		return s.queueStage(ctx, wc.Language, wc.Enqueued)
	case talking:
		return s.readoptTalk(ctx, a)
	case m.Stage == StageVoicemail:
		return s.readoptVoicemail(ctx, m)
	}
	s.log.Info().Msg("call re-adopted before the queue: the language menu again")
	return s.readoptMenu(ctx)
}

// restoreQueued sets what the CDR and the queue entry need from a mark.
func (s *session) restoreQueued(m Mark) {
	lang := m.Language
	if lang == "" {
		lang = s.f.cfg.DefaultLanguage
	}
	queued := m.QueuedAt
	if queued.IsZero() {
		queued = s.rec.ArrivedAt
	}
	s.setQueueCall(lang, queued)
	s.rec.QueuedAt = queued.UTC()
}

// readoptTalk watches a talk the previous process bridged, to its end.
func (s *session) readoptTalk(ctx context.Context, a Adoption) error {
	m := a.Mark
	s.restoreQueued(m)
	op, connected := m.Operator, m.ConnectedAt
	if op == "" {
		op = a.Operator
	}
	if connected.IsZero() {
		connected = a.BridgedAt
	}
	if connected.IsZero() {
		connected = s.now()
	}
	s.rec.ConnectedAt = connected.UTC()
	s.rec.Operator = op
	s.rec.Outcome = cdr.Answered
	s.answered = true
	s.inQueue = false
	o := queue.Offer{CallID: s.qcall.ID, OperatorID: op, Language: s.lang, Node: s.f.cfg.Node}
	log := s.log.With().Str("operator", op).Time("connected", connected).Logger()
	if a.Leg == nil || a.Bridge == nil || !s.up() {
		// The operator's leg (or the bridge) went while no process
		// watched: the talk is over. The caller, if still there, is
		// alone: hang up.
		log.Warn().Bool("leg", a.Leg != nil).Bool("bridge", a.Bridge != nil).Msg("re-adopted talk already over")
		if a.Leg != nil {
			s.hangupLeg(ctx, a.Leg)
		}
		if a.Bridge != nil {
			if err := a.Bridge.Destroy(s.bg(ctx)); err != nil {
				s.f.m.engineErrors.WithLabelValues("bridge_destroy").Inc()
			}
		}
		if s.up() {
			s.hangupCaller(ctx)
			s.end(cdr.Answered, cdr.HangupOperator, CauseNormal, "talk ended while the app was down")
		} else {
			s.callerEnded(cdr.Answered, "talk ended while the app was down")
		}
		s.finishOperator(ctx, op, s.now().Add(s.f.cfg.WrapUpAfter(s.now().Sub(connected), false)))
		return nil
	}
	log.Info().Msg("talk re-adopted: watching it to its end")
	s.journal(ctx)
	offers := s.f.disp.register(s.qcall.ID)
	defer s.f.disp.unregister(s.qcall.ID)
	ended, err := s.talk(ctx, o, a.Leg, a.Bridge, connected)
	if err != nil || ended {
		return err
	}
	// A failed transfer sent the caller back to the queue.
	return s.loop(ctx, offers, stepWait)
}

// readoptVoicemail lets the recording a previous process started finish.
func (s *session) readoptVoicemail(ctx context.Context, m Mark) error {
	if m.Language == "" {
		// A mark the engine inferred (the recording, without the flow's
		// own mark): the journal knows the language and queue time.
		if r, ok := s.journaled(ctx); ok {
			m.Language, m.QueuedAt = r.Language, r.QueuedAt
		}
	}
	s.restoreQueued(m)
	s.log.Info().Str("recording", m.Voicemail).Msg("voicemail re-adopted: letting the recording finish")
	offers := s.f.disp.register(s.qcall.ID)
	defer s.f.disp.unregister(s.qcall.ID)
	next, err := s.awaitVoicemail(ctx, m.Voicemail)
	if err != nil || next == stepDone {
		return err
	}
	return s.loop(ctx, offers, next)
}

func (s *session) awaitVoicemail(ctx context.Context, name string) (step, error) {
	aw, ok := s.call.(RecordingAwaiter)
	if !ok {
		// The engine cannot say: whatever was recorded is kept under the
		// name; the call ends as a message.
		return s.voicemailKept(ctx, Recording{Name: name}, name)
	}
	rec, err := aw.AwaitRecording(ctx, name)
	switch {
	case err == nil:
		return s.voicemailKept(ctx, rec, name)
	case ctx.Err() != nil:
		return stepDone, ErrShutdown
	case errors.Is(err, ErrNoRecording):
		if !s.up() {
			s.callerEnded(cdr.Abandoned, "voicemail: hung up before recording")
			return stepDone, nil
		}
		// The previous process died before the recording started: the
		// intro and the recording again.
		return s.recordVoicemail(ctx)
	case s.hungUp(err):
		s.callerEnded(cdr.Abandoned, "voicemail: recording failed: "+err.Error())
		return stepDone, nil
	}
	// The caller is still there: back to the queue, in their place.
	return s.requeueAfterRecordError(ctx, err)
}

// readoptMenu takes an answered caller who was not queued yet through the
// language menu (the welcome is not played again) into the queue.
func (s *session) readoptMenu(ctx context.Context) error {
	blocked, reason := s.blacklisted(ctx)
	if ctx.Err() != nil {
		return ErrShutdown
	}
	err := errGone
	if s.up() {
		err = nil
		if blocked {
			s.reject(ctx, reason)
			return nil
		}
		s.lang, err = s.chooseMenu(ctx)
	}
	switch {
	case err == nil:
		return s.queueStage(ctx, s.lang, s.now())
	case errors.Is(err, errGone):
		s.callerEnded(cdr.WelcomeHangup, "")
		return nil
	}
	return err
}

// journaled returns the call's record in the journal, if any.
func (s *session) journaled(ctx context.Context) (cdr.Record, bool) {
	j := s.f.deps.Journal
	if j == nil {
		return cdr.Record{}, false
	}
	jctx, cancel := context.WithTimeout(s.bg(ctx), journalTimeout)
	defer cancel()
	recs, err := j.Open(jctx)
	if err != nil {
		s.f.m.queueErrors.WithLabelValues("journal").Inc()
		s.log.Warn().Err(err).Msg("journal unreadable: re-adopted without what it knew")
		return cdr.Record{}, false
	}
	for _, r := range recs {
		if r.ID == s.rec.ID {
			return r, true
		}
	}
	return cdr.Record{}, false
}

// markOf is the Mark a journal record stands for: a talk (connected), a
// message (its recording named), else none.
func markOf(r cdr.Record) Mark {
	switch {
	case !r.ConnectedAt.IsZero() && r.Operator != "":
		return Mark{Stage: StageTalk, Language: r.Language, QueuedAt: r.QueuedAt, ConnectedAt: r.ConnectedAt, Operator: r.Operator}
	case r.Voicemail != "":
		return Mark{Stage: StageVoicemail, Language: r.Language, QueuedAt: r.QueuedAt, Voicemail: r.Voicemail}
	}
	return Mark{}
}
