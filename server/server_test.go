package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/backing"
	"github.com/strait-gateway/strait/gateway"
)

func mapEnv(m map[string]string) backing.Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestFromEnv(t *testing.T) {
	cfg, err := FromEnv(mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BindHost != "0.0.0.0" || cfg.PortStart != 6969 || cfg.HTTPPort != 8888 || cfg.AdvertisedHost != "localhost" ||
		cfg.MaxFrameBytes != 104857600 || !cfg.Embedded || cfg.PortCount != 0 || cfg.MinBrokerID != 0 {
		t.Fatalf("defaults: %+v", cfg)
	}
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"GATEWAY_PORT_START": "sixty"}, "GATEWAY_PORT_START"},
		{map[string]string{"GATEWAY_PORT_START": "70000"}, "GATEWAY_PORT_START"},
		{map[string]string{"GATEWAY_PORT_START": "65530", "GATEWAY_PORT_COUNT": "10"}, "past port 65535"},
		{map[string]string{"GATEWAY_SOCKET_REQUEST_MAX_BYTES": "10"}, "GATEWAY_SOCKET_REQUEST_MAX_BYTES"},
		{map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "KAFKA_SECURITY_PROTOCOL": "nope"}, "KAFKA_SECURITY_PROTOCOL"},
		{map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}, "GATEWAY_ADMIN_API_USERS"},
		{map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "GATEWAY_ADMIN_API_USERS": `[{"username":"ro","password":"12345678","admin":false}]`}, "no admin user"},
		{map[string]string{"GATEWAY_CLUSTER_ID": "has space"}, "GATEWAY_CLUSTER_ID"},
	} {
		if _, err := FromEnv(mapEnv(tc.env)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want one naming %s", tc.env, err, tc.wantErr)
		}
	}
	cfg, err = FromEnv(mapEnv(map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "GATEWAY_MIN_BROKERID": "100",
		"GATEWAY_ADMIN_API_USERS": `[{"username":"ops","password":"a-long-secret","admin":true}]`}))
	if err != nil || cfg.Embedded || len(cfg.Backing.Bootstrap) != 2 || cfg.MinBrokerID != 100 {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
}

// keyStore writes a PEM key store (a self-signed certificate for hosts and
// its key) and returns its path and a pool that trusts the certificate.
func keyStore(t *testing.T, hosts ...string) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gateway.pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return path, pool
}

