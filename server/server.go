// Package server assembles a Strait node: the backing cluster (or the
// embedded one), the gateway's own client, the frame path, and the HTTP
// endpoints, started and stopped as one.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/admin"
	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/backing"
	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/encryption/keystore"
	"github.com/strait-gateway/strait/gateway"
	"github.com/strait-gateway/strait/identity"
	"github.com/strait-gateway/strait/limits"
	"github.com/strait-gateway/strait/membership"
	"github.com/strait-gateway/strait/metrics"
	"github.com/strait-gateway/strait/pipeline"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
)

// Server is one running Strait node.
type Server struct {
	cfg       Config
	log       *zap.Logger
	embedded  *backing.Embedded
	client    *kgo.Client
	config    *store.Store[*resource.Resource]
	refresher *gateway.Refresher
	members   *membership.Membership // nil with external load balancing
	identity  *identity.Identity
	pipeline  *pipeline.Pipeline
	limits    *limits.Limits
	keys      *keystore.Store // nil when the keys topic could not be opened
	// concentration is nil when its topics could not be opened.
	concentration *concentration.Concentrator
	gateway       *gateway.Gateway
	http          *http.Server
	httpAddr      string
	stop          context.CancelFunc
	metrics       *metrics.Node
	audit         audit.Emitter // audit.Discard when disabled
	auditLog      *audit.Log    // nil when disabled
}

// Start brings a node up. It returns once the listeners are open; the
// backing cluster may still be unreachable, which /health/ready reports.
func Start(ctx context.Context, cfg Config, log *zap.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log, metrics: metrics.NewNode()}
	if err := s.start(ctx); err != nil {
		s.closeBacking()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	cfg := s.cfg
	if cfg.Embedded {
		emb, bcfg, err := backing.StartEmbedded(cfg.EmbeddedBrokers)
		if err != nil {
			return err
		}
		s.embedded, cfg.Backing = emb, bcfg
		s.log.Warn("KAFKA_BOOTSTRAP_SERVERS is not set: started an embedded in-memory Kafka (franz-go kfake) for development; its data is lost on exit",
			zap.Strings("brokers", bcfg.Bootstrap))
	}
	client, err := kgo.NewClient(append(cfg.Backing.ClientOpts(), kgo.ClientID("strait"))...)
	if err != nil {
		return fmt.Errorf("server: backing client: %w", err)
	}
	s.client = client
	if err := s.openAudit(cfg); err != nil {
		return err
	}
	if err := s.openConfig(ctx, cfg); err != nil {
		return err
	}
	if err := s.createAuditTopic(ctx); err != nil {
		return err
	}
	topology := gateway.NewTopology()
	s.refresher = gateway.NewRefresher(kadm.NewClient(client), topology, cfg.RefreshInterval, s.log.Named("topology"))

	if err := s.firstRefresh(ctx); err != nil {
		return err
	}
	routing := s.routing(topology)
	var placement gateway.Placement
	switch {
	case cfg.Routing == gateway.HostRouting:
		// Every node advertises every broker under the same host names,
		// which resolve to a load balancer or to every node; spreading
		// brokers across nodes would need names per node.
		s.log.Info("host routing: every broker is advertised under its host name by every node; brokers are not spread across nodes and this node joins no membership",
			zap.String("brokerHosts", routing.HostPrefix+"<id>"+routing.HostSeparator+routing.AdvertisedHost),
			zap.Int32("advertisedPort", routing.SNIPort))
	case !cfg.ExternalLoadBalancing:
		if err := s.join(ctx, cfg, routing); err != nil {
			return err
		}
		placement = s.members
	}
	if err := s.openIdentity(ctx, cfg); err != nil {
		return err
	}
	s.limits = s.startLimits(ctx, cfg)
	s.openKeyStore(ctx, cfg)
	s.openConcentration(ctx, cfg)
	s.openPipeline()
	dialer := cfg.Backing
	if s.identity.Delegated() {
		dialer.SASL = nil // the client's own SASL exchange authenticates each connection
	}
	s.gateway = gateway.New(gateway.Config{
		BindHost:      cfg.BindHost,
		Routing:       routing,
		Placement:     placement,
		MaxFrameBytes: cfg.MaxFrameBytes,
		MaxInFlight:   cfg.MaxInFlight,
		DialTimeout:   10 * time.Second,
		Metrics:       s.metrics.Gateway,
		TLS:           cfg.Security.TLS,
		Identity:      s.identity,
		Interceptors:  s.pipeline,
		Audit:         s.audit,
		Concentration: s.concentration,
	}, dialer.NewDialer(), topology, s.log.Named("gateway"))
	if err := s.gateway.Listen(); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.refresher.Run(runCtx)
	s.identity.WatchRevocations(func(tokenID string) {
		n := s.gateway.Disconnect(func(p auth.Principal) bool { return p.TokenID == tokenID })
		s.log.Info("token revoked; closed its connections", zap.String("tokenId", tokenID), zap.Int("connections", n))
	})
	go s.purgeRevocations(runCtx)

	if cfg.HTTPPort >= 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindHost, strconv.Itoa(cfg.HTTPPort)))
		if err != nil {
			_ = s.gateway.Shutdown(context.Background())
			stop()
			return fmt.Errorf("server: http listen: %w", err)
		}
		s.httpAddr = ln.Addr().String()
		s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", zap.Error(err))
			}
		}()
		s.log.Info("http listening", zap.String("address", s.httpAddr))
	}
	return nil
}

