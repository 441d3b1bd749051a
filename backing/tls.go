package backing

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// tlsFromEnv builds the client TLS configuration from KAFKA_SSL_* settings.
// Certificates and keys are PEM, either in files (the *_LOCATION settings
// with *_TYPE=PEM) or inline (KAFKA_SSL_TRUSTSTORE_CERTIFICATES,
// KAFKA_SSL_KEYSTORE_CERTIFICATE_CHAIN and KAFKA_SSL_KEYSTORE_KEY). With no
// truststore the system roots are trusted.
func tlsFromEnv(env Env) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}

	trust, err := pemSetting(env, "TRUSTSTORE_CERTIFICATES", "TRUSTSTORE")
	if err != nil {
		return nil, err
	}
	if trust != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(trust) {
			return nil, fmt.Errorf("backing: KAFKA_SSL_TRUSTSTORE: no PEM certificate found")
		}
		cfg.RootCAs = pool
	}

	chain, err := pemSetting(env, "KEYSTORE_CERTIFICATE_CHAIN", "KEYSTORE")
	if err != nil {
		return nil, err
	}
	key := []byte(env.Get("KAFKA_SSL_KEYSTORE_KEY"))
	if len(key) == 0 {
		key = chain // a PEM keystore file holds the key and the chain
	}
	if chain != nil {
		if env.Get("KAFKA_SSL_KEY_PASSWORD") != "" {
			return nil, fmt.Errorf("backing: KAFKA_SSL_KEY_PASSWORD: encrypted private keys are not supported; provide an unencrypted PEM key")
		}
		cert, err := tls.X509KeyPair(chain, key)
		if err != nil {
			return nil, fmt.Errorf("backing: KAFKA_SSL_KEYSTORE: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}

	switch alg := strings.TrimSpace(env.Get("KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM")); strings.ToLower(alg) {
	case "https":
	case "":
		if _, set := env("KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM"); set {
			// Kafka's way of turning host name verification off: the
			// chain is still verified against the truststore.
			cfg.InsecureSkipVerify = true
			cfg.VerifyConnection = verifyChainOnly(cfg)
		}
	default:
		return nil, fmt.Errorf("backing: KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM %q: expect https or empty", alg)
	}
	return cfg, nil
}

// pemSetting returns PEM bytes given inline in KAFKA_SSL_<inline> or in the
// file KAFKA_SSL_<store>_LOCATION, whose KAFKA_SSL_<store>_TYPE must be PEM.
func pemSetting(env Env, inline, store string) ([]byte, error) {
	if v := env.Get("KAFKA_SSL_" + inline); v != "" {
		return []byte(v), nil
	}
	loc := env.Get("KAFKA_SSL_" + store + "_LOCATION")
	if loc == "" {
		return nil, nil
	}
	if typ := strings.ToUpper(env.Get("KAFKA_SSL_" + store + "_TYPE")); typ != "" && typ != "PEM" {
		return nil, fmt.Errorf("backing: KAFKA_SSL_%s_TYPE %q: only PEM is supported; convert the store with openssl", store, typ)
	}
	b, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("backing: KAFKA_SSL_%s_LOCATION: %w", store, err)
	}
	return b, nil
}

// verifyChainOnly verifies the server's chain against the configured roots
// without checking its host name.
func verifyChainOnly(cfg *tls.Config) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("backing: broker sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: cfg.RootCAs, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}
