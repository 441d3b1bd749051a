package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/identity"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/server"
)

// saslNodes starts n gateway nodes of one gateway cluster on the single
// real Kafka cluster; their clients authenticate with SASL_PLAINTEXT
// (gateway tokens over PLAIN, and SCRAM).
func saslNodes(t *testing.T, n int) []*server.Server {
	t.Helper()
	return saslCluster(t, fmt.Sprintf("sasl%d", time.Now().UnixNano()%1e9), n)
}

// saslCluster starts n SASL_PLAINTEXT gateway nodes of the gateway cluster
// clusterID (which names its internal topics) on the single real Kafka
// cluster, stopped when the test ends.
func saslCluster(t *testing.T, clusterID string, n int) []*server.Server {
	t.Helper()
	requireReal(t)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, err := auth.ParseKeys(base64.StdEncoding.EncodeToString(secret))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*server.Server
	for range n {
		cfg := gatewayConfig()
		cfg.ClusterID = clusterID
		cfg.Backing.Bootstrap = strings.Split(single.direct, ",")
		cfg.Backing.SecurityProtocol = "PLAINTEXT"
		cfg.PortCount = 3
		cfg.Security = server.Security{Protocol: identity.SASLPlaintext, Keys: keys, MaxFailures: 1000, FailureWindow: time.Second}
		srv, err := startGateway(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		nodes = append(nodes, srv)
	}
	return nodes
}

// apply PUTs resource documents on a node and fails the test on any error.
func apply(t *testing.T, srv *server.Server, docs ...string) {
	t.Helper()
	for _, doc := range docs {
		var d struct{ Kind string }
		_ = json.Unmarshal([]byte(doc), &d)
		if code, body := adminCall(t, srv, "PUT", "/gateway/v2/"+resource.PathForKind(d.Kind), doc); code != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", d.Kind, code, body)
		}
	}
}

// tenant declares a virtual cluster and a LOCAL service account in it.
func tenant(t *testing.T, srv *server.Server, vc, user string) {
	t.Helper()
	apply(t, srv,
		`{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"`+vc+`"},"spec":{}}`,
		`{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"`+user+`","vCluster":"`+vc+`"},"spec":{"type":"LOCAL"}}`)
}

// token asks a node for a gateway token.
func token(t *testing.T, srv *server.Server, vc, user string, lifetime time.Duration) (tok, id string) {
	t.Helper()
	code, body := adminCall(t, srv, "POST", "/gateway/v2/token",
		fmt.Sprintf(`{"vCluster":%q,"username":%q,"lifeTimeSeconds":%d}`, vc, user, int(lifetime.Seconds())))
	if code != http.StatusOK {
		t.Fatalf("POST token: %d %s", code, body)
	}
	var r struct{ Token, ID string }
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Token == "" || r.ID == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return r.Token, r.ID
}

// plainClient is a franz-go client logging in with a gateway token.
func plainClient(t *testing.T, addr, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.SASL(plainMechanism(user, password))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func plainMechanism(user, password string) sasl.Mechanism {
	return plain.Auth{User: user, Pass: password}.AsMechanism()
}

// javaPlain and kcatPlain are the client properties of a PLAIN login.
func javaPlain(user, password string) []string {
	return []string{"--property", "security.protocol=SASL_PLAINTEXT", "--property", "sasl.mechanism=PLAIN",
		"--property", fmt.Sprintf(`sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s";`, user, password)}
}

func kcatLogin(mechanism, user, password string) []string {
	return []string{"--property", "security.protocol=SASL_PLAINTEXT", "--property", "sasl.mechanisms=" + mechanism,
		"--property", "sasl.username=" + user, "--property", "sasl.password=" + password}
}

// physicalTopics lists the backing cluster's topics directly.
func physicalTopics(t *testing.T) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ts, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ts.Names()
}

