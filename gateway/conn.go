package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/metrics"
	"github.com/strait-gateway/strait/vcluster"
)

// chunkSize is the per-direction buffer of a connection. A frame that fits
// is read whole and written with one call; a larger one is streamed, socket
// to socket in the kernel where both ends are plain TCP.
const chunkSize = 64 << 10

// maxResponseSize bounds response frames. Responses that are only streamed
// through are never held in memory; the bound protects the ones the gateway
// decodes and rejects garbage from a confused upstream.
const maxResponseSize = 1 << 30

// inflight is one request awaiting its response, in client order.
type inflight struct {
	correlationID int32
	key, version  int16
	arrived       time.Time // when the request frame's header was read
	// local is a response body the gateway produced itself; it is written
	// in this request's place instead of reading from the broker.
	local []byte
	// x translates the response of a request translated for a virtual
	// cluster.
	x *vcluster.Exchange
	// cx translates concentrated topics; extra more requests were sent
	// upstream for it, whose responses follow the first.
	cx    *concentration.Exchange
	extra int
	// call runs the interceptors of the response, and delays it when an
	// interceptor throttled the request.
	call *interceptor.Call
}

// decodeResponse reports whether the response must be decoded: it names
// brokers, needs translating, or interceptors act on it.
func (e *inflight) decodeResponse() bool {
	return inspectResponse(e.key, e.version) || e.x != nil || e.cx != nil ||
		(e.call != nil && (e.call.HasResponse() || e.call.Throttled() > 0))
}

// conn proxies one client connection to one upstream broker connection.
// One goroutine reads requests and forwards them; another writes responses
// back in request order. Each side owns its buffers, so the steady state
// allocates nothing.
type conn struct {
	gw       *Gateway
	log      *zap.Logger
	audit    *session
	client   net.Conn
	upstream net.Conn
	pending  chan inflight // bounded: the in-flight limit and backpressure
	done     chan struct{} // closed when the connection is torn down
	closing  sync.Once
	draining atomic.Bool

	// principal is who the client is, set before serving starts when the
	// gateway has an Identity.
	principal     auth.Principal
	authenticated bool
	// ip is the client's address as ACLs see it, once asked for.
	ip string
	// who is the connection as interceptors see it, and chainRef its
	// chain of the latest generation used.
	who      interceptor.Conn
	chainRef *interceptor.Chain

	req  halfBuffer // owned by the request goroutine
	resp halfBuffer // owned by the response goroutine
}

// halfBuffer is the scratch space of one direction of a connection. The
// frame head is always read into the start of chunk.
type halfBuffer struct {
	chunk []byte
	limit io.LimitedReader
	out   writerOnly
}

func newConn(gw *Gateway, client, upstream net.Conn, log *zap.Logger, s *session) *conn {
	return &conn{
		gw:       gw,
		audit:    s,
		log:      log,
		client:   client,
		upstream: upstream,
		// The response goroutine holds one entry while it waits for the
		// broker, so the queue holds the other MaxInFlight−1.
		pending: make(chan inflight, max(gw.cfg.MaxInFlight-1, 0)),
		done:    make(chan struct{}),
		req:     halfBuffer{chunk: make([]byte, chunkSize)},
		resp:    halfBuffer{chunk: make([]byte, chunkSize)},
	}
}

// serve runs the connection until either side closes or fails. Whichever
// side stops first closes both sockets, so a broker that goes away never
// leaves a client waiting for responses. It returns the failure that ended
// the connection, nil when one side closed it.
func (c *conn) serve() error {
	respDone := make(chan error, 1)
	go func() {
		err := c.writeResponses()
		c.close()
		respDone <- err
	}()

	err := c.readRequests()
	if c.draining.Load() {
		// Let the responses to requests already forwarded arrive.
		close(c.pending)
	} else {
		c.close()
	}
	if respErr := <-respDone; err == nil || isClosed(err) {
		err = respErr
	}
	var uf *upstreamFailure
	switch {
	case errors.As(err, &uf) && !errors.Is(err, net.ErrClosed): // not closed by the gateway
		c.gw.cfg.Metrics.UpstreamError(uf.kind)
		c.log.Info("connection closed", zap.Error(err))
		return err
	case err != nil && !isClosed(err):
		c.log.Info("connection closed", zap.Error(err))
		return err
	}
	c.log.Debug("connection closed")
	return nil
}

