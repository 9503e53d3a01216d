package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
)

// storeTimeout bounds each store request made while an operator waits on
// the line or a talk goes on.
const storeTimeout = 2 * time.Second

// maxCodeKeys bounds a code keyed after the answer.
const maxCodeKeys = 24

// Target is a service of the network an operator can call or transfer a
// caller to.
type Target struct {
	// Code is the directory code the operator dials after *20/*21/*22.
	Code string
	// Name is the service's name (logs only).
	Name string
	// Dial is the number the switchboard dials, in national form
	// ("0495550101"). It is a service's public number, yet it is hashed in
	// the CDR like any other.
	Dial string
}

// ErrUnknownTarget is returned by a Directory for a code it does not know.
var ErrUnknownTarget = errors.New("operator: no such service")

// Directory finds the service behind a dialled code; cmd/helpline adapts
// package directory to it.
type Directory interface {
	Lookup(ctx context.Context, code string) (Target, error)
}

// DirectoryFunc adapts a function to Directory.
type DirectoryFunc func(ctx context.Context, code string) (Target, error)

// Lookup calls f.
func (f DirectoryFunc) Lookup(ctx context.Context, code string) (Target, error) { return f(ctx, code) }

// Kicker wakes the dispatcher after an operator became available
// (*ivr.Dispatcher).
type Kicker interface{ Kick() }

// Deps are the operator side's collaborators.
type Deps struct {
	// Queue holds the operators' states (required).
	Queue queue.Queue
	// LastCallers remembers each operator's last caller (required).
	LastCallers LastCallers
	// Blacklist receives the flags (nil: flags are refused).
	Blacklist blacklist.Store
	// CDR receives the outbound records (required).
	CDR cdr.Writer
	// Identifier hashes the numbers dialled (required).
	Identifier ivr.Identifier
	// Directory finds services by code (nil: calls and transfers refused).
	Directory Directory
	// Kicker is woken after a login or an unpause (optional: the
	// dispatcher also follows the queue's events).
	Kicker Kicker
	// Clock runs every timeout (nil: the real clock).
	Clock clockwork.Clock
	// Logger receives the logs (never a number: callers by hash tag).
	Logger zerolog.Logger
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Handler is the operator side of the switchboard: the feature codes of
// an operator's own call (HandleDialIn) and of their leg during a talk
// (it is an ivr.TalkHandler). One per node; safe for concurrent use.
type Handler struct {
	cfg   Config
	deps  Deps
	clock clockwork.Clock
	log   zerolog.Logger
	m     *metrics
	seq   atomic.Uint64
}

var _ ivr.TalkHandler = (*Handler)(nil)

// New checks the configuration and the dependencies and registers the
// metrics.
func New(cfg Config, deps Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Queue == nil:
		return nil, errors.New("operator: Deps.Queue is nil")
	case deps.LastCallers == nil:
		return nil, errors.New("operator: Deps.LastCallers is nil")
	case deps.CDR == nil:
		return nil, errors.New("operator: Deps.CDR is nil")
	case deps.Identifier == nil:
		return nil, errors.New("operator: Deps.Identifier is nil")
	}
	if deps.Clock == nil {
		deps.Clock = clockwork.NewRealClock()
	}
	if cfg.PauseReasons == nil {
		cfg.PauseReasons = DefaultPauseReasons()
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, deps: deps, clock: deps.Clock, log: deps.Logger.With().Str("component", "operator").Logger(), m: m}, nil
}

func (h *Handler) now() time.Time { return h.clock.Now() }

// bounded is the context of one store request.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
}

// line is an operator's own call while the handler acts on it.
type line struct {
	h        *Handler
	call     ivr.Call
	op       config.Operator
	answered bool
	log      zerolog.Logger
}

