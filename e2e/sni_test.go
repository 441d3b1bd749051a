package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strait-gateway/strait/server"
)

// sniHost is the advertised host of the host-routed gateway; no DNS knows
// it, the test's client resolves every name itself.
const sniHost = "strait.test"

// sniPort is the port advertised with host routing, as a load balancer in
// front of the gateway would listen on. Nothing binds it: the client sends
// every connection to the gateway's own listening port.
const sniPort = 9093

// TestSNIRouting runs a host-routed SSL gateway node in front of the real
// three-broker cluster. A franz-go client bootstraps from strait.test and
// resolves every name to the gateway's one port, doing the TLS handshake
// for the name it asked for and verifying against the test's CA. It
// creates a topic with one partition led by each broker, produces to and
// consumes from it in a group. The test checks that Metadata advertised
// broker<n>.strait.test at the SNI port, that the client dialed those names
// and nothing else, and, in the gateway's log, that every connection for
// broker<n>.strait.test went to broker n's own address.
func TestSNIRouting(t *testing.T) {
	requireReal(t)
	roots, keyStore := sniCertificates(t)
	core, logs := observer.New(zap.DebugLevel)
	defer func() {
		if t.Failed() {
			for _, e := range logs.FilterLevelExact(zap.DebugLevel).FilterMessage("connection opened").All() {
				t.Logf("gateway log: %s %v", e.Message, e.ContextMap())
			}
			for _, e := range logs.All() {
				if e.Level >= zap.InfoLevel {
					t.Logf("gateway log: %s %s %v", e.Level, e.Message, e.ContextMap())
				}
			}
		}
	}()
	gw, listen := startSNIGateway(t, keyStore, zap.New(core))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	}()
	bootstrap := gw.KafkaAddr()
	if want := net.JoinHostPort(sniHost, strconv.Itoa(sniPort)); bootstrap != want {
		t.Fatalf("bootstrap address %s, want %s", bootstrap, want)
	}

	var mu sync.Mutex
	dialed := map[string]int{}
	dial := kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
		mu.Lock()
		dialed[host]++
		mu.Unlock()
		name, _, err := net.SplitHostPort(host)
		if err != nil {
			return nil, err
		}
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second},
			Config: &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12}}
		return d.DialContext(ctx, network, listen)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), dial)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Broker n's own address, read from the cluster, not the gateway.
	upstream := trioBrokers(ctx, t)
	brokerHosts := map[int32]string{}
	for id := range upstream {
		brokerHosts[id] = net.JoinHostPort(fmt.Sprintf("broker%d.%s", id, sniHost), strconv.Itoa(sniPort))
	}

	topic := fmt.Sprintf("sni-%d", time.Now().UnixNano()%1e9)
	createLedByEach(ctx, t, cl, topic)
	adm := kadm.NewClient(cl)
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil && sniLeadersPlaced(md, topic) && leadersServe(ctx, adm, topic) {
			var got []string
			for _, b := range md.Brokers {
				got = append(got, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))))
			}
			slices.Sort(got)
			want := slices.Sorted(maps.Values(brokerHosts))
			if !slices.Equal(got, want) {
				t.Fatalf("Metadata through the gateway advertises %v, want %v", got, want)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s: partitions not led by brokers 1, 2, 3 (%v)", topic, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	const n = 300
	prefix := "sni"
	produceToPartitions(ctx, t, topic, prefix, n, kgo.SeedBrokers(bootstrap), dial)
	rs := consumeGo(t, bootstrap, topic, "g-"+topic, n, dial)
	checkRecords(t, rs, prefix, n)
	perPartition := map[int32]int{}
	for _, r := range rs {
		perPartition[r.P]++
	}
	if len(perPartition) != 3 {
		t.Fatalf("records per partition %v: want records on the partition of every broker", perPartition)
	}

	advertised := append(slices.Collect(maps.Values(brokerHosts)), bootstrap)
	mu.Lock()
	for host := range dialed {
		if !slices.Contains(advertised, host) {
			t.Errorf("the client dialed %s, which the gateway never advertised", host)
		}
	}
	for _, h := range advertised {
		if dialed[h] == 0 {
			t.Errorf("the client never dialed %s (dialed %v)", h, dialed)
		}
	}
	mu.Unlock()

	// Every connection for a broker's name reached that broker; bootstrap
	// connections reached some broker.
	reached := map[string]int{}
	for _, e := range logs.FilterMessage("connection opened").All() {
		f := e.ContextMap()
		name, _ := f["serverName"].(string)
		to := fmt.Sprint(f["upstream"])
		broker := fmt.Sprint(f["broker"])
		if name == sniHost {
			if broker != "-1" || !slices.Contains(slices.Collect(maps.Values(upstream)), to) {
				t.Errorf("bootstrap connection (server name %s) chose broker %s at %s", name, broker, to)
			}
			reached[name]++
			continue
		}
		id, ok := brokerOf(name, brokerHosts)
		if !ok {
			t.Errorf("connection with server name %q, which the gateway never advertised", name)
			continue
		}
		if broker != strconv.Itoa(int(id)) || to != upstream[id] {
			t.Errorf("connection for %s went to broker %s at %s, want broker %d at %s", name, broker, to, id, upstream[id])
		}
		reached[name]++
	}
	for id := range upstream {
		if name := fmt.Sprintf("broker%d.%s", id, sniHost); reached[name] == 0 {
			t.Errorf("no connection for %s in the gateway's log (%v)", name, reached)
		}
	}
	t.Logf("connections by server name: %v", reached)
}

