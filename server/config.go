package server

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strait-gateway/strait/admin"
	"github.com/strait-gateway/strait/backing"
	"github.com/strait-gateway/strait/gateway"
)

// Config is everything a Strait node needs to start. FromEnv fills it from
// the process environment; tests build it directly.
type Config struct {
	// BindHost is GATEWAY_BIND_HOST (default 0.0.0.0).
	BindHost string
	// PortStart is GATEWAY_PORT_START (default 6969).
	PortStart int
	// PortCount is GATEWAY_PORT_COUNT; 0 derives it at start-up from the
	// backing cluster as (highest broker id − MinBrokerID) + 3.
	PortCount int
	// MinBrokerID is GATEWAY_MIN_BROKERID (default 0).
	MinBrokerID int32
	// AdvertisedHost is GATEWAY_ADVERTISED_HOST (default localhost).
	AdvertisedHost string
	// Routing is GATEWAY_ROUTING_MECHANISM: port (the default) gives every
	// broker a port of its own; host serves them all on PortStart and
	// picks the broker from the TLS server name, which needs a TLS
	// security protocol.
	Routing gateway.RoutingMode
	// HostPrefix is GATEWAY_ADVERTISED_HOST_PREFIX (default broker) and
	// HostSeparator GATEWAY_SNI_HOST_SEPARATOR (default "."): with host
	// routing broker n is advertised as HostPrefix + n + HostSeparator +
	// AdvertisedHost.
	HostPrefix    string
	HostSeparator string
	// AdvertisedSNIPort is GATEWAY_ADVERTISED_SNI_PORT, the port advertised
	// with host routing; 0 (the default) advertises PortStart.
	AdvertisedSNIPort int
	// HTTPPort is GATEWAY_HTTP_PORT (default 8888); -1 disables HTTP.
	HTTPPort int
	// MaxFrameBytes is GATEWAY_SOCKET_REQUEST_MAX_BYTES (default
	// 104857600, Kafka's socket.request.max.bytes).
	MaxFrameBytes int32
	// MaxInFlight is GATEWAY_MAX_INFLIGHT_REQUESTS per connection
	// (default 1000).
	MaxInFlight int
	// DrainTimeout is GATEWAY_DRAIN_TIMEOUT_MS (default 30000): how long
	// SIGTERM waits for in-flight requests.
	DrainTimeout time.Duration
	// RefreshInterval is GATEWAY_METADATA_REFRESH_MS (default 10000).
	RefreshInterval time.Duration
	// Backing is the backing cluster; Embedded is set instead when
	// KAFKA_BOOTSTRAP_SERVERS is unset.
	Backing backing.Config
	// ClusterID is GATEWAY_CLUSTER_ID (default gateway): nodes sharing it
	// share state; it names the internal topics.
	ClusterID string
	// ConfigReplicationFactor is GATEWAY_CONFIG_TOPIC_REPLICATION_FACTOR
	// (default -1, the broker default).
	ConfigReplicationFactor int16
	// AdminUsers are the admin API accounts (GATEWAY_ADMIN_API_USERS).
	AdminUsers []admin.User
	// ExternalLoadBalancing is set by
	// GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING=false: every broker is
	// advertised at this node's own address (for nodes behind one load
	// balancer) instead of being spread across the live nodes.
	ExternalLoadBalancing bool
	// NodeID is GATEWAY_NODE_ID (default advertised host:first port), the
	// node's name in the membership topic.
	NodeID string
	// RackID is GATEWAY_RACK_ID: brokers of the same rack are preferably
	// advertised by nodes of that rack.
	RackID string
	// HeartbeatInterval is GATEWAY_MEMBERSHIP_HEARTBEAT_MS (default 2000).
	HeartbeatInterval time.Duration
	// MembershipTimeout is GATEWAY_MEMBERSHIP_TIMEOUT_MS (default 10000):
	// a node silent for longer is dropped and its brokers reassigned.
	MembershipTimeout time.Duration
	// Security is how clients authenticate to the gateway.
	Security Security
	// Audit is the audit log (GATEWAY_AUDIT_*).
	Audit AuditConfig
	// Embedded starts an in-process cluster of EmbeddedBrokers brokers.
	Embedded        bool
	EmbeddedBrokers int
}

