package backing

import (
	"strings"
	"testing"
)

// mapEnv is an Env over a map.
func mapEnv(m map[string]string) Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestFromEnv(t *testing.T) {
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="gw" password="pw";`
	for _, tc := range []struct {
		name      string
		env       map[string]string
		embedded  bool
		mechanism string
		tls       bool
		wantErr   string
	}{
		{name: "unset means embedded", env: map[string]string{}, embedded: true},
		{name: "plaintext", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092, b:9092"}},
		{name: "sasl plain", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_JAAS_CONFIG": jaas}, mechanism: "PLAIN"},
		{name: "scram 512 over tls", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_JAAS_CONFIG": jaas}, mechanism: "SCRAM-SHA-512", tls: true},
		{name: "unknown protocol", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_QUIC"}, wantErr: "KAFKA_SECURITY_PROTOCOL"},
		{name: "unknown mechanism", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_JAAS_CONFIG": jaas}, wantErr: "KAFKA_SASL_MECHANISM"},
		{name: "sasl without jaas", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, wantErr: "KAFKA_SASL_JAAS_CONFIG"},
		{name: "jks refused", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_TRUSTSTORE_LOCATION": "/x.jks", "KAFKA_SSL_TRUSTSTORE_TYPE": "JKS"}, wantErr: "only PEM"},
		{name: "missing truststore file", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_TRUSTSTORE_LOCATION": "/does/not/exist.pem"}, wantErr: "TRUSTSTORE_LOCATION"},
		{name: "garbage truststore", env: map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:9092", "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_TRUSTSTORE_CERTIFICATES": "not pem"}, wantErr: "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok, err := FromEnv(mapEnv(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "pw") && strings.Contains(err.Error(), "password") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok == tc.embedded {
				t.Fatalf("configured = %v, want %v", ok, !tc.embedded)
			}
			if tc.embedded {
				return
			}
			if got := cfg.SASL != nil; got != (tc.mechanism != "") {
				t.Fatalf("sasl set = %v", got)
			}
			if cfg.SASL != nil && cfg.SASL.Name() != tc.mechanism {
				t.Fatalf("mechanism %s, want %s", cfg.SASL.Name(), tc.mechanism)
			}
			if (cfg.TLS != nil) != tc.tls {
				t.Fatalf("tls set = %v", cfg.TLS != nil)
			}
			for _, b := range cfg.Bootstrap {
				if strings.TrimSpace(b) != b || b == "" {
					t.Fatalf("bootstrap entry %q", b)
				}
			}
		})
	}
}
