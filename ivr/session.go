package ivr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// hangupGrace is how long the flow waits for Done after the engine said a
// request failed because the channel hung up. If Done does not close, the
// engine was wrong and the caller is treated as still there: a caller is
// never given up on the word of one error.
const hangupGrace = 2 * time.Second

// Internal stage results. errGone: the caller hung up (the stage that
// sees it sets the outcome); errEnded: the outcome is set, stop.
var (
	errGone  = errors.New("ivr: caller hung up")
	errEnded = errors.New("ivr: call ended")
)

// step is what the queue stage does next.
type step int

const (
	stepDone step = iota
	stepWait
	stepVoicemail
)

// session is one inbound call. Everything in it is touched by the call's
// own goroutine only (helpers it starts talk to it through channels).
type session struct {
	f      *Flow
	call   Call
	ident  callerid.Identity
	digits <-chan Digit
	rec    cdr.Record
	log    zerolog.Logger

	lang    string
	qcall   queue.Call
	inQueue bool
	moh     bool
	// answered: the caller talked with an operator; a later end (after a
	// failed transfer sent them back to the queue) keeps the outcome.
	answered bool
	// requeued: the caller is back in the queue after a failed transfer;
	// the wait's max-wait timer starts again.
	requeued bool
	// lost is the engine's note when a channel of the call (the
	// operator's leg) vanished with an engine restart before the caller's
	// own channel was seen to: the CDR says so all the same.
	lost string
}

func (s *session) now() time.Time { return s.f.clock.Now() }

// bg is the context for cleanup requests: they must be made even while
// the app context is being cancelled.
func (s *session) bg(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// up reports whether the caller is still on the line.
func (s *session) up() bool {
	select {
	case <-s.call.Done():
		return false
	default:
		return true
	}
}

// hungUp reports whether err (from a request on the caller's channel)
// means the caller left. See hangupGrace.
func (s *session) hungUp(err error) bool {
	if !s.up() {
		return true
	}
	if !errors.Is(err, ErrHangup) {
		return false
	}
	t := s.f.clock.NewTimer(hangupGrace)
	defer t.Stop()
	select {
	case <-s.call.Done():
		return true
	case <-t.Chan():
		s.log.Warn().Err(err).Msg("engine reported a hang-up but the channel is still up; carrying on")
		return false
	}
}

func (s *session) engineError(op string, err error) {
	s.f.m.engineErrors.WithLabelValues(op).Inc()
	s.log.Warn().Err(err).Str("op", op).Msg("engine request failed; caller still there, carrying on")
}

func (s *session) queueError(op string, err error) {
	s.f.m.queueErrors.WithLabelValues(op).Inc()
	s.log.Error().Err(err).Str("op", op).Msg("queue request failed")
}

// end sets the outcome. A caller who talked with an operator keeps the
// outcome answered whatever happened after (a failed transfer that sent
// them back to the queue): the note says what.
func (s *session) end(o cdr.Outcome, by string, cause int, note string) {
	if s.answered && o != cdr.Answered {
		note = strings.TrimSuffix("after a failed transfer, back in the queue: "+string(o)+"; "+note, "; ")
		o = cdr.Answered
		s.rec.Voicemail = ""
	}
	s.rec.Outcome = o
	s.rec.HangupBy = by
	s.rec.HangupCause = cause
	if note != "" {
		s.rec.Note = note
	}
	s.rec.EndedAt = s.now().UTC()
}

// callerEnded ends the call because the caller hung up.
func (s *session) callerEnded(o cdr.Outcome, note string) {
	s.end(o, cdr.HangupCaller, s.call.HangupCause(), note)
}

// systemEnd hangs the caller up (if still there) and ends the call.
func (s *session) systemEnd(ctx context.Context, o cdr.Outcome, note string) {
	if !s.up() {
		s.callerEnded(o, note)
		return
	}
	if err := s.call.Hangup(s.bg(ctx), CauseNormal); err != nil && !s.hungUp(err) {
		s.engineError("hangup", err)
	}
	s.end(o, cdr.HangupSystem, CauseNormal, note)
}

// flush throws away the digits pressed so far (see doc.go, DTMF rules).
func (s *session) flush() {
	for {
		select {
		case <-s.digits:
		default:
			return
		}
	}
}

// pollDigit returns a valid digit already pressed, if any, dropping
// invalid ones.
func (s *session) pollDigit() (Digit, bool) {
	for {
		select {
		case d := <-s.digits:
			if d.Valid() {
				return d, true
			}
		default:
			return 0, false
		}
	}
}

// play plays media in lang. With barge, the first valid digit stops it
// and is returned (a digit pressed as the prompt ends counts too);
// without, digits pressed meanwhile are discarded. Engine errors are
// logged and swallowed: a missing prompt must not cost the caller the
// call. Errors: errGone, ErrShutdown.
func (s *session) play(ctx context.Context, barge bool, lang string, media ...Media) (Digit, error) {
	media = slices.DeleteFunc(slices.Clone(media), func(m Media) bool { return m == "" })
	if len(media) == 0 {
		return 0, nil
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.call.Play(pctx, lang, media...) }()
	for {
		select {
		case err := <-done:
			if barge {
				if d, ok := s.pollDigit(); ok {
					return d, nil
				}
			}
			if err != nil {
				if s.hungUp(err) {
					return 0, errGone
				}
				if ctx.Err() != nil {
					return 0, ErrShutdown
				}
				s.engineError("play", err)
			}
			return 0, nil
		case d := <-s.digits:
			if !barge || !d.Valid() {
				continue
			}
			cancel()
			<-done
			return d, nil
		case <-s.call.Done():
			cancel()
			<-done
			return 0, errGone
		case <-ctx.Done():
			cancel()
			<-done
			return 0, ErrShutdown
		}
	}
}

// collect waits up to timeout for one valid digit (0 if none came).
func (s *session) collect(ctx context.Context, timeout time.Duration) (Digit, error) {
	t := s.f.clock.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case d := <-s.digits:
			if d.Valid() {
				return d, nil
			}
		case <-t.Chan():
			return 0, nil
		case <-s.call.Done():
			return 0, errGone
		case <-ctx.Done():
			return 0, ErrShutdown
		}
	}
}

