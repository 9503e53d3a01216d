package operator

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
)

// Transfer results written in the inbound CDR ("<kind>:<code>:<result>").
// A transfer that failed at the service takes the outbound outcome
// instead: busy, no_answer, failed.
const (
	// ResultAnswered: blind transfer; the service answered and has the caller.
	ResultAnswered = "answered"
	// ResultCompleted: warm transfer; the operator handed the caller over
	// (key Complete, or by hanging up during the consultation).
	ResultCompleted = "completed"
	// ResultReturned: the consultation ended and the operator is back
	// with the caller (key Return, or the service hung up).
	ResultReturned = "returned"
	// ResultThreeWay: caller, operator and service in one bridge.
	ResultThreeWay = "threeway"
	// ResultCancelled: the operator stopped a consultation that was still
	// ringing (key Return).
	ResultCancelled = "cancelled"
	// ResultAbandoned: the caller hung up during the transfer.
	ResultAbandoned = "abandoned"
)

// transfer moves the caller of t to the service behind code: blind, or
// warm (a consultation first). An unknown code changes nothing: the talk
// goes on.
func (h *Handler) transfer(ctx context.Context, t *ivr.Talk, code string, warm bool) {
	kind := "blind"
	if warm {
		kind = "warm"
	}
	log := h.log.With().Str("call", t.CallID).Str("operator", t.Operator).Str("transfer", kind).Str("code", code).Logger()
	tg, err := h.lookup(ctx, code)
	if err != nil {
		h.m.transfers.WithLabelValues(kind, "unknown_service").Inc()
		log.Info().Err(err).Msg("transfer to an unknown service: ignored, the talk goes on")
		return
	}
	x := &xfer{h: h, t: t, tg: tg, kind: kind, bg: context.WithoutCancel(ctx), log: log}
	if warm {
		x.warm(ctx)
	} else {
		x.blind(ctx)
	}
}

// xfer is one transfer in progress, on the call's goroutine.
type xfer struct {
	h    *Handler
	t    *ivr.Talk
	tg   Target
	kind string
	bg   context.Context // for cleanup requests
	log  zerolog.Logger
	rec  cdr.Record // the service leg's outbound CDR
	moh  bool
}

// note records the transfer's result in the inbound CDR.
func (x *xfer) note(result string) {
	x.t.NoteTransfer(x.kind+":"+x.tg.Code+":"+result, x.tg.Code)
	x.h.m.transfers.WithLabelValues(x.kind, result).Inc()
	x.log.Info().Str("result", result).Msg("transfer over")
}

func (x *xfer) callerUp() bool {
	select {
	case <-x.t.Call.Done():
		return false
	default:
		return true
	}
}

// hold takes the caller out of the bridge, with music.
func (x *xfer) hold(ctx context.Context) {
	if err := x.t.Bridge.Remove(x.bg, x.t.Call); err != nil {
		x.log.Warn().Err(err).Msg("taking the caller out of the bridge failed")
	}
	if err := x.t.Call.StartMOH(ctx, x.h.cfg.MOHClass); err == nil {
		x.moh = true
	}
}

// unhold brings the caller back into the bridge. false: the caller could
// not be brought back (gone, or the engine failed).
func (x *xfer) unhold() bool {
	if x.moh {
		x.moh = false
		if err := x.t.Call.StopMOH(x.bg); err != nil && x.callerUp() {
			x.log.Warn().Err(err).Msg("stopping the caller's music on hold failed")
		}
	}
	if !x.callerUp() {
		return false
	}
	if err := x.t.Bridge.Add(x.bg, x.t.Call); err != nil {
		if x.callerUp() {
			x.log.Error().Err(err).Msg("bringing the caller back into the bridge failed")
		}
		return false
	}
	return true
}

// operatorOut takes the operator off the talk: out of the bridge, hung up,
// freed in the queue (by the flow, with their wrap-up from now).
func (x *xfer) operatorOut() {
	leg := x.t.Leg
	_ = x.t.Bridge.Remove(x.bg, leg)
	select {
	case <-leg.Done():
	default:
		if err := leg.Hangup(x.bg, ivr.CauseNormal); err != nil {
			x.log.Warn().Err(err).Msg("hanging up the operator's leg failed")
		}
	}
	x.t.OperatorLeft()
}

