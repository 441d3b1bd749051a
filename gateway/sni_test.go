package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

var sniRouting = Routing{Mode: HostRouting, AdvertisedHost: "strait.test", HostPrefix: "broker", HostSeparator: "."}

func TestBrokerForServerName(t *testing.T) {
	dash := sniRouting
	dash.HostSeparator = "-"
	bare := sniRouting
	bare.HostPrefix = ""
	for _, tc := range []struct {
		r      Routing
		name   string
		id     int32
		broker bool
	}{
		{sniRouting, "broker0.strait.test", 0, true},
		{sniRouting, "broker12.strait.test", 12, true},
		{sniRouting, "BROKER3.Strait.TEST", 3, true},
		{sniRouting, "broker2147483647.strait.test", math.MaxInt32, true},
		{sniRouting, "broker2147483648.strait.test", 0, false},              // overflows int32
		{sniRouting, "broker99999999999999999999999.strait.test", 0, false}, // overflows int64
		{sniRouting, "broker-1.strait.test", 0, false},
		{sniRouting, "broker+1.strait.test", 0, false},
		{sniRouting, "broker01.strait.test", 0, false}, // never advertised
		{sniRouting, "broker00.strait.test", 0, false},
		{sniRouting, "broker.strait.test", 0, false},
		{sniRouting, "brokerx.strait.test", 0, false},
		{sniRouting, "broker1a.strait.test", 0, false},
		{sniRouting, "broker1_0.strait.test", 0, false},
		{sniRouting, "broker 1.strait.test", 0, false},
		{sniRouting, "broker1.sub.strait.test", 0, false},
		{sniRouting, "node1.strait.test", 0, false},    // wrong prefix
		{sniRouting, "xbroker1.strait.test", 0, false}, // wrong prefix
		{sniRouting, "broker1.strait.example", 0, false},
		{sniRouting, "broker1.strait.test.evil", 0, false},
		{sniRouting, "broker1-strait.test", 0, false}, // wrong separator
		{sniRouting, "broker1strait.test", 0, false},
		{sniRouting, "strait.test", 0, false}, // the bootstrap host
		{sniRouting, ".strait.test", 0, false},
		{sniRouting, "broker", 0, false},
		{sniRouting, "", 0, false},
		{dash, "broker7-strait.test", 7, true},
		{dash, "broker7.strait.test", 0, false},
		{bare, "42.strait.test", 42, true},
		{bare, "strait.test", 0, false},
	} {
		id, ok := tc.r.BrokerForServerName(tc.name)
		if ok != tc.broker || id != tc.id {
			t.Errorf("%q with prefix %q, separator %q: (%d, %v), want (%d, %v)", tc.name, tc.r.HostPrefix, tc.r.HostSeparator, id, ok, tc.id, tc.broker)
		}
	}
}

func TestBrokerHostRoundTrip(t *testing.T) {
	for _, id := range []int32{0, 1, 9, 10, 1000, math.MaxInt32} {
		name := sniRouting.BrokerHost(id)
		if got, ok := sniRouting.BrokerForServerName(name); !ok || got != id {
			t.Errorf("BrokerHost(%d) = %q parses as (%d, %v)", id, name, got, ok)
		}
	}
	if got := sniRouting.BrokerHost(3); got != "broker3.strait.test" {
		t.Errorf("BrokerHost(3) = %q", got)
	}
}

// FuzzBrokerForServerName: a name is a broker's only when it is that
// broker's advertised name in some case, and every advertised name parses
// back to its broker.
func FuzzBrokerForServerName(f *testing.F) {
	for _, s := range []string{"broker1.strait.test", "BROKER2.STRAIT.TEST", "strait.test", "broker-1.strait.test",
		"broker2147483648.strait.test", "broker01.strait.test", "", "broker", "broker.strait.test"} {
		f.Add(s, int32(len(s)))
	}
	f.Fuzz(func(t *testing.T, name string, n int32) {
		if id, ok := sniRouting.BrokerForServerName(name); ok {
			if id < 0 || !strings.EqualFold(sniRouting.BrokerHost(id), name) {
				t.Fatalf("%q parsed as broker %d, whose name is %q", name, id, sniRouting.BrokerHost(id))
			}
		}
		if n >= 0 {
			if id, ok := sniRouting.BrokerForServerName(sniRouting.BrokerHost(n)); !ok || id != n {
				t.Fatalf("name of broker %d parsed as (%d, %v)", n, id, ok)
			}
		}
	})
}

// serverTLS returns a listener configuration with a self-signed
// certificate for hosts, and a pool that trusts it.
func serverTLS(t *testing.T, hosts ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: hosts[0]},
		DNSNames:              hosts,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// TestHostRouting puts a host-routed TLS gateway in front of three fake
