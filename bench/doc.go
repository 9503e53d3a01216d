// Package bench is the switchboard's load generator (`helpline bench`):
// it places calls at a target arrival rate on an emulated Asterisk
// (package aritest, in this process), lets a pool of emulated operators'
// softphones answer them, and measures what the control plane does with
// them — how fast it reacts at each step, how many Redis round trips and
// record writes a call costs, how much memory a call in progress holds —
// and checks that no call and no record is lost on the way.
//
// # Why in one process, against a real Redis
//
// The targets are about one node on one machine, so the node, the
// emulated Asterisk and the callers share the process and its two cores:
// the figures are pessimistic by the emulator's share, which the CPU
// profile (--cpuprofile) separates (frames under ari/aritest). Redis is a
// real redis-server, as in production: miniredis would measure a Go map.
//
// # How a step is timed
//
// The switchboard under test talks to the emulator through a Recorder, an
// HTTP handler in front of aritest that stamps each REST request when it
// arrives, as Asterisk would see it. A step's latency is from the
// caller's action that raises the event (placing the call: StasisStart;
// pressing the digit: ChannelDtmfReceived) to the stamp of the request the
// switchboard sends in answer (POST answer; the next play or music on
// hold; the originate to an operator). The emulator's own work on the
// event is inside the figure, so it is an upper bound of the control
// plane's share.
//
// The callers are not package demo's simulated people: those look at the
// world every step (100 ms, or a fake-clock step) and read what happened
// from the records, which is right for a demo and too coarse for timing a
// step in microseconds. Here each caller is a goroutine woken by the
// Recorder the instant the request it waits for arrives.
//
// The switchboard itself is not built here: the command hands Run a
// StartFunc that assembles the same node `helpline serve` and
// `helpline demo` run (cmd/helpline), so the bench measures the product,
// not a copy of it.
package bench