func TestHostRoutingConfig(t *testing.T) {
	store, _ := keyStore(t, "*.strait.test", "strait.test")
	withTLS := func(protocol string, more map[string]string) map[string]string {
		env := map[string]string{"GATEWAY_SECURITY_PROTOCOL": protocol, "GATEWAY_SSL_KEY_STORE_PATH": store,
			"GATEWAY_ROUTING_MECHANISM": "host", "GATEWAY_ADVERTISED_HOST": "strait.test"}
		for k, v := range more {
			env[k] = v
		}
		return env
	}

	cfg, err := FromEnv(mapEnv(withTLS("SSL", nil)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routing != gateway.HostRouting || cfg.HostPrefix != "broker" || cfg.HostSeparator != "." || cfg.AdvertisedSNIPort != 0 {
		t.Fatalf("host routing defaults: %+v", cfg)
	}
	cfg, err = FromEnv(mapEnv(withTLS("sasl_ssl", map[string]string{"GATEWAY_ROUTING_MECHANISM": "HOST",
		"GATEWAY_ADVERTISED_HOST_PREFIX": "kafka-", "GATEWAY_SNI_HOST_SEPARATOR": "-", "GATEWAY_ADVERTISED_SNI_PORT": "443",
		"GATEWAY_PORT_START": "65535", "GATEWAY_PORT_COUNT": "10"})))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routing != gateway.HostRouting || cfg.HostPrefix != "kafka-" || cfg.HostSeparator != "-" || cfg.AdvertisedSNIPort != 443 {
		t.Fatalf("host routing: %+v", cfg)
	}
	if _, err := FromEnv(mapEnv(withTLS("DELEGATED_SASL_SSL", nil))); err != nil {
		t.Fatalf("DELEGATED_SASL_SSL: %v", err)
	}
	cfg, err = FromEnv(mapEnv(map[string]string{"GATEWAY_ROUTING_MECHANISM": "port", "GATEWAY_ADVERTISED_HOST": "10.0.0.1"}))
	if err != nil || cfg.Routing != gateway.PortRouting {
		t.Fatalf("port routing: %+v, %v", cfg, err)
	}

	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"GATEWAY_ROUTING_MECHANISM": "host"}, "GATEWAY_SECURITY_PROTOCOL is PLAINTEXT"},
		{map[string]string{"GATEWAY_ROUTING_MECHANISM": "host", "GATEWAY_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "needs a TLS listener"},
		{map[string]string{"GATEWAY_ROUTING_MECHANISM": "host", "GATEWAY_SECURITY_PROTOCOL": "DELEGATED_SASL_PLAINTEXT"}, "needs a TLS listener"},
		{map[string]string{"GATEWAY_ROUTING_MECHANISM": "sni"}, "GATEWAY_ROUTING_MECHANISM"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_HOST": "127.0.0.1"}), "not an IP address"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_HOST": "::1"}), "not an IP address"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_HOST_PREFIX": "bro ker"}), "not a valid DNS name"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_HOST_PREFIX": "-b"}), "not a valid DNS name"},
		{withTLS("SSL", map[string]string{"GATEWAY_SNI_HOST_SEPARATOR": "_"}), "not a valid DNS name"},
		{withTLS("SSL", map[string]string{"GATEWAY_SNI_HOST_SEPARATOR": ".."}), "not a valid DNS name"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_HOST": strings.Repeat("a", 64) + ".test"}), "not a valid DNS name"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_SNI_PORT": "0"}), "GATEWAY_ADVERTISED_SNI_PORT"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_SNI_PORT": "65536"}), "GATEWAY_ADVERTISED_SNI_PORT"},
		{withTLS("SSL", map[string]string{"GATEWAY_ADVERTISED_SNI_PORT": "https"}), "GATEWAY_ADVERTISED_SNI_PORT"},
	} {
		if _, err := FromEnv(mapEnv(tc.env)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want one containing %q", tc.env, err, tc.wantErr)
		}
	}
}