// HandleDialIn runs an operator's own call: the softphone dialled a
// feature code, or the feature line (then the code is keyed after the
// answer). endpoint is the calling endpoint as the engine knows it
// ("PJSIP/op1001"): it, not what the phone says, tells who the operator
// is. dialled is the extension the phone dialled. The call is hung up
// when the handler is done with it; HandleDialIn returns then, or when
// ctx ends (the call is then hung up too: an operator's own call is not
// re-adopted).
func (h *Handler) HandleDialIn(ctx context.Context, call ivr.Call, endpoint, dialled string) {
	log := h.log.With().Str("channel", call.ID()).Str("endpoint", endpoint).Logger()
	op, ok := h.cfg.byEndpoint(endpoint)
	l := &line{h: h, call: call, op: op, log: log}
	defer l.hangup(ctx)
	if !ok {
		log.Warn().Msg("feature code from a phone that is no operator's: refused")
		h.m.features.WithLabelValues("unknown_endpoint", "refused").Inc()
		if l.answer(ctx) {
			l.say(ctx, h.cfg.Prompts.Unknown)
		}
		return
	}
	l.log = log.With().Str("operator", op.ID).Logger()
	code := strings.TrimSpace(dialled)
	if !h.isCode(code) {
		if !l.answer(ctx) {
			return
		}
		var err error
		if code, err = l.collect(ctx); err != nil {
			return
		}
	}
	l.feature(ctx, code)
}

// isCode reports whether the dialled extension s is a feature code (one
// that starts with '*', right or wrong, or any configured code), so that
// it is acted on without being keyed again; anything else is a feature
// line, after which the code is keyed.
func (h *Handler) isCode(s string) bool {
	if s == "" {
		return false
	}
	if strings.HasPrefix(s, "*") {
		return true // a code, right or wrong; feature lines are numbers
	}
	if _, _, ok := h.cfg.Codes.Match(s); ok {
		return true
	}
	_, ok := h.pauseReason(s)
	return ok
}

// pauseReason reads "*13" + one digit.
func (h *Handler) pauseReason(s string) (ivr.Digit, bool) {
	code := h.cfg.Codes[config.FeaturePause]
	rest, ok := strings.CutPrefix(s, code)
	if code == "" || !ok || len(rest) != 1 {
		return 0, false
	}
	return ivr.Digit(rest[0]), true
}

func (l *line) up() bool {
	select {
	case <-l.call.Done():
		return false
	default:
		return true
	}
}

// answer answers the operator's call once.
func (l *line) answer(ctx context.Context) bool {
	if l.answered {
		return true
	}
	if err := l.call.Answer(ctx); err != nil {
		if l.up() && !errors.Is(err, ivr.ErrHangup) {
			l.log.Warn().Err(err).Msg("answering the operator's call failed")
		}
		return false
	}
	l.answered = true
	return true
}

// say plays a prompt to the operator (answering first); errors are
// logged, never fatal.
func (l *line) say(ctx context.Context, media []ivr.Media) {
	media = slices.DeleteFunc(slices.Clone(media), func(m ivr.Media) bool { return m == "" })
	if len(media) == 0 || !l.up() || !l.answer(ctx) {
		return
	}
	if err := l.call.Play(ctx, l.h.cfg.Language, media...); err != nil && l.up() && ctx.Err() == nil {
		l.log.Warn().Err(err).Msg("playing an operator prompt failed")
	}
}

func (l *line) hangup(ctx context.Context) {
	if !l.up() {
		return
	}
	if err := l.call.Hangup(context.WithoutCancel(ctx), ivr.CauseNormal); err != nil && !errors.Is(err, ivr.ErrHangup) {
		l.log.Warn().Err(err).Msg("hanging up the operator's call failed")
	}
}