// routing is the node's broker routing. Port routing without a configured
// port count sizes the range from the brokers in topology.
func (s *Server) routing(topology *gateway.Topology) gateway.Routing {
	cfg := s.cfg
	r := gateway.Routing{
		Mode:           cfg.Routing,
		AdvertisedHost: cfg.AdvertisedHost,
		PortStart:      cfg.PortStart,
		PortCount:      cfg.PortCount,
		MinBrokerID:    cfg.MinBrokerID,
	}
	if cfg.Routing == gateway.HostRouting {
		r.PortCount = 1
		r.HostPrefix, r.HostSeparator = cfg.HostPrefix, cfg.HostSeparator
		r.SNIPort = int32(cfg.PortStart)
		if cfg.AdvertisedSNIPort != 0 {
			r.SNIPort = int32(cfg.AdvertisedSNIPort)
		}
		return r
	}
	if r.PortCount == 0 {
		r.PortCount = int(slices.Max(topology.NodeIDs())-cfg.MinBrokerID) + 3
		s.log.Info("GATEWAY_PORT_COUNT not set; derived from the backing cluster", zap.Int("ports", r.PortCount))
	}
	return r
}

// embeddedAdmin is the admin API account of the embedded development mode,
// the only mode with a default credential; it is printed at start-up.
var embeddedAdmin = admin.User{Username: "admin", Password: "strait-dev-only", Admin: true}

// openConfig loads the config topic and prepares the admin API's users.
func (s *Server) openConfig(ctx context.Context, cfg Config) error {
	if cfg.Embedded && len(s.cfg.AdminUsers) == 0 {
		s.cfg.AdminUsers = []admin.User{embeddedAdmin}
		s.log.Warn("embedded mode: admin API user 'admin' with password 'strait-dev-only'; set GATEWAY_ADMIN_API_USERS for anything else")
	}
	// No client is served before the configuration is complete: serving
	// without it would skip whatever policies it holds.
	for {
		st, err := store.Open(ctx, cfg.Backing.ClientOpts(), store.Config{
			Topic:             cfg.ConfigTopic(),
			ReplicationFactor: cfg.ConfigReplicationFactor,
			Log:               s.log.Named("store"),
			Metrics:           s.metrics.Store,
			Observe:           s.configOutcome,
		}, resource.Decode)
		if err == nil {
			s.config = st
			metrics.RegisterResources(s.metrics.Registry, func() map[string]*resource.Resource { return st.Snapshot().Entries })
			return nil
		}
		s.log.Warn("waiting for the config topic; listeners stay closed until it is loaded", zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("server: config topic never loaded: %w", err)
		case <-time.After(time.Second):
		}
	}
}