// ring calls the service from the caller's channel and starts its CDR.
func (x *xfer) ring(ctx context.Context) *dialing {
	d := x.h.dial(ctx, x.t.Call, x.t.Operator, x.tg)
	x.rec = x.h.newRecord(x.h.newID(x.t.CallID), x.t.Operator, x.tg, d.start)
	return d
}

// failed writes the CDR of a service leg that never answered.
func (x *xfer) failed(ctx context.Context, r dialResult, by string) {
	failedRecord(&x.rec, r, x.h.now())
	if by != "" {
		x.rec.HangupBy = by
	}
	x.h.writeCDR(ctx, x.rec)
}

// answered starts the CDR of a service leg that answered.
func (x *xfer) answered() {
	x.rec.Outcome = cdr.Answered
	x.rec.ConnectedAt = x.h.now().UTC()
}

// ended writes the CDR of an answered service leg: its part with the
// operator is over.
func (x *xfer) ended(ctx context.Context, by string, cause int) {
	x.rec.EndedAt = x.h.now().UTC()
	x.rec.HangupBy, x.rec.HangupCause = by, cause
	x.h.writeCDR(ctx, x.rec)
}

// blind hands the caller over without a consultation: the operator
// leaves at once (free after their wrap-up), the caller waits with music
// while the service rings. If the service does not answer, the caller
// goes back to the queue, first in line: nobody is dropped by a failed
// transfer.
func (x *xfer) blind(ctx context.Context) {
	x.log.Info().Msg("blind transfer")
	x.operatorOut()
	x.hold(ctx)
	d := x.ring(ctx)
	var r dialResult
	select {
	case r = <-d.res:
	case <-x.t.Call.Done():
		x.t.CallerGone(x.h.now())
		x.failed(ctx, d.stop(ctx), cdr.HangupSystem)
		x.note(ResultAbandoned)
		return
	case <-ctx.Done():
		x.failed(ctx, d.stop(ctx), cdr.HangupSystem)
		return
	}
	if r.err != nil {
		x.failed(ctx, r, "")
		x.note(string(x.rec.Outcome))
		x.t.Requeue()
		return
	}
	svc := r.leg
	x.answered()
	// The operator's part of a blind transfer ends with the answer.
	x.ended(ctx, "", 0)
	if !x.unhold() {
		_ = svc.Hangup(x.bg, ivr.CauseNormal)
		if x.callerUp() {
			x.note(string(cdr.Failed))
			x.t.Requeue()
		} else {
			x.note(ResultAbandoned)
		}
		return
	}
	if err := x.t.Bridge.Add(x.bg, svc); err != nil {
		x.log.Error().Err(err).Msg("bridging the service with the caller failed")
		_ = svc.Hangup(x.bg, ivr.CauseNormal)
		_ = x.t.Bridge.Remove(x.bg, x.t.Call)
		x.note(string(cdr.Failed))
		x.t.Requeue()
		return
	}
	x.t.Join(svc)
	x.note(ResultAnswered)
}

