package ivr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// maxFeatureKeys bounds a feature code keyed during a talk; a longer one
// is handed over as it is (and refused by the handler).
const maxFeatureKeys = 24

// TalkHandler is the operator's side of a talk; package operator
// implements it. The flow keeps the call's life and its one CDR; the
// handler decides what the operator's keys mean.
type TalkHandler interface {
	// Connected is told when a caller and an operator have just been
	// bridged: the operator's last caller is now t.Caller (for abuse
	// flags). It must return quickly and never fail the call.
	Connected(ctx context.Context, t *Talk)
	// Feature acts on a feature code the operator keyed on their leg
	// during the talk ("*14", "*221234"). It runs on the call's own
	// goroutine and may take long (a consultation): meanwhile the flow
	// watches nothing, so the handler must watch the channels it waits
	// on. It changes the talk only through t's methods, and returns with
	// the caller either bridged (with the operator, a service, or both),
	// hung up, or asked back to the queue (Talk.Requeue).
	Feature(ctx context.Context, t *Talk, code string)
}

// Talk is one caller's conversation with an operator, as the operator's
// side sees it: who is on the line and what the CDR should say about it.
// Its exported fields are fixed at the start; the rest changes through
// its methods, which are safe for concurrent use.
type Talk struct {
	// CallID is the inbound call's id (and its CDR's).
	CallID string
	// Service and Language are the call's.
	Service  string
	Language string
	// Operator is the operator who answered.
	Operator string
	// Caller is the caller's identity (never a number).
	Caller callerid.Identity
	// Call is the caller's channel.
	Call Call
	// Leg is the operator's leg.
	Leg Leg
	// Bridge holds the caller and the operator at the start; a transfer
	// moves channels in and out of it.
	Bridge Bridge
	// ConnectedAt is when the talk started.
	ConnectedAt time.Time

	mu       sync.Mutex
	goneAt   time.Time
	opLeft   bool
	parties  []Leg
	flagged  bool
	transfer string
	target   string
	requeue  bool
}

// Flag marks the caller as flagged by the operator: the operator's
// wrap-up will be Config.FlaggedWrapUp (see WrapUpAfter).
func (t *Talk) Flag() {
	t.mu.Lock()
	t.flagged = true
	t.mu.Unlock()
}

// Flagged reports whether Flag was called.
func (t *Talk) Flagged() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.flagged
}

// NoteTransfer records a transfer in the call's CDR: note goes to
// Transfer ("blind:1234:answered"), target (the service's directory
// code) to Target. The last note wins.
func (t *Talk) NoteTransfer(note, target string) {
	t.mu.Lock()
	t.transfer, t.target = note, target
	t.mu.Unlock()
}

// Transfer returns the note and target recorded by NoteTransfer.
func (t *Talk) Transfer() (note, target string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.transfer, t.target
}

// Join makes leg a party of the talk: it is in the bridge with the caller
// (after a completed transfer, or in a three-way call). The flow hangs it
// up when the caller hangs up, and the call ends when the operator and
// every party are gone.
func (t *Talk) Join(leg Leg) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.parties, leg) {
		t.parties = append(t.parties, leg)
	}
}

// Parties returns the legs that joined the talk and are still up.
func (t *Talk) Parties() []Leg {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Leg
	for _, p := range t.parties {
		select {
		case <-p.Done():
		default:
			out = append(out, p)
		}
	}
	return out
}

// OperatorLeft says the operator is no longer in the talk (the handler
// hung their leg up after a transfer, or it went): the flow frees them in
// the queue, with their wrap-up from now, and stops reading their keys.
func (t *Talk) OperatorLeft() {
	t.mu.Lock()
	t.opLeft = true
	t.mu.Unlock()
}

// OperatorIn reports whether the operator is still in the talk.
func (t *Talk) OperatorIn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.opLeft
}

// CallerGone tells the flow the caller hung up at at, when the handler
// saw it first (the earliest report wins): the CDR's EndedAt.
func (t *Talk) CallerGone(at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.goneAt.IsZero() || at.Before(t.goneAt) {
		t.goneAt = at
	}
}

