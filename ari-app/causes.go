package ariapp

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ivr"
)

// causeSoftHangup is what Asterisk puts in the ChannelHangupRequest of a
// DELETE /channels/{id}: not a Q.850 cause but AST_SOFTHANGUP_EXPLICIT
// (with "soft": true). The cause we asked for is ours to remember.
const causeSoftHangup = 32

// hangupReason maps a Q.850 cause to the "reason" of DELETE
// /channels/{id}. Causes without a named reason are sent as reason_code.
func hangupReason(cause int) (ari.HangupReason, bool) {
	switch cause {
	case ivr.CauseNormal, ivr.CauseUnknown:
		return ari.HangupNormal, true
	case ivr.CauseBusy:
		return ari.HangupBusy, true
	case ivr.CauseCongestion:
		return ari.HangupCongestion, true
	case ivr.CauseNoAnswer:
		return ari.HangupNoAnswer, true
	case ivr.CauseRejected:
		return ari.HangupRejected, true
	case ivr.CauseUnallocated:
		return ari.HangupUnallocated, true
	}
	return "", false
}

// requestCause is the hang-up cause a ChannelHangupRequest reports for
// Channel.HangupCause. A far-end SIP BYE carries no cause (normal
// clearing); our own DELETE carries 32 soft, which stands for the cause we
// asked for (requested, 0 if we asked for none); 0 ("Unknown") is treated
// as no cause at all.
func requestCause(e *ari.ChannelHangupRequest, requested int) int {
	if e.Cause == nil {
		return ivr.CauseNormal
	}
	c := *e.Cause
	soft := e.Soft != nil && *e.Soft
	switch {
	case c == causeSoftHangup && soft:
		if requested != 0 {
			return requested
		}
		return ivr.CauseNormal
	case c == ivr.CauseUnknown:
		return ivr.CauseNormal
	}
	return c
}

// originateCause is the cause of an originated channel that was destroyed
// before it answered. ChannelDestroyed's cause is the answer, except that
// a Local channel whose far half ran Busy() or Congestion() reports 0
// "Unknown" on the app's ;1 half; the Dial event's dialstatus then says
// what happened (traces originate_busy, originate_congestion).
func originateCause(destroyed int, dialStatus string) int {
	if destroyed != ivr.CauseUnknown {
		return destroyed
	}
	switch dialStatus {
	case "BUSY":
		return ivr.CauseBusy
	case "CONGESTION":
		return ivr.CauseCongestion
	case "NOANSWER":
		return ivr.CauseNoAnswer
	}
	return ivr.CauseUnknown
}

// timeoutSeconds rounds a ring or recording bound up to whole seconds,
// at least one: ARI takes seconds, and 0 would mean "Asterisk's default"
// (originate) or "no limit" (record).
func timeoutSeconds(d time.Duration) int {
	if d <= 0 {
		return 1
	}
	s := math.Ceil(d.Seconds())
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}

// terminateOn maps ivr's terminating key to ARI's terminateOn. ARI knows
// only none, any, '*' and '#': another key becomes "any" (any key ends the
// recording), which errs on the side of letting the caller stop.
func terminateOn(d ivr.Digit) string {
	switch d {
	case 0:
		return "none"
	case '*', '#':
		return string(rune(d))
	}
	return "any"
}

// callerIDLabel is the callerId of an originate: the label alone, as a
// name with an empty number, so the operator's phone shows the service and
// language and nothing that could identify the caller. Quotes and angle
// brackets, which would break Asterisk's parsing, are dropped.
func callerIDLabel(label string) string {
	b := make([]rune, 0, len(label))
	for _, r := range label {
		switch r {
		case '"', '<', '>', '\\':
			continue
		}
		if r < 0x20 || r == 0x7f {
			continue
		}
		b = append(b, r)
	}
	return `"` + string(b) + `" <>`
}

// gone reports whether an ARI refusal means the channel the request was
// about no longer exists for us: 404 (hung up, destroyed) or 409 (it left
// Stasis: the dialplan has it back).
func gone(err error) bool {
	return errors.Is(err, ari.ErrNotFound) || errors.Is(err, ari.ErrConflict)
}

// hangupError wraps err so that errors.Is(result, ivr.ErrHangup) holds.
func hangupError(op, id string, err error) error {
	if err == nil {
		return fmt.Errorf("ariapp: %s %s: %w", op, id, ivr.ErrHangup)
	}
	return fmt.Errorf("ariapp: %s %s: %w: %w", op, id, ivr.ErrHangup, err)
}
