// Package aritest is an in-process Asterisk 22 for tests and the demo: it
// speaks ARI over HTTP and WebSocket exactly as the recorded Asterisk does
// (shared/traces/asterisk), and it simulates the world around it — PSTN
// callers, operators' softphones, Local-channel dialplans, prompts,
// recordings, bridges — on an injectable clock.
//
// Why: Asterisk cannot be installed where our tests run, and a fake that
// only answers "200 OK" would let the call flow pass tests that a real
// switch fails. Every behaviour here is taken from a recording of Asterisk
// 22.10.1, and TestFidelity replays all the recordings against the emulator
// on every run, so a divergence is a failing test, not a surprise in
// production.
//
// # Use
//
// Like net/http/httptest: NewServer (or NewUnstartedServer, adjust, Start)
// listens on 127.0.0.1:0; point the ARI client at Server.URL+"/ari" with
// Credentials(); Close when done. In this module, tests call
// internal/testenv.StartAritest(t), which also fails the test if the app
// used anything the emulator does not emulate (Gaps).
//
// The world is scripted from the test:
//
//	srv.Call(ctx, "+39333...", "1522", aritest.CallOptions{...})  // a caller
//	call.AwaitAnswered(ctx); call.SendDTMF("2"); call.Speak(3*time.Second)
//	call.Hangup()                                     // BYE, or CANCEL while ringing
//	call.AwaitHangup(ctx)                             // who hung up, with which cause
//	call.Heard()                                      // prompts, music, bridges, in order
//	srv.AwaitRinging(ctx, "op1001")                   // a softphone the app calls
//	srv.DropWebSockets(); srv.InjectFault(...)        // failures
//	srv.Requests(); srv.Events(); srv.AwaitChannel(...)
//
// Softphones are Config.Endpoints with a Phone behaviour (answer after a
// delay, 486/603/480/503, ring forever, hang up after a talk time, or
// Manual). Local/<exten>@<context> targets and the entry of calls into
// Stasis run on a small dialplan interpreter (Config.Dialplan, by default
// the recording's extensions.conf). Prompt lengths come from Config.Sounds.
// Waits use Config.Clock: with a clockwork.FakeClock a ten-minute queue
// wait takes microseconds; every timed step keeps its exact virtual time
// even when the clock jumps.
//
// # Fidelity rules
//
// What the recordings show, and the emulator therefore does:
//
//   - Statuses and bodies of the traces: 200 for originate and bridge
//     creation, 201 queued for play/record, 204 elsewhere; {"message":...}
//     errors, but {"error":"Allocation failed"} for an originate to an
//     offline or unknown endpoint; 401, 404 "Resource not found", 405
//     "Invalid method"; 409 for channel operations on a channel not in
//     Stasis but 422 for addChannel, 400 "Channel not found" for an unknown
//     one; recording names with "/" only as %2F.
//   - One command at a time per channel: a playback, a recording or sent
//     DTMF occupies the channel's Stasis queue, and answer, setting a
//     variable and joining a bridge wait behind it (their HTTP answer too).
//   - Events follow Asterisk's subscriptions: a channel from the dialplan
//     is followed only while in Stasis (no ChannelDestroyed); an originated
//     channel, and both halves of a Local one, until destroyed. No
//     BridgeCreated; BridgeDestroyed once a channel of the app was in the
//     bridge. subscribeAll sees everything, DeviceStateChanged included.
//   - Hangup causes: DELETE gives ChannelHangupRequest 32 soft and
//     ChannelDestroyed with the reason's cause; a BYE gives no cause (after
//     the RTPAUDIOQOS* variables); CANCEL 127/487; Local Hangup(16) 16;
//     phone rejects 17/21/19/34 with the SIP status as tech_cause; an
//     originate timeout 19/480 without ChannelHangupRequest; Busy() and
//     Congestion() on a Local target 0 on the app's half.
//   - A missing sound starts and fails at once; an unsupported scheme
//     starts and never finishes; DELETE /playbacks gives "done"; a hangup
//     "failed"; pause is silent and unpause raises PlaybackStarted again.
//   - Recordings count the frames the far end sends (a SIP phone sends
//     them all the time, a Local half only while it plays), so
//     maxDurationSeconds never fires on a silent Local caller; the file is
//     a valid WAV of that length; deleting the stored file of a live
//     recording stops it.
//   - A second socket for an app gets its events and the first gets
//     ApplicationReplaced; events raised while no socket is connected are
//     lost, nothing is replayed on reconnection.
//
// # Known gaps
//
// Differences from the recordings (checked by TestFidelity, see knownGaps
// in fidelity_test.go):
//
//   - rest_errors: a DELETE sent 2 ms after originating a Local channel
//     reaches the emulator when the ;1 half already rings; Asterisk had not
//     started the ;2 dialplan yet, so its ChannelHangupRequest shows "Down".
//
// Not emulated (a request for them answers 404 "Resource not found" and is
// listed by Gaps): snoop, externalMedia, redirect, rtp_statistics,
// transfer_progress, bridge variables, bridge recording, videoSource,
// sounds, mailboxes, modules, logging, dynamic config, endpoint messages
// and refer. Not covered by any recording, so modelled on Asterisk's
// source rather than checked: PJSIP device states, EndpointStateChange,
// /channels/create + dial, move, continue, bridge playbacks, tone: and
// number: media, multi-party bridges (BRIDGEPEER lists), the timing of
// sent DTMF (fitted to rest_errors: digits x (duration+between) + 100 ms).
package aritest
