package metric

import (
	"slices"
	"time"

	"github.com/helpline-it/helpline/cdr"
)

// Service-level thresholds shown by the report and the live view.
const (
	ShortThreshold = 20 * time.Second
	LongThreshold  = 60 * time.Second
)

// Offered reports whether an inbound call entered a language queue.
func Offered(r *cdr.Record) bool {
	if r.Direction != cdr.Inbound {
		return false
	}
	switch r.Outcome {
	case cdr.Answered, cdr.Abandoned, cdr.Voicemail, cdr.Unanswered:
		return true
	}
	return false
}

// Wait is the wait of an answered inbound call from queue entry to
// operator; ok is false for any other call or when a time is missing.
func Wait(r *cdr.Record) (d time.Duration, ok bool) {
	if r.Direction != cdr.Inbound || r.Outcome != cdr.Answered || r.QueuedAt.IsZero() || r.ConnectedAt.IsZero() {
		return 0, false
	}
	return Between(r.QueuedAt, r.ConnectedAt), true
}

// Waiting is how long a caller who entered the queue at queuedAt has
// waited at now: the live counterpart of Wait.
func Waiting(queuedAt, now time.Time) time.Duration {
	return Between(queuedAt, now)
}

// Talk is the talk time of an answered call (inbound or outbound); ok is
// false for calls that never connected or lack an end.
func Talk(r *cdr.Record) (d time.Duration, ok bool) {
	if r.Outcome != cdr.Answered || r.ConnectedAt.IsZero() || r.EndedAt.IsZero() {
		return 0, false
	}
	return Between(r.ConnectedAt, r.EndedAt), true
}

// Between is end − start, never negative (clock skew counts as zero).
func Between(start, end time.Time) time.Duration {
	if d := end.Sub(start); d > 0 {
		return d
	}
	return 0
}

// Within reports whether a wait meets a threshold (inclusive).
func Within(wait, threshold time.Duration) bool { return wait <= threshold }

// AnsweredWithin reports whether r is an answered inbound call whose wait
// is at most threshold.
func AnsweredWithin(r *cdr.Record, threshold time.Duration) bool {
	w, ok := Wait(r)
	return ok && Within(w, threshold)
}

// Percent is part/whole×100 with one decimal, rounded half up on the exact
// integer ratio; ok is false when whole is zero (the share is undefined,
// shown as "n/d").
func Percent(part, whole int64) (pct float64, ok bool) {
	if whole <= 0 {
		return 0, false
	}
	// tenths of a percent = round(part*1000/whole)
	tenths := (2*part*1000 + whole) / (2 * whole)
	return float64(tenths) / 10, true
}

// Percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted,
// which must be in ascending order; 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p/100 × n), computed in integers for p with up to
	// two decimals so that 90 % of 10 is exactly rank 9.
	hp := int64(p*100 + 0.5)
	rank := int((hp*int64(n) + 9999) / 10000)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// QueueStats accumulates the queue figures of a set of inbound calls (a
// language, a service, the whole period, or today's calls in the live
// view). The zero value is ready to use.
type QueueStats struct {
	Offered    int64
	Answered   int64
	Abandoned  int64
	Voicemail  int64
	Unanswered int64
	// WithinShort and WithinLong count answered calls within
	// ShortThreshold and LongThreshold.
	WithinShort int64
	WithinLong  int64
	// WaitTotal sums the waits of the answered calls that have one;
	// Waited counts them (an answered call without a queue time has no
	// wait and is left out of the mean).
	WaitTotal time.Duration
	Waited    int64

	waits  []time.Duration
	sorted bool
}

// Add counts r if it is an offered inbound call; other calls are ignored.
func (s *QueueStats) Add(r *cdr.Record) {
	if !Offered(r) {
		return
	}
	s.Offered++
	switch r.Outcome {
	case cdr.Answered:
		s.Answered++
		if w, ok := Wait(r); ok {
			s.AddWait(w)
		}
	case cdr.Abandoned:
		s.Abandoned++
	case cdr.Voicemail:
		s.Voicemail++
	case cdr.Unanswered:
		s.Unanswered++
	}
}

// AddWait records the wait of one answered call (for feeds that are not
// cdr.Records, such as live queue events). Add calls it.
func (s *QueueStats) AddWait(w time.Duration) {
	s.Waited++
	s.WaitTotal += w
	if Within(w, ShortThreshold) {
		s.WithinShort++
	}
	if Within(w, LongThreshold) {
		s.WithinLong++
	}
	s.waits = append(s.waits, w)
	s.sorted = false
}

// Merge adds the figures of o to s.
func (s *QueueStats) Merge(o *QueueStats) {
	s.Offered += o.Offered
	s.Answered += o.Answered
	s.Abandoned += o.Abandoned
	s.Voicemail += o.Voicemail
	s.Unanswered += o.Unanswered
	s.WithinShort += o.WithinShort
	s.WithinLong += o.WithinLong
	s.WaitTotal += o.WaitTotal
	s.Waited += o.Waited
	s.waits = append(s.waits, o.waits...)
	s.sorted = false
}

// MeanWait is the mean wait of answered calls; ok is false without any.
func (s *QueueStats) MeanWait() (mean time.Duration, ok bool) {
	if s.Waited == 0 {
		return 0, false
	}
	return s.WaitTotal / time.Duration(s.Waited), true
}

// MeanWaitSeconds is MeanWait in seconds without rounding to nanoseconds
// first; ok is false without answered calls.
func (s *QueueStats) MeanWaitSeconds() (mean float64, ok bool) {
	if s.Waited == 0 {
		return 0, false
	}
	return s.WaitTotal.Seconds() / float64(s.Waited), true
}

// WaitPercentile is the nearest-rank percentile p of the waits of answered
// calls; ok is false without any.
func (s *QueueStats) WaitPercentile(p float64) (d time.Duration, ok bool) {
	if len(s.waits) == 0 {
		return 0, false
	}
	if !s.sorted {
		slices.Sort(s.waits)
		s.sorted = true
	}
	return Percentile(s.waits, p), true
}

// ShareWithinShort is the percentage of offered calls answered within
// ShortThreshold; ok is false when nothing was offered.
func (s *QueueStats) ShareWithinShort() (pct float64, ok bool) {
	return Percent(s.WithinShort, s.Offered)
}

// ShareWithinLong is the percentage of offered calls answered within
// LongThreshold; ok is false when nothing was offered.
func (s *QueueStats) ShareWithinLong() (pct float64, ok bool) {
	return Percent(s.WithinLong, s.Offered)
}
