// Package operator is the operators' side of the switchboard, engine-
// neutral like ivr: what an operator does from her softphone. She dials
// feature codes into the app (log in, log out, pause, flag the last
// caller, call a service of the anti-violence network), and during a
// talk she keys codes on her own leg (flag this caller, transfer them).
//
// Why a package of its own: the caller's flow (ivr) must stay about the
// caller — one call, one outcome, one CDR — while these actions are about
// the operator and reach three stores the caller's flow never writes:
// the operators' states (queue), the blacklist and the outbound CDRs.
// It speaks to the engine only through ivr's interfaces: an operator's
// own call is an ivr.Call, the legs it originates are ivr.Legs, and the
// talk's operator side is ivr.TalkHandler, which Handler implements.
//
// # Who is dialling
//
// The operator is the one whose configured endpoint is the calling
// endpoint as the engine reports it (for Asterisk, the channel name
// "PJSIP/op1001-0000000c"), never the caller ID the phone sends, which
// any softphone can set. A phone that is no operator's hears the Unknown
// prompt and nothing changes. The code is the dialled extension ("*11")
// or, when the operator dialled the feature line (e.g. 9000, as in the
// recorded trace), the keys she presses after the answer, ended by '#' or
// a pause. Every action is confirmed by a short prompt; a wrong code, or
// one that cannot act now, gets Refused.
//
//	*11        log in, with the language skills of the configuration
//	*12        log out
//	*13[d]     pause (reason digit d, see PauseReasons), or unpause when paused
//	*14 / *15  flag the last caller as harassment / prank
//	*20<code>  call the service with that directory code
//	*21<code>  during a talk: blind transfer of the caller
//	*22<code>  during a talk: warm transfer (consultation first)
//
// # Flags and the blacklist
//
// *14 and *15 flag the operator's LAST caller: ivr tells Handler.Connected
// who each talk is with, and the LastCallers store (Redis, with an
// in-memory twin) keeps it per operator for LastCallerTTL, so an app
// restart between the hang-up and the code loses nothing. Keyed on the
// leg during the talk, they flag the current caller and give the operator
// the longer wrap-up (ivr.Config.FlaggedWrapUp, through ivr.Talk.Flag).
// A flag goes to blacklist.Store.Flag with the operator, the time and the
// kind; the store's Policy blocks a caller when N flags fall within W
// days, for D days. Each operator flags one call at most once (a second
// *14 is refused), so a repeated code cannot block anyone. Withheld
// callers are never flagged: the operator hears Withheld.
//
// # Calls to the network and their CDRs
//
// *20<code> looks the code up in the Directory, originates to it through
// the trunk (Trunk.DialString), bridges it with the operator's own call
// and writes an OUTBOUND record: Operator, Target (the code), CalleeHash
// (the number, hashed like a caller's; the number itself is never logged
// or stored), ArrivedAt (the originate), ConnectedAt (the answer) and
// EndedAt, so its duration is the answered part. The operator is paused
// (reason outbound_call) for the call if she was available, so that no
// caller rings her meanwhile, and unpaused after. HangupBy is operator
// when she hung up, empty when the service did, system when the
// switchboard ended it.
//
// How a call that was not answered is counted follows Asterisk's own
// DIALSTATUS where the traces recorded one (shared/traces/asterisk,
// originate_*), and what the operator heard:
//
//	cause (Q.850)                 SIP   DIALSTATUS (trace)  ivr.Failure  outcome
//	17 user busy                  486   BUSY                busy         busy
//	34 circuit congestion         503   CONGESTION          congestion   busy
//	38, 41, 42, 44 (network)      —     —                   congestion   busy
//	19 no answer (ring timeout)   480   NOANSWER / none     no_answer    no_answer
//	18 no user responding         —     —                   no_answer    no_answer
//	21 call rejected              603   NOANSWER            rejected     no_answer
//	1 unallocated number          —     ""                  failed       failed
//	0, "Allocation failed" (500)  —     ""                  failed       failed
//	engine error (no cause)       —     —                   —            failed
//	cancelled while ringing       —     —                   —            no_answer
//
// Congestion is counted as busy because the operator heard the fast busy
// tone and the service could not take the call now: for the report's
// "occupato" that is the same fact, and the line is worth trying again.
// A 603 Decline is a person (or a service's switchboard) not taking the
// call: a no answer, as Asterisk says. A failed call is one the network
// could not even try: a wrong number in the directory or a trunk down,
// which the administrator must fix, so it is kept apart. Calls the
// operator (or the caller, during a transfer) gave up on while they rang
// are no_answer, with HangupBy operator or system.
//
// # Transfers
//
// During a talk the operator keys *21<code> or *22<code> on her leg. The
// caller's inbound CDR stays ONE record, with Transfer
// "<blind|warm>:<code>:<result>" and Target the code; the service leg has
// its own outbound CDR covering the operator's part of it: for a blind
// transfer the ring (answered with no duration: the operator was gone),
// for a consultation the ring and the consultation itself. What follows,
// caller and service together, is the inbound call's talk.
//
//   - Blind: the operator leaves at once (freed after her wrap-up), the
//     caller waits with music while the service rings and is bridged with
//     it when it answers (result answered). If it does not, the caller
//     goes back to the queue, first in line, with a fresh maximum wait
//     (result busy / no_answer / failed): nobody is dropped by a failed
//     transfer.
//   - Warm: the caller waits with music, the operator talks with the
//     service (ConsultKeys: 1 complete, 2 return, 3 three-way). Complete
//     hands the caller over and frees the operator (completed); return
//     hangs up the service (returned; also when the service hangs up, or
//     the ring fails: busy / no_answer / failed, or 2 while it rings:
//     cancelled); three-way puts all three in one bridge (threeway: the
//     emergency case, the police with the victim and the operator; the
//     operator may then hang up and the other two go on). An operator who
//     hangs up during the consultation completes the transfer; if the
//     service then fails, the caller goes back to the queue. A caller who
//     hangs up during it is noted abandoned; the consultation goes on.
//
// # What the operator hears during a talk
//
// Nothing: the engine interface plays only to callers, and a confirmation
// played into the bridge would reach the caller too (a harasser must not
// learn he was flagged). A flag keyed during the talk shows in the
// metrics and the logs; its effect (the block) in `helpline blacklist`.
//
// # Operator state across restarts
//
// Operators' states live in the queue store (Redis), not here: an app
// restart keeps who is logged in, paused or in wrap-up. An outbound call
// in progress when the app stops leaves its operator paused with reason
// outbound_call (she unpauses with *13) and writes no CDR.
package operator
