// Package gateway is Strait's Kafka frame path: it listens for Kafka
// clients, maps each listener port to a backing broker, forwards frames to
// that broker over one upstream connection per client connection, and
// rewrites the responses that name brokers so clients only ever see gateway
// addresses. Frames no feature needs are forwarded after peeking at their
// header only.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/metrics"
)

// Config is the frame path's configuration.
type Config struct {
	// BindHost is the address the listeners bind to.
	BindHost string
	// Routing maps broker ids to listener ports and advertised addresses.
	Routing Routing
	// Placement, when set, spreads the advertised brokers across the
	// nodes of a multi-node gateway. Host routing ignores it: every node
	// advertises every broker under the same host names.
	Placement Placement
	// MaxFrameBytes is the largest request frame accepted from a client,
	// like Kafka's socket.request.max.bytes.
	MaxFrameBytes int32
	// MaxInFlight is the number of requests a connection may have waiting
	// for responses before the gateway stops reading from it.
	MaxInFlight int
	// DialTimeout bounds opening an upstream connection.
	DialTimeout time.Duration
	// Metrics receives the frame path's metrics; nil keeps them unregistered.
	Metrics *metrics.Gateway
	// TLS, when set, makes every listener a TLS listener (SSL, SASL_SSL).
	// Host routing requires it.
	TLS *tls.Config
	// Identity authenticates clients and maps them to virtual clusters;
	// nil serves everyone as an anonymous passthrough client.
	Identity Identity
	// Interceptors supplies the interceptor chains; nil runs none.
	Interceptors Chains
	// Audit receives connection and authentication events; nil records
	// none.
	Audit audit.Emitter
	// Concentration translates concentrated topics; nil has none.
	Concentration *concentration.Concentrator
}

// Dialer opens a connection to a backing broker that is ready to carry
// Kafka requests (TLS and SASL already done).
type Dialer interface {
	Dial(ctx context.Context, address string) (net.Conn, error)
}

// Gateway serves Kafka clients on a range of ports.
type Gateway struct {
	cfg      Config
	log      *zap.Logger
	dialer   Dialer
	topology *Topology
	rewriter *rewriter
	ids      *connIDs

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[*conn]struct{}
	closing   bool
	wg        sync.WaitGroup
	listening atomic.Bool
	warned    sync.Map // broker ids already reported as outside the port range
}

// New returns a gateway that forwards to the brokers in topology.
func New(cfg Config, dialer Dialer, topology *Topology, log *zap.Logger) *Gateway {
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewGateway()
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Discard
	}
	g := &Gateway{
		cfg:      cfg,
		log:      log,
		dialer:   dialer,
		topology: topology,
		conns:    make(map[*conn]struct{}),
		ids:      newConnIDs(),
	}
	g.rewriter = &rewriter{routing: cfg.Routing, placement: cfg.Placement, topology: topology, unroutable: g.warnUnroutable,
		answersSASL: cfg.Identity != nil && len(cfg.Identity.Mechanisms()) > 0 && !cfg.Identity.Delegated()}
	return g
}

// Listen opens every listener port and starts accepting connections: one
// per broker with port routing, the single port PortStart with host routing.
func (g *Gateway) Listen() error {
	r := g.cfg.Routing
	ports := r.PortCount
	if r.Mode == HostRouting {
		if g.cfg.TLS == nil {
			return errors.New("gateway: host routing needs TLS listeners: the broker is chosen from the TLS server name")
		}
		ports = 1
	}
	for i := range ports {
		port := r.PortStart + i
		ln, err := net.Listen("tcp", net.JoinHostPort(g.cfg.BindHost, strconv.Itoa(port)))
		if err != nil {
			g.closeListeners()
			return fmt.Errorf("gateway: listen on port %d: %w", port, err)
		}
		if g.cfg.TLS != nil {
			ln = tls.NewListener(ln, g.cfg.TLS)
		}
		g.mu.Lock()
		g.listeners = append(g.listeners, ln)
		g.mu.Unlock()
		g.wg.Add(1)
		go g.accept(ln, port)
	}
	g.listening.Store(true)
	if r.Mode == HostRouting {
		g.log.Info("listening; brokers routed by TLS server name",
			zap.String("bind", g.cfg.BindHost),
			zap.Int("port", r.PortStart),
			zap.String("bootstrap", net.JoinHostPort(r.AdvertisedHost, strconv.Itoa(int(r.SNIPort)))),
			zap.String("brokerHosts", r.HostPrefix+"<id>"+r.HostSeparator+r.AdvertisedHost))
		return nil
	}
	g.log.Info("listening",
		zap.String("bind", g.cfg.BindHost),
		zap.Int("firstPort", r.PortStart),
		zap.Int("ports", r.PortCount),
		zap.String("advertisedHost", r.AdvertisedHost))
	return nil
}

// Listening reports whether every listener is open.
func (g *Gateway) Listening() bool { return g.listening.Load() }

func (g *Gateway) accept(ln net.Listener, port int) {
	defer g.wg.Done()
	node := g.cfg.Routing.NodeID(port)
	if g.cfg.Routing.Mode == HostRouting {
		node = noBroker // known only after the TLS handshake
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				g.log.Error("accept failed", zap.Int("port", port), zap.Error(err))
			}
			return
		}
		g.cfg.Metrics.ConnectionOpened()
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer g.cfg.Metrics.ConnectionClosed()
			g.handle(c, node)
		}()
	}
}

