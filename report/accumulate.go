package report

import (
	"cmp"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/report/metric"
)

// NoteEngineRestart starts the note of a CDR whose call vanished with a
// restart of the switchboard (the call flow's ivr.NoteEngineRestart; the
// report knows no telephony, so the word is repeated here, and a test
// keeps the two equal).
const NoteEngineRestart = "engine_restart"

// Accumulator computes a Result from records fed one at a time, in any
// order, without holding them: memory grows with the number of answered
// calls (their waits, for the percentile), not with the records. It does
// not know where records come from; FromStore feeds it from a cdr store
// and tests feed it directly. It is not safe for concurrent use.
type Accumulator struct {
	period  Period
	service string

	in      Inbound
	talk    time.Duration
	talkN   int64
	weekday WeekdayHour
	out     Outbound
	langs   map[string]*metric.QueueStats
	ops     map[string]*OperatorFigures
	skipped Skipped
	zones   zoneCache
}

// NewAccumulator starts an empty report for period, restricted to one
// service when service is not "" (every CDR carries its service).
func NewAccumulator(period Period, service string) *Accumulator {
	return &Accumulator{
		period:  period,
		service: service,
		langs:   make(map[string]*metric.QueueStats),
		ops:     make(map[string]*OperatorFigures),
		zones:   zoneCache{loc: period.Location},
	}
}

// Build computes the report of period from records (every record is
// checked against the period, so an unfiltered sequence is fine).
func Build(period Period, service string, records iter.Seq[*cdr.Record]) Result {
	a := NewAccumulator(period, service)
	for r := range records {
		a.Add(r)
	}
	return a.Result()
}

// Add counts one record. Records outside the period, of another service,
// or with a direction or outcome this version does not know are counted
// in Result.Skipped instead.
func (a *Accumulator) Add(r *cdr.Record) {
	if !a.period.Contains(r.ArrivedAt) {
		a.skipped.OutsidePeriod++
		return
	}
	if a.service != "" && r.Service != a.service {
		a.skipped.OtherService++
		return
	}
	switch r.Direction {
	case cdr.Inbound:
		a.addInbound(r)
	case cdr.Outbound:
		a.addOutbound(r)
	default:
		a.skipped.UnknownDirection++
	}
}

func (a *Accumulator) addInbound(r *cdr.Record) {
	switch r.Outcome {
	case cdr.Answered:
		a.in.Answered++
		talk, ok := metric.Talk(r)
		if _, wok := metric.Wait(r); !ok || !wok {
			a.skipped.AnsweredWithoutTimes++
		}
		if ok {
			a.talk += talk
		}
		a.talkN++
		op := a.operator(r.Operator)
		op.Answered++
		op.Talk += talk
	case cdr.Unanswered:
		a.in.Unanswered++
	case cdr.Voicemail:
		a.in.Voicemail++
	case cdr.Abandoned:
		a.in.Abandoned++
	case cdr.Blacklisted:
		a.in.Blacklisted++
	case cdr.WelcomeHangup:
		a.in.WelcomeHangup++
	default:
		a.skipped.UnknownOutcome++
		return
	}
	if strings.HasPrefix(r.Note, NoteEngineRestart) {
		a.in.EngineRestart++
		if r.Outcome == cdr.Unanswered {
			a.in.EngineRestartUnanswered++
		}
	}
	if metric.Offered(r) {
		s := a.langs[r.Language]
		if s == nil {
			s = new(metric.QueueStats)
			a.langs[r.Language] = s
		}
		s.Add(r)
	}
	day, hour := a.zones.weekdayHour(r.ArrivedAt)
	a.weekday[day][hour]++
}

func (a *Accumulator) addOutbound(r *cdr.Record) {
	switch r.Outcome {
	case cdr.Answered:
		a.out.Answered++
	case cdr.Busy:
		a.out.Busy++
	case cdr.NoAnswer:
		a.out.NoAnswer++
	case cdr.Failed:
		a.out.Failed++
	default:
		a.skipped.UnknownOutcome++
		return
	}
	a.out.Total++
	talk, _ := metric.Talk(r) // 0 unless answered
	a.out.Talk += talk
	op := a.operator(r.Operator)
	op.Outbound++
	op.OutboundTalk += talk
}

func (a *Accumulator) operator(id string) *OperatorFigures {
	op := a.ops[id]
	if op == nil {
		op = &OperatorFigures{Operator: id}
		a.ops[id] = op
	}
	return op
}