// sleep waits d on the clock, watching the caller.
func (s *session) sleep(ctx context.Context, d time.Duration) error {
	t := s.f.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-s.call.Done():
		return errGone
	case <-ctx.Done():
		return ErrShutdown
	}
}

// run is the flow from arrival to the end of the call. nil: the outcome
// is set; ErrShutdown: the call was left for re-adoption.
func (s *session) run(ctx context.Context) error {
	s.f.m.active.Inc()
	defer s.f.m.active.Dec()
	err := s.arrive(ctx)
	switch {
	case err == nil:
		err = s.queueStage(ctx, s.lang, s.now())
	case errors.Is(err, errGone):
		s.callerEnded(cdr.WelcomeHangup, "")
		err = nil
	case errors.Is(err, errEnded):
		err = nil
	}
	return err
}

// arrive runs steps 1–2 of the flow: ring, blacklist, answer, welcome and
// language menu; it sets s.lang.
func (s *session) arrive(ctx context.Context) error {
	if err := s.call.Ring(ctx); err != nil {
		if s.hungUp(err) {
			return errGone
		}
		if ctx.Err() != nil {
			return ErrShutdown
		}
		s.engineError("ring", err)
	}
	blocked, reason := s.blacklisted(ctx)
	if ctx.Err() != nil {
		return ErrShutdown
	}
	if !s.up() {
		return errGone
	}
	if blocked {
		s.reject(ctx, reason)
		return errEnded
	}
	if err := s.answer(ctx); err != nil {
		return err
	}
	lang, err := s.chooseLanguage(ctx)
	if err != nil {
		return err
	}
	s.lang = lang
	return nil
}

// blacklisted asks the Blocklist; on error or timeout it lets the caller
// through, counts and logs it, and marks the CDR Fallback.
func (s *session) blacklisted(ctx context.Context) (bool, string) {
	if s.ident.Withheld || s.f.deps.Blocklist == nil {
		return false, ""
	}
	type result struct {
		blocked bool
		reason  string
		err     error
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan result, 1)
	go func() {
		b, r, err := s.f.deps.Blocklist.Blocked(bctx, s.ident.Hash, s.now())
		ch <- result{b, r, err}
	}()
	t := s.f.clock.NewTimer(s.f.cfg.BlacklistTimeout)
	defer t.Stop()
	var err error
	select {
	case r := <-ch:
		if r.err == nil {
			return r.blocked, r.reason
		}
		err = r.err
	case <-t.Chan():
		err = context.DeadlineExceeded
	case <-s.call.Done():
		return false, ""
	case <-ctx.Done():
		return false, ""
	}
	s.f.m.blacklistSkipped.Inc()
	s.rec.Fallback = true
	s.log.Warn().Err(err).Msg("blacklist unavailable: check skipped, caller let through")
	return false, ""
}

// reject turns a blacklisted caller away per BlockMode.
func (s *session) reject(ctx context.Context, reason string) {
	note := "blocked"
	if reason != "" {
		note += ": " + reason
	}
	s.log.Info().Str("mode", string(s.f.cfg.BlockMode)).Msg("caller blacklisted")
	cause := CauseBusy
	switch s.f.cfg.BlockMode {
	case BlockCongestion:
		cause = CauseCongestion
	case BlockMessage:
		if err := s.call.Answer(ctx); err != nil && !s.hungUp(err) {
			s.engineError("answer", err)
		}
		if s.up() {
			_, _ = s.play(ctx, false, s.f.cfg.DefaultLanguage, s.f.cfg.Prompts.Blocked)
		}
		s.systemEnd(ctx, cdr.Blacklisted, note)
		return
	}
	if err := s.call.Hangup(s.bg(ctx), cause); err != nil && !s.hungUp(err) {
		s.engineError("reject", err)
		// The reject failed and the caller is still there: do not leave
		// them hanging in silence.
		if err := s.call.Hangup(s.bg(ctx), CauseNormal); err != nil && !s.hungUp(err) {
			s.engineError("hangup", err)
		}
	}
	s.end(cdr.Blacklisted, cdr.HangupSystem, cause, note)
}

