package server

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/store"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// AuditConfig is the audit log's configuration; zero fields take the
// defaults.
type AuditConfig struct {
	// Disabled is GATEWAY_AUDIT_ENABLED=false (the default is enabled).
	Disabled bool
	// Topic is GATEWAY_AUDIT_TOPIC (default _strait_<cluster>_audit).
	Topic string
	// Partitions is GATEWAY_AUDIT_PARTITIONS (default 3), used when the
	// topic is created.
	Partitions int32
	// ReplicationFactor is GATEWAY_AUDIT_REPLICATION_FACTOR (default the
	// config topic's).
	ReplicationFactor int16
	// Retention is GATEWAY_AUDIT_RETENTION_MS (default 7 days), used when
	// the topic is created; negative keeps events forever.
	Retention time.Duration
	// Buffer is GATEWAY_AUDIT_BUFFER_EVENTS (default 100000): how many
	// events wait for an unreachable backing cluster before new ones are
	// dropped.
	Buffer int
}

// auditFromEnv reads the GATEWAY_AUDIT_* variables.
func auditFromEnv(p *parser) AuditConfig {
	a := AuditConfig{
		Disabled:          !p.boolean("GATEWAY_AUDIT_ENABLED", true),
		Topic:             p.str("GATEWAY_AUDIT_TOPIC", ""),
		Partitions:        int32(p.integer("GATEWAY_AUDIT_PARTITIONS", 3, 1, 100000)),
		ReplicationFactor: int16(p.integer("GATEWAY_AUDIT_REPLICATION_FACTOR", 0, -1, 32767)),
		Retention:         time.Duration(p.integer("GATEWAY_AUDIT_RETENTION_MS", 7*24*3600*1000, -1, 1<<62)) * time.Millisecond,
		Buffer:            p.integer("GATEWAY_AUDIT_BUFFER_EVENTS", 100000, 1, 100_000_000),
	}
	if a.Retention == 0 {
		p.fail(fmt.Errorf("config: GATEWAY_AUDIT_RETENTION_MS 0 would delete events at once: give milliseconds, or -1 to keep them forever"))
	}
	return a
}

// AuditTopic is the audit topic's name.
func (c Config) AuditTopic() string {
	if c.Audit.Topic != "" {
		return c.Audit.Topic
	}
	return c.internalTopic("audit")
}

// nodeName names this node: GATEWAY_NODE_ID, else its first listener's
// advertised address.
func (c Config) nodeName() string {
	if c.NodeID != "" {
		return c.NodeID
	}
	return net.JoinHostPort(c.AdvertisedHost, strconv.Itoa(c.PortStart))
}

// openAudit starts the audit log, or records nothing when it is disabled.
// The topic is created later, by createAuditTopic, once the config topic
// has shown the backing cluster reachable; events wait until then.
func (s *Server) openAudit(cfg Config) error {
	s.audit = audit.Discard
	if cfg.Audit.Disabled {
		s.log.Info("audit log disabled (GATEWAY_AUDIT_ENABLED=false)")
		return nil
	}
	a := cfg.Audit
	if a.Partitions == 0 {
		a.Partitions = 3
	}
	if a.ReplicationFactor == 0 {
		a.ReplicationFactor = cfg.ConfigReplicationFactor
	}
	if a.ReplicationFactor == 0 {
		a.ReplicationFactor = -1 // the broker default, as for the config topic
	}
	if a.Retention == 0 {
		a.Retention = 7 * 24 * time.Hour
	}
	if a.Buffer == 0 {
		a.Buffer = 100000
	}
	l, err := audit.Open(cfg.Backing.ClientOpts(), audit.Config{
		Topic:             cfg.AuditTopic(),
		Partitions:        a.Partitions,
		ReplicationFactor: a.ReplicationFactor,
		Retention:         a.Retention,
		Buffer:            a.Buffer,
		Source:            "strait://" + cfg.clusterName() + "/" + url.PathEscape(cfg.nodeName()),
		Log:               s.log.Named("audit"),
		Registry:          s.metrics.Registry,
	})
	if err != nil {
		return fmt.Errorf("server: audit log: %w", err)
	}
	s.auditLog, s.audit = l, l
	return nil
}

// createAuditTopic creates the audit topic when it is missing.
func (s *Server) createAuditTopic(ctx context.Context) error {
	if s.auditLog == nil {
		return nil
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.auditLog.CreateTopic(tctx); err != nil {
		return fmt.Errorf("server: audit log: %w", err)
	}
	return nil
}

// configOutcome records what this node did with a config topic record.
// Records applied while loading the topic at start-up were recorded when
// they first arrived; rejections are recorded again, since this node runs
// without them.
func (s *Server) configOutcome(o store.Outcome) {
	if o.Loading && o.Err == nil {
		return
	}
	d := audit.ConfigData{Topic: s.cfg.ConfigTopic(), Offset: o.Offset, Key: string(o.Key), Operation: "upsert", Startup: o.Loading}
	if o.Value == nil {
		d.Operation = "delete"
	} else {
		d.Value = audit.Redact(o.Value)
	}
	t := audit.ConfigApplied
	if o.Err != nil {
		t, d.Reason = audit.ConfigRejected, o.Err.Error()
	}
	s.audit.Emit(audit.Event{Type: t, Subject: d.Key, Data: d})
}

// interceptorTypes maps interceptor actions to event types.
var interceptorTypes = map[interceptor.Action]audit.Type{
	interceptor.Block:    audit.InterceptorBlocked,
	interceptor.Info:     audit.InterceptorInfo,
	interceptor.Override: audit.InterceptorOverridden,
	interceptor.Throttle: audit.InterceptorThrottled,
	interceptor.Audited:  audit.RequestAudited,

	interceptor.EncryptFailed: audit.EncryptionFailed,
	interceptor.DecryptFailed: audit.DecryptionFailed,
}

// interceptorEvent is an interceptor action as an audit event.
func interceptorEvent(e interceptor.Event) audit.Event {
	return audit.Event{Type: interceptorTypes[e.Action], Subject: e.ConnID, Data: audit.InterceptorData{
		Connection:  audit.Connection{ID: e.ConnID, ClientAddress: e.ClientIP},
		Principal:   audit.Principal{VCluster: e.VCluster, Username: e.Username},
		Interceptor: e.Interceptor,
		Plugin:      e.Plugin,
		APIKey:      kmsg.NameForKey(e.Key),
		Topic:       e.Topic,
		Partitions:  e.Partitions,
		GroupID:     e.Group,
		Reason:      e.Reason,
	}}
}
