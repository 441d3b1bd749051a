package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strait-gateway/strait/backing"
	"github.com/strait-gateway/strait/server"
)

// secured is a one-node real Kafka cluster whose client listeners require
// SASL and TLS (kafka.sh start-secure); nil in -short mode.
var secured *securedCluster

// securedCluster is what kafka.sh start-secure printed: listener addresses
// (PLAINTEXT, SASL_PLAINTEXT, SASL_SSL, SSL), the PEM files (CA_PEM,
// CLIENT_PEM, CLIENT_CERT, CLIENT_KEY) and the credentials (SASL_USER,
// PLAIN_PASSWORD, SCRAM_SHA_256_PASSWORD, SCRAM_SHA_512_PASSWORD).
type securedCluster struct {
	name string
	env  map[string]string
}

// startSecuredKafka starts the secured cluster with kafka.sh start-secure.
func startSecuredKafka(name string, basePort int) (*securedCluster, error) {
	script := filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "start-secure", name, strconv.Itoa(basePort))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		_ = exec.Command(script, "stop", name).Run()
		return nil, fmt.Errorf("start secured kafka %s: %w", name, err)
	}
	c := &securedCluster{name: name, env: make(map[string]string)}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			c.env[k] = v
		}
	}
	for _, k := range []string{"PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL", "CA_PEM", "CLIENT_PEM",
		"CLIENT_CERT", "CLIENT_KEY", "SASL_USER", "PLAIN_PASSWORD", "SCRAM_SHA_256_PASSWORD", "SCRAM_SHA_512_PASSWORD"} {
		if c.env[k] == "" {
			_ = exec.Command(script, "stop", name).Run()
			return nil, fmt.Errorf("start secured kafka %s: kafka.sh printed no %s:\n%s", name, k, out)
		}
	}
	return c, nil
}

