// Package backing describes how Strait reaches its backing Kafka cluster:
// addresses, TLS and SASL taken from KAFKA_* settings, a dialer that hands
// the frame path authenticated broker connections, the options for the
// gateway's own franz-go client, and the embedded cluster used when no
// backing cluster is configured.
package backing

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Env looks up a setting by name, like os.LookupEnv.
type Env func(name string) (value string, set bool)

// Get returns the setting's value, or "" when it is not set.
func (e Env) Get(name string) string {
	v, _ := e(name)
	return v
}

// Config is how to reach the backing cluster.
type Config struct {
	// Bootstrap lists seed brokers as host:port.
	Bootstrap []string
	// SecurityProtocol is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
	SecurityProtocol string
	// TLS is set for SSL and SASL_SSL.
	TLS *tls.Config
	// SASL is set for SASL_PLAINTEXT and SASL_SSL.
	SASL sasl.Mechanism
}

// ClientOpts returns the franz-go options for a client of the backing
// cluster with this configuration.
func (c Config) ClientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Bootstrap...)}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS.Clone()))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL))
	}
	return opts
}

// FromEnv reads the backing cluster's configuration from KAFKA_* variables,
// using the names of Kafka's client properties (upper case, dots replaced by
// underscores). It returns ok=false when KAFKA_BOOTSTRAP_SERVERS is unset.
func FromEnv(env Env) (cfg Config, ok bool, err error) {
	servers := env.Get("KAFKA_BOOTSTRAP_SERVERS")
	if strings.TrimSpace(servers) == "" {
		return Config{}, false, nil
	}
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Bootstrap = append(cfg.Bootstrap, s)
		}
	}
	cfg.SecurityProtocol = strings.ToUpper(strings.TrimSpace(env.Get("KAFKA_SECURITY_PROTOCOL")))
	if cfg.SecurityProtocol == "" {
		cfg.SecurityProtocol = "PLAINTEXT"
	}
	var useTLS, useSASL bool
	switch cfg.SecurityProtocol {
	case "PLAINTEXT":
	case "SSL":
		useTLS = true
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SASL_SSL":
		useTLS, useSASL = true, true
	default:
		return Config{}, true, fmt.Errorf("backing: KAFKA_SECURITY_PROTOCOL %q: expect PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", cfg.SecurityProtocol)
	}
	if useTLS {
		if cfg.TLS, err = tlsFromEnv(env); err != nil {
			return Config{}, true, err
		}
	}
	if useSASL {
		if cfg.SASL, err = saslFromEnv(env); err != nil {
			return Config{}, true, err
		}
	}
	return cfg, true, nil
}

// saslFromEnv builds the SASL mechanism from KAFKA_SASL_MECHANISM and the
// credentials in KAFKA_SASL_JAAS_CONFIG.
func saslFromEnv(env Env) (sasl.Mechanism, error) {
	mech := strings.ToUpper(strings.TrimSpace(env.Get("KAFKA_SASL_MECHANISM")))
	if mech == "" {
		mech = "PLAIN"
	}
	opts, err := ParseJAAS(env.Get("KAFKA_SASL_JAAS_CONFIG"))
	if err != nil {
		return nil, err
	}
	user, pass := opts["username"], opts["password"]
	if user == "" {
		return nil, fmt.Errorf("backing: KAFKA_SASL_JAAS_CONFIG: no username")
	}
	switch mech {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("backing: KAFKA_SASL_MECHANISM %q: expect PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
}