// brokers: each connection lands on the broker its server name names, in
// any case; other names and no name at all are served as bootstrap
// connections; Metadata advertises the broker host names at the SNI port;
// and a client that dials by those names produces and consumes.
func TestHostRouting(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	listenerTLS, roots := serverTLS(t, "*.strait.test", "strait.test")
	const sniPort = 9093 // what a load balancer in front would listen on
	tg := startGatewayFor(t, cluster, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), func(c *Config) {
		c.Routing.Mode, c.Routing.AdvertisedHost = HostRouting, sniRouting.AdvertisedHost
		c.Routing.HostPrefix, c.Routing.HostSeparator, c.Routing.SNIPort = sniRouting.HostPrefix, sniRouting.HostSeparator, sniPort
		c.TLS = listenerTLS
	})
	addr := tg.addr()

	// ListGroups is sent only by this test; the fake cluster reports which
	// broker received each one.
	var mu sync.Mutex
	var served []int32
	cluster.ControlKey(kmsg.ListGroups.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		mu.Lock()
		served = append(served, cluster.CurrentNode())
		mu.Unlock()
		return nil, nil, false
	})
	landsOn := func(t *testing.T, cfg *tls.Config) int32 {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		r := &rawConn{t: t, conn: c}
		r.roundTrip(kmsg.NewPtrListGroupsRequest(), 1)
		mu.Lock()
		defer mu.Unlock()
		return served[len(served)-1]
	}
	for _, tc := range []struct {
		name string
		want int32 // -1: any live broker
	}{
		{"broker0.strait.test", 0},
		{"broker1.strait.test", 1},
		{"broker2.strait.test", 2},
		{"BROKER1.STRAIT.TEST", 1},
		{"Broker2.Strait.Test", 2},
		{"strait.test", -1},
		{"broker7.strait.test", -1}, // no such broker
		{"broker01.strait.test", -1},
		{"kafka.strait.test", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := landsOn(t, &tls.Config{ServerName: tc.name, RootCAs: roots, MinVersion: tls.VersionTLS12})
			if tc.want >= 0 && got != tc.want || got < 0 || got > 2 {
				t.Fatalf("connection for %s served by broker %d, want %d (-1: any)", tc.name, got, tc.want)
			}
		})
	}
	t.Run("no server name", func(t *testing.T) {
		if got := landsOn(t, &tls.Config{InsecureSkipVerify: true}); got < 0 || got > 2 {
			t.Fatalf("served by broker %d", got)
		}
	})
	t.Run("plaintext client is refused", func(t *testing.T) {
		r := dialRaw(t, addr)
		r.send(kmsg.NewPtrApiVersionsRequest(), 1)
		if !r.closedByPeer() {
			t.Fatal("the TLS listener answered a plaintext request")
		}
	})

	// A client that resolves every gateway name to the gateway's one port.
	var dialedMu sync.Mutex
	dialed := map[string]bool{}
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		dialedMu.Lock()
		dialed[host] = true
		dialedMu.Unlock()
		name, _, err := net.SplitHostPort(host)
		if err != nil {
			return nil, err
		}
		d := tls.Dialer{Config: &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12}}
		return d.DialContext(ctx, network, addr)
	}
	bootstrap := net.JoinHostPort("strait.test", strconv.Itoa(sniPort))
	cl := tg.client(t, kgo.SeedBrokers(bootstrap), kgo.Dialer(dial))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, b := range md.Brokers {
		hosts = append(hosts, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))))
	}
	slices.Sort(hosts)
	want := []string{"broker0.strait.test:9093", "broker1.strait.test:9093", "broker2.strait.test:9093"}
	if !slices.Equal(hosts, want) {
		t.Fatalf("Metadata advertises %v, want %v", hosts, want)
	}

	const topic = "sni-routing"
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) { // partition p led by broker p
		if err := cluster.MoveTopicPartition(topic, p, p); err != nil {
			t.Fatal(err)
		}
	}
	prod := tg.client(t, kgo.SeedBrokers(bootstrap), kgo.Dialer(dial), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range 30 {
		r := &kgo.Record{Partition: int32(i % 3), Key: []byte("key-" + strconv.Itoa(i%3)), Value: []byte("sni-" + strconv.Itoa(i))}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cons := tg.client(t, kgo.SeedBrokers(bootstrap), kgo.Dialer(dial), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkConsumed(t, cons, 30)

	dialedMu.Lock()
	defer dialedMu.Unlock()
	for _, h := range append(want, bootstrap) {
		if !dialed[h] {
			t.Errorf("the client never dialed %s (dialed %v)", h, dialed)
		}
	}
}

func TestHostRoutingNeedsTLS(t *testing.T) {
	topo := NewTopology()
	gw := New(Config{BindHost: "127.0.0.1", Routing: Routing{Mode: HostRouting, AdvertisedHost: "strait.test", PortStart: freePorts(t, 1)}},
		tcpDialer{}, topo, zap.NewNop())
	if err := gw.Listen(); err == nil || !strings.Contains(err.Error(), "TLS") {
		_ = gw.Shutdown(context.Background())
		t.Fatalf("Listen without TLS: %v, want an error naming TLS", err)
	}
}
