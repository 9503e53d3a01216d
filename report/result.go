package report

import (
	"time"
)

// Result holds every figure of the report for one period. Renderers
// (Text, JSON, CSV, HTML) only format it; they compute nothing.
type Result struct {
	Period Period
	// Service is the service reported ("" = every service).
	Service string

	Inbound  Inbound
	Talk     Talk
	Wait     Wait
	Weekday  WeekdayHour
	Outbound Outbound
	Previous Previous

	// Languages has one row per queue language, most offered first.
	Languages []QueueFigures
	// AllLanguages sums Languages.
	AllLanguages QueueFigures
	// Operators has one row per operator id, in id order.
	Operators []OperatorFigures
	// LoginHoursKnown is false until operator log-in/log-out events are
	// recorded (see LoginHours): the hours column then reads "n/d".
	LoginHoursKnown bool

	// Skipped counts records that were fed but not reported.
	Skipped Skipped
}

// Inbound is section A.1: every inbound call ends in exactly one outcome.
// Total = Queued + Blacklisted + WelcomeHangup and Queued = Answered +
// Unanswered + Voicemail + Abandoned hold by construction.
type Inbound struct {
	Total, Queued                              int64
	Answered, Unanswered, Voicemail, Abandoned int64
	Blacklisted, WelcomeHangup                 int64
	// EngineRestart counts the calls that vanished with a restart of the
	// switchboard (Asterisk) rather than ending: their CDR's note starts
	// with NoteEngineRestart. EngineRestartUnanswered of them never
	// reached an operator and are among Unanswered; the others kept
	// their outcome (a talk cut short is still answered). The text
	// report says so in a footnote when there are any.
	EngineRestart, EngineRestartUnanswered int64
	SharesOfTotal                          TotalShares
	SharesOfQueued                         QueuedShares
}

// TotalShares are percentages of the inbound total with one decimal,
// adding up to 100.0 (largest remainder).
type TotalShares struct {
	Queued, Blacklisted, WelcomeHangup float64
}

// QueuedShares are percentages of the queued calls with one decimal,
// adding up to 100.0 (largest remainder).
type QueuedShares struct {
	Answered, Unanswered, Voicemail, Abandoned float64
}

// Talk is section A.2, over answered inbound calls.
type Talk struct {
	// Total is the sum of the talk times (metric.Talk).
	Total time.Duration
	// Calls is the number of answered inbound calls (the divisor).
	Calls int64
	// Average is Total / Calls, rounded to the second (0 without calls).
	Average time.Duration
	// AverageSeconds is Total / Calls unrounded.
	AverageSeconds float64
}

// Wait is section A.3, over answered inbound calls.
type Wait struct {
	// AverageSeconds is the mean wait (metric.Wait); Known is false when
	// no answered call had a queue time.
	AverageSeconds float64
	Known          bool
	// Calls is the number of waits averaged.
	Calls int64
}

// WeekdayHour is section A.4: inbound calls by local weekday (Monday
// first, index 0) and local hour of arrival.
type WeekdayHour [7][24]int64

// DayTotal sums a weekday's column (0 = Monday).
func (m *WeekdayHour) DayTotal(day int) int64 {
	var n int64
	for _, v := range m[day] {
		n += v
	}
	return n
}

// HourTotal sums an hour's row over the week.
func (m *WeekdayHour) HourTotal(hour int) int64 {
	var n int64
	for d := range m {
		n += m[d][hour]
	}
	return n
}

// Total sums every cell.
func (m *WeekdayHour) Total() int64 {
	var n int64
	for d := range m {
		n += m.DayTotal(d)
	}
	return n
}

// Max is the largest cell (the top of the heat map's scale).
func (m *WeekdayHour) Max() int64 {
	var n int64
	for d := range m {
		for _, v := range m[d] {
			n = max(n, v)
		}
	}
	return n
}

// Outbound is section A.8: operators' calls to the anti-violence network.
type Outbound struct {
	Answered, Busy, NoAnswer, Failed, Total int64
	// AnsweredShare is Answered / Total in percent, one decimal;
	// ShareKnown is false when Total is 0.
	AnsweredShare float64
	ShareKnown    bool
	// Talk sums the talk times of answered outbound calls.
	Talk time.Duration
}

// Previous compares the inbound total with the previous period of the
// same length (Period.Previous).
type Previous struct {
	Period Period
	// Known is false when the store holds no data for the previous period
	// (or the result was built without a store): shown as "n/d".
	Known bool
	Total int64
	// ChangePercent is (current − previous) / previous × 100, one
	// decimal; ChangeKnown is false when unknown or previous is 0.
	ChangePercent float64
	ChangeKnown   bool
}

// QueueFigures are the service figures of one language queue (or of all).
type QueueFigures struct {
	// Language is the queue's language code ("" when the record had none).
	Language string

	Offered, Answered, Abandoned, Voicemail, Unanswered int64

	// MeanWait and P90Wait are over answered calls (metric.Wait,
	// metric.Percentile); WaitKnown is false without answered calls.
	MeanWait, P90Wait time.Duration
	WaitKnown         bool
	// WithinShort and WithinLong are the percentages of offered calls
	// answered within metric.ShortThreshold / LongThreshold; ShareKnown is
	// false when nothing was offered.
	WithinShort, WithinLong float64
	ShareKnown              bool
}

// OperatorFigures are one operator's calls in the period.
type OperatorFigures struct {
	Operator string
	// Answered inbound calls and their talk time.
	Answered int64
	Talk     time.Duration
	// Outbound calls placed (any outcome) and talk time of the answered ones.
	Outbound     int64
	OutboundTalk time.Duration
	// LoggedIn is the time logged in during the period; meaningful only
	// when Result.LoginHoursKnown.
	LoggedIn time.Duration
}

// Skipped counts records fed to the report but left out of it, so that
// nothing disappears silently.
type Skipped struct {
	// OutsidePeriod: ArrivedAt not in the period (a store that filters
	// never produces these).
	OutsidePeriod int64
	// OtherService: the record belongs to another service.
	OtherService int64
	// UnknownDirection / UnknownOutcome: values this version does not know.
	UnknownDirection, UnknownOutcome int64
	// AnsweredWithoutTimes: answered calls counted, but lacking the times
	// needed for their talk or wait (left out of those averages only).
	AnsweredWithoutTimes int64
}

// Total is the number of records left out of the counts entirely.
func (s Skipped) Total() int64 {
	return s.OutsidePeriod + s.OtherService + s.UnknownDirection + s.UnknownOutcome
}