func stopSecuredKafka(c *securedCluster) {
	if c != nil {
		_ = exec.Command(filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh"), "stop", c.name).Run()
	}
}

// mapEnv is a backing.Env over a map, standing in for the process
// environment.
func mapEnv(m map[string]string) backing.Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// jaasConfig is a KAFKA_SASL_JAAS_CONFIG value as a Kafka user writes it.
func jaasConfig(module, user, password string) string {
	return fmt.Sprintf(`org.apache.kafka.common.security.%s required username="%s" password="%s";`, module, user, password)
}

// securedGatewayConfig reads the node configuration from env, as main.go
// does, then sets what the e2e gateways share (gatewayConfig) and the port
// range of a one-node cluster numbered from 1.
func securedGatewayConfig(t *testing.T, env map[string]string) server.Config {
	t.Helper()
	env["GATEWAY_ADMIN_API_USERS"] = e2eAdminUsers
	cfg, err := server.FromEnv(mapEnv(env))
	if err != nil {
		t.Fatalf("server.FromEnv: %v", err)
	}
	if cfg.Embedded {
		t.Fatal("server.FromEnv chose the embedded cluster although KAFKA_BOOTSTRAP_SERVERS is set")
	}
	if got, want := cfg.Backing.SecurityProtocol, env["KAFKA_SECURITY_PROTOCOL"]; got != want {
		t.Fatalf("security protocol %q, want %q", got, want)
	}
	g := gatewayConfig()
	cfg.BindHost, cfg.AdvertisedHost, cfg.HTTPPort = g.BindHost, g.AdvertisedHost, g.HTTPPort
	cfg.MaxFrameBytes, cfg.MaxInFlight = g.MaxFrameBytes, g.MaxInFlight
	cfg.DrainTimeout, cfg.RefreshInterval = g.DrainTimeout, g.RefreshInterval
	cfg.MinBrokerID, cfg.PortCount = 1, 3
	return cfg
}

// health is the /health/ready answer.
type health struct {
	code   int
	Status string          `json:"status"`
	Checks map[string]bool `json:"checks"`
}

func getHealth(t *testing.T, srv *server.Server, path string) health {
	t.Helper()
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + srv.HTTPAddr() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	h := health{code: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return h
}

// TestSecuredBackingCluster runs Strait in front of a real Kafka whose
// listeners require SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), TLS, or
// mutual TLS, configured only through the KAFKA_* variables a user sets.
// Clients talk plaintext to the gateway; each positive case produces 200
// records and consumes them back in a group. The negative case gives the
// gateway a wrong SCRAM password.
func TestSecuredBackingCluster(t *testing.T) {
	requireReal(t)
	s := secured
	ca, err := os.ReadFile(s.env["CA_PEM"])
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := os.ReadFile(s.env["CLIENT_CERT"])
	if err != nil {
		t.Fatal(err)
	}
	clientKey, err := os.ReadFile(s.env["CLIENT_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	user := s.env["SASL_USER"]
	plainJAAS := jaasConfig("plain.PlainLoginModule", user, s.env["PLAIN_PASSWORD"])

	cases := []struct {
		name, slug string
		env        map[string]string
		reject     bool // the backing cluster refuses the gateway's credentials
	}{
		{"SASL_PLAINTEXT/PLAIN", "sasl-plain", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS": s.env["SASL_PLAINTEXT"],
			"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
			"KAFKA_SASL_MECHANISM":    "PLAIN",
			"KAFKA_SASL_JAAS_CONFIG":  plainJAAS,
		}, false},
		{"SASL_PLAINTEXT/SCRAM-SHA-256", "sasl-scram256", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS": s.env["SASL_PLAINTEXT"],
			"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
			"KAFKA_SASL_MECHANISM":    "SCRAM-SHA-256",
			"KAFKA_SASL_JAAS_CONFIG":  jaasConfig("scram.ScramLoginModule", user, s.env["SCRAM_SHA_256_PASSWORD"]),
		}, false},
		{"SASL_PLAINTEXT/SCRAM-SHA-512", "sasl-scram512", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS": s.env["SASL_PLAINTEXT"],
			"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
			"KAFKA_SASL_MECHANISM":    "SCRAM-SHA-512",
			"KAFKA_SASL_JAAS_CONFIG":  jaasConfig("scram.ScramLoginModule", user, s.env["SCRAM_SHA_512_PASSWORD"]),
		}, false},
		{"SASL_SSL/PLAIN truststore file", "sasl-ssl-plain", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS":       s.env["SASL_SSL"],
			"KAFKA_SECURITY_PROTOCOL":       "SASL_SSL",
			"KAFKA_SASL_MECHANISM":          "PLAIN",
			"KAFKA_SASL_JAAS_CONFIG":        plainJAAS,
			"KAFKA_SSL_TRUSTSTORE_LOCATION": s.env["CA_PEM"],
			"KAFKA_SSL_TRUSTSTORE_TYPE":     "PEM",
		}, false},
		{"SSL/mTLS keystore file, inline truststore", "mtls-file", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS":           s.env["SSL"],
			"KAFKA_SECURITY_PROTOCOL":           "SSL",
			"KAFKA_SSL_KEYSTORE_LOCATION":       s.env["CLIENT_PEM"],
			"KAFKA_SSL_KEYSTORE_TYPE":           "PEM",
			"KAFKA_SSL_TRUSTSTORE_CERTIFICATES": string(ca),
		}, false},
		{"SSL/mTLS inline keystore, truststore file", "mtls-inline", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS":              s.env["SSL"],
			"KAFKA_SECURITY_PROTOCOL":              "SSL",
			"KAFKA_SSL_KEYSTORE_TYPE":              "PEM",
			"KAFKA_SSL_KEYSTORE_CERTIFICATE_CHAIN": string(clientCert),
			"KAFKA_SSL_KEYSTORE_KEY":               string(clientKey),
			"KAFKA_SSL_TRUSTSTORE_LOCATION":        s.env["CA_PEM"],
			"KAFKA_SSL_TRUSTSTORE_TYPE":            "PEM",
		}, false},
		{"SASL_PLAINTEXT/SCRAM-SHA-512 wrong password", "sasl-scram512-bad", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS": s.env["SASL_PLAINTEXT"],
			"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
			"KAFKA_SASL_MECHANISM":    "SCRAM-SHA-512",
			"KAFKA_SASL_JAAS_CONFIG":  jaasConfig("scram.ScramLoginModule", user, s.env["SCRAM_SHA_512_PASSWORD"]+"-wrong"),
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := securedGatewayConfig(t, tc.env)
			if tc.reject {
				checkRejected(t, cfg, tc.env["KAFKA_BOOTSTRAP_SERVERS"])
				return
			}
			checkRoundTrip(t, cfg, tc.slug)
		})
	}
}

