// Package identity decides who Strait's clients are. It implements the
// gateway's Identity over one node's state: the service accounts, groups,
// virtual clusters and alias topics of the config topic; the SCRAM
// credentials and revoked tokens of the secrets topic; the token signing
// keys; the OAuth validator; and the TLS principal mapping. Every
// connection ends up as (virtual cluster, user name, groups).
package identity

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/gateway"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
	"github.com/strait-gateway/strait/vcluster"
)

// Config is how clients authenticate (GATEWAY_SECURITY_PROTOCOL and the
// settings of each mechanism).
type Config struct {
	// Protocol is GATEWAY_SECURITY_PROTOCOL.
	Protocol string
	// Keys sign and verify gateway tokens (SASL PLAIN with a token as the
	// password); nil turns PLAIN off.
	Keys *auth.Keys
	// OAuth validates OAUTHBEARER tokens; nil turns OAUTHBEARER off.
	OAuth *auth.OAuthValidator
	// Mapping turns a client certificate's subject into a user name.
	Mapping *auth.MappingRules
	// AccountRequired refuses tokens of service accounts that do not
	// exist (GATEWAY_USER_POOL_SERVICE_ACCOUNT_REQUIRED).
	AccountRequired bool
	// MandatoryVCluster refuses principals that map to no virtual cluster
	// instead of placing them in passthrough
	// (GATEWAY_FEATURE_FLAGS_MANDATORY_VCLUSTER).
	MandatoryVCluster bool
	// Limiter refuses addresses with too many failed attempts.
	Limiter *auth.FailureLimiter
	// Log receives authentication outcomes (never credentials).
	Log *zap.Logger
}

// The security protocols of GATEWAY_SECURITY_PROTOCOL.
const (
	Plaintext              = "PLAINTEXT"
	SSL                    = "SSL"
	SASLPlaintext          = "SASL_PLAINTEXT"
	SASLSSL                = "SASL_SSL"
	DelegatedSASLPlaintext = "DELEGATED_SASL_PLAINTEXT"
	DelegatedSASLSSL       = "DELEGATED_SASL_SSL"
)

// Protocols lists the valid values of GATEWAY_SECURITY_PROTOCOL.
var Protocols = []string{Plaintext, SSL, SASLPlaintext, SASLSSL, DelegatedSASLPlaintext, DelegatedSASLSSL}

// Identity is the gateway.Identity of one node.
type Identity struct {
	cfg        Config
	mechanisms []string
	dir        atomic.Pointer[directory]
	secrets    *store.Store[secret]
	acls       *aclCache
}

var _ gateway.Identity = (*Identity)(nil)

// Open opens the secrets topic and returns the identity of a node over it
// and the config topic's store.
func Open(ctx context.Context, cfg Config, config *store.Store[*resource.Resource], clientOpts []kgo.Opt, secrets store.Config) (*Identity, error) {
	st, err := store.Open(ctx, clientOpts, secrets, decodeSecret)
	if err != nil {
		return nil, fmt.Errorf("identity: secrets topic: %w", err)
	}
	return newIdentity(cfg, config, st), nil
}

func newIdentity(cfg Config, config *store.Store[*resource.Resource], secrets *store.Store[secret]) *Identity {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	id := &Identity{cfg: cfg, secrets: secrets, acls: &aclCache{secrets: secrets}}
	switch cfg.Protocol {
	case SASLPlaintext, SASLSSL:
		if cfg.Keys != nil {
			id.mechanisms = append(id.mechanisms, "PLAIN")
		}
		id.mechanisms = append(id.mechanisms, "SCRAM-SHA-256", "SCRAM-SHA-512")
		if cfg.OAuth != nil {
			id.mechanisms = append(id.mechanisms, "OAUTHBEARER")
		}
	case DelegatedSASLPlaintext, DelegatedSASLSSL:
		id.mechanisms = []string{} // offered by the backing cluster
	}
	id.dir.Store(buildDirectory(config.Snapshot().Entries))
	config.Watch(func(s *store.Snapshot[*resource.Resource]) { id.dir.Store(buildDirectory(s.Entries)) })
	return id
}

