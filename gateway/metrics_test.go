package gateway

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/metrics"
)

// metricValue returns the value of the sample of family name whose labels
// are exactly labels (name, value pairs): a counter's or gauge's value, a
// histogram's count. It is -1 when there is no such sample.
func metricValue(t *testing.T, m *metrics.Gateway, name string, labels ...string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			if len(s.GetLabel())*2 != len(labels) {
				continue
			}
			for i, l := range s.GetLabel() {
				if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
					continue next
				}
			}
			switch {
			case s.Counter != nil:
				return s.GetCounter().GetValue()
			case s.Gauge != nil:
				return s.GetGauge().GetValue()
			case s.Histogram != nil:
				return float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// waitMetric waits up to five seconds for a metric to reach want, as the
// gateway counts a response after the client may already have read it, and
// returns its last value.
func waitMetric(t *testing.T, m *metrics.Gateway, want float64, name string, labels ...string) float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := metricValue(t, m, name, labels...)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFrameMetrics: every request and response frame is counted with its
// exact size, and each response observes one latency.
func TestFrameMetrics(t *testing.T) {
	const respBody = 64
	m := metrics.NewGateway()
	port := meteredGatewayInFront(t, echoBroker(t, respBody), 10, m)
	raw := dialRaw(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	resp := make([]byte, 8+respBody)
	var reqBytes int
	for i, size := range []int{10, 1000, 100 << 10} { // the last one is streamed
		req := passthroughFrame(size)
		reqBytes += len(req)
		binary.BigEndian.PutUint32(req[8:], uint32(i))
		if _, err := raw.conn.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(raw.conn, resp); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"strait_requests_total", []string{"api_key", "ListOffsets"}, 3},
		{"strait_bytes_total", []string{"api_key", "ListOffsets", "direction", "request"}, float64(reqBytes)},
		{"strait_bytes_total", []string{"api_key", "ListOffsets", "direction", "response"}, float64(3 * len(resp))},
		{"strait_request_duration_seconds", []string{"api_key", "ListOffsets"}, 3},
		{"strait_connections_accepted_total", nil, 1},
		{"strait_connections_open", nil, 1},
		{"strait_connections_closed_total", nil, 0},
	} {
		if got := waitMetric(t, m, tc.want, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// TestAcksZeroProduceIsNotTimed: a Produce with acks=0 has no response, so
// it is counted as a request but observes no latency.
func TestAcksZeroProduceIsNotTimed(t *testing.T) {
	tg := startTestGateway(t, 1)
	raw := dialRaw(t, tg.addr())
	produce := func(acks int16, version int16) *kmsg.ProduceRequest {
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(version)
		req.Acks, req.TimeoutMillis = acks, 1000
		return req
	}
	var reqBytes int
	for i, req := range []*kmsg.ProduceRequest{
		produce(0, 9),   // no response
		produce(-1, 9),  // response forwarded
		produce(0, 11),  // no response
		produce(-1, 11), // response decoded and rewritten
	} {
		frame := encodeRequest(req, int32(i), "raw-test")
		reqBytes += len(frame)
		if req.Acks == 0 {
			raw.send(req, int32(i))
			continue
		}
		raw.roundTrip(req, int32(i))
	}
	m := tg.gw.cfg.Metrics
	if got := waitMetric(t, m, 4, "strait_requests_total", "api_key", "Produce"); got != 4 {
		t.Errorf("Produce requests %v, want 4", got)
	}
	if got := waitMetric(t, m, float64(reqBytes), "strait_bytes_total", "api_key", "Produce", "direction", "request"); got != float64(reqBytes) {
		t.Errorf("Produce request bytes %v, want %d", got, reqBytes)
	}
	if got := metricValue(t, m, "strait_bytes_total", "api_key", "Produce", "direction", "response"); got <= 0 {
		t.Errorf("Produce response bytes %v, want > 0", got)
	}
	if got := waitMetric(t, m, 2, "strait_request_duration_seconds", "api_key", "Produce"); got != 2 {
		t.Errorf("Produce latencies observed %v, want 2 (acks=0 has no response)", got)
	}
}

// TestUpstreamErrorMetrics: a broker failure that ends a client connection
// is counted once, by kind; a client leaving is no broker failure.
func TestUpstreamErrorMetrics(t *testing.T) {
	refused := func(t *testing.T) net.Addr {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_ = ln.Close()
		return ln.Addr()
	}
	// answer reads one request and writes head as the response's head.
	answer := func(head func(corr []byte) []byte) func(*testing.T) net.Addr {
		return func(t *testing.T) net.Addr {
			return fakeBroker(t, func(c net.Conn) {
				req := make([]byte, 12)
				if _, err := io.ReadFull(c, req); err != nil {
					return
				}
				_, _ = c.Write(head(req[8:12]))
				time.Sleep(time.Second) // the gateway closes first
			})
		}
	}
	for _, tc := range []struct {
		name         string
		broker       func(*testing.T) net.Addr
		clientCloses bool   // right after sending its request
		kind         string // counted, if any
	}{
		{name: "dial refused", broker: refused, kind: "dial"},
		{name: "broker closes", broker: func(t *testing.T) net.Addr {
			return fakeBroker(t, func(c net.Conn) { _, _ = io.ReadFull(c, make([]byte, 12)) })
		}, kind: "io"},
		{name: "broker closes mid-response", broker: func(t *testing.T) net.Addr {
			return fakeBroker(t, func(c net.Conn) {
				req := make([]byte, 12)
				if _, err := io.ReadFull(c, req); err == nil {
					_, _ = c.Write(append([]byte{0, 0, 0, 100}, req[8:12]...)) // 96 bytes short
				}
			})
		}, kind: "io"},
		{name: "wrong correlation id", broker: answer(func([]byte) []byte {
			return []byte{0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff}
		}), kind: "response"},
		{name: "response smaller than its header", broker: answer(func(corr []byte) []byte {
			return append([]byte{0, 0, 0, 1}, corr...)
		}), kind: "response"},
		{name: "client leaves while awaiting a response", broker: func(t *testing.T) net.Addr {
			return fakeBroker(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
		}, clientCloses: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.NewGateway()
			port := meteredGatewayInFront(t, tc.broker(t), 10, m)
			raw := dialRaw(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if _, err := raw.conn.Write(passthroughFrame(10)); err != nil {
				t.Fatal(err)
			}
			if tc.clientCloses {
				_ = raw.conn.Close()
			} else if !raw.closedByPeer() {
				t.Fatal("client connection left open")
			}
			// The counters move as the connection's goroutines finish.
			if got := waitMetric(t, m, 1, "strait_connections_closed_total"); got != 1 {
				t.Fatalf("%v connections closed, want 1", got)
			}
			for _, kind := range []string{"dial", "io", "response"} {
				want := 0.0
				if kind == tc.kind {
					want = 1
				}
				if got := metricValue(t, m, "strait_upstream_errors_total", "kind", kind); got != want {
					t.Errorf("%s errors %v, want %v", kind, got, want)
				}
			}
			if got := metricValue(t, m, "strait_connections_open"); got != 0 {
				t.Errorf("%v connections open after the client was closed", got)
			}
		})
	}
}
