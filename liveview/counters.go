package liveview

import (
	"context"
	"fmt"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/report/metric"
)

// Records is what the view needs of a call-record store: cdr.Store (the
// configured SQLite) satisfies it. The view only reads.
type Records interface {
	Scan(ctx context.Context, f cdr.Filter, fn func(*cdr.Record) error) error
}

// recordsLookback widens the scan before midnight so that the record of a
// call that arrived just before midnight but was answered after it is
// recognised (and its live entry dropped) although it belongs to
// yesterday's figures.
const recordsLookback = time.Hour

// dayBounds returns local midnight of now's day and of the next day.
func dayBounds(now time.Time, loc *time.Location) (start, end time.Time) {
	t := now.In(loc)
	start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1)
}

// recordCounts is the result of reading one day's call records.
type recordCounts struct {
	stats metric.QueueStats
	// ids are every inbound record seen, including the lookback hour.
	ids map[string]bool
}

// loadRecords reads the inbound records of [start, end) of service and
// counts them with the report's definitions.
func loadRecords(ctx context.Context, src Records, service string, start, end time.Time) (recordCounts, error) {
	rc := recordCounts{ids: map[string]bool{}}
	f := cdr.Filter{From: start.Add(-recordsLookback), To: end, Direction: cdr.Inbound, Service: service}
	err := src.Scan(ctx, f, func(r *cdr.Record) error {
		rc.ids[r.ID] = true
		if !r.ArrivedAt.Before(start) {
			rc.stats.Add(r)
		}
		return nil
	})
	if err != nil {
		return recordCounts{}, fmt.Errorf("liveview: reading today's call records: %w", err)
	}
	return rc, nil
}

// liveOutcome is a call that left the queue since the records were last
// read, learnt from a queue event.
type liveOutcome struct {
	answered bool
	wait     time.Duration
	hasWait  bool
}

// dayCounters are today's counters: the call records since midnight plus
// what queue events told since, until the records catch up (a record is
// written when the call ends, an answered call's only after the talk).
type dayCounters struct {
	start, end time.Time
	// loaded is true once the records of this day were read.
	loaded   bool
	loadedAt time.Time
	err      error
	rec      recordCounts
	// live holds outcomes from events, by call ID, not yet in rec.
	live map[string]liveOutcome
}

func newDayCounters(start, end time.Time) *dayCounters {
	return &dayCounters{start: start, end: end, live: map[string]liveOutcome{}}
}

// observe records the outcome an event announces. enqueued is the call's
// queue entry (zero when unknown). Calls that entered the queue before
// midnight belong to yesterday.
func (d *dayCounters) observe(ev queue.Event, enqueued time.Time) {
	if ev.CallID == "" || d.rec.ids[ev.CallID] {
		return
	}
	if !enqueued.IsZero() && enqueued.Before(d.start) {
		return
	}
	switch ev.Kind {
	case queue.EventAnswered:
		o := liveOutcome{answered: true}
		if !enqueued.IsZero() {
			o.wait, o.hasWait = metric.Waiting(enqueued, ev.At), true
		}
		d.live[ev.CallID] = o
	case queue.EventLeft:
		d.live[ev.CallID] = liveOutcome{}
	}
}

// setRecords replaces the counts from the records; live outcomes now on
// record are dropped.
func (d *dayCounters) setRecords(rc recordCounts, at time.Time) {
	d.rec, d.loaded, d.loadedAt, d.err = rc, true, at, nil
	for id := range d.live {
		if rc.ids[id] {
			delete(d.live, id)
		}
	}
}

// today returns the counters as shown.
func (d *dayCounters) today(haveRecords bool) Today {
	t := Today{Since: d.start, RecordsAt: d.loadedAt}
	switch {
	case !haveRecords:
		t.Note = "no call records (give --db or --config)"
		return t
	case !d.loaded && d.err != nil:
		t.Note = "call records unreadable: " + d.err.Error()
		return t
	case !d.loaded:
		t.Note = "reading call records…"
		return t
	}
	t.Known = true
	if d.err != nil {
		t.Note = "call records unreadable, figures of " + d.loadedAt.Format("15:04:05") + ": " + d.err.Error()
	}
	var s metric.QueueStats
	s.Merge(&d.rec.stats)
	for _, o := range d.live {
		s.Offered++
		if o.answered {
			s.Answered++
			if o.hasWait {
				s.AddWait(o.wait)
			}
		} else {
			t.Pending++
		}
	}
	t.Offered, t.Answered, t.Abandoned, t.Voicemail, t.Unanswered = s.Offered, s.Answered, s.Abandoned, s.Voicemail, s.Unanswered
	t.WithinShort, t.ShareOK = s.ShareWithinShort()
	t.WithinLong, _ = s.ShareWithinLong()
	t.AvgWait, t.AvgOK = s.MeanWait()
	return t
}
