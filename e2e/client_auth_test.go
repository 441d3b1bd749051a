package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strait-gateway/strait/server"
)

// The tests of this file run real Java and librdkafka clients (kcat, and
// the confluent-kafka harness where Debian's old librdkafka falls short)
// through gateway nodes whose listeners use each client-facing security
// mode: OAUTHBEARER against a JWKS, mutual TLS with principal mapping, SASL
// PLAIN gateway tokens over TLS, and SASL delegated to the backing cluster.

// authGateway starts one gateway node configured from env exactly as
// main.go reads the environment, on a gateway cluster of its own, and
// records its log (debug level included) for the test to inspect.
func authGateway(t *testing.T, env map[string]string) (*server.Server, *observer.ObservedLogs) {
	t.Helper()
	env["GATEWAY_CLUSTER_ID"] = fmt.Sprintf("auth%d", time.Now().UnixNano()%1e9)
	env["GATEWAY_AUTHENTICATION_MAX_FAILURES"] = "1000" // negative cases must not lock the test out
	cfg := securedGatewayConfig(t, env)
	core, logs := observer.New(zap.DebugLevel)
	t0 := time.Now()
	for range 20 {
		cfg.PortStart = freePort()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		srv, err := server.Start(ctx, cfg, zap.New(core))
		cancel()
		if err == nil {
			t.Logf("%s gateway started in %v", env["GATEWAY_SECURITY_PROTOCOL"], time.Since(t0).Round(time.Millisecond))
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
				if t.Failed() {
					for _, e := range logs.FilterLevelExact(zapcore.InfoLevel).All() {
						t.Logf("gateway log: %s %v", e.Message, e.ContextMap())
					}
				}
			})
			return srv, logs
		}
		if !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("start gateway: %v", err)
		}
	}
	t.Fatal("no free port range for the gateway")
	return nil, nil
}

// singleEnv is the environment of a gateway on the single cluster whose
// clients connect with protocol.
func singleEnv(t *testing.T, protocol string) map[string]string {
	t.Helper()
	requireReal(t)
	return map[string]string{
		"KAFKA_BOOTSTRAP_SERVERS":   single.direct,
		"KAFKA_SECURITY_PROTOCOL":   "PLAINTEXT",
		"GATEWAY_SECURITY_PROTOCOL": protocol,
	}
}

// connectedAs reports whether the gateway logged a connection of the given
// principal.
func connectedAs(logs *observer.ObservedLogs, vc, user, mechanism string) bool {
	for _, e := range logs.FilterMessage("connection opened").All() {
		m := e.ContextMap()
		if m["vcluster"] == vc && m["username"] == user && m["mechanism"] == mechanism {
			return true
		}
	}
	return false
}

// externalAccount maps an external principal to a service account of a
// new virtual cluster.
func externalAccount(t *testing.T, srv *server.Server, vc, account, externalName string) {
	t.Helper()
	apply(t, srv,
		`{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"`+vc+`"},"spec":{}}`,
		`{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"`+account+`","vCluster":"`+vc+`"},"spec":{"type":"EXTERNAL","externalNames":["`+externalName+`"]}}`)
}

// crossRecords is how many records each client produces in crossClients.
const crossRecords = 20

// login is a client harness with the properties that log it in.
type login struct {
	client external
	props  []string
}

