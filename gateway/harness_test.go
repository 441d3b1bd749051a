package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/metrics"
	"go.uber.org/zap/zaptest"
)

// tcpDialer dials brokers with no TLS or SASL.
type tcpDialer struct{}

func (tcpDialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// testGateway is a gateway in front of an in-process fake cluster.
type testGateway struct {
	gw      *Gateway
	cluster *kfake.Cluster
	routing Routing
}

// freePorts finds n consecutive free loopback ports.
func freePorts(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		start := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		ok := true
		for i := range n {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(start+i))
			if err != nil {
				ok = false
				break
			}
			_ = l.Close()
		}
		if ok && start+n < 65535 {
			return start
		}
	}
	t.Fatal("no free port range")
	return 0
}

func startTestGateway(t *testing.T, brokers int, opts ...kfake.Opt) *testGateway {
	t.Helper()
	cluster, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(brokers), kfake.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return startGatewayFor(t, cluster, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
}

func startGatewayFor(t *testing.T, cluster *kfake.Cluster, log *zap.Logger, configure ...func(*Config)) *testGateway {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	topo := NewTopology()
	ref := NewRefresher(kadm.NewClient(client), topo, time.Second, log)
	if err := ref.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	routing := Routing{AdvertisedHost: "127.0.0.1", PortStart: freePorts(t, 5), PortCount: 5}
	cfg := Config{BindHost: "127.0.0.1", Routing: routing, MaxFrameBytes: 1 << 20, MaxInFlight: 100, DialTimeout: 5 * time.Second}
	for _, c := range configure {
		c(&cfg)
	}
	gw := New(cfg, tcpDialer{}, topo, log)
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
	return &testGateway{gw: gw, cluster: cluster, routing: routing}
}

func (tg *testGateway) addr() string {
	return "127.0.0.1:" + strconv.Itoa(tg.routing.PortStart)
}

func (tg *testGateway) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(tg.addr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rawConn is a hand-driven Kafka connection for protocol-level tests.
type rawConn struct {
	t    *testing.T
	conn net.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, conn: c}
}

func (r *rawConn) send(req kmsg.Request, corr int32) {
	r.t.Helper()
	if _, err := r.conn.Write(encodeRequest(req, corr, "raw-test")); err != nil {
		r.t.Fatal(err)
	}
}

// receive reads one response frame and returns its correlation id and the
// body after the header.
func (r *rawConn) receive(key, version int16) (int32, []byte) {
	r.t.Helper()
	var head [8]byte
	if _, err := io.ReadFull(r.conn, head[:]); err != nil {
		r.t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(head[:4])-4)
	if _, err := io.ReadFull(r.conn, body); err != nil {
		r.t.Fatal(err)
	}
	n, err := skipResponseHeaderTags(body, key, version)
	if err != nil {
		r.t.Fatal(err)
	}
	return int32(binary.BigEndian.Uint32(head[4:])), body[n:]
}

func (r *rawConn) roundTrip(req kmsg.Request, corr int32) kmsg.Response {
	r.t.Helper()
	r.send(req, corr)
	got, body := r.receive(req.Key(), req.GetVersion())
	if got != corr {
		r.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(body); err != nil {
		r.t.Fatal(err)
	}
	return resp
}

// closedByPeer reports whether the gateway closed the connection.
func (r *rawConn) closedByPeer() bool {
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := r.conn.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout()) // EOF or reset
}

func dialRawErr(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		_ = c.Close()
	}
	return c, err
}

// gatewayInFront starts a one-port gateway in front of the single broker
// listening at broker and returns the port clients connect to.
func gatewayInFront(t testing.TB, broker net.Addr, maxInFlight int) int {
	t.Helper()
	return meteredGatewayInFront(t, broker, maxInFlight, nil)
}

// meteredGatewayInFront is gatewayInFront reporting to m (nil: metrics
// nobody reads).
func meteredGatewayInFront(t testing.TB, broker net.Addr, maxInFlight int, m *metrics.Gateway) int {
	t.Helper()
	topo := NewTopology()
	topo.SetBrokers([]Broker{{NodeID: 0, Host: "127.0.0.1", Port: int32(broker.(*net.TCPAddr).Port)}})
	start := freePorts(t, 1)
	gw := New(Config{
		BindHost:      "127.0.0.1",
		Routing:       Routing{AdvertisedHost: "127.0.0.1", PortStart: start, PortCount: 1},
		MaxFrameBytes: 8 << 20, MaxInFlight: maxInFlight, DialTimeout: time.Second, Metrics: m,
	}, tcpDialer{}, topo, zap.NewNop())
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
	return start
}

// fakeBroker serves each connection with fn.
func fakeBroker(t testing.TB, fn func(net.Conn)) net.Addr {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fn(c)
			}()
		}
	}()
	return ln.Addr()
}
