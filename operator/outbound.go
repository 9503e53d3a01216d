package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
)

// ringMargin is how long past RingTimeout the handler lets a service's
// phone ring before it cancels the leg itself (the engine should have
// given up with cause 19 by then).
const ringMargin = 5 * time.Second

// Outcome maps how a call to a service ended before an answer onto the
// outbound CDR outcome. See doc.go for the table and the reasons.
func Outcome(f ivr.Failure) cdr.Outcome {
	switch f {
	case ivr.FailBusy, ivr.FailCongestion:
		return cdr.Busy
	case ivr.FailNoAnswer, ivr.FailRejected:
		return cdr.NoAnswer
	}
	return cdr.Failed
}

// dialing is a call to a service in progress.
type dialing struct {
	res    chan dialResult
	cancel context.CancelFunc
	start  time.Time
}

type dialResult struct {
	leg ivr.Leg
	err error
	// guard: the handler's own ring guard cancelled it.
	guard bool
}

// dial originates from ch to target in the background; the caller waits
// on d.res along with whatever else it watches, and calls d.stop to give
// up.
func (h *Handler) dial(ctx context.Context, from ivr.Call, operatorID string, tg Target) *dialing {
	dctx, cancel := context.WithCancel(ctx)
	d := &dialing{res: make(chan dialResult, 1), cancel: cancel, start: h.now()}
	var guarded atomic.Bool
	guard := h.clock.AfterFunc(h.cfg.RingTimeout+ringMargin, func() {
		guarded.Store(true)
		cancel()
	})
	label := h.cfg.Trunk.CallerID
	if label == "" {
		label = h.cfg.Service
	}
	go func() {
		leg, err := from.Originate(dctx, ivr.OriginateRequest{
			Endpoint: h.cfg.Trunk.DialString(tg.Dial),
			Operator: operatorID,
			Timeout:  h.cfg.RingTimeout,
			Label:    label,
		})
		fired := !guard.Stop() && guarded.Load()
		d.res <- dialResult{leg: leg, err: err, guard: fired}
	}()
	return d
}

// stop gives up on a ringing call and returns its result (a leg answered
// meanwhile is hung up, and reported as cancelled).
func (d *dialing) stop(ctx context.Context) dialResult {
	d.cancel()
	r := <-d.res
	if r.leg != nil {
		_ = r.leg.Hangup(context.WithoutCancel(ctx), ivr.CauseNormal)
		r.leg = nil
		r.err = context.Canceled
	}
	return r
}

// failed fills rec for a call that was never answered.
func failedRecord(rec *cdr.Record, r dialResult, now time.Time) {
	rec.EndedAt = now.UTC()
	var oe *ivr.OriginateError
	switch {
	case errors.As(r.err, &oe):
		rec.Outcome = Outcome(oe.Failure())
		rec.HangupCause = oe.Cause
		rec.HangupBy = ""
	case r.guard, errors.Is(r.err, context.Canceled):
		// Rang until we (or the operator, or the caller) gave up.
		rec.Outcome = cdr.NoAnswer
		rec.HangupCause = ivr.CauseNoAnswer
		rec.HangupBy = cdr.HangupSystem
	default:
		rec.Outcome = cdr.Failed
		rec.HangupBy = cdr.HangupSystem
		rec.Note = "engine_error"
	}
}

// describe says how a call to tg ended for the logs, without its number:
// engine errors name the dial string, which holds it.
func describe(r dialResult, tg Target, dialString string) string {
	var oe *ivr.OriginateError
	switch {
	case r.err == nil:
		return "answered"
	case errors.As(r.err, &oe):
		return fmt.Sprintf("%s (cause %d)", oe.Failure(), oe.Cause)
	case r.guard:
		return "rang past the ring timeout"
	}
	msg := r.err.Error()
	for _, s := range []string{dialString, tg.Dial} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "<service "+tg.Code+">")
		}
	}
	return msg
}

// newRecord starts the outbound CDR of a call to tg by operatorID.
func (h *Handler) newRecord(id, operatorID string, tg Target, start time.Time) cdr.Record {
	return cdr.Record{
		ID:         id,
		Direction:  cdr.Outbound,
		Service:    h.cfg.Service,
		ArrivedAt:  start.UTC(),
		Operator:   operatorID,
		CalleeHash: h.deps.Identifier.Identify(tg.Dial).Hash,
		Target:     tg.Code,
	}
}

// writeCDR writes an outbound record, retrying for a while; a record
// that cannot be written is logged in full (it holds no number).
func (h *Handler) writeCDR(ctx context.Context, rec cdr.Record) {
	h.m.outbound.WithLabelValues(string(rec.Outcome)).Inc()
	backoff := 200 * time.Millisecond
	var err error
	for attempt := 1; attempt <= 6; attempt++ {
		wctx, cancel := bounded(ctx)
		err = h.deps.CDR.Write(wctx, rec)
		cancel()
		if err == nil {
			return
		}
		h.log.Warn().Err(err).Str("record", rec.ID).Int("attempt", attempt).Msg("writing an outbound CDR failed")
		t := h.clock.NewTimer(backoff)
		<-t.Chan()
		backoff *= 2
	}
	h.m.cdrErrors.Inc()
	h.log.Error().Err(err).Interface("record", rec).Msg("outbound CDR lost to the store: here it is in full")
}

// lookup finds the service behind a dialled code.
func (h *Handler) lookup(ctx context.Context, code string) (Target, error) {
	if h.deps.Directory == nil {
		return Target{}, errors.New("operator: no directory configured")
	}
	if code == "" {
		return Target{}, ErrUnknownTarget
	}
	rctx, cancel := bounded(ctx)
	defer cancel()
	tg, err := h.deps.Directory.Lookup(rctx, code)
	if err == nil && tg.Dial == "" {
		err = ErrUnknownTarget
	}
	return tg, err
}

