// Package ariapp binds the helpline's call flow (package ivr) to Asterisk
// through ARI (package ari): it turns Stasis channels into ivr.Calls and
// ivr's requests into REST calls, and nothing more.
//
// # Why it is thin
//
// Every decision about a call — blacklist, menu, queue, which operator,
// timeouts, what a key means, the CDR — is ivr's, so that the same flow
// runs on FreeSWITCH (esl-bridge) and in ivr's own tests. What is left
// here is what only Asterisk explains: which event ends which request,
// in which order events and responses arrive, what a cause means. The
// rules come from the recorded traces (shared/traces/asterisk), not from
// guesses; each is named where it is applied.
//
// # Events → ivr
//
// One App per node reads the app's event stream (ari.Events). Each channel
// it drives has its own subscription, taken before any request that can
// raise an event on it: SubscribeSince(StasisStart) for a caller,
// Subscribe(id) for a leg before POST /channels with an id of ours. One
// goroutine per channel reads it and never blocks on the flow.
//
//	event                                   effect
//	StasisStart args [inbound] (or other)   new Call, Flow.Handle in its own goroutine
//	StasisStart args [operator,<id>]        OperatorHandler (default: hang up unanswered)
//	StasisStart of a leg we originated      Originate returns the Leg (answered)
//	StasisStart [operator,<id>,<call>] unknown  a dead flow's leg: hung up
//	ChannelDtmfReceived                     Call.DTMF (32 buffered; full: dropped, counted)
//	ChannelHangupRequest                    Done closes; cause: none → 16 (SIP BYE),
//	                                        32 soft (our DELETE) → the cause we asked for
//	StasisEnd                               Done closes (16 unless a cause came before);
//	                                        last event of a dialplan channel
//	ChannelDestroyed                        Done closes; a leg not answered yet fails with
//	                                        its cause (Local cause 0: Dial BUSY → 17,
//	                                        CONGESTION → 34, NOANSWER → 19)
//	Dial (peer = leg)                       the dialstatus kept for the line above
//	PlaybackFinished done / failed          Play returns nil / ErrHangup if the channel
//	                                        hung up (HangupRequest comes first), else an error
//	RecordingFinished / RecordingFailed     Record returns (a hang-up keeps the file)
//	ChannelEnteredBridge (both channels)    Bridge returns
//	Reconnected                             see below
//
// REST refusals: 404 and 409 on a channel route mean the channel is gone
// for us (hung up, or out of Stasis) and wrap ivr.ErrHangup; so does any
// failure once Done is closed. 500 "Allocation failed" and 400 at
// originate are *ivr.OriginateError with FailFailed (phone unreachable).
// Requests are bounded by Options.RequestTimeout but never cancelled half
// way with the flow's context: a playback, a leg or a bridge that Asterisk
// may have started must be known in order to be undone (DELETE /playbacks,
// DELETE /channels, DELETE /bridges).
//
// Privacy: the caller's number (StasisStart channel.caller.number) is
// handed to Flow.Handle, which hashes it (callerid) before anything else;
// this package logs channel ids only. An originated leg's callerId is the
// flow's label ("1522 it"), as a name with an empty number.
//
// # Reconnect semantics
//
// Asterisk replays nothing after the event WebSocket comes back: a
// hang-up, a PlaybackFinished or a leg's StasisStart that happened while
// it was down is lost, while the calls stay in Stasis. On ari.Reconnected:
//
//   - every channel of ours asks GET /channels/{id}: gone → its Done
//     closes with CauseNormal and a note (Call.HangupNote: ivr copies it
//     into the CDR, ivr.HangupNoter), and a leg still ringing fails as an engine
//     error, not the operator's (no auto-pause: how the ring ended is
//     unknown); still there →
//     each pending request is checked (GET /playbacks/{id} 404 → the
//     playback ended; GET /recordings/live/{name} 404 → the stored file is
//     the result; GET /bridges/{id} lists us → entered), and a leg found
//     Up in Stasis is answered;
//   - a channel found gone is told apart: GET /asterisk/info's
//     status.startup_time is read at start and after every reconnect; if
//     it changed, Asterisk restarted and every channel vanished with it
//     (note ivr.NoteEngineRestart…: the flow closes the call as the
//     engine's loss, unanswered unless answered or recorded; metric
//     helpline_ariapp_asterisk_restarts_total); otherwise its end was
//     merely lost with the socket;
//   - the app lists GET /applications/{app} channel_ids: channels it does
//     not know are Orphans, offered to the Adopter. Answered operator legs
//     of a caller that is itself an orphan go with the caller (Orphan.Legs:
//     a talk goes on); the other legs are offered first (DefaultAdopter
//     hangs them up: a phone left ringing by a dead process stops before
//     its call is offered again). DefaultAdopter resumes callers with
//     ivr.Flow.Readopt (Readopter) — the queue entry, the channel's
//     HELPLINE_MARK variable (MarkVariable), the bridge, the live
//     recording say where the call was; see ivr's doc, "Restarts" — and
//     hands operators dialling in to the OperatorHandler. The same
//     reconciliation runs at start: it is how a new process (after a
//     SIGKILL of the previous one) takes every call over. At start it
//     also destroys the bridges ("hl-…") of talks that ended while no
//     process ran, and hands the Flow (Sweeper) the channels Asterisk
//     still has, so the calls that ended unseen are closed from the
//     flow's journal.
//
// # Stopping
//
// When Run's context ends the app stops taking calls: a caller entering
// Stasis now is left there unanswered (the next process adopts it), never
// hung up. Calls in progress go on for up to Options.DrainTimeout; then
// their flows are cancelled and ivr leaves them in Stasis (ErrShutdown),
// with music on hold or bridged, for re-adoption.
package ariapp
