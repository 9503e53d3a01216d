package ivr

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// This file is the whole contract between the call flow and a telephony
// engine. ari-app (Asterisk) and esl-bridge (FreeSWITCH) implement it; the
// in-memory ivrtest.Network implements it for tests. It is deliberately
// small and blocking:
//
//   - Every operation that takes time on the engine (Play, Record,
//     Originate) blocks until it is over and is stopped by cancelling its
//     context. The flow composes them with select; the adapters keep the
//     event bookkeeping (PlaybackFinished, RecordingFinished, StasisStart
//     of the originated leg) on their side, where the protocol is.
//   - Nothing in it knows a clock: digit timeouts, announcement intervals,
//     max wait and wrap-up all run in ivr on the injected clockwork.Clock,
//     so the same timing rules hold on both engines and tests drive them
//     with a fake clock. Only the ring timeout and the recording's maximum
//     length are handed to the engine, because both engines enforce them
//     natively (and ivr keeps a guard timer on top).
//   - DTMF is a plain stream of digits (Call.DTMF). What a digit means,
//     when it is kept and when it is thrown away is decided in one place,
//     ivr (see doc.go, "DTMF rules"), so both engines behave alike.

// Q.850 hang-up causes the flow uses or branches on. Engines report causes
// in this numbering (Asterisk and FreeSWITCH both do).
const (
	// CauseUnknown is reported when the engine gave no cause.
	CauseUnknown = 0
	// CauseUnallocated is "unallocated (unassigned) number".
	CauseUnallocated = 1
	// CauseNormal is normal clearing.
	CauseNormal = 16
	// CauseBusy is "user busy": an unanswered call rejected with it gives
	// the caller the busy tone.
	CauseBusy = 17
	// CauseNoUserResponse is "no user responding".
	CauseNoUserResponse = 18
	// CauseNoAnswer is "user alerting, no answer" (the ring timeout).
	CauseNoAnswer = 19
	// CauseRejected is "call rejected" (e.g. SIP 603 Decline).
	CauseRejected = 21
	// CauseCongestion is "circuit/channel congestion": an unanswered call
	// rejected with it gives the caller the fast busy (congestion) tone.
	CauseCongestion = 34
)

// ErrHangup reports that an operation could not complete because the
// channel hung up (for Asterisk: a 404 on a channel that just left). The
// flow does not need it to learn of hang-ups (Channel.Done does that) but
// uses it to tell "the caller left" from "the engine failed".
var ErrHangup = errors.New("ivr: channel hung up")

// Digit is one DTMF key: '0'–'9', '*', '#' or 'A'–'D'.
type Digit rune

// Valid reports whether d is one of the sixteen DTMF keys.
func (d Digit) Valid() bool {
	switch {
	case d >= '0' && d <= '9', d >= 'A' && d <= 'D', d == '*', d == '#':
		return true
	}
	return false
}

// String returns the key as a one-character string ("" for no key).
func (d Digit) String() string {
	if d == 0 {
		return ""
	}
	return string(rune(d))
}

// Media is one thing to play, written as a URI in the form ARI uses, which
// the FreeSWITCH adapter maps onto its own:
//
//	sound:<name>   a recorded prompt by name, without extension; the engine
//	               picks the file for the language passed to Play
//	number:<n>     the integer n said aloud in that language
//
// Build them with Sound and Number.
type Media string

// Sound is a recorded prompt by name (e.g. "helpline/welcome").
func Sound(name string) Media { return Media("sound:" + name) }

// Number is the integer n said aloud.
func Number(n int) Media { return Media("number:" + strconv.Itoa(n)) }