// collect plays EnterCode (a key stops it) and reads a code: keys until
// '#', a pause of CodeTimeout (FirstKeyTimeout before the first key) or
// maxCodeKeys. Invalid keys are dropped. An empty code is returned as "".
func (l *line) collect(ctx context.Context) (string, error) {
	cfg := l.h.cfg
	keys := l.call.DTMF()
	var code []rune
	pctx, stopPrompt := context.WithCancel(ctx)
	defer stopPrompt()
	played := make(chan struct{})
	go func() {
		defer close(played)
		media := slices.DeleteFunc(slices.Clone(cfg.Prompts.EnterCode), func(m ivr.Media) bool { return m == "" })
		if len(media) > 0 {
			_ = l.call.Play(pctx, cfg.Language, media...)
		}
	}()
	wait := func() { stopPrompt(); <-played }
	timeout := cfg.FirstKeyTimeout
	var t clockwork.Timer
	var due <-chan time.Time
	startTimer := func() {
		if t != nil {
			t.Stop()
		}
		t = l.h.clock.NewTimer(timeout)
		due = t.Chan()
	}
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	prompt := played // the first key's timer starts when the prompt ends
	for {
		select {
		case <-prompt:
			prompt = nil
			if due == nil {
				startTimer()
			}
		case d := <-keys:
			if !d.Valid() {
				continue
			}
			if len(code) == 0 {
				stopPrompt()
			}
			if d == '#' {
				wait()
				return string(code), nil
			}
			code = append(code, rune(d))
			if len(code) >= maxCodeKeys {
				wait()
				return string(code), nil
			}
			timeout = cfg.CodeTimeout
			startTimer()
		case <-due:
			wait()
			return string(code), nil
		case <-l.call.Done():
			wait()
			return "", ivr.ErrHangup
		case <-ctx.Done():
			wait()
			return "", ctx.Err()
		}
	}
}

// feature acts on a code dialled or keyed on the operator's own call.
func (l *line) feature(ctx context.Context, code string) {
	h := l.h
	if d, ok := h.pauseReason(code); ok {
		l.pause(ctx, d)
		return
	}
	f, rest, ok := h.cfg.Codes.Match(code)
	if !ok || (!f.TakesArgument() && rest != "") {
		l.log.Info().Int("keys", len(code)).Msg("wrong feature code")
		h.m.features.WithLabelValues("wrong_code", "refused").Inc()
		l.say(ctx, h.cfg.Prompts.Refused)
		return
	}
	l.log = l.log.With().Str("feature", string(f)).Logger()
	switch f {
	case config.FeatureLogin:
		l.login(ctx)
	case config.FeatureLogout:
		l.logout(ctx)
	case config.FeaturePause:
		l.pause(ctx, 0)
	case config.FeatureFlagHarassment:
		l.flagLast(ctx, blacklist.Harassment)
	case config.FeatureFlagPrank:
		l.flagLast(ctx, blacklist.Prank)
	case config.FeatureCallService:
		l.callService(ctx, rest)
	default:
		// Transfers act on a caller: they are keyed on the operator's leg
		// during the talk, not dialled.
		l.log.Info().Msg("transfer dialled outside a talk: refused")
		l.refuse(ctx, string(f), "no_talk")
	}
}

func (l *line) refuse(ctx context.Context, feature, why string) {
	l.h.m.features.WithLabelValues(feature, "refused").Inc()
	l.log.Info().Str("why", why).Msg("feature refused")
	l.say(ctx, l.h.cfg.Prompts.Refused)
}

func (l *line) done(ctx context.Context, feature string, prompt []ivr.Media) {
	l.h.m.features.WithLabelValues(feature, "ok").Inc()
	l.say(ctx, prompt)
}

func (l *line) login(ctx context.Context) {
	h := l.h
	rctx, cancel := bounded(ctx)
	defer cancel()
	err := h.deps.Queue.Login(rctx, queue.Operator{ID: l.op.ID, Endpoint: l.op.Endpoint, Skills: slices.Clone(l.op.Languages)}, h.now())
	if err != nil {
		l.log.Error().Err(err).Msg("login failed")
		l.refuse(ctx, "login", "queue")
		return
	}
	l.log.Info().Strs("skills", l.op.Languages).Msg("operator logged in")
	h.kick()
	l.done(ctx, "login", h.cfg.Prompts.LoggedIn)
}