// crossClients has every client produce records, prefixed with its label,
// to one new topic through addr, then consume all of them in a group of
// its own; every record must come back exactly once, in order per key. It
// returns the topic's name.
func crossClients(t *testing.T, addr string, logins ...login) string {
	t.Helper()
	const n = crossRecords
	topic := fmt.Sprintf("auth-%d", time.Now().UnixNano()%1e9)
	for _, l := range logins {
		t0 := time.Now()
		l.client.produce(t, addr, topic, l.client.label, n, l.props...)
		t.Logf("%s produced %d records in %v", l.client.label, n, time.Since(t0).Round(time.Millisecond))
	}
	var mu sync.Mutex
	got := map[string][]record{}
	t.Run("consume", func(t *testing.T) {
		for _, l := range logins {
			t.Run(l.client.label, func(t *testing.T) {
				t.Parallel()
				rs := l.client.consume(t, addr, topic, "g-"+l.client.label, len(logins)*n, l.props...)
				mu.Lock()
				got[l.client.label] = rs
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	for consumer, rs := range got {
		for _, producer := range logins {
			prefix := producer.client.label
			var mine []record
			for _, r := range rs {
				if strings.HasPrefix(r.V, prefix+"-") {
					mine = append(mine, r)
				}
			}
			t.Logf("%s consumer: %d records from the %s producer", consumer, len(mine), prefix)
			checkRecords(t, mine, prefix, n)
		}
	}
	return topic
}

// checkPrefixed checks on the backing cluster itself that topic is stored
// under the virtual cluster's prefix and not under its logical name.
func checkPrefixed(t *testing.T, vc, topic string) {
	t.Helper()
	if names := physicalTopics(t); !slices.Contains(names, vc+"."+topic) || slices.Contains(names, topic) {
		t.Fatalf("physical topics lack %s.%s or hold the logical name: %v", vc, topic, names)
	}
}

// refused runs a client that must fail to authenticate and returns its
// output; the harnesses print "error: authentication failed: …" then.
func refused(t *testing.T, c external, addr string, props ...string) string {
	t.Helper()
	args := []string{"consume", "--bootstrap", addr, "--topic", "never-read", "--group", "g", "--count", "1", "--timeout-ms", "20000"}
	out := c.runFailing(t, append(args, props...)...)
	if !strings.Contains(out, "error: authentication failed") {
		t.Fatalf("%s did not report an authentication failure:\n%s", c.label, tail(out))
	}
	return out
}

// javaWithProperties is the Java harness with JVM system properties.
func javaWithProperties(props ...string) external {
	opts := "-Xmx256m"
	for _, p := range props {
		opts += " -D" + p
	}
	return external{"java", []string{"env", "HARNESS_JAVA_OPTS=" + opts, "e2e/clients/java/run.sh"}}
}

// pki is a throwaway certificate authority with a server certificate for
// 127.0.0.1 and localhost, as PEM files in a temporary directory.
type pki struct {
	dir       string
	ca        *x509.Certificate
	caKey     *ecdsa.PrivateKey
	caPEM     string // the CA certificate
	serverPEM string // key and chain of the server certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.ca, p.caKey = issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Strait client-auth e2e CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, nil)
	p.caPEM = p.write(t, "ca.pem", pemBlock("CERTIFICATE", p.ca.Raw))
	server, key := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "strait-gateway"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, p.ca, p.caKey)
	p.serverPEM = p.write(t, "server.pem", pemKey(t, key), pemBlock("CERTIFICATE", server.Raw), pemBlock("CERTIFICATE", p.ca.Raw))
	return p
}

// client issues a client certificate and returns the PEM files holding
// key and certificate together, the certificate, and the key.
func (p *pki) client(t *testing.T, subject pkix.Name) (both, cert, key string) {
	t.Helper()
	c, k := issue(t, &x509.Certificate{
		Subject:     subject,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, p.ca, p.caKey)
	keyPEM, certPEM := pemKey(t, k), pemBlock("CERTIFICATE", c.Raw)
	return p.write(t, "client.pem", keyPEM, certPEM), p.write(t, "client.crt", certPEM), p.write(t, "client.key", keyPEM)
}

func (p *pki) write(t *testing.T, name string, blocks ...[]byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, slices.Concat(blocks...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue creates a P-256 key and a certificate for it from template, signed
// by parent (self-signed when parent is nil), valid for a day.
func issue(t *testing.T, template, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	template.SerialNumber = serial
	template.NotBefore, template.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = template, key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// pemKey encodes a key as unencrypted PKCS#8, which Java's PEM key stores
// and librdkafka both read.
func pemKey(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

// oauthProvider is an OAuth identity provider on 127.0.0.1: a JWKS with
// one RSA key and a client-credentials token endpoint. What a client gets
// depends on its client id: a good token, one for another audience, one
// signed with a key the JWKS does not hold, or one that names the JWKS key
// but is signed with another.
type oauthProvider struct {
	url     string
	issuer  string
	key     *rsa.PrivateKey
	rogue   *rsa.PrivateKey
	secrets map[string]string // client id → secret

	mu     sync.Mutex
	issued map[string]int // tokens issued, per client id
}

// oauthAudience is the audience the gateway expects.
const oauthAudience = "strait-gateway"

func newOAuthProvider(t *testing.T) *oauthProvider {
	t.Helper()
	p := &oauthProvider{key: rsaKey(t), rogue: rsaKey(t), issued: map[string]int{}, secrets: map[string]string{}}
	for _, id := range []string{"orders-app", "wrong-audience", "unknown-key", "forged"} {
		p.secrets[id] = id + "-secret"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	mux.HandleFunc("POST /token", p.serveToken)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.url, p.issuer = srv.URL, srv.URL+"/"
	return p
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *oauthProvider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "idp-key-1",
		"n": b64(p.key.N.Bytes()), "e": b64(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
}

// serveToken answers a client-credentials grant; the client authenticates
// with HTTP Basic, as both Java and librdkafka do by default.
func (p *oauthProvider) serveToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || p.secrets[id] == "" || p.secrets[id] != secret || r.FormValue("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.issuer, "sub": id, "aud": []string{oauthAudience}, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "scope": "kafka"}
	key, kid := p.key, "idp-key-1"
	switch id {
	case "wrong-audience":
		claims["aud"] = []string{"some-other-service"}
	case "unknown-key":
		key, kid = p.rogue, "idp-key-2"
	case "forged":
		key = p.rogue
	}
	p.mu.Lock()
	p.issued[id]++
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": signRS256(key, kid, claims), "token_type": "Bearer", "expires_in": 3600})
}

// signRS256 returns a compact JWS of claims.
func signRS256(key *rsa.PrivateKey, kid string, claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		panic(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (p *oauthProvider) tokensIssued(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued[id]
}

// javaOAuth and rdkafkaOAuth are the client properties of an OAUTHBEARER
// login with the client-credentials grant.
func (p *oauthProvider) javaOAuth(id string) []string {
	return []string{"--property", "security.protocol=SASL_PLAINTEXT", "--property", "sasl.mechanism=OAUTHBEARER",
		"--property", "sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"--property", "sasl.oauthbearer.token.endpoint.url=" + p.url + "/token",
		"--property", "sasl.oauthbearer.client.credentials.client.id=" + id,
		"--property", "sasl.oauthbearer.client.credentials.client.secret=" + p.secrets[id],
		"--property", "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"}
}

func (p *oauthProvider) rdkafkaOAuth(id string) []string {
	return []string{"--property", "security.protocol=SASL_PLAINTEXT", "--property", "sasl.mechanisms=OAUTHBEARER",
		"--property", "sasl.oauthbearer.method=oidc",
		"--property", "sasl.oauthbearer.token.endpoint.url=" + p.url + "/token",
		"--property", "sasl.oauthbearer.client.id=" + id,
		"--property", "sasl.oauthbearer.client.secret=" + p.secrets[id]}
}

// TestClientAuthOAuthBearer: Java (OAuthBearerLoginCallbackHandler) and
// librdkafka (sasl.oauthbearer.method=oidc) fetch RS256 tokens from a
// client-credentials endpoint; the gateway checks them against the JWKS,
// issuer and audience, and the token's subject, an EXTERNAL service
// account's external name, lands in that account's virtual cluster.
// librdkafka is the confluent-kafka harness's bundled 2.16: Debian's kcat
// (librdkafka 2.0.2) is built without OIDC, so kcat only shows that an
// unsigned token from librdkafka's development handler is refused.
func TestClientAuthOAuthBearer(t *testing.T) {
	env := singleEnv(t, "SASL_PLAINTEXT")
	idp := newOAuthProvider(t)
	env["GATEWAY_OAUTH_JWKS_URL"] = idp.url + "/jwks"
	env["GATEWAY_OAUTH_EXPECTED_ISSUER"] = idp.issuer
	env["GATEWAY_OAUTH_EXPECTED_AUDIENCES"] = "unused-audience, " + oauthAudience
	srv, logs := authGateway(t, env)
	externalAccount(t, srv, "oauth", "orders", "orders-app")
	// Kafka 4 clients fetch tokens only from URLs a system property allows.
	java := javaWithProperties("org.apache.kafka.sasl.oauthbearer.allowed.urls=" + idp.url + "/token")

	topic := crossClients(t, srv.KafkaAddr(), login{java, idp.javaOAuth("orders-app")}, login{librdkafkaPy, idp.rdkafkaOAuth("orders-app")})
	checkPrefixed(t, "oauth", topic)
	if !connectedAs(logs, "oauth", "orders", "OAUTHBEARER") {
		t.Fatal("no connection of oauth/orders over OAUTHBEARER in the gateway log")
	}
	if n := idp.tokensIssued("orders-app"); n < 4 {
		t.Fatalf("the token endpoint issued %d tokens to orders-app, want one per client process at least", n)
	}

	unsigned := []string{"--property", "security.protocol=SASL_PLAINTEXT", "--property", "sasl.mechanisms=OAUTHBEARER",
		"--property", "enable.sasl.oauthbearer.unsecure.jwt=true", "--property", "sasl.oauthbearer.config=principal=orders-app"}
	for _, tc := range []struct {
		login
		reason string // what the gateway logs
	}{
		{login{java, idp.javaOAuth("wrong-audience")}, "wrong audience"},
		{login{librdkafkaPy, idp.rdkafkaOAuth("wrong-audience")}, "wrong audience"},
		{login{java, idp.javaOAuth("unknown-key")}, "unknown key"},
		{login{librdkafkaPy, idp.rdkafkaOAuth("forged")}, "bad signature"},
		{login{kcatClient, unsigned}, "unsupported token algorithm"},
	} {
		t.Run(tc.client.label+" "+tc.reason, func(t *testing.T) {
			out := refused(t, tc.client, srv.KafkaAddr(), tc.props...)
			if !strings.Contains(out, "invalid credentials") {
				t.Fatalf("%s did not pass on the gateway's answer:\n%s", tc.client.label, tail(out))
			}
			if !logged(logs, zap.InfoLevel, tc.reason) {
				t.Fatalf("the gateway did not log %q as the reason", tc.reason)
			}
		})
	}
}

// TestClientAuthMutualTLS: a TLS listener that requires client
// certificates; the certificate's subject goes through the principal
// mapping rules to a name that an EXTERNAL service account maps into a
// virtual cluster.
func TestClientAuthMutualTLS(t *testing.T) {
	p := newPKI(t)
	both, cert, key := p.client(t, pkix.Name{CommonName: "Ledger-App", OrganizationalUnit: []string{"Payments"}, Organization: []string{"Strait E2E"}})
	env := singleEnv(t, "SSL")
	env["GATEWAY_SSL_KEY_STORE_PATH"] = p.serverPEM
	env["GATEWAY_SSL_TRUST_STORE_PATH"] = p.caPEM
	env["GATEWAY_SSL_CLIENT_AUTH"] = "REQUIRE"
	env["GATEWAY_SSL_PRINCIPAL_MAPPING_RULES"] = "RULE:^CN=([A-Za-z-]+),OU=Payments,O=Strait E2E$/svc-$1/L,DEFAULT"
	srv, logs := authGateway(t, env)
	externalAccount(t, srv, "tls", "ledger", "svc-ledger-app")

	javaTrust := []string{"--property", "security.protocol=SSL", "--property", "ssl.truststore.type=PEM", "--property", "ssl.truststore.location=" + p.caPEM}
	kcatTrust := []string{"--property", "security.protocol=SSL", "--property", "ssl.ca.location=" + p.caPEM}
	javaProps := append(slices.Clone(javaTrust), "--property", "ssl.keystore.type=PEM", "--property", "ssl.keystore.location="+both)
	kcatProps := append(slices.Clone(kcatTrust), "--property", "ssl.certificate.location="+cert, "--property", "ssl.key.location="+key)
	topic := crossClients(t, srv.KafkaAddr(), login{javaClient, javaProps}, login{kcatClient, kcatProps})
	checkPrefixed(t, "tls", topic)
	if !connectedAs(logs, "tls", "ledger", "MTLS") {
		t.Fatal("no connection of tls/ledger over mutual TLS in the gateway log")
	}

	t.Run("no client certificate", func(t *testing.T) {
		refused(t, javaClient, srv.KafkaAddr(), javaTrust...)
		refused(t, kcatClient, srv.KafkaAddr(), kcatTrust...)
		if !logged(logs, zap.InfoLevel, "didn't provide a certificate") {
			t.Fatal("the gateway did not log the missing client certificate")
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		_, cert, key := newPKI(t).client(t, pkix.Name{CommonName: "Ledger-App", OrganizationalUnit: []string{"Payments"}, Organization: []string{"Strait E2E"}})
		refused(t, kcatClient, srv.KafkaAddr(), append(slices.Clone(kcatTrust), "--property", "ssl.certificate.location="+cert, "--property", "ssl.key.location="+key)...)
		if !logged(logs, zap.InfoLevel, "certificate signed by unknown authority") {
			t.Fatal("the gateway did not log the untrusted client certificate")
		}
	})
}

// TestClientAuthSASLSSLTokens: gateway tokens over SASL PLAIN on a TLS
// listener.
func TestClientAuthSASLSSLTokens(t *testing.T) {
	p := newPKI(t)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	env := singleEnv(t, "SASL_SSL")
	env["GATEWAY_SSL_KEY_STORE_PATH"] = p.serverPEM
	env["GATEWAY_USER_POOL_SECRET_KEY"] = base64.StdEncoding.EncodeToString(secret)
	srv, logs := authGateway(t, env)
	tenant(t, srv, "tokens", "carol")
	tok, _ := token(t, srv, "tokens", "carol", time.Hour)

	javaProps := append(javaPlain("carol", tok), "--property", "security.protocol=SASL_SSL",
		"--property", "ssl.truststore.type=PEM", "--property", "ssl.truststore.location="+p.caPEM)
	kcatProps := append(kcatLogin("PLAIN", "carol", tok), "--property", "security.protocol=SASL_SSL", "--property", "ssl.ca.location="+p.caPEM)
	topic := crossClients(t, srv.KafkaAddr(), login{javaClient, javaProps}, login{kcatClient, kcatProps})
	checkPrefixed(t, "tokens", topic)
	if !connectedAs(logs, "tokens", "carol", "PLAIN") {
		t.Fatal("no connection of tokens/carol over PLAIN in the gateway log")
	}
	t.Run("wrong token", func(t *testing.T) {
		out := refused(t, kcatClient, srv.KafkaAddr(), slices.Concat(kcatProps, []string{"--property", "sasl.password=" + tok + "x"})...)
		if !strings.Contains(out, "invalid credentials") {
			t.Fatalf("kcat did not pass on the gateway's answer:\n%s", tail(out))
		}
	})
}

// TestClientAuthDelegated: the gateway relays the clients' SASL exchanges
// to the secured cluster, which checks the credentials; the gateway dials
// the broker without SASL of its own and learns the user name from the
// exchange. Delegated connections see the cluster as it is (passthrough).
func TestClientAuthDelegated(t *testing.T) {
	requireReal(t)
	s := secured.env
	user := s["SASL_USER"]
	javaLogin := func(mechanism, module, password string) []string {
		return []string{"--property", "sasl.mechanism=" + mechanism,
			"--property", "sasl.jaas.config=" + jaasConfig(module, user, password)}
	}

	t.Run("DELEGATED_SASL_PLAINTEXT", func(t *testing.T) {
		srv, logs := authGateway(t, map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS":   s["SASL_PLAINTEXT"],
			"KAFKA_SECURITY_PROTOCOL":   "SASL_PLAINTEXT",
			"KAFKA_SASL_MECHANISM":      "SCRAM-SHA-256",
			"KAFKA_SASL_JAAS_CONFIG":    jaasConfig("scram.ScramLoginModule", user, s["SCRAM_SHA_256_PASSWORD"]),
			"GATEWAY_SECURITY_PROTOCOL": "DELEGATED_SASL_PLAINTEXT",
		})
		javaProps := append([]string{"--property", "security.protocol=SASL_PLAINTEXT"}, javaLogin("PLAIN", "plain.PlainLoginModule", s["PLAIN_PASSWORD"])...)
		// librdkafka's SCRAM through the confluent-kafka harness (2.16):
		// Kafka 4.4 refuses the SCRAM of Debian's kcat (librdkafka 2.0.2)
		// even without a gateway in between.
		rdkafkaProps := kcatLogin("SCRAM-SHA-512", user, s["SCRAM_SHA_512_PASSWORD"])
		topic := crossClients(t, srv.KafkaAddr(), login{javaClient, javaProps}, login{librdkafkaPy, rdkafkaProps})
		checkSecuredTopic(t, topic, 2*crossRecords)
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-512"} {
			if !connectedAs(logs, "passthrough", user, mech) {
				t.Fatalf("no connection of %s over delegated %s in the gateway log", user, mech)
			}
		}

		t.Run("wrong password", func(t *testing.T) {
			// The broker's own refusal reaches the clients.
			out := refused(t, javaClient, srv.KafkaAddr(), append([]string{"--property", "security.protocol=SASL_PLAINTEXT"},
				javaLogin("PLAIN", "plain.PlainLoginModule", "wrong-"+s["PLAIN_PASSWORD"])...)...)
			if !strings.Contains(out, "Invalid username or password") {
				t.Fatalf("Java did not see the broker's PLAIN refusal:\n%s", tail(out))
			}
			out = refused(t, librdkafkaPy, srv.KafkaAddr(), kcatLogin("SCRAM-SHA-512", user, "wrong-"+s["SCRAM_SHA_512_PASSWORD"])...)
			if !strings.Contains(out, "invalid credentials with SASL mechanism SCRAM-SHA-512") {
				t.Fatalf("librdkafka did not see the broker's SCRAM refusal:\n%s", tail(out))
			}
			if !logged(logs, zap.InfoLevel, "backing cluster refused") {
				t.Fatal("the gateway did not log the broker's refusal")
			}
		})
	})

	t.Run("DELEGATED_SASL_SSL", func(t *testing.T) {
		p := newPKI(t)
		srv, logs := authGateway(t, map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS":       s["SASL_SSL"],
			"KAFKA_SECURITY_PROTOCOL":       "SASL_SSL",
			"KAFKA_SASL_MECHANISM":          "PLAIN",
			"KAFKA_SASL_JAAS_CONFIG":        jaasConfig("plain.PlainLoginModule", user, s["PLAIN_PASSWORD"]),
			"KAFKA_SSL_TRUSTSTORE_LOCATION": s["CA_PEM"],
			"KAFKA_SSL_TRUSTSTORE_TYPE":     "PEM",
			"GATEWAY_SECURITY_PROTOCOL":     "DELEGATED_SASL_SSL",
			"GATEWAY_SSL_KEY_STORE_PATH":    p.serverPEM,
		})
		// The broker's SASL_SSL listener enables PLAIN only.
		javaProps := append([]string{"--property", "security.protocol=SASL_SSL", "--property", "ssl.truststore.type=PEM",
			"--property", "ssl.truststore.location=" + p.caPEM}, javaLogin("PLAIN", "plain.PlainLoginModule", s["PLAIN_PASSWORD"])...)
		kcatProps := append(kcatLogin("PLAIN", user, s["PLAIN_PASSWORD"]), "--property", "security.protocol=SASL_SSL",
			"--property", "ssl.ca.location="+p.caPEM)
		topic := crossClients(t, srv.KafkaAddr(), login{javaClient, javaProps}, login{kcatClient, kcatProps})
		checkSecuredTopic(t, topic, 2*crossRecords)
		if !connectedAs(logs, "passthrough", user, "PLAIN") {
			t.Fatalf("no connection of %s over delegated PLAIN in the gateway log", user)
		}
		out := refused(t, kcatClient, srv.KafkaAddr(), slices.Concat(kcatProps, []string{"--property", "sasl.password=wrong"})...)
		if !strings.Contains(out, "Invalid username or password") {
			t.Fatalf("kcat did not see the broker's PLAIN refusal:\n%s", tail(out))
		}
	})
}

// checkSecuredTopic checks on the secured cluster's own PLAINTEXT listener
// that topic exists under its own name and holds the records that
// crossClients produced.
func checkSecuredTopic(t *testing.T, topic string, want int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(secured.env["PLAINTEXT"]))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s on the secured cluster: %v", topic, err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != want {
		t.Fatalf("secured cluster holds %d records in %s, want %d", total, topic, want)
	}
}
