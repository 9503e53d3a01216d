package queue

import "time"

// ExpectedWait estimates how long the caller at position (1-based, as
// returned by Position) will wait, given the number of operators with the
// call's language skill who are logged in and not paused, and the recent
// average handle time (talk plus wrap-up) of that language.
//
// The model is the one an announcement can honestly afford: each of the n
// operators frees a slot on average every avgHandle, independently and
// without memory (exponential handle times), so slots free at a rate of
// n/avgHandle and the caller needs `position` of them:
//
//	wait = position × avgHandle / n
//
// ok is false — say nothing rather than something wrong — when there is
// no operator, no history (avgHandle ≤ 0) or no valid position. The result
// is not rounded; announcements round it to what they can say.
func ExpectedWait(position, operators int, avgHandle time.Duration) (wait time.Duration, ok bool) {
	if position < 1 || operators < 1 || avgHandle <= 0 {
		return 0, false
	}
	return time.Duration(int64(position) * int64(avgHandle) / int64(operators)), true
}