// Answer retries: a refused answer is tried again answerAttempts times in
// all, waiting answerBackoff, then twice that (0.7 s in all on the flow's
// clock): a caller is not turned away because Asterisk refused one or two
// requests.
const (
	answerAttempts = 4
	answerBackoff  = 100 * time.Millisecond
)

// answer answers, retrying with a short backoff; a call that cannot be
// answered cannot go on and ends as unanswered (the caller is hung up,
// not left ringing).
func (s *session) answer(ctx context.Context) error {
	var err error
	wait := answerBackoff
	for attempt := 1; ; attempt++ {
		if err = s.call.Answer(ctx); err == nil {
			return nil
		}
		if s.hungUp(err) {
			return errGone
		}
		if ctx.Err() != nil {
			return ErrShutdown
		}
		s.engineError("answer", err)
		if attempt == answerAttempts {
			break
		}
		t := s.f.clock.NewTimer(wait)
		select {
		case <-t.Chan():
		case <-s.call.Done():
		case <-ctx.Done():
		}
		t.Stop()
		if !s.up() {
			return errGone
		}
		if ctx.Err() != nil {
			return ErrShutdown
		}
		wait *= 2
	}
	s.systemEnd(ctx, cdr.Unanswered, "engine_error: answer: "+err.Error())
	return errEnded
}

// openLanguages are the menu's languages open at t, in menu order; the
// default language is always among them.
func (s *session) openLanguages(t time.Time) []Language {
	cfg := s.f.cfg
	var open []string
	if s.f.deps.Schedule == nil {
		for _, l := range cfg.Languages {
			open = append(open, l.Code)
		}
	} else {
		open = s.f.deps.Schedule.Open(t)
	}
	var langs []Language
	for _, l := range cfg.Languages {
		if l.Code == cfg.DefaultLanguage || slices.Contains(open, l.Code) {
			langs = append(langs, l)
		}
	}
	return langs
}

func choose(open []Language, d Digit) (string, bool) {
	for _, l := range open {
		if l.Digit == d {
			return l.Code, true
		}
	}
	return "", false
}

// chooseLanguage plays the welcome and the menu (doc.go, DTMF rules).
func (s *session) chooseLanguage(ctx context.Context) (string, error) {
	cfg := s.f.cfg
	s.flush()
	d, err := s.play(ctx, true, cfg.DefaultLanguage, cfg.Prompts.Welcome)
	if err != nil {
		return "", err
	}
	open := s.openLanguages(s.now())
	if len(open) == 1 {
		return open[0].Code, nil
	}
	if d != 0 {
		if code, ok := choose(open, d); ok {
			s.log.Debug().Str("lang", code).Msg("language chosen during the welcome")
			return code, nil
		}
	}
	return s.menu(ctx, open)
}

// chooseMenu is the language menu without the welcome (a re-adopted
// caller who heard it already).
func (s *session) chooseMenu(ctx context.Context) (string, error) {
	s.flush()
	open := s.openLanguages(s.now())
	if len(open) == 1 {
		return open[0].Code, nil
	}
	return s.menu(ctx, open)
}

// menu plays the language menu up to MenuTries times.
func (s *session) menu(ctx context.Context, open []Language) (string, error) {
	cfg := s.f.cfg
	var d Digit
	var err error
	for try := 1; try <= cfg.MenuTries; try++ {
		s.flush()
		d = 0
		for _, l := range open {
			if d, err = s.play(ctx, true, l.Code, l.Menu); err != nil {
				return "", err
			}
			if d != 0 {
				break
			}
		}
		if d == 0 {
			if d, err = s.collect(ctx, cfg.MenuTimeout); err != nil {
				return "", err
			}
		}
		if code, ok := choose(open, d); ok {
			return code, nil
		}
		s.log.Debug().Int("try", try).Str("digit", d.String()).Msg("no valid menu choice")
		if try < cfg.MenuTries {
			if _, err := s.play(ctx, false, cfg.DefaultLanguage, cfg.Prompts.InvalidChoice); err != nil {
				return "", err
			}
		}
	}
	return cfg.DefaultLanguage, nil
}

func (s *session) startMOH(ctx context.Context) {
	if s.moh || !s.up() {
		return
	}
	if err := s.call.StartMOH(ctx, s.f.cfg.MOHClass); err != nil {
		if !s.hungUp(err) && ctx.Err() == nil {
			s.engineError("moh_start", err)
		}
		return
	}
	s.moh = true
}

func (s *session) stopMOH(ctx context.Context) {
	if !s.moh {
		return
	}
	s.moh = false
	if !s.up() {
		return // music on hold ends with the channel
	}
	if err := s.call.StopMOH(s.bg(ctx)); err != nil && !s.hungUp(err) {
		s.engineError("moh_stop", err)
	}
}
