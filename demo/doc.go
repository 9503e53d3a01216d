// Package demo simulates the people around a switchboard — callers and
// operators — so that the real switchboard (the call flow, the queue, the
// blacklist, the call records) can be watched at work without an
// Asterisk, a Redis or a single real call: `helpline demo` runs it on an
// embedded world, and the load generator (`helpline bench`) will reuse it.
//
// # Why simulate people rather than calls
//
// A demo that inserted records would show the report and nothing else. Here
// every call is a real SIP call placed on the emulated Asterisk (package
// aritest), handled by the real call flow through ARI, queued in Redis
// (miniredis, in process), rung to an operator's emulated softphone and
// written as a record by the switchboard itself; the simulation only does
// what people do — dial, listen, press a key, wait, give up, talk, answer
// or not — and reads the outcome back from the records. So the demo's
// figures are the switchboard's, not the simulation's.
//
// # One clock
//
// Everything runs on one clockwork.FakeClock, moved by a Driver in small
// steps (250 ms) at --speed times real time: the emulated Asterisk's prompt
// lengths and ring timers, the call flow's menu and queue timeouts, the
// queue's reservation expiries and the people's patience all read it, so
// eight hours of a helpline pass in half a minute in the same order they
// would in real time. Between steps the Driver waits for the switchboard
// to have finished what the last step started (no request, Redis command,
// record write or ARI event in flight: see Activity), so a slow machine
// makes the run slower, never wrong. Without a Driver the simulation runs
// on real time, as a load generator would.
//
// # What is drawn, and from what
//
// A Scenario holds the arrival profile (the seed report's weekday × hour
// table, table A.4, as calls per hour), the language mix, the callers'
// behaviour and the operators' roster. Arrivals are a Poisson process
// following the profile hour by hour; each caller's plan (number, language,
// hang-up in the welcome, patience, message, talk time) is drawn when she
// arrives, from its own random stream, so a seed reproduces the same
// callers whatever the switchboard's timing did. The shares default to the
// seed's (17,8 % blacklisted, 28,9 % closed in the welcome); the seed
// publishes no language split, so DefaultMix is an assumption, stated as
// such.
//
// Callers act before the queue through the emulator's caller scripts
// (press a key or hang up at an exact instant after the answer) and in the
// queue by looking at what they hear: music on hold means queued, a bridge
// means an operator answered. Operators look at their phones: each new
// call to an operator's endpoint rings her; she answers after her ring
// delay or lets it ring out, and, once the switchboard has paused her for
// it, unpauses a few minutes later.
//
// # Privacy
//
// The simulated numbers look like Italian mobiles and the switchboard
// treats them as such: they are hashed with a key made for the run
// (StartEmbedded) and must not appear in the record file or in anything
// printed. Scenario.Numbers lists them for the tests that check it.
package demo
