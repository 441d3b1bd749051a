package metrics

import (
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/strait-gateway/strait/resource"
)

// gather registers c in a fresh registry and returns what it collects.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// sample returns the sample of the family name whose labels are exactly
// labels (name, value pairs), or nil.
func sample(fams []*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel())*2 != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

// value is a counter's or gauge's value, or a histogram's count.
func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return math.NaN()
}

type want struct {
	name   string
	labels []string
	value  float64
}

func check(t *testing.T, fams []*dto.MetricFamily, wants []want) {
	t.Helper()
	for _, w := range wants {
		m := sample(fams, w.name, w.labels...)
		if m == nil {
			t.Errorf("%s%v: missing", w.name, w.labels)
		} else if got := value(m); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}

func TestGateway(t *testing.T) {
	g := NewGateway()
	g.ConnectionOpened()
	g.ConnectionOpened()
	g.ConnectionClosed()
	g.UpstreamError(UpstreamDial)
	g.UpstreamError(UpstreamDial)
	g.UpstreamError(UpstreamIO)
	g.Request(0, 100)
	g.Request(0, 50)
	g.Response(0, 30, time.Now().Add(-20*time.Millisecond))
	for _, key := range []int16{-1, 200, 300, math.MaxInt16} {
		g.Request(key, 10)
	}
	fams := gather(t, g)
	check(t, fams, []want{
		{"strait_connections_open", nil, 1},
		{"strait_connections_accepted_total", nil, 2},
		{"strait_connections_closed_total", nil, 1},
		{"strait_upstream_errors_total", []string{"kind", "dial"}, 2},
		{"strait_upstream_errors_total", []string{"kind", "io"}, 1},
		{"strait_upstream_errors_total", []string{"kind", "response"}, 0},
		{"strait_requests_total", []string{"api_key", "Produce"}, 2},
		{"strait_bytes_total", []string{"api_key", "Produce", "direction", "request"}, 150},
		{"strait_bytes_total", []string{"api_key", "Produce", "direction", "response"}, 30},
		{"strait_request_duration_seconds", []string{"api_key", "Produce"}, 1},
		// Keys kmsg does not know, in range or not, share one series.
		{"strait_requests_total", []string{"api_key", "Unknown"}, 4},
		{"strait_bytes_total", []string{"api_key", "Unknown", "direction", "request"}, 40},
		{"strait_request_duration_seconds", []string{"api_key", "Unknown"}, 0},
	})
	if m := sample(fams, "strait_requests_total", "api_key", "Fetch"); m != nil {
		t.Errorf("a key never seen is exposed: %v", m)
	}
	h := sample(fams, "strait_request_duration_seconds", "api_key", "Produce").GetHistogram()
	if h.GetSampleSum() < 0.02 {
		t.Errorf("latency sum %v, want at least the 20ms the response took", h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		if below := b.GetUpperBound() < 0.02; below != (b.GetCumulativeCount() == 0) {
			t.Errorf("bucket le=%v holds %d", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
}

// TestGatewayDoesNotAllocate: counting a frame of a key already seen
// allocates nothing, so the passthrough path stays allocation-free.
func TestGatewayDoesNotAllocate(t *testing.T) {
	g := NewGateway()
	arrived := time.Now()
	frame := func() {
		g.Request(1, 100)
		g.Response(1, 1000, arrived)
	}
	frame()
	if allocs := testing.AllocsPerRun(100, frame); allocs != 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
}

// BenchmarkGatewayFrame measures what counting one request and its
// response adds to the frame path.
func BenchmarkGatewayFrame(b *testing.B) {
	g := NewGateway()
	arrived := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		g.Request(1, 100)
		g.Response(1, 1000, arrived)
	}
}

func TestStore(t *testing.T) {
	s := NewStore()
	a := s.Topic("topic-a")
	a.Applied.Add(3)
	a.Rejected.Inc()
	a.Lag.Set(7)
	s.Topic("topic-a").Applied.Inc() // the same children again
	s.Topic("topic-b")
	check(t, gather(t, s), []want{
		{"strait_store_records_applied_total", []string{"topic", "topic-a"}, 4},
		{"strait_store_records_rejected_total", []string{"topic", "topic-a"}, 1},
		{"strait_store_lag_records", []string{"topic", "topic-a"}, 7},
		{"strait_store_records_applied_total", []string{"topic", "topic-b"}, 0},
		{"strait_store_records_rejected_total", []string{"topic", "topic-b"}, 0},
		{"strait_store_lag_records", []string{"topic", "topic-b"}, 0},
	})
}

func TestResources(t *testing.T) {
	reg := prometheus.NewRegistry()
	entries := map[string]*resource.Resource{
		"g1": {Kind: "GatewayGroup"},
		"g2": {Kind: "GatewayGroup"},
		"vc": {Kind: "VirtualCluster"},
	}
	RegisterResources(reg, func() map[string]*resource.Resource { return entries })
	counts := func() map[string]float64 {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, kind := range resource.KindNames() {
			if m := sample(fams, "strait_config_resources", "kind", kind); m != nil {
				got[kind] = value(m)
			}
		}
		return got
	}
	for _, step := range []struct {
		entries map[string]*resource.Resource
		want    map[string]float64
	}{
		{entries, map[string]float64{"GatewayGroup": 2, "VirtualCluster": 1}},
		{map[string]*resource.Resource{"i": {Kind: "Interceptor"}}, map[string]float64{"Interceptor": 1}},
	} {
		entries = step.entries // read at scrape time
		got := counts()
		if len(got) != len(resource.KindNames()) {
			t.Errorf("kinds reported: %v, want all of %v", got, resource.KindNames())
		}
		for _, kind := range resource.KindNames() {
			if got[kind] != step.want[kind] {
				t.Errorf("%s: %v resources, want %v", kind, got[kind], step.want[kind])
			}
		}
	}
}

// TestNodeHandler: a node serves its own metrics and the runtime's in the
// text exposition format.
func TestNodeHandler(t *testing.T) {
	n := NewNode()
	n.Gateway.ConnectionOpened()
	n.Store.Topic("_strait_gateway_config").Applied.Inc()
	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	var fams []*dto.MetricFamily
	for _, f := range byName {
		fams = append(fams, f)
	}
	check(t, fams, []want{
		{"strait_connections_open", nil, 1},
		{"strait_store_records_applied_total", []string{"topic", "_strait_gateway_config"}, 1},
	})
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if byName[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}
