package spool

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the spool's counters and gauges. The gauges read the
// spool's state when scraped.
type metrics struct {
	spooled     prometheus.Counter
	writeErrors prometheus.Counter
	replayed    prometheus.Counter
	replayFails prometheus.Counter
	corrupt     prometheus.Counter
	rejected    prometheus.Counter
}

func newMetrics(s *Spool, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		spooled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_cdr_spool_records_spooled_total",
			Help: "Call records written to the spool because the store refused them.",
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_cdr_spool_write_errors_total",
			Help: "Call records the spool could not write either (logged in full by the caller). Must stay 0.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_cdr_spool_records_replayed_total",
			Help: "Spooled call records written into the store by the replayer.",
		}),
		replayFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_cdr_spool_replay_failures_total",
			Help: "Replay passes stopped because the store still refused a record.",
		}),
		corrupt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_cdr_spool_corrupt_frames_total",
			Help: "Corrupt frames found in the middle of a segment (records lost to disk corruption; segment kept as .bad).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_cdr_spool_records_rejected_total",
			Help: "Spooled records the store refused as invalid on replay (logged in full, then dropped from the spool).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpline_cdr_spool_bytes",
			Help: "Size of the spool's segments on disk.",
		}, func() float64 { b, _, _ := s.stats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpline_cdr_spool_records",
			Help: "Call records waiting in the spool to be replayed into the store.",
		}, func() float64 { _, n, _ := s.stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpline_cdr_spool_oldest_age_seconds",
			Help: "Age of the oldest record waiting in the spool; 0 when it is empty. Alert when it grows.",
		}, func() float64 {
			_, _, oldest := s.stats()
			if oldest.IsZero() {
				return 0
			}
			return max(0, s.clock.Since(oldest).Seconds())
		}),
	}
	for _, c := range append([]prometheus.Collector{m.spooled, m.writeErrors, m.replayed, m.replayFails, m.corrupt, m.rejected}, gauges...) {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("cdr spool metrics: %w", err)
		}
	}
	return m, nil
}