// TestHostRoutingNode starts a host-routed node on a two-broker embedded
// cluster: it joins no membership, advertises the broker host names at the
// SNI port, and a client dialing by those names produces and consumes.
func TestHostRoutingNode(t *testing.T) {
	store, roots := keyStore(t, "*.strait.test", "strait.test")
	cfg, err := FromEnv(mapEnv(map[string]string{"GATEWAY_SECURITY_PROTOCOL": "SSL", "GATEWAY_SSL_KEY_STORE_PATH": store,
		"GATEWAY_ROUTING_MECHANISM": "host", "GATEWAY_ADVERTISED_HOST": "strait.test", "GATEWAY_ADVERTISED_SNI_PORT": "9093"}))
	if err != nil {
		t.Fatal(err)
	}
	test := testConfig()
	cfg.BindHost, cfg.HTTPPort, cfg.RefreshInterval, cfg.EmbeddedBrokers = test.BindHost, test.HTTPPort, test.RefreshInterval, 2
	s := start(t, cfg)
	if s.members != nil {
		t.Fatal("a host-routed node joined the membership")
	}
	if got := s.KafkaAddr(); got != "strait.test:9093" {
		t.Fatalf("KafkaAddr = %s, want the advertised host at the SNI port", got)
	}
	listen := "127.0.0.1:" + strconv.Itoa(s.cfg.PortStart)
	var mu sync.Mutex
	dialed := map[string]bool{}
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		mu.Lock()
		dialed[host] = true
		mu.Unlock()
		name, _, err := net.SplitHostPort(host)
		if err != nil {
			return nil, err
		}
		d := tls.Dialer{Config: &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12}}
		return d.DialContext(ctx, network, listen)
	}
	const topic = "host-routing"
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.KafkaAddr()), kgo.Dialer(dial), kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, b := range md.Brokers {
		hosts = append(hosts, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))))
	}
	slices.Sort(hosts)
	if want := []string{"broker0.strait.test:9093", "broker1.strait.test:9093"}; !slices.Equal(hosts, want) {
		t.Fatalf("Metadata advertises %v, want %v", hosts, want)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("over SNI")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "over SNI" {
		t.Fatalf("consumed %v, err %v", fs.Records(), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !dialed["strait.test:9093"] || !slices.ContainsFunc(hosts, func(h string) bool { return dialed[h] }) {
		t.Fatalf("dialed %v: want the bootstrap and at least one broker name", dialed)
	}
}

func testConfig() Config {
	return Config{
		BindHost: "127.0.0.1", AdvertisedHost: "127.0.0.1", PortStart: 0, HTTPPort: 0,
		MaxFrameBytes: 1 << 20, MaxInFlight: 100, DrainTimeout: time.Second, RefreshInterval: 200 * time.Millisecond,
	}
}

func health(t *testing.T, s *Server, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	for port := 31000; port < 32000; port += 10 {
		cfg.PortStart = port
		s, err := Start(context.Background(), cfg, zaptest.NewLogger(t))
		if err == nil {
			t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
			return s
		}
		if !strings.Contains(err.Error(), "in use") {
			t.Fatal(err)
		}
	}
	t.Fatal("no free ports")
	return nil
}

func TestHealthOnEmbeddedCluster(t *testing.T) {
	cfg := testConfig()
	cfg.Embedded, cfg.EmbeddedBrokers = true, 2
	s := start(t, cfg)
	if code, _ := health(t, s, "/health/live"); code != http.StatusOK {
		t.Fatalf("live: %d", code)
	}
	if code, body := health(t, s, "/health/ready"); code != http.StatusOK || body["status"] != "UP" {
		t.Fatalf("ready: %d %v", code, body)
	}
}

func TestNotReadyWhenBackingGoesAway(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Backing = backing.Config{Bootstrap: c.ListenAddrs(), SecurityProtocol: "PLAINTEXT"}
	cfg.PortCount = 3
	s := start(t, cfg)
	if code, body := health(t, s, "/health/ready"); code != http.StatusOK {
		t.Fatalf("ready before the cluster went away: %d %v", code, body)
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := health(t, s, "/health/ready")
		checks, _ := body["checks"].(map[string]any)
		if code == http.StatusServiceUnavailable && checks["listeners"] == true && checks["backingCluster"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d %v after the backing cluster went away", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := health(t, s, "/health/live"); code != http.StatusOK {
		t.Fatalf("live: %d", code)
	}
}

func TestStartWaitsForTheConfigTopic(t *testing.T) {
	cfg := testConfig()
	cfg.Backing = backing.Config{Bootstrap: []string{"127.0.0.1:1"}, SecurityProtocol: "PLAINTEXT"}
	cfg.PortCount = 3
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if s, err := Start(ctx, cfg, zaptest.NewLogger(t)); err == nil {
		_ = s.Shutdown(context.Background())
		t.Fatal("started without its configuration")
	}
}

// scrape reads the node's /metrics, without credentials, and parses it.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// metric returns the value of the sample of family name whose labels are
// exactly labels (name, value pairs): a counter's or gauge's value, a
// histogram's count. It is NaN when there is no such sample.
func metric(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
next:
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		for i, l := range m.GetLabel() {
			if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return math.NaN()
}

// waitMetrics scrapes until ok holds, for up to ten seconds.
func waitMetrics(t *testing.T, s *Server, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrape(t, s)
		if ok(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMetrics: traffic through a node, an admin API write and an invalid
// hand-produced config record all show in its /metrics.
func TestMetrics(t *testing.T) {
	cfg := testConfig()
	cfg.Embedded, cfg.EmbeddedBrokers = true, 1
	s := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const topic, records = "metrics-test", 5
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.KafkaAddr()), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range records {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for consumed := 0; consumed < records; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		consumed += fs.NumRecords()
	}
	fams := scrape(t, s)
	for _, tc := range []struct {
		name   string
		labels []string
	}{
		{"strait_requests_total", []string{"api_key", "Produce"}},
		{"strait_requests_total", []string{"api_key", "Fetch"}},
		{"strait_bytes_total", []string{"api_key", "Produce", "direction", "request"}},
		{"strait_bytes_total", []string{"api_key", "Produce", "direction", "response"}},
		{"strait_bytes_total", []string{"api_key", "Fetch", "direction", "request"}},
		{"strait_bytes_total", []string{"api_key", "Fetch", "direction", "response"}},
		{"strait_request_duration_seconds", []string{"api_key", "Produce"}},
		{"strait_connections_open", nil},
		{"strait_store_records_applied_total", []string{"topic", cfg.MembersTopic()}},
	} {
		if got := metric(fams, tc.name, tc.labels...); !(got > 0) {
			t.Errorf("%s%v = %v, want > 0", tc.name, tc.labels, got)
		}
	}
	if got := metric(fams, "strait_cluster_members_live"); got != 1 {
		t.Errorf("strait_cluster_members_live = %v, want 1 (the node itself)", got)
	}
	open, accepted, closed := metric(fams, "strait_connections_open"), metric(fams, "strait_connections_accepted_total"), metric(fams, "strait_connections_closed_total")
	if open+closed != accepted {
		t.Errorf("connections: %v open + %v closed != %v accepted", open, closed, accepted)
	}

	// A resource written through the admin API is counted by kind.
	group := `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"metrics-group"},"spec":{"members":[{"name":"alice"}]}}`
	req, _ := http.NewRequest(http.MethodPut, "http://"+s.HTTPAddr()+"/gateway/v2/group", strings.NewReader(group))
	req.SetBasicAuth(embeddedAdmin.Username, embeddedAdmin.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT group: %d", resp.StatusCode)
	}
	fams = scrape(t, s)
	for kind, want := range map[string]float64{"GatewayGroup": 1, "VirtualCluster": 0, "Interceptor": 0} {
		if got := metric(fams, "strait_config_resources", "kind", kind); got != want {
			t.Errorf("%s resources: %v, want %v", kind, got, want)
		}
	}
	topicLabel := []string{"topic", cfg.ConfigTopic()}
	if got := metric(fams, "strait_store_records_applied_total", topicLabel...); got != 1 {
		t.Errorf("config records applied: %v, want 1", got)
	}

	// An invalid record produced by hand to the config topic is rejected.
	rejected := metric(fams, "strait_store_records_rejected_total", topicLabel...)
	direct, err := kgo.NewClient(kgo.SeedBrokers(s.Embedded().Cluster().ListenAddrs()...), kgo.DefaultProduceTopic(cfg.ConfigTopic()))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	broken := &kgo.Record{Key: []byte(`{"kind":"GatewayGroup","metadata":{"name":"broken"}}`), Value: []byte("not json")}
	if err := direct.ProduceSync(ctx, broken).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fams = waitMetrics(t, s, "the rejected record", func(f map[string]*dto.MetricFamily) bool {
		return metric(f, "strait_store_records_rejected_total", topicLabel...) == rejected+1
	})
	if lag := metric(fams, "strait_store_lag_records", topicLabel...); lag != 0 {
		t.Errorf("config store lag %v once caught up", lag)
	}
	if got := metric(fams, "strait_config_resources", "kind", "GatewayGroup"); got != 1 {
		t.Errorf("GatewayGroup resources after a rejected record: %v, want 1", got)
	}

	// Once the client is gone, no connection stays open.
	cl.Close()
	waitMetrics(t, s, "every connection closed", func(f map[string]*dto.MetricFamily) bool {
		return metric(f, "strait_connections_open") == 0 &&
			metric(f, "strait_connections_closed_total") == metric(f, "strait_connections_accepted_total")
	})
}