func TestGatewayTokensWithRealClients(t *testing.T) {
	nodes := saslNodes(t, 2)
	a, b := nodes[0], nodes[1]
	tenant(t, a, "payments", "alice")
	tok, _ := token(t, a, "payments", "alice", time.Hour)
	topic := fmt.Sprintf("orders-%d", time.Now().UnixNano()%1e9)

	// A Java producer and a librdkafka consumer, each on its own node.
	javaClient.produce(t, a.KafkaAddr(), topic, "tok", 50, javaPlain("alice", tok)...)
	got := kcatClient.consume(t, b.KafkaAddr(), topic, "readers", 50, kcatLogin("PLAIN", "alice", tok)...)
	checkRecords(t, got, "tok", 50)
	if names := physicalTopics(t); !slices.Contains(names, "payments."+topic) || slices.Contains(names, topic) {
		t.Fatalf("physical topics lack payments.%s or hold the logical name: %v", topic, names)
	}

	t.Run("wrong password", func(t *testing.T) {
		out := javaClient.runFailing(t, append([]string{"produce", "--bootstrap", a.KafkaAddr(), "--topic", topic,
			"--count", "1", "--prefix", "x"}, javaPlain("alice", tok+"x")...)...)
		if !strings.Contains(out, "SaslAuthenticationException") || !strings.Contains(out, "invalid credentials") {
			t.Fatalf("Java client did not report the authentication failure:\n%s", tail(out))
		}
		out = kcatClient.runFailing(t, append([]string{"consume", "--bootstrap", b.KafkaAddr(), "--topic", topic,
			"--group", "g", "--count", "1", "--timeout-ms", "20000"}, kcatLogin("PLAIN", "alice", "not-a-token")...)...)
		if !strings.Contains(strings.ToLower(out), "authentication") {
			t.Fatalf("librdkafka client did not report the authentication failure:\n%s", tail(out))
		}
	})

	t.Run("expired token", func(t *testing.T) {
		short, _ := token(t, a, "payments", "alice", time.Second)
		time.Sleep(1500 * time.Millisecond)
		err := plainClient(t, a.KafkaAddr(), "alice", short).Ping(context.Background())
		if !errors.Is(err, kerr.SaslAuthenticationFailed) || !strings.Contains(err.Error(), "token expired") {
			t.Fatalf("expired token: err = %v, want SASL_AUTHENTICATION_FAILED saying the token expired", err)
		}
	})

	t.Run("revoked token closes open connections on every node", func(t *testing.T) {
		rtok, rid := token(t, a, "payments", "alice", time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		clients := []*kgo.Client{plainClient(t, a.KafkaAddr(), "alice", rtok), plainClient(t, b.KafkaAddr(), "alice", rtok)}
		for _, cl := range clients {
			if err := cl.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if code, body := adminCall(t, a, "POST", "/gateway/v2/token/revoke", `{"id":"`+rid+`"}`); code != http.StatusOK {
			t.Fatalf("revoke: %d %s", code, body)
		}
		start := time.Now()
		for i, cl := range clients {
			// Ping reuses the open connection; it fails only once the
			// gateway has closed it and refused the token on reconnect.
			for {
				err := cl.Ping(ctx)
				if errors.Is(err, kerr.SaslAuthenticationFailed) {
					break
				}
				if time.Since(start) > 5*time.Second {
					t.Fatalf("node %d: connection with a revoked token still usable after 5s (last err %v)", i, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		t.Logf("revoked token refused on both nodes after %v", time.Since(start))
	})

	t.Run("token endpoint errors", func(t *testing.T) {
		apply(t, a, `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"partner","vCluster":"payments"},"spec":{"type":"EXTERNAL","externalNames":["CN=partner"]}}`)
		for _, tc := range []struct {
			body string
			code int
		}{
			{`{"vCluster":"payments","username":"partner","lifeTimeSeconds":60}`, http.StatusConflict},
			{`{"vCluster":"nowhere","username":"alice","lifeTimeSeconds":60}`, http.StatusNotFound},
			{`{"vCluster":"payments","username":"alice","lifeTimeSeconds":0}`, http.StatusBadRequest},
			{`{"vCluster":"payments","username":"alice","lifeTimeSeconds":60,"extra":1}`, http.StatusBadRequest},
		} {
			if code, body := adminCall(t, a, "POST", "/gateway/v2/token", tc.body); code != tc.code {
				t.Errorf("POST token %s: %d %s, want %d", tc.body, code, body, tc.code)
			}
		}
	})
}

func TestSCRAMWithRealClients(t *testing.T) {
	nodes := saslNodes(t, 1)
	a := nodes[0]
	tenant(t, a, "billing", "bob")
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512"} {
		body := fmt.Sprintf(`{"vCluster":"billing","username":"bob","mechanism":%q,"password":"bob-secret-1"}`, mech)
		if code, resp := adminCall(t, a, "PUT", "/gateway/v2/scram-credential", body); code != http.StatusOK {
			t.Fatalf("PUT scram-credential: %d %s", code, resp)
		}
	}
	topic := fmt.Sprintf("ledger-%d", time.Now().UnixNano()%1e9)
	jaas := `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="billing/bob" password="bob-secret-1";`
	javaClient.produce(t, a.KafkaAddr(), topic, "scram", 30, "--property", "security.protocol=SASL_PLAINTEXT",
		"--property", "sasl.mechanism=SCRAM-SHA-512", "--property", jaas)
	got := kcatClient.consume(t, a.KafkaAddr(), topic, "ledger-readers", 30, kcatLogin("SCRAM-SHA-256", "billing/bob", "bob-secret-1")...)
	checkRecords(t, got, "scram", 30)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bad, err := kgo.NewClient(kgo.SeedBrokers(a.KafkaAddr()),
		kgo.SASL(scram.Auth{User: "billing/bob", Pass: "wrong"}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Ping(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong SCRAM password: err = %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	// The stored credential is salted; the password appears nowhere.
	if strings.Contains(fmt.Sprint(physicalTopics(t)), "bob-secret-1") {
		t.Fatal("password leaked into a topic name")
	}
}