func (l *line) logout(ctx context.Context) {
	h := l.h
	rctx, cancel := bounded(ctx)
	defer cancel()
	if err := h.deps.Queue.Logout(rctx, l.op.ID, h.now()); err != nil {
		l.log.Error().Err(err).Msg("logout failed")
		l.refuse(ctx, "logout", "queue")
		return
	}
	l.log.Info().Msg("operator logged out")
	l.done(ctx, "logout", h.cfg.Prompts.LoggedOut)
}

// pause toggles the pause: paused without a reason digit → unpause;
// otherwise pause (a digit names the reason; pausing a paused operator
// with a digit changes the reason).
func (l *line) pause(ctx context.Context, digit ivr.Digit) {
	h := l.h
	reason := PauseManual
	if digit != 0 {
		r, ok := h.cfg.PauseReasons[digit]
		if !ok {
			l.refuse(ctx, "pause", "unknown reason digit")
			return
		}
		reason = r
	}
	rctx, cancel := bounded(ctx)
	defer cancel()
	cur, err := h.deps.Queue.Operator(rctx, l.op.ID)
	if err != nil && !errors.Is(err, queue.ErrUnknownOperator) {
		l.log.Error().Err(err).Msg("reading the operator's state failed")
		l.refuse(ctx, "pause", "queue")
		return
	}
	if cur.State == queue.Paused && digit == 0 {
		if err := h.deps.Queue.Unpause(rctx, l.op.ID, h.now()); err != nil {
			l.log.Error().Err(err).Msg("unpause failed")
			l.refuse(ctx, "unpause", "queue")
			return
		}
		l.log.Info().Msg("operator unpaused")
		h.kick()
		l.done(ctx, "unpause", h.cfg.Prompts.Unpaused)
		return
	}
	if err := h.deps.Queue.Pause(rctx, l.op.ID, reason, h.now()); err != nil {
		// Logged out or talking: ErrBadState.
		l.log.Info().Err(err).Str("state", string(cur.State)).Msg("pause refused")
		l.refuse(ctx, "pause", "state")
		return
	}
	l.log.Info().Str("reason", reason).Msg("operator paused")
	l.done(ctx, "pause", h.cfg.Prompts.Paused)
}

func (h *Handler) kick() {
	if h.deps.Kicker != nil {
		h.deps.Kicker.Kick()
	}
}

// flagLast flags the operator's last caller.
func (l *line) flagLast(ctx context.Context, kind blacklist.Kind) {
	h := l.h
	feature := "flag_" + string(kind)
	rctx, cancel := bounded(ctx)
	defer cancel()
	lc, ok, err := h.deps.LastCallers.Last(rctx, l.op.ID, h.now())
	switch {
	case err != nil:
		l.log.Error().Err(err).Msg("reading the last caller failed")
		l.refuse(ctx, feature, "store")
		return
	case !ok:
		l.refuse(ctx, feature, "no last caller")
		return
	}
	switch res := h.flag(ctx, l.op.ID, lc, kind); res {
	case flagOK:
		l.done(ctx, feature, h.cfg.Prompts.Flagged)
	case flagWithheld:
		h.m.features.WithLabelValues(feature, "withheld").Inc()
		l.say(ctx, h.cfg.Prompts.Withheld)
	default:
		l.refuse(ctx, feature, string(res))
	}
}

// flagResult is what a flag came to.
type flagResult string

const (
	flagOK       flagResult = "ok"
	flagWithheld flagResult = "withheld"
	flagTwice    flagResult = "already flagged"
	flagNoStore  flagResult = "no blacklist"
	flagFailed   flagResult = "store failed"
)

