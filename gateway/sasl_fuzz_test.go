package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/vcluster"
)

// FuzzSASLPhase feeds arbitrary bytes to a SASL listener as everything a
// client sends, from the first frame on, and checks that the gateway
// neither panics nor hangs, forwards nothing but what authentication may
// forward before the client has authenticated, answers only the
// authentication requests before that, with well-formed frames, and closes
// the connection when authentication does not complete. delegated picks
// DELEGATED_SASL, where the broker answers the SASL exchange.
//
// Each input runs on in-memory connections: the client's bytes are read
// from a buffer that then ends, and the broker is a fake on a net.Pipe.
func FuzzSASLPhase(f *testing.F) {
	for _, s := range saslSeeds() {
		f.Add(false, s)
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, delegated bool, in []byte) {
		runSASLPhase(t, delegated, in)
	})
}

// saslSeeds are client byte streams: valid logins followed by requests,
// and the usual ways of getting authentication wrong.
func saslSeeds() [][]byte {
	apiVersions := func(v int16) kmsg.Request {
		r := kmsg.NewPtrApiVersionsRequest()
		r.SetVersion(v)
		r.ClientSoftwareName, r.ClientSoftwareVersion = "fuzz", "1"
		return r
	}
	handshake := func(v int16, mechanism string) kmsg.Request {
		r := kmsg.NewPtrSASLHandshakeRequest()
		r.SetVersion(v)
		r.Mechanism = mechanism
		return r
	}
	authenticate := func(v int16, user, pass string) kmsg.Request {
		r := kmsg.NewPtrSASLAuthenticateRequest()
		r.SetVersion(v)
		r.SASLAuthBytes = []byte("\x00" + user + "\x00" + pass)
		return r
	}
	metadata := kmsg.NewPtrMetadataRequest()
	metadata.SetVersion(12)
	produce := kmsg.NewPtrProduceRequest()
	produce.SetVersion(9)
	produce.Acks = 0
	topic := kmsg.NewProduceRequestTopic()
	topic.Topic = "orders"
	produce.Topics = append(produce.Topics, topic)
	login := []kmsg.Request{apiVersions(3), handshake(1, "PLAIN"), authenticate(2, "team-a/alice", "secret")}

	streams := [][]kmsg.Request{
		append(slices.Clone(login), metadata, produce, apiVersions(4)),
		{handshake(1, "PLAIN"), authenticate(0, "ops", "secret"), metadata},
		{apiVersions(3), handshake(1, "PLAIN"), authenticate(2, "team-a/alice", "wrong"), metadata},
		{apiVersions(0), handshake(0, "PLAIN"), authenticate(1, "alice", "secret")},
		{handshake(1, "SCRAM-SHA-512"), authenticate(2, "alice", "secret")},
		{authenticate(2, "alice", "secret")},
		{apiVersions(3), metadata},
		{produce},
		{apiVersions(127), handshake(1, "PLAIN"), authenticate(2, "alice", "secret"), apiVersions(127)},
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("fuzz"))
	var seeds [][]byte
	for _, s := range streams {
		var b []byte
		for i, r := range s {
			b = append(b, f.AppendRequest(nil, r, int32(i+1))...)
		}
		seeds = append(seeds, b)
	}
	full := seeds[0]
	return append(seeds, nil, full[:7], full[:len(full)/2], append([]byte{0x7f, 0xff, 0xff, 0xff}, full...))
}

// fuzzIdentity is fakeIdentity that can be delegated and notes when
// authentication completes.
type fuzzIdentity struct {
	fakeIdentity
	delegated bool
	connected func()
}

func (f *fuzzIdentity) Delegated() bool { return f.delegated }

func (f *fuzzIdentity) Connect(p *auth.Principal, _ *tls.ConnectionState, _ string) (auth.Principal, error) {
	f.connected()
	if p.VCluster == "" { // delegated logins stay in passthrough
		p.VCluster = vcluster.Passthrough
	}
	return *p, nil
}

// pipeDialer hands out one end of a net.Pipe as the broker connection.
type pipeDialer struct{ conn net.Conn }