// Result returns the figures counted so far. Previous is left unknown:
// FromStore fills it. Result may be called more than once.
func (a *Accumulator) Result() Result {
	res := Result{
		Period:   a.period,
		Service:  a.service,
		Inbound:  a.in,
		Weekday:  a.weekday,
		Outbound: a.out,
		Skipped:  a.skipped,
		Previous: Previous{Period: a.period.Previous()},
	}
	in := &res.Inbound
	in.Queued = in.Answered + in.Unanswered + in.Voicemail + in.Abandoned
	in.Total = in.Queued + in.Blacklisted + in.WelcomeHangup
	t := LargestRemainder([]int64{in.Queued, in.Blacklisted, in.WelcomeHangup})
	in.SharesOfTotal = TotalShares{tenthsToPercent(t[0]), tenthsToPercent(t[1]), tenthsToPercent(t[2])}
	q := LargestRemainder([]int64{in.Answered, in.Unanswered, in.Voicemail, in.Abandoned})
	in.SharesOfQueued = QueuedShares{tenthsToPercent(q[0]), tenthsToPercent(q[1]), tenthsToPercent(q[2]), tenthsToPercent(q[3])}

	res.Talk = Talk{Total: a.talk, Calls: a.talkN}
	if a.talkN > 0 {
		res.Talk.AverageSeconds = a.talk.Seconds() / float64(a.talkN)
		res.Talk.Average = (a.talk / time.Duration(a.talkN)).Round(time.Second)
	}

	var all metric.QueueStats
	for code, s := range a.langs {
		all.Merge(s)
		res.Languages = append(res.Languages, queueFigures(code, s))
	}
	slices.SortFunc(res.Languages, func(x, y QueueFigures) int {
		return cmp.Or(cmp.Compare(y.Offered, x.Offered), cmp.Compare(x.Language, y.Language))
	})
	res.AllLanguages = queueFigures("", &all)
	if mean, ok := all.MeanWaitSeconds(); ok {
		res.Wait = Wait{AverageSeconds: mean, Known: true, Calls: all.Waited}
	}

	o := &res.Outbound
	o.AnsweredShare, o.ShareKnown = metric.Percent(o.Answered, o.Total)

	for _, op := range a.ops {
		res.Operators = append(res.Operators, *op)
	}
	sortOperators(res.Operators)
	return res
}

func sortOperators(ops []OperatorFigures) {
	slices.SortFunc(ops, func(x, y OperatorFigures) int { return cmp.Compare(x.Operator, y.Operator) })
}

func queueFigures(code string, s *metric.QueueStats) QueueFigures {
	f := QueueFigures{
		Language: code,
		Offered:  s.Offered, Answered: s.Answered, Abandoned: s.Abandoned,
		Voicemail: s.Voicemail, Unanswered: s.Unanswered,
	}
	if mean, ok := s.MeanWait(); ok {
		f.MeanWait = mean
		f.P90Wait, _ = s.WaitPercentile(90)
		f.WaitKnown = true
	}
	f.WithinShort, f.ShareKnown = s.ShareWithinShort()
	f.WithinLong, _ = s.ShareWithinLong()
	return f
}

// zoneCache converts UTC instants to local weekday and hour. Calling
// time.Time.In for each of a million records costs a zone lookup each; the
// offset only changes at DST transitions, so the cache remembers the
// current offset's validity range and recomputes only outside it.
type zoneCache struct {
	loc        *time.Location
	start, end int64 // unix seconds: [start, end) has offset off
	off        int64
}

// weekdayHour returns the local weekday (0 = Monday) and hour of t.
func (z *zoneCache) weekdayHour(t time.Time) (day, hour int) {
	u := t.Unix()
	if u < z.start || u >= z.end || z.start == z.end {
		lt := t.In(z.loc)
		_, off := lt.Zone()
		s, e := lt.ZoneBounds()
		z.off = int64(off)
		z.start, z.end = minInt64, maxInt64
		if !s.IsZero() {
			z.start = s.Unix()
		}
		if !e.IsZero() {
			z.end = e.Unix()
		}
	}
	local := u + z.off
	// floor division so instants before 1970 work too
	days := local / 86400
	secs := local % 86400
	if secs < 0 {
		secs += 86400
		days--
	}
	// 1970-01-01 was a Thursday (index 3 with Monday = 0).
	day = int(((days+3)%7 + 7) % 7)
	return day, int(secs / 3600)
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)
