package ivr

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the flow's Prometheus series.
type metrics struct {
	calls            *prometheus.CounterVec
	blacklistSkipped prometheus.Counter
	ringFailures     *prometheus.CounterVec
	engineErrors     *prometheus.CounterVec
	queueErrors      *prometheus.CounterVec
	cdrFailures      prometheus.Counter
	active           prometheus.Gauge
	assign           prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ivr_calls_total",
			Help: "Inbound calls ended, by outcome.",
		}, []string{"outcome"}),
		blacklistSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ivr_blacklist_skipped_total",
			Help: "Blacklist checks skipped because the blacklist failed or timed out.",
		}),
		ringFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ivr_ring_failures_total",
			Help: "Operator phones that rang without being answered, by failure.",
		}, []string{"failure"}),
		engineErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ivr_engine_errors_total",
			Help: "Engine operations that failed while the caller was still there, by operation.",
		}, []string{"op"}),
		queueErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ivr_queue_errors_total",
			Help: "Queue operations that failed, by operation.",
		}, []string{"op"}),
		cdrFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ivr_cdr_write_failures_total",
			Help: "Failed CDR write attempts (each retry counts).",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helpline_ivr_active_calls",
			Help: "Inbound calls being handled.",
		}),
		assign: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "helpline_assign_seconds",
			Help:    "Time from the dispatcher's queue Assign call to the offer handed to the caller's flow, which then rings the operator.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.calls, m.blacklistSkipped, m.ringFailures, m.engineErrors, m.queueErrors, m.cdrFailures, m.active, m.assign} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ivr: register metrics: %w", err)
		}
	}
	return m, nil
}