func (d pipeDialer) Dial(context.Context, string) (net.Conn, error) { return d.conn, nil }

// TestSASLPhaseSeeds checks that the fuzz harness sees what it must: a
// login that completes and the requests after it, a failed login, and a
// request sent too early.
func TestSASLPhaseSeeds(t *testing.T) {
	seeds := saslSeeds()
	for _, delegated := range []bool{false, true} {
		o := runSASLPhase(t, delegated, seeds[0])
		if !o.authenticated || o.answered != 3 || !slices.Equal(o.late, []int16{keyMetadata, keyProduce, keyApiVersions}) {
			t.Errorf("delegated=%v: valid login: %+v, want authenticated after 3 answers, then Metadata, Produce, ApiVersions forwarded", delegated, o)
		}
		o = runSASLPhase(t, delegated, seeds[2])
		if o.authenticated || o.answered != 3 || len(o.late) > 0 {
			t.Errorf("delegated=%v: wrong password: %+v, want 3 answers and nothing more", delegated, o)
		}
		o = runSASLPhase(t, delegated, seeds[6])
		if o.authenticated || o.answered != 1 || len(o.early) != 1 || len(o.late) > 0 {
			t.Errorf("delegated=%v: Metadata before login: %+v, want ApiVersions alone forwarded and answered", delegated, o)
		}
	}
}

// saslOutcome is what became of one client byte stream.
type saslOutcome struct {
	authenticated bool
	answered      int            // responses before authentication
	early         []earlyRequest // forwarded before authentication
	late          []int16        // keys forwarded after it
}

