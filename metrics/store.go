package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strait-gateway/strait/resource"
)

// Store is the state stores' metrics, labelled by topic; a
// prometheus.Collector.
type Store struct {
	group // every metric below

	applied  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	lag      *prometheus.GaugeVec
}

// StoreTopic is the metrics of one store topic.
type StoreTopic struct {
	// Applied counts records applied: valid values and tombstones.
	Applied prometheus.Counter
	// Rejected counts records that failed validation and were skipped.
	Rejected prometheus.Counter
	// Lag is the records written to the topic but not yet applied.
	Lag prometheus.Gauge
}

// NewStore returns the stores' metrics, to be registered.
func NewStore() *Store {
	s := &Store{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_store_records_applied_total",
			Help: "State topic records applied (valid values and tombstones), by topic.",
		}, []string{"topic"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_store_records_rejected_total",
			Help: "State topic records rejected by validation and skipped, by topic.",
		}, []string{"topic"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strait_store_lag_records",
			Help: "State topic records not yet applied (last stable offset minus the next offset to apply), by topic.",
		}, []string{"topic"}),
	}
	s.group = group{s.applied, s.rejected, s.lag}
	return s
}

// Topic returns the metrics of one topic.
func (s *Store) Topic(name string) StoreTopic {
	return StoreTopic{
		Applied:  s.applied.WithLabelValues(name),
		Rejected: s.rejected.WithLabelValues(name),
		Lag:      s.lag.WithLabelValues(name),
	}
}

// RegisterResources registers with reg a gauge of the config resources by
// kind, counted at scrape time from the entries current returns. Every kind
// is reported, with zero when it has no resource.
func RegisterResources(reg prometheus.Registerer, current func() map[string]*resource.Resource) {
	reg.MustRegister(resourceCollector{current: current})
}

var resourcesDesc = prometheus.NewDesc("strait_config_resources",
	"Resources in force in the config topic, by kind.", []string{"kind"}, nil)

// resourceCollector counts the resources of a config snapshot by kind.
type resourceCollector struct {
	current func() map[string]*resource.Resource
}

func (resourceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- resourcesDesc }

func (c resourceCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	for _, r := range c.current() {
		counts[r.Kind]++
	}
	for _, kind := range resource.KindNames() {
		ch <- prometheus.MustNewConstMetric(resourcesDesc, prometheus.GaugeValue, float64(counts[kind]), kind)
	}
}

// RegisterMembers registers with reg a gauge of the gateway cluster's live
// nodes, counted at scrape time by live.
func RegisterMembers(reg prometheus.Registerer, live func() int) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strait_cluster_members_live",
		Help: "Live nodes of this gateway cluster as this node sees them, itself included.",
	}, func() float64 { return float64(live()) }))
}
