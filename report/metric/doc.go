// Package metric holds the definitions of the service figures (wait, talk,
// offered, "answered within 20 s", percentiles) in one place, so that the
// quarterly report (package report) and the supervisor's live view count a
// call the same way. A figure that means one thing in the report and
// another on the wall screen is worse than no figure at all: supervisors
// steer the day by the live view and are judged by the report.
//
// Definitions (all on inbound calls unless said otherwise):
//
//   - Offered: the call entered a language queue, i.e. its outcome is
//     answered, abandoned, voicemail or unanswered. Blacklisted calls and
//     calls closed during the welcome message are not offered.
//   - Wait: from queue entry (QueuedAt) to the bridge with an operator
//     (ConnectedAt). It is defined for answered calls only; the time an
//     abandoned caller spent waiting is not a wait to an operator. A
//     negative difference (clock skew between nodes) counts as zero.
//     A caller still waiting has waited Waiting(queuedAt, now) so far.
//   - Talk: from the bridge (ConnectedAt) to hang-up (EndedAt) of an
//     answered call, inbound or outbound.
//   - Answered within T: an answered call whose wait is at most T
//     (inclusive: a wait of exactly 20 s is within 20 s). The share
//     "answered within T" is over OFFERED calls, so every abandoned,
//     unanswered or voicemail call counts against it; no short abandons
//     are excused. The report and the live view use T = 20 s and 60 s
//     (ShortThreshold, LongThreshold).
//   - Percentile p of the wait: nearest rank over the waits of answered
//     calls sorted ascending, the value at rank ceil(p/100 × n).
//   - Percent: a share with one decimal, rounded half up from the exact
//     integer ratio (no float drift). Shares of a breakdown that must add
//     up to 100 use largest-remainder rounding instead (package report).
package metric