// runSASLPhase serves one client byte stream and checks what happened.
func runSASLPhase(t *testing.T, delegated bool, in []byte) saslOutcome {
	gwEnd, brokerEnd := net.Pipe()
	broker := &saslBroker{delegated: delegated}
	brokerDone := make(chan struct{})
	go func() {
		defer close(brokerDone)
		broker.serve(brokerEnd)
	}()
	client := &scriptedConn{in: in, authAt: -1}
	id := &fuzzIdentity{delegated: delegated, connected: func() {
		broker.authenticated.Store(true)
		client.markAuthenticated()
	}}
	topo := NewTopology()
	topo.SetBrokers([]Broker{{NodeID: 0, Host: "127.0.0.1", Port: 9092}})
	g := New(Config{
		BindHost:      "127.0.0.1",
		Routing:       Routing{AdvertisedHost: "127.0.0.1", PortStart: 9092, PortCount: 1},
		MaxFrameBytes: 1 << 20, MaxInFlight: 8, DialTimeout: time.Second,
		Identity: id,
	}, pipeDialer{gwEnd}, topo, zap.NewNop())

	done := make(chan struct{})
	go func() {
		defer close(done)
		g.handle(client, 0)
	}()
	for _, ch := range []chan struct{}{done, brokerDone} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("connection still served 10s after the client's bytes ended:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}
	return saslOutcome{
		authenticated: client.authAt >= 0,
		answered:      checkSASLPhase(t, delegated, in, client, broker),
		early:         broker.early,
		late:          broker.late,
	}
}

// checkSASLPhase checks the outcome of one connection and returns the
// number of responses before authentication.
func checkSASLPhase(t *testing.T, delegated bool, in []byte, client *scriptedConn, broker *saslBroker) int {
	allowed := []int16{keyApiVersions}
	if delegated {
		allowed = append(allowed, keySaslHandshake, keySaslAuthenticate)
	}
	for _, r := range broker.early {
		if !slices.Contains(allowed, r.key) {
			t.Fatalf("%s v%d forwarded to the broker before authentication", kmsg.NameForKey(r.key), r.version)
		}
		if r.key == keySaslAuthenticate && !r.afterHandshake {
			t.Fatalf("SaslAuthenticate relayed before the broker accepted a SaslHandshake")
		}
	}

	if !client.closed {
		t.Fatal("the client's bytes ended and the connection stays open")
	}
	authenticated := client.authAt >= 0
	early := client.out
	if authenticated {
		early = client.out[:client.authAt]
	}
	requests := requestFrames(in)
	next, answered := 0, 0
	for ; len(early) > 0; answered++ {
		if len(early) < 8 {
			t.Fatalf("%d bytes of a response frame head", len(early))
		}
		r := kbin.Reader{Src: early}
		size, corr := int(r.Int32()), r.Int32()
		if size < 4 || 4+size > len(early) {
			t.Fatalf("response frame of size %d with %d bytes left", size, len(early)-4)
		}
		body := early[8 : 4+size]
		early = early[4+size:]
		for next < len(requests) && requests[next].corr != corr {
			next++
		}
		if next == len(requests) {
			t.Fatalf("response with correlation id %d answers no request still unanswered", corr)
		}
		req := requests[next]
		next++
		if !slices.Contains([]int16{keyApiVersions, keySaslHandshake, keySaslAuthenticate}, req.key) {
			t.Fatalf("%s v%d answered before authentication", kmsg.NameForKey(req.key), req.version)
		}
		checkAuthResponse(t, req, body, len(early) == 0, authenticated)
	}
	return answered
}

// checkAuthResponse checks one response of the authentication phase
// against the request it answers.
func checkAuthResponse(t *testing.T, req frameHead, body []byte, last, authenticated bool) {
	name := kmsg.NameForKey(req.key)
	resp := kmsg.ResponseForKey(req.key)
	version := req.version
	unsupported := version < 0 || version > resp.MaxVersion()
	if req.key == keyApiVersions && (unsupported || len(body) >= 2 && int16(body[0])<<8|int16(body[1]) == kerr.UnsupportedVersion.Code) {
		version = 0 // the v0 body any client can read
	} else if unsupported {
		return // never advertised, yet answered: see the report
	}
	resp.SetVersion(version)
	if flexibleResponseHeader(req.key, version) {
		if len(body) == 0 || body[0] != 0 {
			t.Fatalf("%s v%d response header tags % x", name, req.version, body)
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("%s v%d response does not parse: %v", name, req.version, err)
	}
	switch r := resp.(type) {
	case *kmsg.ApiVersionsResponse:
		if unsupported && r.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("ApiVersions v%d answered with %v, want UNSUPPORTED_VERSION", req.version, kerr.ErrorForCode(r.ErrorCode))
		}
	case *kmsg.SASLAuthenticateResponse:
		if r.ErrorCode != 0 && (!last || authenticated) {
			t.Fatalf("SaslAuthenticate failed (%v) but the connection went on", kerr.ErrorForCode(r.ErrorCode))
		}
	}
}

// frameHead is the start of one request frame of the client's stream.
type frameHead struct {
	key, version int16
	corr         int32
}

// requestFrames splits a client byte stream into the frames a broker
// would read, the last one possibly cut short.
func requestFrames(in []byte) []frameHead {
	var hs []frameHead
	for len(in) >= 12 {
		r := kbin.Reader{Src: in}
		size := r.Int32()
		hs = append(hs, frameHead{key: r.Int16(), version: r.Int16(), corr: r.Int32()})
		if size < 8 || int(size) > len(in)-4 {
			break
		}
		in = in[4+size:]
	}
	return hs
}

// scriptedConn is the client end of a connection: reads return the
// client's bytes and then io.EOF, writes are kept.
type scriptedConn struct {
	mu     sync.Mutex
	in     []byte
	out    []byte
	authAt int // len(out) when authentication completed, -1 before
	closed bool
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case len(c.in) == 0:
		return 0, io.EOF
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *scriptedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.out = append(c.out, p...)
	return len(p), nil
}

func (c *scriptedConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (c *scriptedConn) markAuthenticated() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.authAt = len(c.out)
}

func (c *scriptedConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9092}
}
func (c *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}

