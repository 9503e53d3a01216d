package operator

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	features    *prometheus.CounterVec
	flags       *prometheus.CounterVec
	blocks      prometheus.Counter
	outbound    *prometheus.CounterVec
	transfers   *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	cdrErrors   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		features: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_operator_features_total",
			Help: "Feature codes acted on, by feature and result (ok, refused, withheld, …).",
		}, []string{"feature", "result"}),
		flags: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_operator_flags_total",
			Help: "Abuse flags recorded in the blacklist, by kind.",
		}, []string{"kind"}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_operator_flag_blocks_total",
			Help: "Flags that brought a caller to the policy threshold and blocked them.",
		}),
		outbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_operator_outbound_calls_total",
			Help: "Calls to the network's services (direct, consultations, blind transfers), by CDR outcome.",
		}, []string{"outcome"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_operator_transfers_total",
			Help: "Transfers of callers, by kind (blind, warm) and result.",
		}, []string{"kind", "result"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpline_operator_store_errors_total",
			Help: "Failed requests to the last-caller store, by operation.",
		}, []string{"op"}),
		cdrErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helpline_operator_cdr_write_failures_total",
			Help: "Outbound CDRs that could not be written after every retry (logged in full instead).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.features, m.flags, m.blocks, m.outbound, m.transfers, m.storeErrors, m.cdrErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("operator: metrics: %w", err)
		}
	}
	return m, nil
}
