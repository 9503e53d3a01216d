package report

import (
	"context"
	"fmt"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/report/metric"
)

// Source is what the report needs of a call-record store; cdr.Store
// satisfies it.
type Source interface {
	Scan(ctx context.Context, f cdr.Filter, fn func(*cdr.Record) error) error
	Count(ctx context.Context, f cdr.Filter) (int, error)
}

// LoginHours reports how long each operator was logged in during
// [from, to). It is the seam for the "hours logged in" column: operator
// log-in/log-out events are not recorded yet, so nothing implements it
// and the column reads n/d. When they are, the store of operator events
// implements it and the CLI passes it in Options.
type LoginHours interface {
	LoginHours(ctx context.Context, from, to time.Time) (map[string]time.Duration, error)
}

// Options tune FromStore. The zero value reports every service.
type Options struct {
	// Service restricts the report to one service ("" = all).
	Service string
	// Login, if set, fills the operators' hours logged in.
	Login LoginHours
}

// FromStore computes the report of period from the records in src, and
// the change of the inbound total against the previous period of the same
// length (Period.Previous).
//
// The previous period counts as known only if src holds data for all of
// it: some inbound call on or before its first day, and some in it. A
// store that starts in the middle of the previous period would otherwise
// turn a partial count into a fake rise, and on a 24-hour line a day
// without a single call means the records are missing, not the callers.
func FromStore(ctx context.Context, src Source, period Period, opts Options) (Result, error) {
	acc := NewAccumulator(period, opts.Service)
	f := cdr.Filter{From: period.Start(), To: period.End(), Service: opts.Service}
	if err := src.Scan(ctx, f, func(r *cdr.Record) error {
		acc.Add(r)
		return nil
	}); err != nil {
		return Result{}, fmt.Errorf("report: scan %s: %w", period, err)
	}
	res := acc.Result()

	prev := period.Previous()
	known, total, err := previousTotal(ctx, src, prev, opts.Service)
	if err != nil {
		return Result{}, err
	}
	res.Previous = comparePrevious(prev, known, total, res.Inbound.Total)

	if opts.Login != nil {
		hours, err := opts.Login.LoginHours(ctx, period.Start(), period.End())
		if err != nil {
			return Result{}, fmt.Errorf("report: login hours: %w", err)
		}
		addLoginHours(&res, hours)
	}
	return res, nil
}

// previousTotal counts the inbound calls of prev with a known outcome,
// the same calls as Inbound.Total (unknown outcomes are left out of both).
func previousTotal(ctx context.Context, src Source, prev Period, service string) (known bool, total int64, err error) {
	firstDay := prev.From.AddDate(0, 0, 1)
	early, err := src.Count(ctx, cdr.Filter{To: firstDay, Direction: cdr.Inbound, Service: service})
	if err != nil {
		return false, 0, fmt.Errorf("report: count before %s: %w", firstDay.Format(dateLayout), err)
	}
	if early == 0 {
		return false, 0, nil
	}
	acc := NewAccumulator(prev, service)
	f := cdr.Filter{From: prev.Start(), To: prev.End(), Direction: cdr.Inbound, Service: service}
	if err := src.Scan(ctx, f, func(r *cdr.Record) error {
		acc.addInboundTotalOnly(r)
		return nil
	}); err != nil {
		return false, 0, fmt.Errorf("report: scan previous period %s: %w", prev, err)
	}
	n := acc.in.Answered + acc.in.Unanswered + acc.in.Voicemail + acc.in.Abandoned + acc.in.Blacklisted + acc.in.WelcomeHangup
	return n > 0, n, nil
}

// addInboundTotalOnly counts the outcome of an inbound record, nothing
// else (the previous period needs only its total).
func (a *Accumulator) addInboundTotalOnly(r *cdr.Record) {
	if !a.period.Contains(r.ArrivedAt) || (a.service != "" && r.Service != a.service) || r.Direction != cdr.Inbound {
		return
	}
	switch r.Outcome {
	case cdr.Answered:
		a.in.Answered++
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
	}
}

// comparePrevious fills Previous for a current total.
func comparePrevious(prev Period, known bool, prevTotal, current int64) Previous {
	p := Previous{Period: prev, Known: known, Total: prevTotal}
	if known && prevTotal > 0 {
		// change in tenths of a percent, rounded half away from zero
		p.ChangePercent, p.ChangeKnown = changePercent(prevTotal, current), true
	}
	return p
}

func changePercent(prev, cur int64) float64 {
	diff := cur - prev
	if diff >= 0 {
		v, _ := metric.Percent(diff, prev)
		return v
	}
	v, _ := metric.Percent(-diff, prev)
	return -v
}

func addLoginHours(res *Result, hours map[string]time.Duration) {
	res.LoginHoursKnown = true
	seen := make(map[string]bool, len(res.Operators))
	for i := range res.Operators {
		op := &res.Operators[i]
		op.LoggedIn = hours[op.Operator]
		seen[op.Operator] = true
	}
	for id, d := range hours {
		if !seen[id] {
			// logged in but took no call: still a row, hours are work too
			res.Operators = append(res.Operators, OperatorFigures{Operator: id, LoggedIn: d})
		}
	}
	sortOperators(res.Operators)
}