func (t *Talk) callerGoneAt() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.goneAt
}

// Requeue asks the flow to put the caller back in the queue, in their
// original place, when Feature returns: a transfer failed and nobody is
// left to talk to them. The caller must still be up and out of every
// bridge the handler used.
func (t *Talk) Requeue() {
	t.mu.Lock()
	t.requeue = true
	t.mu.Unlock()
}

func (t *Talk) takeRequeue() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.requeue
	t.requeue = false
	return r
}

// talk runs the conversation of a bridged call until it ends (true) or
// the caller goes back to the queue after a failed transfer (false). The
// operator's keys become feature codes for Deps.Talk.
func (s *session) talk(ctx context.Context, o queue.Offer, leg Leg, br Bridge, connected time.Time) (bool, error) {
	log := s.log.With().Str("operator", o.OperatorID).Logger()
	t := &Talk{
		CallID: s.call.ID(), Service: s.f.cfg.Service, Language: s.lang, Operator: o.OperatorID,
		Caller: s.ident, Call: s.call, Leg: leg, Bridge: br, ConnectedAt: connected,
	}
	h := s.f.deps.Talk
	if h != nil {
		h.Connected(ctx, t)
	}

	// The caller's hang-up time, even while a handler holds the goroutine.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-s.call.Done():
			t.CallerGone(s.now())
		case <-stop:
		}
	}()
	partyGone := make(chan Leg, 8)
	watched := map[Leg]bool{}
	watchParties := func() {
		for _, p := range t.Parties() {
			if watched[p] {
				continue
			}
			watched[p] = true
			go func(p Leg) {
				select {
				case <-p.Done():
					select {
					case partyGone <- p:
					case <-stop:
					}
				case <-stop:
				}
			}(p)
		}
	}

	finished := false
	finish := func(at time.Time) {
		if finished {
			return
		}
		finished = true
		wrap := s.f.cfg.WrapUpAfter(at.Sub(connected), t.Flagged())
		s.finishOperator(ctx, o.OperatorID, at.Add(wrap))
		log.Info().Dur("wrapup", wrap).Bool("flagged", t.Flagged()).Msg("operator's part of the call over")
	}
	hangupAll := func() {
		if t.OperatorIn() {
			s.hangupLeg(ctx, leg)
		}
		for _, p := range t.Parties() {
			s.hangupLeg(ctx, p)
		}
	}

	var code []Digit
	var codeTimer clockwork.Timer
	var codeDue <-chan time.Time
	stopCode := func() {
		if codeTimer != nil {
			codeTimer.Stop()
		}
		codeTimer, codeDue = nil, nil
	}
	defer stopCode()

	var by string
	var cause int
	for by == "" {
		var opDone <-chan struct{}
		var opKeys <-chan Digit
		if t.OperatorIn() {
			opDone = leg.Done()
			if h != nil {
				opKeys = leg.DTMF()
			}
		}
		complete := false
		select {
		case <-s.call.Done():
			by, cause = cdr.HangupCaller, s.call.HangupCause()
			hangupAll()
			continue
		case <-opDone:
			t.OperatorLeft()
			finish(s.now())
			stopCode()
			code = nil
			if note := engineLost(leg); note != "" {
				// The engine restarted: the caller went with the
				// operator's leg, whichever of the two we heard of first.
				s.lost = note
				by, cause = cdr.HangupSystem, leg.HangupCause()
				hangupAll()
				continue
			}
			if len(t.Parties()) == 0 {
				by, cause = cdr.HangupOperator, leg.HangupCause()
				s.hangupCaller(ctx)
				continue
			}
			log.Info().Msg("operator left; the caller talks on with the service")
			continue
		case p := <-partyGone:
			if !t.OperatorIn() && len(t.Parties()) == 0 {
				by, cause = cdr.HangupOperator, p.HangupCause()
				s.hangupCaller(ctx)
			}
			continue
		case d := <-opKeys:
			switch {
			case !d.Valid():
				continue
			case len(code) == 0 && d != '*':
				continue // keys for the far end, not a code
			case d == '#':
				complete = true
			default:
				code = append(code, d)
				complete = len(code) >= maxFeatureKeys
			}
			if !complete {
				stopCode()
				codeTimer = s.f.clock.NewTimer(s.f.cfg.featureTimeout())
				codeDue = codeTimer.Chan()
				continue
			}
		case <-codeDue:
			complete = true
		case <-ctx.Done():
			// The bridge stays up: the talk goes on without us.
			return true, ErrShutdown
		}
		if !complete || len(code) == 0 {
			continue
		}
		keyed := digitsString(code)
		stopCode()
		code = nil
		log.Info().Str("code", keyed).Msg("operator keyed a feature code during the talk")
		h.Feature(ctx, t, keyed)
		if ctx.Err() != nil {
			return true, ErrShutdown
		}
		watchParties()
		if !t.OperatorIn() {
			finish(s.now())
		}
		if t.takeRequeue() && s.up() {
			if t.OperatorIn() {
				s.hangupLeg(ctx, leg)
				t.OperatorLeft()
				finish(s.now())
			}
			return s.requeue(ctx, t)
		}
		switch {
		case !s.up():
			by, cause = cdr.HangupCaller, s.call.HangupCause()
			hangupAll()
		case !t.OperatorIn() && len(t.Parties()) == 0:
			by, cause = cdr.HangupOperator, CauseNormal
			s.hangupCaller(ctx)
		}
	}

	s.end(cdr.Answered, by, cause, "")
	if at := t.callerGoneAt(); by == cdr.HangupCaller && !at.IsZero() && at.Before(s.rec.EndedAt) {
		s.rec.EndedAt = at.UTC()
	}
	if note, target := t.Transfer(); note != "" {
		s.rec.Transfer, s.rec.Target = note, target
	}
	if err := br.Destroy(s.bg(ctx)); err != nil {
		s.f.m.engineErrors.WithLabelValues("bridge_destroy").Inc()
		log.Warn().Err(err).Msg("destroying the bridge failed")
	}
	// The operator's part ends now (it may outlast the caller: a
	// consultation that went on after she hung up).
	finish(s.now())
	log.Info().Str("by", by).Int("cause", cause).Msg("call ended")
	return true, nil
}

