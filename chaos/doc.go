// Package chaos is the helpline's fault suite: it runs the real
// `helpline serve` binary against an emulated Asterisk (ari/aritest), a
// real redis-server and SQLite, drives a few hundred simulated callers and
// operators' softphones through it, and breaks, in turn, each thing a
// switchboard depends on while calls are in every state — the ARI event
// WebSocket, ARI requests, the serve process itself (SIGKILL and a new
// process), Redis, Asterisk, the call-record disk. At the end it checks the
// promises of issue #8 from the outside, as an auditor would:
//
//   - every call has exactly one CDR, and its outcome is the one the
//     simulated caller's own actions call for (hung up in the welcome:
//     welcome_hangup; spoke with an operator: answered; left a message:
//     voicemail; gave up waiting: abandoned; waited out max_wait:
//     unanswered);
//   - no call was hung up by the switchboard except by the flow's own
//     rules (the operator left, max wait, the message was saved);
//   - no raw caller number is anywhere at rest: the Redis dump, the SQLite
//     files, the spool, the recordings and every line serve logged.
//
// Why a separate package, and a subprocess: the faults that matter most
// (kill -9, a process that comes back and must re-adopt calls) cannot be
// faked in process, and an auditor's view — only what is on disk, in
// Redis and what the callers heard — is the only one that proves the
// promises rather than the code's idea of them.
//
// The package holds no production code: the harness lives in its _test.go
// files. Run it with `make chaos` (RELIABILITY.md has the figures and the
// exact command).
package chaos
