// Package ivrtest is an in-memory phone network that implements the ivr
// engine interface, so the call flow can be tested — and benchmarked —
// without Asterisk, FreeSWITCH or their emulators.
//
// It plays both ends of the line: callers (Network.Dial) who press keys
// and hang up, imperatively (Call.Press, Call.HangUp) or by script (At a
// time on the clock, OnPlay of a prompt, OnMOH, OnRecord); and operators'
// phones (Network.SetPhone) that answer after a delay, talk and hang up,
// reject with a cause, ring until the timeout or cannot be reached. Every
// request the flow makes is recorded as text on its call (Call.Requests),
// and Network.Leaks lists whatever the flow left behind: music on hold,
// playbacks or recordings on live calls, ringing or connected legs,
// bridges.
//
// Everything timed (prompt durations set with SetDuration, rings, talks,
// recording limits, scripted times) runs on the clock given to New: with a
// clockwork.FakeClock a test advances time itself, after
// BlockUntilContext, and waits for the flow with Await helpers instead of
// sleeping. It mirrors what the traces of a real Asterisk show where it
// matters to the flow: a request on a hung-up channel fails with
// ivr.ErrHangup, the terminating '#' of a recording is delivered as a key
// before the recording ends, an unreachable phone fails at once without a
// leg, and a recording cut by a hang-up is kept.
package ivrtest