// join announces the node to the other nodes of its gateway cluster.
func (s *Server) join(ctx context.Context, cfg Config, r gateway.Routing) error {
	self := membership.Member{
		Node:        cfg.nodeName(),
		Host:        r.AdvertisedHost,
		PortStart:   r.PortStart,
		PortCount:   r.PortCount,
		MinBrokerID: r.MinBrokerID,
		Rack:        cfg.RackID,
	}
	interval, timeout := cfg.HeartbeatInterval, cfg.MembershipTimeout
	if interval == 0 {
		interval = 2 * time.Second
	}
	if timeout == 0 {
		timeout = 5 * interval
	}
	m, err := membership.Join(ctx, cfg.Backing.ClientOpts(), membership.Config{
		Self: self,
		Store: store.Config{
			Topic:             cfg.MembersTopic(),
			ReplicationFactor: cfg.ConfigReplicationFactor,
			Retention:         24 * time.Hour,
			Log:               s.log.Named("members"),
			Metrics:           s.metrics.Store,
		},
		Interval: interval,
		Timeout:  timeout,
		Log:      s.log.Named("members"),
	})
	if err != nil {
		return fmt.Errorf("server: join the gateway cluster: %w", err)
	}
	s.members = m
	metrics.RegisterMembers(s.metrics.Registry, func() int { return len(m.Live()) })
	return nil
}

// firstRefresh reads the backing cluster once. Port routing without a
// configured port count needs the broker ids to open the listeners, so it
// retries until it succeeds or ctx ends; otherwise one failure is only
// logged.
func (s *Server) firstRefresh(ctx context.Context) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.refresher.Refresh(rctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case s.cfg.PortCount > 0 || s.cfg.Routing == gateway.HostRouting:
			s.log.Warn("backing cluster not reachable yet; listeners open anyway", zap.Error(err))
			return nil
		}
		s.log.Warn("waiting for the backing cluster (needed to size the port range; set GATEWAY_PORT_COUNT to skip)", zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("server: backing cluster never answered: %w", err)
		case <-time.After(time.Second):
		}
	}
}

// KafkaAddr returns the advertised address of the first listener, usable
// as bootstrap; with host routing, the advertised host at the advertised
// SNI port.
func (s *Server) KafkaAddr() string {
	port := s.cfg.PortStart
	if s.cfg.Routing == gateway.HostRouting && s.cfg.AdvertisedSNIPort != 0 {
		port = s.cfg.AdvertisedSNIPort
	}
	return net.JoinHostPort(s.cfg.AdvertisedHost, strconv.Itoa(port))
}

// HTTPAddr returns the HTTP listener's address.
func (s *Server) HTTPAddr() string { return s.httpAddr }

// Embedded returns the embedded cluster, or nil with a real backing cluster.
func (s *Server) Embedded() *backing.Embedded { return s.embedded }

// Shutdown drains the node: the listeners close, connections finish the
// requests already sent until ctx ends, then everything stops.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.members != nil {
		// Leaving first lets the other nodes advertise this node's brokers
		// while its connections drain.
		if err := s.members.Leave(ctx); err != nil {
			s.log.Warn("could not leave the gateway cluster; the other nodes drop this one after the membership timeout", zap.Error(err))
		}
	}
	err := s.gateway.Shutdown(ctx)
	if s.http != nil {
		hctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.http.Shutdown(hctx)
		cancel()
	}
	s.stop()
	s.closeBacking()
	return err
}

func (s *Server) closeBacking() {
	lctx, lcancel := context.WithTimeout(context.Background(), time.Second)
	s.limits.Close(lctx) // nil-safe
	lcancel()
	if s.auditLog != nil {
		actx, acancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.auditLog.Close(actx)
		acancel()
	}
	if s.keys != nil {
		s.keys.Close()
	}
	if s.concentration != nil {
		s.concentration.Close()
	}
	if s.members != nil {
		s.members.Close()
	}
	if s.identity != nil {
		s.identity.Close()
	}
	if s.config != nil {
		s.config.Close()
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.embedded != nil {
		s.embedded.Close()
	}
}