// upstreamFailure is a failure of the broker connection. The one that ends
// a client connection is counted by kind.
type upstreamFailure struct {
	kind metrics.UpstreamError
	err  error
}

func (e *upstreamFailure) Error() string { return e.err.Error() }
func (e *upstreamFailure) Unwrap() error { return e.err }

// drain stops reading new requests; the responses to requests already
// forwarded are still delivered.
func (c *conn) drain() {
	c.draining.Store(true)
	_ = c.client.SetReadDeadline(time.Now())
}

func (c *conn) close() {
	c.closing.Do(func() {
		close(c.done)
		_ = c.client.Close()
		_ = c.upstream.Close()
	})
}

// readRequests forwards client requests upstream until the client stops.
func (c *conn) readRequests() error {
	b := &c.req
	for {
		if c.draining.Load() {
			return nil
		}
		if _, err := io.ReadFull(c.client, b.chunk[:requestPeekLen]); err != nil {
			return c.readErr("read request header", err)
		}
		h, err := parseRequestPeek(b.chunk, c.gw.cfg.MaxFrameBytes)
		if err != nil {
			return fmt.Errorf("gateway: request: %w", err)
		}
		arrived := time.Now()
		c.gw.cfg.Metrics.Request(h.key, 4+int(h.size))
		rest := int64(h.size) - (requestPeekLen - 4)
		ki := info(h.key)

		if h.key == keyApiVersions && h.version > ki.maxVersion {
			if err := c.discard(c.client, rest); err != nil {
				return c.readErr("read request", err)
			}
			if err := c.enqueue(inflight{correlationID: h.correlationID, key: h.key, arrived: arrived, local: unsupportedApiVersions()}); err != nil {
				return err
			}
			continue
		}
		space := c.space()
		if space == nil {
			return fmt.Errorf("gateway: %w", errNoVCluster)
		}
		if chain := c.chain(); space.Translates(h.key) || chain.Intercepts(h.key) || c.gw.cfg.Concentration.Translates(h.key) {
			if err := c.forwardDecoded(h, rest, arrived, space, chain); err != nil {
				return err
			}
			continue
		}
		if inspectResponse(h.key, h.version) && h.version > ki.maxVersion {
			return fmt.Errorf("gateway: %s v%d is newer than the gateway can parse (max v%d) and was never advertised",
				kmsg.NameForKey(h.key), h.version, ki.maxVersion)
		}

		head := requestPeekLen
		expectResponse := true
		if h.key == keyProduce {
			// Read enough of the body to find acks; acks=0 has no response.
			n := int(min(rest, 4096))
			if _, err := io.ReadFull(c.client, b.chunk[head:head+n]); err != nil {
				return c.readErr("read produce request", err)
			}
			if acks, ok := produceAcks(b.chunk[head:head+n], h.version); ok && acks == 0 {
				expectResponse = false
			}
			head, rest = head+n, rest-int64(n)
		}
		if expectResponse {
			if err := c.enqueue(inflight{correlationID: h.correlationID, key: h.key, version: h.version, arrived: arrived}); err != nil {
				return err
			}
		}
		if failed, err := forward(c.upstream, c.client, b, head, rest); err != nil {
			if failed == c.upstream {
				return &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: forward request upstream: %w", err)}
			}
			return c.readErr("forward request", err)
		}
	}
}