// callService calls a service of the network for the operator (*20<code>)
// and writes the call's outbound CDR. The operator is paused in the queue
// for the call (if they were available), so that no caller rings them
// meanwhile, and unpaused after.
func (l *line) callService(ctx context.Context, code string) {
	h := l.h
	tg, err := h.lookup(ctx, code)
	if err != nil {
		l.log.Info().Err(err).Str("code", code).Msg("call to an unknown service refused")
		l.refuse(ctx, "call_service", "unknown service")
		return
	}
	log := l.log.With().Str("target", tg.Code).Logger()
	resume := l.pauseForCall(ctx)
	defer resume()

	// While the service rings the operator hears ringing (a call not yet
	// answered: the code was the dialled number) or music.
	moh := false
	if l.answered {
		if err := l.call.StartMOH(ctx, h.cfg.MOHClass); err == nil {
			moh = true
		}
	} else if err := l.call.Ring(ctx); err != nil && !l.up() {
		return
	}
	stopMOH := func() {
		if moh {
			moh = false
			_ = l.call.StopMOH(context.WithoutCancel(ctx))
		}
	}
	defer stopMOH()

	d := h.dial(ctx, l.call, l.op.ID, tg)
	rec := h.newRecord(h.newID(l.call.ID()), l.op.ID, tg, d.start)
	log.Info().Msg("calling a service for the operator")
	var r dialResult
	select {
	case r = <-d.res:
	case <-l.call.Done():
		r = d.stop(ctx)
		failedRecord(&rec, r, h.now())
		rec.HangupBy = cdr.HangupOperator
		log.Info().Msg("operator hung up while the service rang")
		h.writeCDR(ctx, rec)
		return
	case <-ctx.Done():
		r = d.stop(ctx)
		failedRecord(&rec, r, h.now())
		h.writeCDR(ctx, rec)
		return
	}
	if r.err != nil {
		failedRecord(&rec, r, h.now())
		log.Info().Str("result", describe(r, tg, h.cfg.Trunk.DialString(tg.Dial))).Str("outcome", string(rec.Outcome)).Msg("service did not answer")
		h.writeCDR(ctx, rec)
		stopMOH()
		l.say(ctx, h.cfg.Prompts.Unreachable)
		return
	}
	leg := r.leg
	rec.ConnectedAt = h.now().UTC()
	rec.Outcome = cdr.Answered
	stopMOH()
	if !l.answer(ctx) {
		_ = leg.Hangup(context.WithoutCancel(ctx), ivr.CauseNormal)
		rec.EndedAt, rec.HangupBy = h.now().UTC(), cdr.HangupOperator
		h.writeCDR(ctx, rec)
		return
	}
	br, err := l.call.Bridge(ctx, leg)
	if err != nil {
		_ = leg.Hangup(context.WithoutCancel(ctx), ivr.CauseNormal)
		rec.EndedAt, rec.HangupBy, rec.Note = h.now().UTC(), cdr.HangupSystem, "bridge_failed"
		log.Warn().Str("error", describe(dialResult{err: err}, tg, h.cfg.Trunk.DialString(tg.Dial))).Msg("bridging the operator with the service failed")
		h.writeCDR(ctx, rec)
		return
	}
	log.Info().Msg("operator connected with the service")
	select {
	case <-l.call.Done():
		rec.HangupBy, rec.HangupCause = cdr.HangupOperator, l.call.HangupCause()
		_ = leg.Hangup(context.WithoutCancel(ctx), ivr.CauseNormal)
	case <-leg.Done():
		// The service hung up: HangupBy stays empty (see doc.go).
		rec.HangupCause = leg.HangupCause()
	case <-ctx.Done():
		rec.HangupBy, rec.HangupCause = cdr.HangupSystem, ivr.CauseNormal
		_ = leg.Hangup(context.WithoutCancel(ctx), ivr.CauseNormal)
	}
	rec.EndedAt = h.now().UTC()
	_ = br.Destroy(context.WithoutCancel(ctx))
	log.Info().Float64("talk_s", rec.TalkSeconds()).Msg("call to the service over")
	h.writeCDR(ctx, rec)
}

// pauseForCall pauses an available (or wrapping-up) operator for the
// length of a call to a service, and returns what undoes it: an unpause,
// if the operator is still in that pause then.
func (l *line) pauseForCall(ctx context.Context) func() {
	h := l.h
	rctx, cancel := bounded(ctx)
	defer cancel()
	cur, err := h.deps.Queue.Operator(rctx, l.op.ID)
	if err != nil || (cur.State != queue.Available && cur.State != queue.WrapUp) {
		return func() {}
	}
	if err := h.deps.Queue.Pause(rctx, l.op.ID, PauseOutbound, h.now()); err != nil {
		l.log.Warn().Err(err).Msg("pausing the operator for the call failed; callers may ring them meanwhile")
		return func() {}
	}
	return func() {
		rctx, cancel := bounded(ctx)
		defer cancel()
		cur, err := h.deps.Queue.Operator(rctx, l.op.ID)
		if err != nil || cur.State != queue.Paused || cur.PauseReason != PauseOutbound {
			return // they changed it meanwhile (*13, a supervisor): theirs
		}
		if err := h.deps.Queue.Unpause(rctx, l.op.ID, h.now()); err != nil {
			l.log.Error().Err(err).Msg("unpausing the operator after the call failed")
			return
		}
		h.kick()
	}
}
