package ariapp

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the adapter's Prometheus series (helpline_ariapp_*). The
// call outcomes are the flow's (helpline_ivr_*); these say how the
// Asterisk side behaved.
type metrics struct {
	channels       *prometheus.CounterVec
	active         prometheus.Gauge
	dtmfDropped    prometheus.Counter
	failed         *prometheus.CounterVec
	originates     *prometheus.CounterVec
	reconciles     prometheus.Counter
	vanished       prometheus.Counter
	orphans        *prometheus.CounterVec
	leftInStasis   prometheus.Counter
	restarts       prometheus.Counter
	hangupsRefused prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		channels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ariapp_channels_total",
			Help: "Channels the app took charge of, by kind (inbound, operator, leg, orphan).",
		}, []string{"kind"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helpline_ariapp_active_calls",
			Help: "Inbound calls handed to the call flow and not yet over.",
		}),
		dtmfDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ariapp_dtmf_dropped_total",
			Help: "DTMF keys dropped because the flow did not read them in time (buffer full).",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ariapp_requests_failed_total",
			Help: "ARI requests refused or unanswered while the channel was still up, by operation.",
		}, []string{"op"}),
		originates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ariapp_originates_total",
			Help: "Operator legs originated, by result (answered, busy, no_answer, rejected, congestion, failed, cancelled, error).",
		}, []string{"result"}),
		reconciles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ariapp_reconciles_total",
			Help: "Reconciliations with GET /applications after a start or an event WebSocket reconnect.",
		}),
		vanished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ariapp_vanished_channels_total",
			Help: "Channels found gone at a reconciliation (their end was lost with the event WebSocket).",
		}),
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_ariapp_orphans_total",
			Help: "Channels of the app that this process did not know, offered to the re-adoption hook, by kind.",
		}, []string{"kind"}),
		leftInStasis: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ariapp_left_in_stasis_total",
			Help: "Calls that arrived while the app was stopping and were left in Stasis for the next process.",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ariapp_asterisk_restarts_total",
			Help: "Asterisk restarts seen after an event WebSocket reconnect (a new startup time): every call it held vanished.",
		}),
		hangupsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_ariapp_hangups_refused_total",
			Help: "Hang-ups Asterisk still refused after every retry, or accepted without the channel going: a caller may be left on the line.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.channels, m.active, m.dtmfDropped, m.failed, m.originates,
		m.reconciles, m.vanished, m.orphans, m.leftInStasis, m.restarts, m.hangupsRefused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ariapp: register metrics: %w", err)
		}
	}
	return m, nil
}