// warm consults the service first: the caller waits with music while the
// operator talks with the service; then the operator completes the
// transfer, returns to the caller, or makes it a three-way call (see
// ConsultKeys). An operator who hangs up during the consultation
// completes it (the caller is not left on hold with nobody); a service
// that hangs up returns the operator to the caller. The consultation has
// its own outbound CDR, from the ring to its end.
func (x *xfer) warm(ctx context.Context) {
	x.log.Info().Msg("consultation")
	keys := x.h.cfg.Consult
	t := x.t
	x.hold(ctx)
	d := x.ring(ctx)
	opKeys, opDone := t.Leg.DTMF(), t.Leg.Done()
	callerDone := t.Call.Done()
	opGone := false
	var r dialResult
ringing:
	for {
		select {
		case r = <-d.res:
			break ringing
		case k := <-opKeys:
			if k != keys.Return {
				continue
			}
			x.failed(ctx, d.stop(ctx), cdr.HangupOperator)
			x.unhold()
			x.note(ResultCancelled)
			return
		case <-opDone:
			// The operator hung up while the service rings: the transfer
			// completes if it answers.
			opGone, opKeys, opDone = true, nil, nil
			t.OperatorLeft()
		case <-callerDone:
			t.CallerGone(x.h.now())
			x.failed(ctx, d.stop(ctx), cdr.HangupSystem)
			x.note(ResultAbandoned)
			return
		case <-ctx.Done():
			x.failed(ctx, d.stop(ctx), cdr.HangupSystem)
			return
		}
	}
	if r.err != nil {
		x.failed(ctx, r, "")
		x.note(string(x.rec.Outcome))
		if opGone {
			x.t.Requeue()
			return
		}
		x.unhold()
		return
	}
	svc := r.leg
	x.answered()
	if opGone {
		x.complete(ctx, svc, false, "", 0)
		return
	}
	if err := t.Bridge.Add(x.bg, svc); err != nil {
		x.log.Error().Err(err).Msg("bridging the operator with the service failed")
		_ = svc.Hangup(x.bg, ivr.CauseNormal)
		x.ended(ctx, cdr.HangupSystem, ivr.CauseNormal)
		x.unhold()
		x.note(string(cdr.Failed))
		return
	}
	x.log.Info().Msg("operator consulting the service, caller on hold")
	for {
		select {
		case k := <-opKeys:
			switch {
			case !x.callerUp() && (k == keys.Complete || k == keys.Return || k == keys.ThreeWay):
				// Nobody to hand over or to go back to: the consultation ends.
				_ = svc.Hangup(x.bg, ivr.CauseNormal)
				x.ended(ctx, cdr.HangupOperator, ivr.CauseNormal)
				return
			case k == keys.Complete:
				x.operatorOut()
				x.complete(ctx, svc, true, cdr.HangupOperator, ivr.CauseNormal)
				return
			case k == keys.Return:
				_ = svc.Hangup(x.bg, ivr.CauseNormal)
				x.ended(ctx, cdr.HangupOperator, ivr.CauseNormal)
				x.unhold()
				x.note(ResultReturned)
				return
			case k == keys.ThreeWay:
				x.ended(ctx, cdr.HangupOperator, ivr.CauseNormal)
				t.Join(svc) // a party now: hung up with the call, whatever happens
				if x.unhold() {
					x.note(ResultThreeWay)
				}
				return
			}
			// Any other key is for the service.
		case <-opDone:
			t.OperatorLeft()
			if !x.callerUp() {
				_ = svc.Hangup(x.bg, ivr.CauseNormal)
				x.ended(ctx, cdr.HangupOperator, t.Leg.HangupCause())
				return
			}
			x.complete(ctx, svc, true, cdr.HangupOperator, t.Leg.HangupCause())
			return
		case <-svc.Done():
			x.ended(ctx, "", svc.HangupCause())
			if x.callerUp() {
				x.unhold()
				x.note(ResultReturned)
			}
			return
		case <-callerDone:
			// The operator and the service may still have things to say
			// (the emergency case): the consultation goes on.
			t.CallerGone(x.h.now())
			callerDone = nil
			x.moh = false
			x.note(ResultAbandoned)
		case <-ctx.Done():
			x.ended(ctx, cdr.HangupSystem, ivr.CauseNormal)
			return
		}
	}
}

// complete gives the caller to the answered service: the consultation's
// CDR ends, the service joins the caller's talk. inBridge: the service is
// in the bridge already (it was consulted there).
func (x *xfer) complete(ctx context.Context, svc ivr.Leg, inBridge bool, by string, cause int) {
	x.ended(ctx, by, cause)
	x.t.Join(svc) // a party now: hung up with the call, whatever happens
	if !x.unhold() {
		if x.callerUp() {
			_ = svc.Hangup(x.bg, ivr.CauseNormal)
			x.note(string(cdr.Failed))
			x.t.Requeue()
		} else {
			x.note(ResultAbandoned)
		}
		return
	}
	if !inBridge {
		if err := x.t.Bridge.Add(x.bg, svc); err != nil {
			x.log.Error().Err(err).Msg("bridging the service with the caller failed")
			_ = svc.Hangup(x.bg, ivr.CauseNormal)
			_ = x.t.Bridge.Remove(x.bg, x.t.Call)
			x.note(string(cdr.Failed))
			x.t.Requeue()
			return
		}
	}
	x.note(ResultCompleted)
}