// writeResponses matches upstream responses to pending requests, in order,
// and writes them to the client.
func (c *conn) writeResponses() error {
	b := &c.resp
	for {
		var e inflight
		select {
		case <-c.done:
			return nil
		case p, ok := <-c.pending:
			if !ok {
				return nil
			}
			e = p
		}
		if e.local != nil {
			if !c.hold(e) {
				return nil
			}
			if err := c.writeLocal(e); err != nil {
				return fmt.Errorf("gateway: write response: %w", err)
			}
			continue
		}
		if _, err := io.ReadFull(c.upstream, b.chunk[:responsePeekLen]); err != nil {
			return &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
		}
		size, corr, err := parseResponsePeek(b.chunk, maxResponseSize)
		if err != nil {
			return &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: upstream response: %w", err)}
		}
		if corr != e.correlationID {
			return &upstreamFailure{metrics.UpstreamResponse,
				fmt.Errorf("gateway: upstream answered correlation id %d, expected %d", corr, e.correlationID)}
		}
		rest := int64(size) - 4
		if !e.decodeResponse() {
			if !c.hold(e) {
				return nil
			}
			if failed, err := forward(c.client, c.upstream, b, responsePeekLen, rest); err != nil {
				if failed == c.upstream {
					return &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
				}
				return fmt.Errorf("gateway: forward response: %w", err)
			}
			c.gw.cfg.Metrics.Response(e.key, int(size)+4, e.arrived)
			continue
		}
		if err := c.rewriteResponse(e, rest); err != nil {
			return err
		}
	}
}

// rewriteResponse reads a whole response, lets the rewriter change it, and
// writes the result. The response head is still in c.resp.chunk.
func (c *conn) rewriteResponse(e inflight, size int64) error {
	in := getBuffer(responsePeekLen + int(size))
	defer putBuffer(in)
	frame := append((*in)[:0], c.resp.chunk[:responsePeekLen]...)
	frame = frame[:responsePeekLen+size]
	if _, err := io.ReadFull(c.upstream, frame[responsePeekLen:]); err != nil {
		return &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
	}
	body := frame[responsePeekLen:]
	tags, err := skipResponseHeaderTags(body, e.key, e.version)
	if err != nil {
		return &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: %s response header: %w", kmsg.NameForKey(e.key), err)}
	}
	extra, err := c.readExtra(e)
	if err != nil {
		return err
	}
	out := getBuffer(0)
	defer putBuffer(out)
	*out = append((*out)[:0], frame[:responsePeekLen+tags]...)
	rewritten, changed, err := c.gw.rewriter.rewrite(e.key, e.version, body[tags:], *out, e.x, c.space(), e.call, e.cx, extra)
	if err != nil {
		return &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: %w", err)}
	}
	if changed {
		*out = rewritten
		frame = rewritten
		binary.BigEndian.PutUint32(frame[0:4], uint32(len(frame)-4))
	}
	if !c.hold(e) {
		return nil
	}
	if _, err := c.client.Write(frame); err != nil {
		return fmt.Errorf("gateway: write response: %w", err)
	}
	c.gw.cfg.Metrics.Response(e.key, len(frame), e.arrived)
	return nil
}

// readExtra reads and decodes the responses to the extra requests sent
// for a concentrated topic, which follow the first response.
func (c *conn) readExtra(e inflight) ([]kmsg.Response, error) {
	var out []kmsg.Response
	for range e.extra {
		var head [8]byte
		if _, err := io.ReadFull(c.upstream, head[:]); err != nil {
			return nil, &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
		}
		size, corr, err := parseResponsePeek(head[:], maxResponseSize)
		if err != nil || corr != e.correlationID {
			return nil, &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: upstream response to an extra %s request: correlation id %d, %v", kmsg.NameForKey(e.key), corr, err)}
		}
		body := make([]byte, size-4)
		if _, err := io.ReadFull(c.upstream, body); err != nil {
			return nil, &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
		}
		tags, err := skipResponseHeaderTags(body, e.key, e.version)
		if err != nil {
			return nil, &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: %s response header: %w", kmsg.NameForKey(e.key), err)}
		}
		resp := kmsg.ResponseForKey(e.key)
		resp.SetVersion(e.version)
		if err := resp.ReadFrom(body[tags:]); err != nil {
			return nil, &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: decode %s v%d response: %w", kmsg.NameForKey(e.key), e.version, err)}
		}
		out = append(out, resp)
	}
	return out, nil
}

