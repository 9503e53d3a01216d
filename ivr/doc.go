// Package ivr is the helpline's inbound call flow, engine-neutral: from the
// moment a caller reaches the app to the one CDR their call leaves. It
// drives a Call (engine.go) that ari-app implements on Asterisk and
// esl-bridge on FreeSWITCH, so both engines run exactly the same flow,
// and tests run it on the in-memory network of package ivrtest.
//
// A person in danger is on every call. Two rules shape everything here:
// a caller is never dropped because of us (a failing blacklist, queue
// store, prompt or bridge degrades the call, it does not end it), and a
// raw number never goes further than Identifier.Identify (logs and CDRs
// carry the caller's Identity).
//
// # The flow
//
//	caller enters the app (Flow.Handle)
//	  │ ring (180) while we look the caller up
//	  ├─ withheld? ─── yes ──────────────────────────────┐ (never checked)
//	  ├─ Blocklist.Blocked(hash) ── error / timeout ─────┤ Fallback=true, counted
//	  ├─ blocked ─→ busy 17 │ congestion 34 (no answer)  │
//	  │             │ answer, message, hang up ─→ blacklisted
//	  ▼                                                  ▼
//	answer ─→ welcome (a key stops it) ─→ language menu (only languages open
//	  now; N tries; then the default) ── caller hangs up ─→ welcome_hangup
//	  ▼
//	queue of the language: Enqueue, music on hold, announcements ──────────┐
//	  │  Dispatcher: Assign → Offer → this call rings the operator         │
//	  │    no answer / busy / rejected → operator auto-paused,             │
//	  │      caller keeps their place, next operator                       │
//	  │    answered → Answered, music off, bridge ─→ answered              │
//	  │      talk until either side hangs up; Finish with wrap-up          │
//	  ├─ voicemail key → leave, beep, record (kept) ─→ voicemail           │
//	  ├─ max wait / nobody with the skill / store down ─→ unanswered       │
//	  └─ caller hangs up (ringing leg cancelled, offer voided) ─→ abandoned│
//	                                                                       ▼
//	exactly one cdr.Record, written at the end, retried, never dropped
//
// # Outcomes
//
// Every call ends in exactly one outcome, set by the step that ends it:
//
//   - blacklisted: the Blocklist said so (withheld callers never are).
//     Busy and congestion modes reject without answering; message mode
//     answers, plays Prompts.Blocked and hangs up.
//   - welcome_hangup: the caller hung up before entering a queue (before
//     the answer, during the welcome or the menu).
//   - answered: the bridge with an operator went up. ConnectedAt is the
//     moment the bridge was requested; HangupBy says who ended the talk.
//   - abandoned: the caller hung up in the queue, also while an operator's
//     phone rang (the leg is cancelled, the operator stays available), and
//     also after choosing voicemail but before the recording started.
//   - voicemail: a message was recorded (Record's name in the CDR; the
//     recording is kept by the engine, ivr never deletes it).
//   - unanswered: nobody could answer: max wait (from the queue entry,
//     kept across re-adoption), nobody logged in with the language's skill
//     (paused operators count as logged in: they may come back), the
//     queue store refused the call, or the engine could not answer it.
//     The caller hears Prompts.Unanswered before the hang-up.
//
// Nobody with the skill: with NoOperatorGrace 0 the check is made once on
// queue entry and the call ends at once; otherwise it is made every grace
// period and the call ends when two checks in a row found nobody, so a
// shift change (one operator logging out as the next logs in) does not
// send callers away.
//
// # DTMF rules
//
// Keys arrive at any time, garbage included ('A'–'D', '*', '#', repeats,
// bytes no phone sends). The rules:
//
//  1. Only the sixteen DTMF keys exist (Digit.Valid); anything else the
//     engine hands over is dropped without a trace.
//  2. Keys mean something only at a listening point: the welcome, the
//     menu, and the queue. Each listening point starts with an empty
//     buffer, so a key never leaks from one step into the next (the rest
//     of a menu burst does not become a voicemail request; the '#' that
//     ends a recording does nothing).
//  3. At a listening point the first valid key decides; the keys after it
//     are discarded. A burst ("123*#ABCD0") is one press.
//  4. The welcome is interrupted by any valid key. If the key is the menu
//     key of a language open now, it is the choice and the menu is
//     skipped; otherwise the menu plays, and that key did not cost a try.
//  5. In the menu, any key that is not an open language's key (a closed
//     language's key, 'A'–'D', '*', '#') is a wrong try, and so is
//     silence for MenuTimeout after the prompts. After MenuTries wrong
//     tries the caller gets the default language. Keys pressed during the
//     "invalid choice" prompt are discarded. With only one language open
//     there is no menu.
//  6. In the queue only VoicemailDigit means something; other keys are
//     discarded. A key already pressed when an offer arrives wins over
//     the offer (leaving the queue voids it). While an operator's phone
//     rings, and during the talk and the recording, keys are discarded.
//  7. During the talk the operator's keys (Leg.DTMF) form feature codes
//     for Deps.Talk: a code starts with '*' (keys before it are meant for
//     the far end, e.g. a service's own menu, and ignored) and ends with
//     '#' or after FeatureTimeout without a key; invalid keys are
//     dropped. The caller's keys mean nothing then.
//
// Buffering is the adapter's: Call.DTMF must never block the engine's
// event loop, so it is a buffered channel whose newest keys are dropped
// (and counted) if the flow ever falls 16 keys behind.
//
// # Why the engine interface looks as it does
//
// The interface is the smallest set of blocking calls the flow needs;
// everything that must behave the same on Asterisk and FreeSWITCH (timers,
// DTMF meaning, retries, outcomes) lives here, everything protocol-shaped
// (events, playback ids, Local-channel halves, SIP causes) in the
// adapters:
//
//   - Blocking calls cancelled by context (Play, Record, Originate) let the
//     flow compose them with select — barge-in is "Play in a goroutine,
//     select on DTMF, cancel" — instead of every adapter implementing
//     barge-in, digit collection and their timeouts twice.
//   - Done channels, not callbacks, report hang-ups: a hang-up can happen
//     at any moment and every wait in the flow selects on it.
//   - The engine knows no clock (except the ring timeout and the recording
//     limit, which both engines enforce natively): the flow's timing runs
//     on the injected clockwork.Clock, so tests drive it with a fake clock.
//   - Originate belongs to the Call: a leg exists for one caller, and an
//     adapter can tag and clean it up with the call.
//   - Rejecting an unanswered call is Hangup with a cause (busy,
//     congestion): one method less, and exactly what ARI and ESL do.
//   - Errors are plain errors plus two shapes the flow branches on:
//     ErrHangup (the channel went away) and *OriginateError (the far end
//     said no, with its Q.850 cause).
//
// # The talk, flags and transfers
//
// Once bridged, the call belongs to the talk loop (talk.go) until it
// ends. It tells Deps.Talk who the operator's caller is (Connected: the
// "last caller" an operator may flag) and hands it each feature code the
// operator keys on their leg (Feature). The handler (package operator)
// acts through *Talk: Flag gives the operator FlaggedWrapUp; NoteTransfer
// writes the transfer into this call's one CDR; Join adds a service's
// leg as a party (a three-way call, or a completed transfer);
// OperatorLeft frees the operator at once, with their wrap-up from that
// moment, while the caller talks on with the parties; Requeue sends a
// caller whose transfer failed after the operator left back to the queue
// in their original place (with a fresh MaxWait). The call ends when the
// caller hangs up, or when the operator and every party are gone
// (HangupBy operator: the helpline side hung up). A caller who talked
// with an operator keeps the outcome answered whatever follows.
//
// # Concurrency
//
// Each call runs in its own goroutine (Handle); the node's Dispatcher runs
// in another (Run) and hands offers to calls through a one-slot channel
// per call. The dispatcher follows the queue's events (queue.Watcher), is
// kicked by the flows (enqueue, ring failure, caller gone while offered),
// woken at the end of each wrap-up by a clock timer, and ticks every
// DispatchEvery as a safety net.
//
// # Restarts
//
// Cancelling Handle's context (the app stops in order) leaves a waiting
// call as it is — queued, with music — and writes no CDR. A process can
// also die without stopping (SIGKILL, a crash): then nothing at all is
// cleaned up. Either way the next process re-adopts every call still on
// the engine with Flow.Readopt, and the call ends with exactly one CDR,
// written by whichever process sees its end. What it knows of the call
// is what survives the process:
//
//   - the queue entry (Redis): language, Enqueued time, place, and the
//     operator it was being offered to;
//   - a Mark the flow writes on the channel itself (an ARI channel
//     variable) at the two steps the queue forgets: when the talk starts
//     (operator, language, queue and connect times) and when the caller
//     chooses voicemail (the recording's name). It holds no number;
//   - what the engine shows: the channel's state and creation time (the
//     CDR's ArrivedAt), the bridge and the operator's leg in it, the live
//     or stored recording.
//
// State by state:
//
//   - welcome or menu (answered, not queued, no mark): the language menu
//     again, without the welcome, then the queue, entered now. We chose
//     this over queueing at once in the default language: a person in
//     danger needs an operator who speaks her language, the menu costs a
//     few seconds, and the welcome she already heard is not repeated.
//     ArrivedAt stays the channel's creation time, so the report's
//     weekday × hour figures still count her call when it came. The
//     blacklist is asked again (cheap, and a number blocked meanwhile is
//     refused). Not answered yet: the flow from the start.
//   - waiting: the queue entry is kept as it is (place, language, max
//     wait from the original Enqueued time).
//   - ringing an operator: the ring died with the process (the adapter
//     hangs the leg up); the offer is returned (Leave, then Enqueue again
//     with the same Enqueued time: same place), the operator is free and
//     not paused (it was not her fault), and the call is offered anew.
//   - talking: nothing is touched; the talk loop watches the caller, the
//     operator's leg and her feature codes as before, and the CDR keeps
//     the connect time and operator of the mark (else the bridge's
//     creation time and the leg's operator). A talk that ended while no
//     process ran (the leg is gone) is closed as answered, by the
//     operator, and the caller left alone in the bridge is hung up.
//   - voicemail: the recording is let finish (RecordingAwaiter) rather
//     than stopped: Asterisk records on without us, and cutting a message
//     short to tidy up after our own crash would cost the caller what she
//     was saying. The file is kept and named in the CDR; she hears the
//     thanks as usual. If the recording never started, the intro and the
//     recording run again.
//
// A call whose channel vanished because the engine itself restarted
// (HangupNoter's note starts with NoteEngineRestart) is closed as
// unanswered with that note, HangupBy system — not as the caller's
// hang-up — unless she had talked (answered, cut short) or a message was
// recorded; the report counts those notes in a footnote.
//
// A call that ended while no process was running leaves no channel to
// find. For those the flow keeps a Journal (Deps.Journal; Redis in
// production): the record so far, noted at arrival, queue entry, talk and
// voicemail, forgotten once the CDR is written. Once the engine's calls
// are re-adopted, the new process sweeps it (Flow.Sweep): every record
// left whose channel is gone and that no flow runs gets its CDR — its
// outcome from the last step noted (answered, voicemail, abandoned,
// welcome_hangup), its end time the moment it was found gone (the note
// NoteEndedUnseen says so) — its queue entry is removed and its operator
// given her wrap-up. Without a Journal such calls get no CDR.
//
// # Several nodes
//
// Nodes, each attached to its own Asterisk, may share one queue
// (Dispatcher.Join). Assign stays global — the oldest waiting call with a
// matching operator, wherever either is — because that is what keeps
// arrival order across nodes; letting each node assign only its own calls
// would let a node's newer caller overtake an older one on another node.
// Only the node holding a call's channel can bridge it, so an offer for
// another node's call is handed over to that node (queue.Nodes: a Redis
// list per node, read with BLPOP), which originates the operator's leg
// itself: directly when the operator's phone is registered with its own
// Asterisk, otherwise through its inter-node trunk to the node hosting
// them ("PJSIP/<user>@<trunk>"). There is no double ring because the
// offer — a reservation made atomically by Assign — reaches exactly one
// node, the call's owner, which drops it if it expired on the way; a
// hand-over that is lost, late, or reaches a node that died is bounded by
// the offer's TTL, after which the call is back in its place. The owner
// does not return a handed-over offer it cannot deliver yet (a call about
// to leave or not re-adopted yet): doing so would have the assigning node
// offer it again at once, in a loop.
//
// Every node beats every third of Cluster.HeartbeatTTL and reaps the
// nodes whose beat expired: their operators are paused "unreachable" (no
// node can ring a softphone registered with a dead Asterisk), their calls
// leave the queue, since their channels died with it, and an operator
// elsewhere talking through the trunk with one of their callers is
// available again (nobody would ever finish that call). The TTL outlasts
// an app restart, so re-adoption keeps a call's place; a node that beats
// again gets its unreachable operators back.
package ivr