func (*scriptedConn) SetDeadline(time.Time) error      { return nil }
func (*scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (*scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// saslBroker is a fake broker: it answers every request the way Kafka
// would, closing the connection on one it cannot parse, and notes what
// reached it before the client authenticated.
type saslBroker struct {
	delegated     bool
	authenticated atomic.Bool
	early         []earlyRequest // read by the test once serve returned
	late          []int16        // keys of the requests after authentication
	handshaken    bool           // a relayed SaslHandshake succeeded
}

// earlyRequest is a request the broker got before authentication.
type earlyRequest struct {
	key, version   int16
	afterHandshake bool
}

func (b *saslBroker) serve(c net.Conn) {
	defer c.Close()
	for {
		req, h, err := readBrokerRequest(c)
		switch {
		case h == nil:
		case !b.authenticated.Load():
			b.early = append(b.early, earlyRequest{h.key, h.version, b.handshaken})
		default:
			b.late = append(b.late, h.key)
		}
		if err != nil {
			return
		}
		if req == nil {
			continue // Produce with acks=0: no response
		}
		resp := b.answer(req)
		if req.GetVersion() != h.version { // an ApiVersions version Kafka does not know
			resp = kmsg.NewPtrApiVersionsResponse()
			resp.(*kmsg.ApiVersionsResponse).ErrorCode = kerr.UnsupportedVersion.Code
		}
		out := kbin.AppendInt32(nil, 0)
		out = kbin.AppendInt32(out, h.corr)
		if flexibleResponseHeader(req.Key(), resp.GetVersion()) {
			out = append(out, 0)
		}
		out = resp.AppendTo(out)
		kbin.AppendInt32(out[:0], int32(len(out)-4))
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// answer returns the response to a request the broker parsed.
func (b *saslBroker) answer(req kmsg.Request) kmsg.Response {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	switch r := resp.(type) {
	case *kmsg.ApiVersionsResponse:
		for k := range int16(maxKeys) {
			if kr := kmsg.RequestForKey(k); kr != nil {
				v := kmsg.NewApiVersionsResponseApiKey()
				v.ApiKey, v.MaxVersion = k, kr.MaxVersion()
				r.ApiKeys = append(r.ApiKeys, v)
			}
		}
	case *kmsg.SASLHandshakeResponse:
		r.SupportedMechanisms = []string{"PLAIN"}
		if req.(*kmsg.SASLHandshakeRequest).Mechanism == "PLAIN" {
			b.handshaken = true
		} else {
			r.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		}
	case *kmsg.SASLAuthenticateResponse:
		_, _, pass, err := auth.ParsePlain(req.(*kmsg.SASLAuthenticateRequest).SASLAuthBytes)
		if !b.handshaken || err != nil || pass != "secret" {
			r.ErrorCode = kerr.SaslAuthenticationFailed.Code
			r.ErrorMessage = kmsg.StringPtr("Authentication failed")
		}
	}
	return resp
}

// errBadRequest stands for a request a broker would close the connection
// over.
var errBadRequest = errors.New("request the broker cannot parse")

// readBrokerRequest reads and parses one request frame and returns its
// head as well, nil when not even that arrived. The request is nil, and the
// error too, for a Produce with acks=0, which gets no response. An
// ApiVersions version Kafka does not know is parsed as v0, the version it
// answers such a request with.
func readBrokerRequest(c net.Conn) (kmsg.Request, *frameHead, error) {
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return nil, nil, err
	}
	hr := kbin.Reader{Src: head[:]}
	size := hr.Int32()
	if size < 8 || size > 1<<20 {
		return nil, nil, errBadRequest
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(c, frame); err != nil {
		return nil, nil, err
	}
	r := kbin.Reader{Src: frame}
	h := &frameHead{key: r.Int16(), version: r.Int16(), corr: r.Int32()}
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return nil, h, errBadRequest
	}
	version := h.version
	if version < 0 || version > req.MaxVersion() {
		if h.key != keyApiVersions {
			return nil, h, errBadRequest
		}
		version = 0
	}
	req.SetVersion(version)
	r.NullableString() // client id
	if req.IsFlexible() {
		for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
			r.Uvarint()
			r.Span(int(r.Uvarint()))
		}
	}
	if !r.Ok() || req.ReadFrom(r.Src) != nil {
		return nil, h, errBadRequest
	}
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		return nil, h, nil
	}
	return req, h, nil
}
