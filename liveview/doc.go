// Package liveview is the shift supervisor's live view of the switchboard
// (`helpline queue`): who waits, for how long, in which language; who is
// free, ringing, busy, in wrap-up or paused; and how the day is going.
//
// A supervisor keeps it open all night in a terminal beside the phones
// and reads it at a glance, often from across the room. That decides its
// shape:
//
//   - One screen, fixed places. Waiting callers on top (per language, the
//     oldest first, with position, time waited and the caller's tag), the
//     operators below (one row each, ordered by ID so a name does not
//     jump around), today's counters at the bottom. Languages keep their
//     menu order whether or not anyone waits; idle ones fold into one
//     line. On a small window (80×24 is the design size) rows are dropped,
//     never lines cut in the middle: every language keeps its oldest
//     caller visible and says how many more wait; the operator list
//     scrolls with the selection.
//   - Words first, colour second. Every alarm is written ("! LONG WAIT",
//     "PAUSED", "REDIS DOWN", "! nobody logged in"); colour only repeats
//     it. So the view reads the same in monochrome, under NO_COLOR, in
//     --once output and in a screenshot pasted into an incident report.
//   - Never a number. Callers appear by the short non-reversible tag of
//     package callerid. A tag of any other shape found in the shared queue
//     is masked ("????????") instead of shown: the screen is in a room
//     where visitors pass.
//   - Honest about its own freshness. The badge in the title says LIVE
//     (events arriving), POLLING (no subscription, refresh only), STALE,
//     ERROR or REDIS DOWN; a banner says since when and how old the data
//     is, and while the data is stale the waits are shown as they were
//     then ("as of 21:14:05"), not extrapolated. A supervisor who trusts a
//     frozen screen misses a caller waiting for ten minutes.
//   - The report's numbers. Today's counters use package report/metric —
//     the definitions of the quarterly report — so the wall screen and the
//     report never disagree: offered, answered, abandoned, voicemail,
//     unanswered, shares answered within 20 s and 60 s over OFFERED calls,
//     mean wait of answered calls. They come from the call records since
//     local midnight (Records, read only), re-read every RecordsEvery, plus
//     what queue events told since: an answered event counts an answered
//     call with its wait at once (its record is written only after the
//     talk), a left event counts an offered call whose outcome is
//     "pending" until its record says which. A call is never counted
//     twice: its record replaces its live entry.
//
// # Data flow
//
// The Model is a bubbletea (v1) model driven by messages, each blocking
// source being a tea.Cmd that returns one message and is re-armed by
// Update: the queue's pub/sub events (queue.Watcher), the snapshot reads,
// the record reads, the one-second clock tick and the supervisor's
// actions. Events are hints, not a log (package queue says so): each one
// triggers a re-read of the Snapshot, coalesced so that a burst costs at
// most two reads. A slow safety refresh (Refresh, 5 s) catches what pub/sub
// lost, notices Redis going away, and brings the view back when it
// returns: go-redis resubscribes on its own, and a view that started
// without Redis subscribes after its first good read. There is no tight
// poll: the tick only redraws the clock and the "waited" columns.
//
// Time comes from an injected clockwork.Clock, so tests drive the view
// with a fake clock and await messages instead of sleeping; Update and
// View are tested directly with golden frames (testdata/, -update).
//
// # Actions
//
// Pause, unpause and log out of the selected operator go through the
// queue's own methods after a y/n confirmation that says what will happen
// ("Their call returns to the queue", "They are ON A CALL"). The view
// refuses up front what the queue would refuse (pausing a busy operator,
// unpausing one who is not paused, anything while Redis is down). Each
// action is written to the audit trail (Auditor; AuditFile appends JSON
// lines) with the supervisor's name before it is attempted — an action
// that cannot be recorded is not done — and again with its outcome; the
// pause reason names the supervisor ("supervisor:<name>"), so the operator
// row shows who paused them.
//
// # Outputs
//
// The same Board is drawn full screen (Model.View), printed once as text
// (WriteText, `--once`) or as JSON (WriteJSON, `--json`, shape documented
// on jsonBoard, versioned by JSONVersion) for scripts and monitoring, or,
// when stdout is not a terminal, summarised in one line per change
// (Options.Lines).
//
// # Looking changes nothing
//
// queue.Snapshot brings the queue up to the time it is given (promotes
// ended wrap-ups, returns expired offers) before answering. The view
// passes an instant before anything can be due (readOnlyInstant), so its
// reads never change routing — however many supervisors watch, and
// whatever their machines' clocks say — and works out itself that an
// ended wrap-up means free. An offer that expired stays "ringing" until
// the switchboard reaps it, which is the truth of the store.
//
// # Known limits
//
// Redis going away is noticed at the next safety refresh (go-redis
// reconnects its subscription silently), so within Refresh. A call
// answered before the view started and still in conversation is counted
// when its record is written.
package liveview