// Channel is what inbound calls and originated legs have in common.
type Channel interface {
	// ID identifies the channel on its engine (Asterisk channel id,
	// FreeSWITCH uuid). For an inbound call it is also the call id of the
	// CDR and of the queue, so it must be stable across an app restart.
	ID() string
	// Done is closed once the channel has hung up, whoever hung it up
	// (the far end, the network, or Hangup below). It is never closed
	// while the channel is still up.
	Done() <-chan struct{}
	// HangupCause is the Q.850 cause of the hang-up once Done is closed
	// (CauseNormal when the engine reported none, as with a SIP BYE);
	// CauseUnknown before.
	HangupCause() int
	// Hangup hangs the channel up with cause. On an inbound call not yet
	// answered it rejects the call: CauseBusy gives busy tone, CauseCongestion
	// fast busy. Hanging up a channel that is already gone returns nil or
	// an error wrapping ErrHangup.
	Hangup(ctx context.Context, cause int) error
}

// HangupNoter is implemented by channels whose engine can say more about
// an abnormal end than a cause: for Asterisk, a channel that vanished
// while the event stream was down (Asterisk restarted) is closed by the
// adapter with a note saying so. The flow copies the note into the CDR so
// the report can tell such calls apart. Optional: engines without it
// simply leave the CDR note as the flow wrote it.
//
// A note that starts with NoteEngineRestart says the engine itself
// restarted and took the channel with it: the flow then closes the call as
// unanswered unless it was answered or a message was recorded (see
// session.engineRestarted), never as the caller's hang-up.
type HangupNoter interface {
	// HangupNote is "" for an ordinary hang-up.
	HangupNote() string
}

// NoteEngineRestart starts the HangupNote (and so the CDR's Note) of a
// channel that vanished because its engine restarted (Asterisk: a new
// startup time after the event stream came back). Package report counts
// the records whose note starts with it.
const NoteEngineRestart = "engine_restart"

// Call is an inbound caller's channel, from the moment it reaches the app
// (not answered yet) until it hangs up.
type Call interface {
	Channel
	// Ring signals ringing to the caller (SIP 180) before the call is
	// answered.
	Ring(ctx context.Context) error
	// Answer answers the call.
	Answer(ctx context.Context) error
	// Play plays media in order, in language lang, and blocks until it
	// has finished (nil), ctx is cancelled (the playback is stopped and
	// ctx.Err() returned), or the call hung up (an error wrapping
	// ErrHangup). Digits pressed meanwhile are delivered on DTMF as usual;
	// Play itself never stops on a digit: barge-in is the flow's job.
	Play(ctx context.Context, lang string, media ...Media) error
	// StartMOH starts music on hold of the given class (empty: default)
	// until StopMOH. Starting it twice is not an error.
	StartMOH(ctx context.Context, class string) error
	// StopMOH stops music on hold. Stopping when none plays is not an error.
	StopMOH(ctx context.Context) error
	// Record records the caller and blocks until the recording is over:
	// the caller pressed req.TerminateOn, req.MaxDuration passed, or the
	// caller hung up. A recording that ended with a hang-up is kept and
	// returned with a nil error: that is how most messages end. The
	// recording is stored by the engine under req.Name and never deleted
	// by ivr. Cancelling ctx stops the recording and keeps what was taken.
	Record(ctx context.Context, req RecordRequest) (Recording, error)
	// DTMF delivers every key the caller presses, in order, from the
	// moment the call reaches the app until it ends. The adapter must
	// never block on it: it buffers (16 keys at least) and, if the flow
	// does not keep up, drops the newest key and counts it. The channel is
	// not closed on hang-up (Done says that). Keys outside Digit.Valid are
	// dropped by the flow.
	DTMF() <-chan Digit
	// Originate calls an operator's endpoint on behalf of this call and
	// blocks until the leg answers (returned) or fails (a *OriginateError
	// with the cause, or another error if the engine itself failed). The
	// engine gives up after req.Timeout of ringing (cause 19). Cancelling
	// ctx hangs the ringing leg up and returns ctx.Err(): no leg is left
	// behind. The leg is not bridged yet.
	Originate(ctx context.Context, req OriginateRequest) (Leg, error)
	// Bridge connects the call with an answered leg and returns once
	// audio flows. The caller and the leg stay up when the bridge is
	// destroyed; hanging either up is the flow's decision.
	Bridge(ctx context.Context, leg Leg) (Bridge, error)
}