// checkRoundTrip starts a gateway with cfg, checks it is ready, moves 200
// records through it into the secured cluster and back in a group, checks
// on the cluster itself that they arrived, then moves a few large records.
func checkRoundTrip(t *testing.T, cfg server.Config, slug string) {
	t0 := time.Now()
	gw, err := startGateway(cfg)
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	}()
	if h := getHealth(t, gw, "/health/ready"); h.code != http.StatusOK || !h.Checks["backingCluster"] {
		t.Fatalf("/health/ready = %d %+v, want 200 with the backing cluster reachable", h.code, h)
	}
	b := &backend{name: "secured-" + slug, direct: strings.Join(cfg.Backing.Bootstrap, ","), gateway: gw, nodes: 1}
	const n = 200
	topic := newTopic(t, b, "sec", 3)
	prefix := "v-" + slug
	franzGo{}.produce(t, b.gatewayAddr(), topic, prefix, n)
	rs := consumeGo(t, b.gatewayAddr(), topic, "g-"+topic, n)
	checkRecords(t, rs, prefix, n)

	// The records are really in the secured cluster: read its end offsets
	// on the broker's own PLAINTEXT listener, bypassing the gateway.
	direct, err := kgo.NewClient(kgo.SeedBrokers(secured.env["PLAINTEXT"]))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(direct).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s on the backing cluster: %v", topic, err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != n {
		t.Fatalf("backing cluster holds %d records in %s, want %d", total, topic, n)
	}
	checkLargeRecords(t, b)
	t.Logf("%s: %d records and 3 of 256 KiB through the gateway and back in %v", cfg.Backing.SecurityProtocol, n, time.Since(t0).Round(time.Millisecond))
}

// checkLargeRecords moves records of 256 KiB through the gateway: request
// and response frames above 64 KiB are streamed rather than copied in one
// write, and upstream that stream runs through TLS or SASL connections.
func checkLargeRecords(t *testing.T, b *backend) {
	t.Helper()
	topic := newTopic(t, b, "sec-large", 1)
	values := make([][]byte, 3)
	recs := make([]*kgo.Record, len(values))
	for i := range values {
		values[i] = make([]byte, 256<<10)
		_, _ = rand.Read(values[i])
		recs[i] = &kgo.Record{Topic: topic, Value: values[i]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pr, err := kgo.NewClient(kgo.SeedBrokers(b.gatewayAddr()), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if err := pr.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce 256 KiB records: %v", err)
	}
	co, err := kgo.NewClient(kgo.SeedBrokers(b.gatewayAddr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	var got [][]byte
	for len(got) < len(values) {
		fs := co.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d large records", len(got), len(values))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r.Value) })
	}
	for i := range values {
		if i >= len(got) || !bytes.Equal(got[i], values[i]) {
			t.Fatalf("large record %d came back different", i)
		}
	}
}

// logged reports whether an entry at level or above mentions text in its
// message or fields.
func logged(logs *observer.ObservedLogs, level zapcore.Level, text string) bool {
	for _, e := range logs.All() {
		if e.Level >= level && strings.Contains(e.Message+" "+fmt.Sprint(e.ContextMap()), text) {
			return true
		}
	}
	return false
}

// checkRejected starts a gateway whose credentials the backing cluster
// refuses. A node never serves clients before it has read its config topic,
// so what a user can observe is: server.Start keeps retrying and fails once
// its context ends, with the broker's answer in the error; a warning in the
// log names the SASL failure and says the listeners stay closed; no client
// port was ever opened. The upstream dialer of the frame path reports the
// broker's rejection too.
func checkRejected(t *testing.T, cfg server.Config, addr string) {
	core, logs := observer.New(zap.InfoLevel)
	defer func() {
		if t.Failed() {
			for _, e := range logs.All() {
				t.Logf("gateway log: %s %s %v", e.Level, e.Message, e.ContextMap())
			}
		}
	}()
	cfg.PortStart = freePort()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	gw, err := server.Start(ctx, cfg, zap.New(core))
	cancel()
	if err == nil {
		_ = gw.Shutdown(context.Background())
		t.Fatal("server.Start succeeded although the backing cluster refuses its credentials")
	}
	if !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
		t.Fatalf("server.Start error does not name the SASL failure: %v", err)
	}
	if !logged(logs, zap.WarnLevel, "SASL_AUTHENTICATION_FAILED") || !logged(logs, zap.WarnLevel, "listeners stay closed") {
		t.Fatal("no warning in the gateway log names the SASL failure and the closed listeners")
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.PortStart)), time.Second); err == nil {
		_ = c.Close()
		t.Fatal("a client port is open on a node without its configuration")
	}

	// The frame path's upstream dialer meets the same refusal.
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	conn, err := cfg.Backing.NewDialer().Dial(dctx, addr)
	if err == nil {
		_ = conn.Close()
		t.Fatal("the dialer authenticated with a wrong password")
	}
	if !strings.Contains(err.Error(), "rejected") || !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("dialer error does not report the rejection: %v", err)
	}
	t.Logf("dialer: %v", err)
}
