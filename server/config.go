package server

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strait-gateway/strait/admin"
	"github.com/strait-gateway/strait/backing"
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
	if p.err != nil {
		return Config{}, p.err
	}
	var err error
	if cfg.Security, err = securityFromEnv(&p, env); err != nil {
		return Config{}, err
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
	if cfg.PortCount > 0 && cfg.PortStart+cfg.PortCount-1 > 65535 {
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

// ConfigTopic is the name of the node's config topic.
func (c Config) ConfigTopic() string { return c.internalTopic("config") }

// SecretsTopic is the name of the topic of SCRAM credentials and revoked
// tokens.
func (c Config) SecretsTopic() string { return c.internalTopic("secrets") }

// MembersTopic is the name of the topic the nodes heartbeat to.
func (c Config) MembersTopic() string { return c.internalTopic("members") }

// internalTopic names one of the gateway cluster's internal topics.
func (c Config) internalTopic(purpose string) string {
	id := c.ClusterID
	if id == "" {
		id = "gateway"
	}
	return "_strait_" + id + "_" + purpose
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
