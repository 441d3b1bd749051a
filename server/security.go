package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/backing"
	"github.com/strait-gateway/strait/identity"
)

// Security is how clients connect to the gateway and prove who they are.
type Security struct {
	// Protocol is GATEWAY_SECURITY_PROTOCOL (default PLAINTEXT).
	Protocol string
	// TLS is the listeners' TLS configuration, set for SSL, SASL_SSL and
	// DELEGATED_SASL_SSL.
	TLS *tls.Config
	// Keys sign gateway tokens (GATEWAY_USER_POOL_SECRET_KEY).
	Keys *auth.Keys
	// OAuth is the OAUTHBEARER configuration; JWKSURL empty turns it off.
	OAuth auth.OAuthConfig
	// Mapping is GATEWAY_SSL_PRINCIPAL_MAPPING_RULES.
	Mapping *auth.MappingRules
	// AccountRequired is GATEWAY_USER_POOL_SERVICE_ACCOUNT_REQUIRED.
	AccountRequired bool
	// MandatoryVCluster is GATEWAY_FEATURE_FLAGS_MANDATORY_VCLUSTER.
	MandatoryVCluster bool
	// MaxFailures failed authentications per address within FailureWindow
	// (GATEWAY_AUTHENTICATION_MAX_FAILURES, _FAILURE_WINDOW_MS) make
	// further attempts wait.
	MaxFailures   int
	FailureWindow time.Duration
}

// securityFromEnv reads the GATEWAY_SECURITY_PROTOCOL family.
func securityFromEnv(p *parser, env backing.Env) (Security, error) {
	s := Security{
		Protocol:          strings.ToUpper(p.str("GATEWAY_SECURITY_PROTOCOL", identity.Plaintext)),
		AccountRequired:   p.boolean("GATEWAY_USER_POOL_SERVICE_ACCOUNT_REQUIRED", false),
		MandatoryVCluster: p.boolean("GATEWAY_FEATURE_FLAGS_MANDATORY_VCLUSTER", false),
		MaxFailures:       p.integer("GATEWAY_AUTHENTICATION_MAX_FAILURES", 10, 1, 1<<20),
		FailureWindow:     time.Duration(p.integer("GATEWAY_AUTHENTICATION_FAILURE_WINDOW_MS", 60000, 1, 1<<31-1)) * time.Millisecond,
		OAuth: auth.OAuthConfig{
			JWKSURL:      p.str("GATEWAY_OAUTH_JWKS_URL", ""),
			Issuer:       p.str("GATEWAY_OAUTH_EXPECTED_ISSUER", ""),
			SubjectClaim: p.str("GATEWAY_OAUTH_SUB_CLAIM_NAME", "sub"),
			GroupsClaim:  p.str("GATEWAY_OAUTH_GROUPS_CLAIM_NAME", "groups"),
			Refresh:      time.Duration(p.integer("GATEWAY_OAUTH_JWKS_REFRESH", 3600000, 1000, 1<<31-1)) * time.Millisecond,
		},
	}
	if p.err != nil {
		return s, p.err
	}
	if !slices.Contains(identity.Protocols, s.Protocol) {
		return s, fmt.Errorf("config: GATEWAY_SECURITY_PROTOCOL %q: expect one of %s", s.Protocol, strings.Join(identity.Protocols, ", "))
	}
	if a := p.str("GATEWAY_OAUTH_EXPECTED_AUDIENCES", ""); a != "" {
		for _, aud := range strings.Split(a, ",") {
			if aud = strings.TrimSpace(aud); aud != "" {
				s.OAuth.Audiences = append(s.OAuth.Audiences, aud)
			}
		}
	}
	if k := env.Get("GATEWAY_USER_POOL_SECRET_KEY"); k != "" {
		keys, err := auth.ParseKeys(k)
		if err != nil {
			return s, fmt.Errorf("config: GATEWAY_USER_POOL_SECRET_KEY: %w", err)
		}
		s.Keys = keys
	}
	var err error
	if s.Mapping, err = auth.ParseMappingRules(env.Get("GATEWAY_SSL_PRINCIPAL_MAPPING_RULES")); err != nil {
		return s, fmt.Errorf("config: GATEWAY_SSL_PRINCIPAL_MAPPING_RULES: %w", err)
	}
	if strings.HasSuffix(s.Protocol, "SSL") {
		if s.TLS, err = listenerTLS(p); err != nil {
			return s, err
		}
	}
	return s, nil
}

// listenerTLS builds the listeners' TLS configuration from PEM files.
func listenerTLS(p *parser) (*tls.Config, error) {
	switch t := strings.ToUpper(p.str("GATEWAY_SSL_KEY_STORE_TYPE", "PEM")); t {
	case "PEM":
	default:
		return nil, fmt.Errorf("config: GATEWAY_SSL_KEY_STORE_TYPE %s: only PEM is supported; convert the keystore (for example: openssl pkcs12 -in store.p12 -nodes -out store.pem)", t)
	}
	keyStore := p.str("GATEWAY_SSL_KEY_STORE_PATH", "")
	if keyStore == "" {
		return nil, fmt.Errorf("config: GATEWAY_SSL_KEY_STORE_PATH is required for a TLS listener (a PEM file with the certificate chain and its unencrypted private key)")
	}
	pem, err := os.ReadFile(keyStore)
	if err != nil {
		return nil, fmt.Errorf("config: GATEWAY_SSL_KEY_STORE_PATH: %w", err)
	}
	cert, err := tls.X509KeyPair(pem, pem)
	if err != nil {
		return nil, fmt.Errorf("config: GATEWAY_SSL_KEY_STORE_PATH %s: %w", keyStore, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if trust := p.str("GATEWAY_SSL_TRUST_STORE_PATH", ""); trust != "" {
		b, err := os.ReadFile(trust)
		if err != nil {
			return nil, fmt.Errorf("config: GATEWAY_SSL_TRUST_STORE_PATH: %w", err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		if !cfg.ClientCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("config: GATEWAY_SSL_TRUST_STORE_PATH %s: no PEM certificate found", trust)
		}
	}
	switch mode := strings.ToUpper(p.str("GATEWAY_SSL_CLIENT_AUTH", "NONE")); mode {
	case "NONE":
	case "OPTIONAL", "REQUESTED":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "REQUIRE", "REQUIRED":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("config: GATEWAY_SSL_CLIENT_AUTH %q: expect NONE, OPTIONAL or REQUIRE", mode)
	}
	if cfg.ClientAuth != tls.NoClientCert && cfg.ClientCAs == nil {
		return nil, fmt.Errorf("config: GATEWAY_SSL_CLIENT_AUTH needs GATEWAY_SSL_TRUST_STORE_PATH (the CAs that sign client certificates)")
	}
	return cfg, nil
}