// sniCertificates makes a CA and a server certificate it signs for
// *.strait.test and strait.test, writes the server's chain and key as a
// PEM key store, and returns a pool trusting the CA and the store's path.
func sniCertificates(t *testing.T) (*x509.CertPool, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strait e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: sniHost},
		DNSNames:  []string{"*." + sniHost, sniHost},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var store []byte
	store = append(store, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	store = append(store, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	store = append(store, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path := filepath.Join(t.TempDir(), "gateway.pem")
	if err := os.WriteFile(path, store, 0o600); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return roots, path
}

// startSNIGateway starts a host-routed SSL node on the trio cluster,
// configured through the environment variables a user sets, and returns it
// with the address it listens on.
func startSNIGateway(t *testing.T, keyStore string, log *zap.Logger) (*server.Server, string) {
	t.Helper()
	for range 10 {
		port := strconv.Itoa(freePort())
		cfg, err := server.FromEnv(mapEnv(map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS":     trio.direct,
			"GATEWAY_ADMIN_API_USERS":     e2eAdminUsers,
			"GATEWAY_CLUSTER_ID":          fmt.Sprintf("sni%d", time.Now().UnixNano()%1e9),
			"GATEWAY_BIND_HOST":           "127.0.0.1",
			"GATEWAY_HTTP_PORT":           "0",
			"GATEWAY_METADATA_REFRESH_MS": "2000",
			"GATEWAY_PORT_START":          port,
			"GATEWAY_SECURITY_PROTOCOL":   "SSL",
			"GATEWAY_SSL_KEY_STORE_PATH":  keyStore,
			"GATEWAY_ROUTING_MECHANISM":   "host",
			"GATEWAY_ADVERTISED_HOST":     sniHost,
			"GATEWAY_ADVERTISED_SNI_PORT": strconv.Itoa(sniPort),
		}))
		if err != nil {
			t.Fatalf("server.FromEnv: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		srv, err := server.Start(ctx, cfg, log)
		cancel()
		if err == nil {
			return srv, net.JoinHostPort("127.0.0.1", port)
		}
		if !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("start gateway: %v", err)
		}
	}
	t.Fatal("no free port for the gateway")
	return nil, ""
}

// trioBrokers returns each broker's address as the trio cluster itself
// reports it.
func trioBrokers(ctx context.Context, t *testing.T) map[int32]string {
	t.Helper()
	direct, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(trio.direct, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	md, err := kadm.NewClient(direct).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]string{}
	for _, b := range md.Brokers {
		out[b.NodeID] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	}
	if len(out) != 3 {
		t.Fatalf("trio cluster has brokers %v, want 3", out)
	}
	return out
}

// createLedByEach creates topic through the gateway with three partitions
// whose preferred leaders are brokers 1, 2 and 3.
func createLedByEach(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for p := range int32(3) {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = p, []int32{p + 1, (p+1)%3 + 1, (p+2)%3 + 1}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil && len(resp.Topics) == 1 {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// sniLeadersPlaced reports whether partition p of topic is led by broker
// p + 1.
func sniLeadersPlaced(md kadm.Metadata, topic string) bool {
	td := md.Topics[topic]
	if td.Err != nil || len(td.Partitions) != 3 {
		return false
	}
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader != p.Partition+1 {
			return false
		}
	}
	return true
}

// produceToPartitions produces prefix-0 … prefix-(n−1) with keys key-(i%8),
// each key always to partition (i%8)%3, so every partition gets records
// and each key's records keep their order.
func produceToPartitions(ctx context.Context, t *testing.T, topic, prefix string, n int, opts ...kgo.Opt) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Partition: int32(i % 8 % 3), Key: []byte("key-" + strconv.Itoa(i%8)), Value: []byte(prefix + "-" + strconv.Itoa(i))}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce through the host-routed gateway: %v", err)
	}
}

// brokerOf returns the broker whose advertised host name is name.
func brokerOf(name string, hosts map[int32]string) (int32, bool) {
	for id, h := range hosts {
		if host, _, _ := net.SplitHostPort(h); strings.EqualFold(host, name) {
			return id, true
		}
	}
	return 0, false
}
