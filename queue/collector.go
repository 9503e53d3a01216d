package queue

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultScrapeTimeout bounds the queue read of one scrape when
// CollectorOptions.Timeout is zero: well under Prometheus's default
// 10 s scrape timeout, so a slow store costs the queue series, not the
// whole scrape.
const DefaultScrapeTimeout = 2 * time.Second

// readOnlyInstant is the time the collector passes to Snapshot. A store
// "brings the queue up to" that instant before answering (promotes ended
// wrap-ups, returns expired offers); at an instant before anything could
// be due it changes nothing, so a scrape never changes routing however
// often Prometheus comes. The collector itself counts an ended wrap-up as
// available; an expired offer stays ringing until the dispatcher reaps
// it, which is what the store holds. (Same convention as package
// liveview.)
var readOnlyInstant = time.UnixMilli(0)

// operatorStates are the states reported by helpline_operators, always
// all of them (0 included), so a dashboard's lines do not come and go.
var operatorStates = []State{Available, Ringing, Busy, WrapUp, Paused}

// CollectorOptions configure NewCollector.
type CollectorOptions struct {
	// Service is the service label of every series.
	Service string
	// Languages are reported even when nobody waits in them (0), so
	// "nobody waiting" is a value, not a missing series. Languages seen in
	// the queue are reported too.
	Languages []string
	// Now is the clock used to age the waiting calls (required; pass the
	// injected clock's Now).
	Now func() time.Time
	// Timeout bounds the queue read of one scrape (0: DefaultScrapeTimeout).
	Timeout time.Duration
}

// Collector exports the queue's state as Prometheus gauges read on each
// scrape: waiting calls and the longest wait per language, operators per
// state, and helpline_queue_up (0 when the store could not be read, in
// which case the other series are left out rather than failing the
// scrape). Register it with the node's prometheus.Registerer.
type Collector struct {
	q       Queue
	now     func() time.Time
	timeout time.Duration
	langs   []string

	up, waiting, longest, operators *prometheus.Desc
}

// NewCollector returns a Collector reading q. It reads the queue only
// (see readOnlyInstant): scraping never promotes a wrap-up nor returns an
// offer.
func NewCollector(q Queue, o CollectorOptions) (*Collector, error) {
	if q == nil {
		return nil, errors.New("queue: collector: nil Queue")
	}
	if o.Now == nil {
		return nil, errors.New("queue: collector: nil Now clock")
	}
	if o.Timeout < 0 {
		return nil, errors.New("queue: collector: negative Timeout")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultScrapeTimeout
	}
	service := prometheus.Labels{"service": o.Service}
	return &Collector{
		q: q, now: o.Now, timeout: o.Timeout, langs: append([]string(nil), o.Languages...),
		up: prometheus.NewDesc("helpline_queue_up",
			"1 when the last scrape could read the queue store, 0 when it could not (the other queue series are then absent).",
			nil, service),
		waiting: prometheus.NewDesc("helpline_queue_waiting_calls",
			"Calls waiting for an operator, by language (calls whose operator's phone is ringing included).",
			[]string{"language"}, service),
		longest: prometheus.NewDesc("helpline_queue_longest_wait_seconds",
			"How long the longest-waiting call of the language has waited (0 when none waits).",
			[]string{"language"}, service),
		operators: prometheus.NewDesc("helpline_operators",
			"Logged-in operators, by state (an ended wrap-up counts as available).",
			[]string{"state"}, service),
	}, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.waiting, c.longest, c.operators} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one Snapshot, bounded by the
// timeout.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s, err := c.q.Snapshot(ctx, readOnlyInstant)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	now := c.now()

	langs := append([]string(nil), c.langs...)
	for l := range s.Waiting {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	for _, l := range langs {
		calls := s.Waiting[l]
		longest := 0.0
		for _, wc := range calls {
			if w := now.Sub(wc.Enqueued).Seconds(); w > longest {
				longest = w
			}
		}
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(len(calls)), l)
		ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, longest, l)
	}

	counts := make(map[State]int, len(operatorStates))
	for _, op := range s.Operators {
		st := op.State
		if st == WrapUp && !op.WrapUntil.IsZero() && !op.WrapUntil.After(now) {
			st = Available
		}
		counts[st]++
	}
	for _, st := range operatorStates {
		ch <- prometheus.MustNewConstMetric(c.operators, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}