// hold waits, before a response is written, for as long as interceptors
// of either half throttled or delayed it, counted from the request's
// arrival. A throttled response is held back as well as carrying its
// throttle time, so clients that ignore the field slow down too. It
// returns false when the connection closed meanwhile.
func (c *conn) hold(e inflight) bool {
	if e.call == nil {
		return true
	}
	return c.wait(e.arrived.Add(max(e.call.Throttled(), e.call.Delayed())))
}

// wait sleeps until t; it returns false when the connection closes first.
func (c *conn) wait(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-c.done:
		return false
	}
}

// writeLocal writes a response the gateway produced itself.
func (c *conn) writeLocal(e inflight) error {
	n, err := c.writeBody(e.correlationID, e.local)
	if err == nil {
		c.gw.cfg.Metrics.Response(e.key, n, e.arrived)
	}
	return err
}

// writeBody writes a response frame around body (everything after the
// correlation id) and returns the frame's size.
func (c *conn) writeBody(correlationID int32, body []byte) (int, error) {
	frame := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(frame[0:4], uint32(4+len(body)))
	binary.BigEndian.PutUint32(frame[4:8], uint32(correlationID))
	frame = append(frame, body...)
	_, err := c.client.Write(frame)
	return len(frame), err
}

// enqueue records a request awaiting its response. It blocks while the
// connection has MaxInFlight requests outstanding.
func (c *conn) enqueue(e inflight) error {
	select {
	case c.pending <- e:
		return nil
	case <-c.done:
		return net.ErrClosed
	}
}

// forward sends the frame head already read into b.chunk[:head] followed
// by the next rest bytes of src to dst. A frame that fits the chunk goes out
// in one write; a larger one is streamed, spliced in the kernel when both
// ends are plain TCP connections. On failure it also returns the end that
// failed, or nil when splice cannot tell: it reports one error for both.
func forward(dst, src net.Conn, b *halfBuffer, head int, rest int64) (failed net.Conn, err error) {
	if int64(head)+rest <= int64(len(b.chunk)) {
		frame := b.chunk[:head+int(rest)]
		if _, err := io.ReadFull(src, frame[head:]); err != nil {
			return src, err
		}
		if _, err := dst.Write(frame); err != nil {
			return dst, err
		}
		return nil, nil
	}
	if _, err := dst.Write(b.chunk[:head]); err != nil {
		return dst, err
	}
	b.limit.R, b.limit.N = src, rest
	_, srcTCP := src.(*net.TCPConn)
	if d, dstTCP := dst.(*net.TCPConn); srcTCP && dstTCP {
		if _, err := d.ReadFrom(&b.limit); err != nil {
			return nil, err
		}
	} else {
		b.out = writerOnly{Writer: dst}
		if _, err := io.CopyBuffer(&b.out, &b.limit, b.chunk); err != nil {
			if b.out.failed {
				return dst, err
			}
			return src, err
		}
	}
	if b.limit.N != 0 {
		return src, io.ErrUnexpectedEOF
	}
	return nil, nil
}

// discard skips n bytes of src.
func (c *conn) discard(src net.Conn, n int64) error {
	c.req.limit.R, c.req.limit.N = src, n
	if _, err := io.CopyBuffer(io.Discard, &c.req.limit, c.req.chunk); err != nil {
		return err
	}
	if c.req.limit.N != 0 {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// readErr describes a failed client read; a clean close between frames or
// the deadline set by drain is no error.
func (c *conn) readErr(what string, err error) error {
	if errors.Is(err, io.EOF) && what == "read request header" {
		return nil
	}
	if c.draining.Load() && errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	var ne net.Error
	if c.draining.Load() && errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return fmt.Errorf("gateway: %s: %w", what, err)
}

// writerOnly hides a writer's ReadFrom, so io.CopyBuffer uses the buffer it
// is given instead of allocating one. It notes whether a write failed.
type writerOnly struct {
	io.Writer
	failed bool
}

func (w *writerOnly) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	w.failed = w.failed || err != nil || n < len(p)
	return n, err
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}
