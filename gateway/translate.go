package gateway

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/metrics"
	"github.com/strait-gateway/strait/vcluster"
)

// concentrationTimeout bounds what translating one request for topic
// concentration may wait for (registering a topic, preparing its physical
// topic).
const concentrationTimeout = 30 * time.Second

// space returns the virtual cluster view a connection's requests are
// translated for: passthrough without an Identity, nil before
// authentication or once the connection's virtual cluster is gone.
func (c *conn) space() *vcluster.Space {
	id := c.gw.cfg.Identity
	switch {
	case id == nil:
		return passthroughSpace
	case !c.authenticated:
		return nil
	}
	return id.Space(c.principal.VCluster)
}

// access returns what the connection may do inside its virtual cluster;
// nil when everything is allowed.
func (c *conn) access() vcluster.Access {
	id := c.gw.cfg.Identity
	if id == nil || !c.authenticated {
		return nil
	}
	if c.ip == "" {
		c.ip = clientIP(c.client)
	}
	return id.Access(c.principal, c.ip)
}

// forwardDecoded reads a whole request and decodes it, runs the
// connection's interceptors on it, translates it for the connection's
// virtual cluster and forwards it — or answers it locally when an
// interceptor refuses it or the translation says so. The frame head is in
// c.req.chunk.
func (c *conn) forwardDecoded(h requestHeader, rest int64, arrived time.Time, space *vcluster.Space, chain *interceptor.Chain) error {
	in := getBuffer(requestPeekLen + int(rest))
	defer putBuffer(in)
	frame := append((*in)[:0], c.req.chunk[:requestPeekLen]...)
	frame = frame[:requestPeekLen+int(rest)]
	if _, err := io.ReadFull(c.client, frame[requestPeekLen:]); err != nil {
		return c.readErr("read request", err)
	}
	name := kmsg.NameForKey(h.key)
	clientID, idEnd, err := readClientID(frame[requestPeekLen:])
	if err != nil {
		return fmt.Errorf("gateway: %s request header: %w", name, err)
	}
	off, err := skipRequestHeaderRest(frame[requestPeekLen:], h.key, h.version)
	if err != nil {
		return fmt.Errorf("gateway: %s request header: %w", name, err)
	}
	bodyAt := requestPeekLen + off
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return fmt.Errorf("gateway: api key %d: %w", h.key, vcluster.ErrUnavailable)
	}
	req.SetVersion(h.version)
	if err := req.ReadFrom(frame[bodyAt:]); err != nil {
		return fmt.Errorf("gateway: decode %s v%d request: %w", name, h.version, err)
	}
	e := inflight{correlationID: h.correlationID, key: h.key, version: h.version, arrived: arrived}
	var local kmsg.Response
	if chain.Intercepts(h.key) {
		e.call = chain.Begin(&c.who, h.key, h.version, clientID, arrived)
		if !e.call.Request(req) {
			local = e.call.Refusal(req)
		}
	}
	if local == nil && space.Translates(h.key) {
		x, err := space.Request(req, c.access())
		if err != nil {
			return fmt.Errorf("gateway: %s v%d in virtual cluster %s: %w", name, h.version, space.Name(), err)
		}
		e.x, local = x, x.Local
	}
	if cc := c.gw.cfg.Concentration; local == nil && cc.Translates(h.key) {
		ctx, cancel := context.WithTimeout(context.Background(), concentrationTimeout)
		cx, err := cc.Request(ctx, req, space)
		cancel()
		if err != nil {
			return fmt.Errorf("gateway: %s v%d concentration: %w", name, h.version, err)
		}
		if cx != nil {
			e.cx, e.extra = cx, len(cx.Extra)
		}
	}
	noResponse := false
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		noResponse = true // a producer with acks=0 reads no response
	}
	if local != nil {
		if noResponse {
			return nil
		}
		if e.call != nil {
			e.call.Response(local)
		}
		e.local = localBody(h.key, h.version, local)
		return c.enqueue(e)
	}
	if e.call == nil && e.x == nil && e.cx == nil {
		// Decoded only to look for concentrated topics, and none named:
		// the request goes out as it came.
		if !noResponse {
			if err := c.enqueue(e); err != nil {
				return err
			}
		}
		if _, err := c.upstream.Write(frame); err != nil {
			return &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: forward request upstream: %w", err)}
		}
		return nil
	}
	out := getBuffer(len(frame) + 512)
	defer putBuffer(out)
	o := append((*out)[:0], frame[:bodyAt]...)
	if e.call != nil && e.call.ClientID != clientID {
		// An interceptor replaced the client id: rebuild the header.
		o = appendClientID(o[:requestPeekLen], e.call.ClientID)
		o = append(o, frame[requestPeekLen+idEnd:bodyAt]...)
	}
	head := len(o)
	o = req.AppendTo(o)
	binary.BigEndian.PutUint32(o[0:4], uint32(len(o)-4))
	if e.cx != nil {
		// Extra requests repeat the header, correlation id included: the
		// broker answers in order, and the responses are read as one.
		for _, xr := range e.cx.Extra {
			at := len(o)
			o = append(o, o[:head]...)
			o = xr.AppendTo(o)
			binary.BigEndian.PutUint32(o[at:], uint32(len(o)-at-4))
		}
	}
	if !noResponse {
		if err := c.enqueue(e); err != nil {
			return err
		}
	}
	if _, err := c.upstream.Write(o); err != nil {
		return &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: forward request upstream: %w", err)}
	}
	*out = o
	return nil
}
