package backing

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testCA issues certificates for loopback tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strait test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate chain and key for a leaf.
func (ca *testCA) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// metadataThrough sends a Metadata request on a dialed connection, which
// only an authenticated connection can answer.
func metadataThrough(t *testing.T, d *Dialer, addr string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := d.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	var resp kmsg.MetadataResponse
	if err := roundTrip(conn, 99, req, &resp); err != nil {
		return err
	}
	if len(resp.Brokers) == 0 {
		t.Fatal("metadata names no broker")
	}
	return nil
}

func TestDialerSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "strait", "right-password"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, tc := range []struct {
				password string
				ok       bool
			}{{"right-password", true}, {"wrong-password", false}} {
				cfg, _, err := FromEnv(mapEnv(map[string]string{
					"KAFKA_BOOTSTRAP_SERVERS": c.ListenAddrs()[0],
					"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
					"KAFKA_SASL_MECHANISM":    mech,
					"KAFKA_SASL_JAAS_CONFIG":  `x required username="strait" password="` + tc.password + `";`,
				}))
				if err != nil {
					t.Fatal(err)
				}
				err = metadataThrough(t, cfg.NewDialer(), c.ListenAddrs()[0])
				if (err == nil) != tc.ok {
					t.Fatalf("password %s: err = %v", tc.password, err)
				}
				if err != nil && strings.Contains(err.Error(), tc.password) {
					t.Fatalf("error echoes the password: %v", err)
				}
			}
		})
	}
}

func TestDialerMutualTLS(t *testing.T) {
	ca := newTestCA(t)
	srvCert, srvKey := ca.issue(t, "broker", x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]

	dir := t.TempDir()
	cliCert, cliKey := ca.issue(t, "strait", x509.ExtKeyUsageClientAuth)
	keystore := filepath.Join(dir, "client.pem")
	if err := os.WriteFile(keystore, append(cliCert, cliKey...), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"KAFKA_BOOTSTRAP_SERVERS":           addr,
		"KAFKA_SECURITY_PROTOCOL":           "SSL",
		"KAFKA_SSL_TRUSTSTORE_CERTIFICATES": string(ca.pem),
	}
	withKeystore := map[string]string{"KAFKA_SSL_KEYSTORE_LOCATION": keystore, "KAFKA_SSL_KEYSTORE_TYPE": "PEM"}
	otherCA := newTestCA(t)
	for _, tc := range []struct {
		name  string
		extra map[string]string
		ok    bool
	}{
		{"client certificate from a PEM file", withKeystore, true},
		{"inline client certificate", map[string]string{"KAFKA_SSL_KEYSTORE_CERTIFICATE_CHAIN": string(cliCert), "KAFKA_SSL_KEYSTORE_KEY": string(cliKey)}, true},
		{"no client certificate", nil, false},
		{"broker not trusted", map[string]string{"KAFKA_SSL_TRUSTSTORE_CERTIFICATES": string(otherCA.pem), "KAFKA_SSL_KEYSTORE_LOCATION": keystore}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.extra {
				env[k] = v
			}
			cfg, _, err := FromEnv(mapEnv(env))
			if err != nil {
				t.Fatal(err)
			}
			if err := metadataThrough(t, cfg.NewDialer(), addr); (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
