// Package blacklist decides which callers are refused before the phone is
// answered, and turns operators' abuse flags into such refusals.
//
// A helpline for victims of violence is also called by harassers and
// pranksters who tie up the operators a victim needs. Operators flag them
// from the phone; when enough flags from a short enough period pile up
// (the Policy), the caller is blocked for a while. Every block expires by
// itself and an administrator can lift it: a wrong block of a real victim
// must heal without anyone remembering to undo it.
//
// The blacklist knows callers only by callerid's keyed hash and refuses
// anything else as a key, so a raw number cannot reach Redis even by a
// slip in a caller. Withheld callers have no hash: they can be neither
// flagged nor blocked (ErrWithheld), because anonymity is promised to
// everyone and a withheld number cannot be told apart from another.
//
// Blocking is on the path of every call, so its failure mode matters more
// than its features: when Redis is unreachable (IsUnavailable) the call
// flow skips the check and lets the caller through; a server that answers
// with an error is a bug to report, not an outage. Time is the caller's
// (an argument), and whether a block is in force is decided by comparing
// its stored end with that time, so every node agrees and tests need no
// waiting; Redis TTLs only clean up.
package blacklist