// Leg is an outgoing channel the app originated: to an operator's phone,
// or to a service of the network (outbound calls, transfers).
type Leg interface {
	Channel
	// DTMF delivers the keys pressed on the leg (an operator's feature
	// codes during a talk), with the buffering rules of Call.DTMF.
	DTMF() <-chan Digit
}

// Bridge is a live connection between a call and its legs. Call.Bridge
// makes it with two channels; Add and Remove change who is in it, which
// is what transfers are made of (a consultation, a three-way call).
type Bridge interface {
	// ID identifies the bridge on its engine.
	ID() string
	// Destroy tears the bridge down (idempotent). The channels in it stay
	// up.
	Destroy(ctx context.Context) error
	// Add puts an answered channel (a leg of this call, or the call
	// itself after Remove) into the bridge and returns once audio flows.
	// A channel that hung up gives an error wrapping ErrHangup.
	Add(ctx context.Context, ch Channel) error
	// Remove takes a channel out of the bridge; it stays up (music on
	// hold may then be started on a call). Removing a channel that is not
	// in the bridge, or that hung up, is not an error.
	Remove(ctx context.Context, ch Channel) error
}

// OriginateRequest says which endpoint to ring and for how long.
type OriginateRequest struct {
	// Endpoint is the engine's dial string for the operator's phone,
	// e.g. "PJSIP/op1001".
	Endpoint string
	// Operator is the operator's id (for the adapter's bookkeeping, e.g.
	// ARI appArgs "operator,<id>,<call id>").
	Operator string
	// Timeout is how long the phone may ring before the engine gives up
	// with CauseNoAnswer.
	Timeout time.Duration
	// Label is what the operator's phone displays as the caller: the
	// service and the language, never the caller's number.
	Label string
}

// Failure classifies why an originate failed.
type Failure string

// Originate failures. Operators who do not answer, are busy or reject are
// auto-paused; an unreachable phone (not registered, unknown endpoint, the
// engine could not allocate a channel) is paused too, with its own reason.
const (
	FailBusy       Failure = "busy"
	FailNoAnswer   Failure = "no_answer"
	FailRejected   Failure = "rejected"
	FailCongestion Failure = "congestion"
	FailFailed     Failure = "failed"
)

// FailureOf maps a Q.850 cause to a Failure. Causes the engine reports for
// an unregistered or unknown phone (0, 1, allocation failures) are
// FailFailed.
func FailureOf(cause int) Failure {
	switch cause {
	case CauseBusy:
		return FailBusy
	case CauseNoAnswer, CauseNoUserResponse:
		return FailNoAnswer
	case CauseRejected:
		return FailRejected
	case CauseCongestion, 38, 41, 42, 44:
		return FailCongestion
	}
	return FailFailed
}

// OriginateError is a leg that did not answer. Adapters set Cause from the
// engine (for Asterisk: ChannelDestroyed.cause, or the Dial dialstatus
// BUSY/CONGESTION/NOANSWER when a Local channel reports cause 0) and Err
// for engine-side failures such as "Allocation failed".
type OriginateError struct {
	Endpoint string
	Cause    int
	Err      error
}

// Failure classifies the error.
func (e *OriginateError) Failure() Failure { return FailureOf(e.Cause) }

// Error implements error.
func (e *OriginateError) Error() string {
	s := fmt.Sprintf("ivr: originate %s: %s (cause %d)", e.Endpoint, e.Failure(), e.Cause)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the engine error, if any.
func (e *OriginateError) Unwrap() error { return e.Err }

// RecordRequest describes a voicemail recording.
type RecordRequest struct {
	// Name is the recording's name on the engine (see VoicemailName):
	// letters, digits, '.', '-' and '_' only, so that it is a valid file
	// and URL path segment on every engine.
	Name string
	// Format is the file format, e.g. "wav".
	Format string
	// MaxDuration bounds the recording.
	MaxDuration time.Duration
	// Beep plays a beep before recording starts.
	Beep bool
	// TerminateOn ends the recording when pressed (0: none).
	TerminateOn Digit
}

// Recording is a finished recording.
type Recording struct {
	Name     string
	Duration time.Duration
}