// engineLost returns ch's hang-up note when it vanished with an engine
// restart (see NoteEngineRestart), "" otherwise.
func engineLost(ch Channel) string {
	if n, ok := ch.(HangupNoter); ok {
		if note := n.HangupNote(); strings.HasPrefix(note, NoteEngineRestart) {
			return note
		}
	}
	return ""
}

// hangupCaller hangs the caller up at the end of a talk.
func (s *session) hangupCaller(ctx context.Context) {
	if err := s.call.Hangup(s.bg(ctx), CauseNormal); err != nil && !s.hungUp(err) {
		s.engineError("hangup", err)
	}
}

// requeue puts a caller whose transfer failed back in the queue, in
// their original place (their Enqueued time is kept). ended: the caller
// could not be queued again and the call is over (outcome set).
func (s *session) requeue(ctx context.Context, t *Talk) (bool, error) {
	for _, p := range t.Parties() {
		s.hangupLeg(ctx, p)
	}
	if err := t.Bridge.Destroy(s.bg(ctx)); err != nil {
		s.f.m.engineErrors.WithLabelValues("bridge_destroy").Inc()
	}
	if note, target := t.Transfer(); note != "" {
		s.rec.Transfer, s.rec.Target = note, target
	}
	s.log.Warn().Msg("transfer failed with nobody left on the line: caller back in the queue, first in line")
	s.startMOH(ctx)
	if err := s.enqueue(ctx); err != nil {
		if errors.Is(err, ErrShutdown) {
			return true, err
		}
		if errors.Is(err, errGone) {
			s.callerEnded(cdr.Answered, "")
			return true, nil
		}
		s.unanswered(ctx, "queue_unavailable: "+err.Error())
		return true, nil
	}
	s.requeued = true
	s.flush()
	s.f.disp.Kick()
	return false, nil
}

func digitsString(ds []Digit) string {
	b := make([]rune, len(ds))
	for i, d := range ds {
		b[i] = rune(d)
	}
	return string(b)
}