// flag records one operator's flag of a caller in the blacklist: once per
// operator and call, never for a withheld caller.
func (h *Handler) flag(ctx context.Context, operatorID string, lc LastCaller, kind blacklist.Kind) flagResult {
	log := h.log.With().Str("operator", operatorID).Str("call", lc.CallID).Str("caller", lc.Caller.String()).Str("kind", string(kind)).Logger()
	if lc.Caller.Withheld || lc.Caller.Hash == "" {
		log.Info().Msg("flag of a withheld caller refused: withheld callers are never flagged")
		return flagWithheld
	}
	if h.deps.Blacklist == nil {
		return flagNoStore
	}
	rctx, cancel := bounded(ctx)
	defer cancel()
	now := h.now()
	first, err := h.deps.LastCallers.ClaimFlag(rctx, operatorID, lc.CallID, now, h.cfg.LastCallerTTL)
	if err != nil {
		log.Error().Err(err).Msg("flag claim failed")
		return flagFailed
	}
	if !first {
		log.Info().Msg("this call was already flagged by this operator")
		return flagTwice
	}
	blocked, err := h.deps.Blacklist.Flag(rctx, blacklist.Flag{Hash: lc.Caller.Hash, Operator: operatorID, Kind: kind, At: now})
	switch {
	case errors.Is(err, blacklist.ErrWithheld):
		return flagWithheld
	case err != nil:
		log.Error().Err(err).Msg("recording the flag failed")
		return flagFailed
	}
	h.m.flags.WithLabelValues(string(kind)).Inc()
	if blocked {
		h.m.blocks.Inc()
		log.Warn().Msg("flags reached the threshold: caller blocked")
	} else {
		log.Info().Msg("caller flagged")
	}
	return flagOK
}

// Connected implements ivr.TalkHandler: the caller becomes the operator's
// last caller.
func (h *Handler) Connected(ctx context.Context, t *ivr.Talk) {
	rctx, cancel := bounded(ctx)
	defer cancel()
	lc := LastCaller{Operator: t.Operator, CallID: t.CallID, Caller: t.Caller, At: t.ConnectedAt}
	if err := h.deps.LastCallers.SetLast(rctx, lc, h.cfg.LastCallerTTL); err != nil {
		h.m.storeErrors.WithLabelValues("set_last").Inc()
		h.log.Error().Err(err).Str("operator", t.Operator).Str("call", t.CallID).Msg("recording the last caller failed: *14/*15 cannot flag this call")
	}
}

// Feature implements ivr.TalkHandler: a code the operator keyed on their
// leg during the talk. Flags act on the caller of this talk (and give the
// longer wrap-up); *21/*22 transfer them. Other codes mean nothing during
// a talk.
func (h *Handler) Feature(ctx context.Context, t *ivr.Talk, code string) {
	log := h.log.With().Str("call", t.CallID).Str("operator", t.Operator).Logger()
	f, rest, ok := h.cfg.Codes.Match(code)
	if !ok || (!f.TakesArgument() && rest != "") {
		h.m.features.WithLabelValues("wrong_code", "refused").Inc()
		log.Info().Int("keys", len(code)).Msg("wrong feature code during a talk: ignored")
		return
	}
	switch f {
	case config.FeatureFlagHarassment, config.FeatureFlagPrank:
		kind := blacklist.Harassment
		if f == config.FeatureFlagPrank {
			kind = blacklist.Prank
		}
		res := h.flag(ctx, t.Operator, LastCaller{Operator: t.Operator, CallID: t.CallID, Caller: t.Caller, At: t.ConnectedAt}, kind)
		h.m.features.WithLabelValues("flag_"+string(kind), string(res)).Inc()
		if res == flagOK || res == flagTwice {
			t.Flag()
		}
	case config.FeatureBlindTransfer:
		h.transfer(ctx, t, rest, false)
	case config.FeatureWarmTransfer:
		h.transfer(ctx, t, rest, true)
	default:
		h.m.features.WithLabelValues(string(f), "refused").Inc()
		log.Info().Str("feature", string(f)).Msg("feature code means nothing during a talk: ignored")
	}
}

// newID returns a record id for an outbound call placed on behalf of the
// channel base.
func (h *Handler) newID(base string) string {
	return fmt.Sprintf("%s-out%d", base, h.seq.Add(1))
}