// FromEnv reads the configuration from environment variables. Names follow
// Conduktor Gateway's so existing deployments carry over.
func FromEnv(env backing.Env) (Config, error) {
	p := parser{env: env}
	cfg := Config{
		BindHost:                p.str("GATEWAY_BIND_HOST", "0.0.0.0"),
		PortStart:               p.integer("GATEWAY_PORT_START", 6969, 1, 65535),
		PortCount:               p.integer("GATEWAY_PORT_COUNT", 0, 0, 65535),
		MinBrokerID:             int32(p.integer("GATEWAY_MIN_BROKERID", 0, 0, 1<<31-1)),
		AdvertisedHost:          p.str("GATEWAY_ADVERTISED_HOST", "localhost"),
		HostPrefix:              p.str("GATEWAY_ADVERTISED_HOST_PREFIX", "broker"),
		HostSeparator:           p.str("GATEWAY_SNI_HOST_SEPARATOR", "."),
		AdvertisedSNIPort:       p.integer("GATEWAY_ADVERTISED_SNI_PORT", 0, 1, 65535),
		HTTPPort:                p.integer("GATEWAY_HTTP_PORT", 8888, -1, 65535),
		MaxFrameBytes:           int32(p.integer("GATEWAY_SOCKET_REQUEST_MAX_BYTES", 104857600, 1024, 1<<31-1)),
		MaxInFlight:             p.integer("GATEWAY_MAX_INFLIGHT_REQUESTS", 1000, 1, 1<<20),
		DrainTimeout:            time.Duration(p.integer("GATEWAY_DRAIN_TIMEOUT_MS", 30000, 0, 1<<31-1)) * time.Millisecond,
		RefreshInterval:         time.Duration(p.integer("GATEWAY_METADATA_REFRESH_MS", 10000, 100, 1<<31-1)) * time.Millisecond,
		EmbeddedBrokers:         p.integer("GATEWAY_EMBEDDED_BROKERS", 1, 1, 16),
		ClusterID:               p.str("GATEWAY_CLUSTER_ID", "gateway"),
		ConfigReplicationFactor: int16(p.integer("GATEWAY_CONFIG_TOPIC_REPLICATION_FACTOR", -1, -1, 32767)),
		ExternalLoadBalancing:   !p.boolean("GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING", true),
		NodeID:                  p.str("GATEWAY_NODE_ID", ""),
		RackID:                  p.str("GATEWAY_RACK_ID", ""),
		HeartbeatInterval:       time.Duration(p.integer("GATEWAY_MEMBERSHIP_HEARTBEAT_MS", 2000, 100, 1<<31-1)) * time.Millisecond,
		MembershipTimeout:       time.Duration(p.integer("GATEWAY_MEMBERSHIP_TIMEOUT_MS", 10000, 500, 1<<31-1)) * time.Millisecond,
	}
	cfg.Audit = auditFromEnv(&p)
	if p.err != nil {
		return Config{}, p.err
	}
	var err error
	if cfg.Security, err = securityFromEnv(&p, env); err != nil {
		return Config{}, err
	}
	switch m := strings.ToLower(p.str("GATEWAY_ROUTING_MECHANISM", "port")); m {
	case "port":
	case "host":
		cfg.Routing = gateway.HostRouting
		if err := cfg.checkHostRouting(); err != nil {
			return Config{}, err
		}
	default:
		return Config{}, fmt.Errorf("config: GATEWAY_ROUTING_MECHANISM %q: expect port or host", m)
	}
	if !clusterIDRE.MatchString(cfg.ClusterID) {
		return Config{}, fmt.Errorf("config: GATEWAY_CLUSTER_ID %q: expect letters, digits, '.', '_' or '-' (it names topics)", cfg.ClusterID)
	}
	if users := env.Get("GATEWAY_ADMIN_API_USERS"); users != "" {
		if cfg.AdminUsers, err = admin.ParseUsers(users); err != nil {
			return Config{}, err
		}
	}
	if cfg.HeartbeatInterval*2 > cfg.MembershipTimeout {
		return Config{}, fmt.Errorf("config: GATEWAY_MEMBERSHIP_TIMEOUT_MS %d must be at least twice GATEWAY_MEMBERSHIP_HEARTBEAT_MS %d",
			cfg.MembershipTimeout.Milliseconds(), cfg.HeartbeatInterval.Milliseconds())
	}
	if cfg.Routing == gateway.PortRouting && cfg.PortCount > 0 && cfg.PortStart+cfg.PortCount-1 > 65535 {
		return Config{}, fmt.Errorf("config: GATEWAY_PORT_START %d + GATEWAY_PORT_COUNT %d runs past port 65535", cfg.PortStart, cfg.PortCount)
	}
	b, ok, err := backing.FromEnv(env)
	if err != nil {
		return Config{}, err
	}
	cfg.Backing, cfg.Embedded = b, !ok
	if !cfg.Embedded && !slices.ContainsFunc(cfg.AdminUsers, func(u admin.User) bool { return u.Admin }) {
		return Config{}, fmt.Errorf("config: GATEWAY_ADMIN_API_USERS has no admin user; with a real backing cluster one is required (there is no default password)")
	}
	return cfg, nil
}

var clusterIDRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,100}$`)

// checkHostRouting checks that host routing can work: the broker is known
// only from the TLS server name, so the listener must be TLS, and the
// advertised names must be DNS names a client sends as SNI (never an IP
// address).
func (c Config) checkHostRouting() error {
	if c.Security.TLS == nil {
		return fmt.Errorf("config: GATEWAY_ROUTING_MECHANISM=host needs a TLS listener, but GATEWAY_SECURITY_PROTOCOL is %s: use SSL, SASL_SSL or DELEGATED_SASL_SSL (the broker is chosen from the TLS server name)", c.Security.Protocol)
	}
	if net.ParseIP(c.AdvertisedHost) != nil {
		return fmt.Errorf("config: GATEWAY_ADVERTISED_HOST %s: host routing needs a DNS name, not an IP address (clients send no server name for an IP address)", c.AdvertisedHost)
	}
	// The longest broker name must be a valid DNS name too.
	r := gateway.Routing{AdvertisedHost: c.AdvertisedHost, HostPrefix: c.HostPrefix, HostSeparator: c.HostSeparator}
	if name := r.BrokerHost(math.MaxInt32); !dnsName(name) {
		return fmt.Errorf("config: GATEWAY_ADVERTISED_HOST_PREFIX %q, GATEWAY_SNI_HOST_SEPARATOR %q and GATEWAY_ADVERTISED_HOST %q make broker host names like %q, which is not a valid DNS name",
			c.HostPrefix, c.HostSeparator, c.AdvertisedHost, name)
	}
	return nil
}

// dnsName reports whether name is a valid DNS host name: at most 253
// characters in dot-separated labels of 1 to 63 letters, digits or hyphens,
// none starting or ending with a hyphen.
func dnsName(name string) bool {
	if len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if !dnsLabelRE.MatchString(label) {
			return false
		}
	}
	return true
}

var dnsLabelRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// ConfigTopic is the name of the node's config topic.
func (c Config) ConfigTopic() string { return c.internalTopic("config") }

// SecretsTopic is the name of the topic of SCRAM credentials and revoked
// tokens.
func (c Config) SecretsTopic() string { return c.internalTopic("secrets") }

// MembersTopic is the name of the topic the nodes heartbeat to.
func (c Config) MembersTopic() string { return c.internalTopic("members") }

// internalTopic names one of the gateway cluster's internal topics.
func (c Config) internalTopic(purpose string) string {
	return "_strait_" + c.clusterName() + "_" + purpose
}

// clusterName is the gateway cluster's id, "gateway" when none is set.
func (c Config) clusterName() string {
	if c.ClusterID == "" {
		return "gateway"
	}
	return c.ClusterID
}

// parser reads typed settings and keeps the first error.
type parser struct {
	env backing.Env
	err error
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.env.Get(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) integer(name string, def, lo, hi int) int {
	v := strings.TrimSpace(p.env.Get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		p.fail(fmt.Errorf("config: %s %q: expect an integer", name, v))
	case n < lo || n > hi:
		p.fail(fmt.Errorf("config: %s %d: expect a value from %d to %d", name, n, lo, hi))
	}
	return n
}

func (p *parser) boolean(name string, def bool) bool {
	v := strings.TrimSpace(p.env.Get(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(fmt.Errorf("config: %s %q: expect true or false", name, v))
	}
	return b
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}