// handle connects a new client to the broker its port maps to, or with host
// routing the broker its TLS server name names. A port or name whose broker
// is unknown or unreachable serves as a bootstrap address: the client is
// connected to another live broker and learns the cluster from there.
func (g *Gateway) handle(client net.Conn, node int32) {
	s := g.open(client)
	reason := g.serveClient(client, node, s)
	s.closed(reason)
}

// serveClient runs a client connection from its TLS handshake to its end
// and returns why it ended, nil for an orderly close.
func (g *Gateway) serveClient(client net.Conn, node int32, s *session) error {
	log := g.log.With(zap.String("client", client.RemoteAddr().String()), zap.Int32("broker", node), zap.String("connection", s.conn.ID))
	if tc, ok := client.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			log.Info("TLS handshake failed", zap.Error(err))
			if !errors.Is(err, io.EOF) { // not a client that only opened a socket
				s.refused("TLS", nil, err)
			}
			_ = client.Close()
			return fmt.Errorf("gateway: TLS handshake: %w", err)
		}
		if r := g.cfg.Routing; r.Mode == HostRouting {
			name := tc.ConnectionState().ServerName
			node = r.serverNameBroker(name)
			log = g.log.With(zap.String("client", client.RemoteAddr().String()), zap.String("serverName", name), zap.Int32("broker", node), zap.String("connection", s.conn.ID))
		}
	}
	var upstream net.Conn
	var addr string
	var err error
	for _, addr = range g.topology.candidates(node) {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.DialTimeout)
		upstream, err = g.dialer.Dial(ctx, addr)
		cancel()
		if err == nil {
			break
		}
		g.cfg.Metrics.UpstreamError(metrics.UpstreamDial)
		log.Debug("backing broker unreachable", zap.String("upstream", addr), zap.Error(err))
	}
	if upstream == nil {
		if err == nil {
			err = errors.New("no backing broker known yet")
		}
		log.Warn("cannot reach the backing cluster; closing client connection", zap.Error(err))
		_ = client.Close()
		return fmt.Errorf("gateway: backing cluster unreachable: %w", err)
	}
	c := newConn(g, client, upstream, log, s)
	if !g.track(c) {
		c.close()
		return errors.New("gateway: shutting down")
	}
	defer g.untrack(c)
	if err := c.identify(); err != nil {
		if errors.Is(err, errLeftBeforeAuth) {
			log.Debug("client left before authenticating")
			c.close()
			return err
		}
		g.cfg.Metrics.AuthenticationFailed()
		log.Info("client refused", zap.Error(err))
		c.close()
		return err
	}
	if err := c.connected(); err != nil {
		log.Info("client refused", zap.Error(err))
		c.close()
		return err
	}
	c.log.Debug("connection opened", zap.String("upstream", addr))
	return c.serve()
}

// identify establishes who the client is before its requests are served:
// through SASL when the listener takes it, then the Identity's decision.
func (c *conn) identify() error {
	id := c.gw.cfg.Identity
	if id == nil {
		return nil
	}
	ip := clientIP(c.client)
	var sasl *auth.Principal
	if id.Mechanisms() != nil {
		var err error
		if sasl, err = c.authenticate(id, ip); err != nil {
			if !errors.Is(err, errLeftBeforeAuth) {
				c.audit.refused(c.audit.mechanism, nil, err)
			}
			return err
		}
	}
	p, err := id.Connect(sasl, tlsState(c.client), ip)
	if err != nil {
		c.audit.refused(p.Mechanism, &p, err)
		return fmt.Errorf("gateway: %w", err)
	}
	c.gw.mu.Lock() // Disconnect reads them
	c.principal, c.authenticated = p, true
	c.gw.mu.Unlock()
	c.audit.authenticated(p)
	c.log = c.log.With(zap.String("vcluster", p.VCluster), zap.String("username", p.Username),
		zap.Strings("groups", p.Groups), zap.String("mechanism", p.Mechanism))
	c.gw.cfg.Metrics.Authenticated(p.VCluster)
	return nil
}

// Disconnect closes every client connection whose principal matches, for
// example all that authenticated with a revoked token, and returns how many
// it closed.
func (g *Gateway) Disconnect(match func(auth.Principal) bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for c := range g.conns {
		if c.authenticated && match(c.principal) {
			c.close()
			n++
		}
	}
	return n
}

func (g *Gateway) track(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Gateway) untrack(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// Shutdown stops accepting connections, lets each open connection finish
// the requests it already sent, and closes what is still open when ctx ends.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.listening.Store(false)
	g.closeListeners()
	g.mu.Lock()
	g.closing = true
	for c := range g.conns {
		c.drain()
	}
	g.mu.Unlock()

	finished := make(chan struct{})
	go func() { g.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		n := len(g.conns)
		for c := range g.conns {
			c.close()
		}
		g.mu.Unlock()
		<-finished
		return fmt.Errorf("gateway: drain timed out; closed %d connections with requests in flight", n)
	}
}

func (g *Gateway) closeListeners() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, ln := range g.listeners {
		_ = ln.Close()
	}
	g.listeners = nil
}

// warnUnroutable logs, once per broker id, that a broker cannot be reached
// through the gateway because its id falls outside the port range.
func (g *Gateway) warnUnroutable(id int32) {
	if _, seen := g.warned.LoadOrStore(id, true); !seen {
		g.log.Error("broker id outside the gateway port range; raise GATEWAY_PORT_COUNT or adjust GATEWAY_MIN_BROKERID",
			zap.Int32("broker", id),
			zap.Int32("minBrokerId", g.cfg.Routing.MinBrokerID),
			zap.Int("portCount", g.cfg.Routing.PortCount))
	}
}
