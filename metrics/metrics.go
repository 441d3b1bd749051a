// Package metrics defines a Strait node's Prometheus metrics: the frame
// path's connections, requests, bytes, latencies and upstream failures, and
// the state stores' progress and contents. Each node has its own registry,
// so several nodes can run in one process; Node.Handler serves it.
//
// The frame path records into children resolved once per API key, so
// counting a frame allocates nothing and takes a few atomic operations.
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Node is the metrics of one Strait node, in a registry of its own.
type Node struct {
	// Registry holds every metric of the node, the Go runtime's and the
	// process's included.
	Registry *prometheus.Registry
	// Gateway is the frame path's metrics.
	Gateway *Gateway
	// Store is the state stores' metrics.
	Store *Store
}

// NewNode returns a node's metrics, registered in a new registry.
func NewNode() *Node {
	n := &Node{Registry: prometheus.NewRegistry(), Gateway: NewGateway(), Store: NewStore()}
	n.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		n.Gateway,
		n.Store,
	)
	return n
}

// Handler serves the node's metrics in the Prometheus exposition formats.
func (n *Node) Handler() http.Handler {
	return promhttp.HandlerFor(n.Registry, promhttp.HandlerOpts{})
}

// latencyBuckets are the request latency histogram's upper bounds, in
// seconds: from half a millisecond to ten seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// UpstreamError is a kind of backing-broker failure.
type UpstreamError int

// The kinds of backing-broker failure.
const (
	// UpstreamDial: a connection to a backing broker could not be opened.
	UpstreamDial UpstreamError = iota
	// UpstreamIO: reading from or writing to a broker connection failed,
	// or the broker closed it while a response was awaited.
	UpstreamIO
	// UpstreamResponse: a broker response could not be parsed or
	// rewritten.
	UpstreamResponse
)

// upstreamErrorNames are the kind label values, indexed by UpstreamError.
var upstreamErrorNames = [...]string{"dial", "io", "response"}

// numKeys is the number of API keys with their own children; any key
// outside [0, numKeys) shares the slot at numKeys.
const numKeys = 256

// group is a collector made of several.
type group []prometheus.Collector

// Describe implements prometheus.Collector.
func (g group) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range g {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (g group) Collect(ch chan<- prometheus.Metric) {
	for _, c := range g {
		c.Collect(ch)
	}
}

// Gateway is the frame path's metrics, a prometheus.Collector. Its methods
// are safe for concurrent use and allocate nothing once an API key has been
// seen.
type Gateway struct {
	group // every metric below

	connsOpen     prometheus.Gauge
	connsAccepted prometheus.Counter
	connsClosed   prometheus.Counter
	upstream      [len(upstreamErrorNames)]prometheus.Counter
	authFailures  prometheus.Counter
	authenticated *prometheus.CounterVec

	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// keys caches each API key's children, resolved on the key's first
	// frame; only keys clients use appear in the exposition.
	keys [numKeys + 1]atomic.Pointer[apiMetrics]
}

// apiMetrics are the children of one API key.
type apiMetrics struct {
	requests      prometheus.Counter
	requestBytes  prometheus.Counter
	responseBytes prometheus.Counter
	latency       prometheus.Observer
}

// NewGateway returns the frame path's metrics, to be registered.
func NewGateway() *Gateway {
	g := &Gateway{
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strait_connections_open",
			Help: "Client connections currently open.",
		}),
		connsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_connections_accepted_total",
			Help: "Client connections accepted.",
		}),
		connsClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_connections_closed_total",
			Help: "Client connections closed.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_requests_total",
			Help: "Request frames received from clients, by API key.",
		}, []string{"api_key"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_bytes_total",
			Help: "Frame bytes by API key and direction: request (client to broker) or response (broker to client).",
		}, []string{"api_key", "direction"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strait_request_duration_seconds",
			Help:    "Time from a request frame's arrival to its response written to the client, by API key.",
			Buckets: latencyBuckets,
		}, []string{"api_key"}),
	}
	upstream := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strait_upstream_errors_total",
		Help: "Backing-broker failures by kind: dial (a connection could not be opened), io (a broker connection failed or was closed by the broker) and response (a response could not be parsed or rewritten). io and response count client connections ended by the failure.",
	}, []string{"kind"})
	for kind, name := range upstreamErrorNames {
		g.upstream[kind] = upstream.WithLabelValues(name)
	}
	g.authFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "strait_authentication_failures_total",
		Help: "Client connections refused because authentication failed.",
	})
	g.authenticated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strait_connections_authenticated_total",
		Help: "Client connections authenticated, by virtual cluster (user names are in the logs, not here, to keep the number of series bounded).",
	}, []string{"vcluster"})
	g.group = group{g.connsOpen, g.connsAccepted, g.connsClosed, upstream, g.requests, g.bytes, g.latency, g.authFailures, g.authenticated}
	return g
}

// ConnectionOpened counts a client connection accepted.
func (g *Gateway) ConnectionOpened() {
	g.connsAccepted.Inc()
	g.connsOpen.Inc()
}

// ConnectionClosed counts a client connection closed.
func (g *Gateway) ConnectionClosed() {
	g.connsClosed.Inc()
	g.connsOpen.Dec()
}

// AuthenticationFailed counts a client connection refused at
// authentication.
func (g *Gateway) AuthenticationFailed() { g.authFailures.Inc() }

// Authenticated counts a client connection authenticated into a virtual
// cluster.
func (g *Gateway) Authenticated(vcluster string) { g.authenticated.WithLabelValues(vcluster).Inc() }

// UpstreamError counts one backing-broker failure.
func (g *Gateway) UpstreamError(kind UpstreamError) {
	g.upstream[kind].Inc()
}

// Request counts a request frame of size bytes, size field included.
func (g *Gateway) Request(key int16, size int) {
	m := g.api(key)
	m.requests.Inc()
	m.requestBytes.Add(float64(size))
}

// Response counts a response frame of size bytes written to the client and
// observes the time since its request arrived.
func (g *Gateway) Response(key int16, size int, arrived time.Time) {
	m := g.api(key)
	m.responseBytes.Add(float64(size))
	m.latency.Observe(time.Since(arrived).Seconds())
}

// api returns the children of key, resolving them on first use. Racing
// first uses resolve the same children, so either result may be kept.
func (g *Gateway) api(key int16) *apiMetrics {
	slot := numKeys
	if key >= 0 && key < numKeys {
		slot = int(key)
	}
	if m := g.keys[slot].Load(); m != nil {
		return m
	}
	name := kmsg.NameForKey(key) // "Unknown" for keys kmsg does not know
	m := &apiMetrics{
		requests:      g.requests.WithLabelValues(name),
		requestBytes:  g.bytes.WithLabelValues(name, "request"),
		responseBytes: g.bytes.WithLabelValues(name, "response"),
		latency:       g.latency.WithLabelValues(name),
	}
	g.keys[slot].Store(m)
	return m
}