// Close stops following the secrets topic.
func (id *Identity) Close() { id.secrets.Close() }

// Mechanisms implements gateway.Identity.
func (id *Identity) Mechanisms() []string { return id.mechanisms }

// Delegated implements gateway.Identity.
func (id *Identity) Delegated() bool {
	return id.cfg.Protocol == DelegatedSASLPlaintext || id.cfg.Protocol == DelegatedSASLSSL
}

// Space implements gateway.Identity.
func (id *Identity) Space(vc string) *vcluster.Space { return id.dir.Load().spaces[vc] }

// Begin implements gateway.Identity.
func (id *Identity) Begin(mechanism, clientIP string) (gateway.SASL, error) {
	if id.cfg.Limiter != nil && !id.cfg.Limiter.Allow(clientIP, time.Now()) {
		return nil, errors.New("too many failed authentication attempts from this address; retry later")
	}
	var x gateway.SASL
	switch mechanism {
	case "PLAIN":
		x = &plainToken{id: id}
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		srv, err := auth.NewScramServer(mechanism, id.scramCredential(mechanism))
		if err != nil {
			return nil, err
		}
		x = &scram{srv: srv, mechanism: mechanism}
	case "OAUTHBEARER":
		x = &oauth{id: id}
	default:
		return nil, fmt.Errorf("mechanism %s not enabled", mechanism)
	}
	return &counted{SASL: x, id: id, ip: clientIP, mechanism: mechanism}, nil
}

// Connect implements gateway.Identity.
func (id *Identity) Connect(sasl *auth.Principal, state *tls.ConnectionState, clientIP string) (auth.Principal, error) {
	var p auth.Principal
	switch {
	case sasl != nil:
		p = *sasl
	case state != nil && len(state.PeerCertificates) > 0:
		name, err := id.cfg.Mapping.Apply(auth.SubjectDN(state.PeerCertificates[0]))
		if err != nil {
			return p, fmt.Errorf("identity: client certificate: %w", err)
		}
		p = auth.Principal{Username: name, Mechanism: "MTLS"}
	default:
		p = auth.Principal{Username: "ANONYMOUS"}
	}
	d := id.dir.Load()
	if p.VCluster == "" {
		// A name from outside the gateway (certificate, OAuth, the
		// backing cluster) becomes a service account through its
		// external names.
		if a, ok := d.external[p.Username]; ok && a.external {
			p.VCluster, p.Username = a.vcluster, a.name
		} else if id.cfg.MandatoryVCluster && sasl != nil && !id.Delegated() {
			return p, fmt.Errorf("identity: %s maps to no virtual cluster", p.Username)
		}
	}
	if p.VCluster == "" || id.Delegated() {
		p.VCluster = vcluster.Passthrough
	}
	if d.spaces[p.VCluster] == nil {
		return p, fmt.Errorf("identity: virtual cluster %s does not exist", p.VCluster)
	}
	p.Groups = d.groups(p.VCluster, p.Username, p.Groups)
	return p, nil
}

// Revoked reports whether a gateway token id has been revoked.
func (id *Identity) Revoked(tokenID string) bool {
	_, ok := id.secrets.Snapshot().Entries[string(revokedKey(tokenID))]
	return ok
}

// scramCredential looks SCRAM credentials up. The login name is
// "<vCluster>/<user>", or the user name alone in passthrough.
func (id *Identity) scramCredential(mechanism string) func(string) (auth.Credential, bool) {
	return func(login string) (auth.Credential, bool) {
		vc, user := splitLogin(login)
		s, ok := id.secrets.Snapshot().Entries[string(scramKey(vc, user, mechanism))]
		if !ok || s.scram == nil {
			return auth.Credential{}, false
		}
		return s.scram.Credential, true
	}
}

// splitLogin splits a SCRAM login name into virtual cluster and user.
func splitLogin(login string) (vc, user string) {
	if vc, user, ok := strings.Cut(login, "/"); ok && vc != "" {
		return vc, user
	}
	return vcluster.Passthrough, login
}
