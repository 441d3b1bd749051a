package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/metrics"
)

const (
	keySaslHandshake    int16 = 17
	keySaslAuthenticate int16 = 36
)

// authTimeout bounds how long a client may take to authenticate; an idle
// unauthenticated connection holds a broker connection for nothing.
const authTimeout = 30 * time.Second

// maxAuthFrame bounds request frames before authentication, like Kafka's
// sasl.server.max.receive.size.
const maxAuthFrame = 512 << 10

// errAuthFailed marks a connection closed because authentication failed;
// the client has already been told why.
var errAuthFailed = errors.New("authentication failed")

// authenticate runs a connection's SASL exchange, the way a Kafka broker
// does: ApiVersions is answered (by the broker, narrowed by the gateway),
// SaslHandshake and SaslAuthenticate are answered by the gateway or, when
// delegated, relayed to the broker, and any other request before success
// closes the connection.
// The newest SASL versions the gateway answers itself (and advertises).
const (
	maxSaslHandshake    = 1
	maxSaslAuthenticate = 2
)

// errLeftBeforeAuth ends a connection whose client closed it before
// authenticating, such as a TCP health check: not an authentication failure.
var errLeftBeforeAuth = errors.New("client left before authenticating")

func (c *conn) authenticate(id Identity, clientIP string) (*auth.Principal, error) {
	_ = c.client.SetReadDeadline(time.Now().Add(authTimeout))
	defer func() { _ = c.client.SetReadDeadline(time.Time{}) }()
	var (
		mechanism string
		exchange  SASL
		relayed   delegation
	)
	for {
		h, frame, err := c.readAuthFrame()
		if err != nil {
			return nil, err
		}
		switch {
		case !id.Delegated() && (h.version < 0 ||
			h.key == keySaslHandshake && h.version > maxSaslHandshake ||
			h.key == keySaslAuthenticate && h.version > maxSaslAuthenticate):
			// Versions the gateway never advertised: closed, as Kafka does.
			return nil, fmt.Errorf("gateway: %s v%d not supported", kmsg.NameForKey(h.key), h.version)
		case h.key == keyApiVersions:
			if err := c.relayApiVersions(h, frame); err != nil {
				return nil, err
			}
		case h.key == keySaslHandshake && id.Delegated():
			resp, err := c.relay(h, frame)
			if err != nil {
				return nil, err
			}
			if r, ok := resp.(*kmsg.SASLHandshakeResponse); ok && r.ErrorCode == 0 {
				relayed = delegation{mechanism: handshakeMechanism(h, frame)}
				c.audit.mechanism = relayed.mechanism
			}
		case h.key == keySaslAuthenticate && id.Delegated() && relayed.mechanism != "":
			req, _ := decodeAuthRequest(h, frame).(*kmsg.SASLAuthenticateRequest)
			resp, err := c.relay(h, frame)
			if err != nil {
				return nil, err
			}
			r, ok := resp.(*kmsg.SASLAuthenticateResponse)
			if !ok || req == nil {
				return nil, fmt.Errorf("gateway: unexpected SaslAuthenticate exchange")
			}
			if r.ErrorCode != 0 {
				return nil, fmt.Errorf("%w: backing cluster refused %s: %s", errAuthFailed, relayed.mechanism, deref(r.ErrorMessage))
			}
			if p := relayed.step(req.SASLAuthBytes); p != nil {
				return p, nil
			}
		case h.key == keySaslHandshake:
			req, ok := decodeAuthRequest(h, frame).(*kmsg.SASLHandshakeRequest)
			if !ok || h.version < 1 {
				return nil, fmt.Errorf("gateway: SaslHandshake v%d not supported (Kafka 4 clients use v1)", h.version)
			}
			resp := kmsg.NewPtrSASLHandshakeResponse()
			resp.SetVersion(h.version)
			resp.SupportedMechanisms = id.Mechanisms()
			if slices.Contains(resp.SupportedMechanisms, req.Mechanism) {
				mechanism = req.Mechanism
				c.audit.mechanism = mechanism
			} else {
				resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
			}
			if err := c.writeAuthResponse(h, resp); err != nil {
				return nil, err
			}
		case h.key == keySaslAuthenticate && mechanism != "":
			req, ok := decodeAuthRequest(h, frame).(*kmsg.SASLAuthenticateRequest)
			if !ok {
				return nil, fmt.Errorf("gateway: malformed SaslAuthenticate request")
			}
			resp := kmsg.NewPtrSASLAuthenticateResponse()
			resp.SetVersion(h.version)
			var p *auth.Principal
			if exchange == nil {
				exchange, err = id.Begin(mechanism, clientIP)
			}
			if err == nil {
				resp.SASLAuthBytes, p, err = exchange.Step(req.SASLAuthBytes)
			}
			if err != nil {
				resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
				msg := err.Error()
				resp.ErrorMessage = &msg
				_ = c.writeAuthResponse(h, resp)
				return nil, fmt.Errorf("%w: %s: %w", errAuthFailed, mechanism, err)
			}
			if err := c.writeAuthResponse(h, resp); err != nil {
				return nil, err
			}
			if p != nil {
				return p, nil
			}
		default:
			return nil, fmt.Errorf("gateway: %s request before authentication completed", kmsg.NameForKey(h.key))
		}
	}
}

// readAuthFrame reads one whole request frame during authentication.
func (c *conn) readAuthFrame() (requestHeader, []byte, error) {
	if _, err := io.ReadFull(c.client, c.req.chunk[:requestPeekLen]); err != nil {
		if errors.Is(err, io.EOF) {
			return requestHeader{}, nil, errLeftBeforeAuth
		}
		return requestHeader{}, nil, fmt.Errorf("gateway: read request header: %w", err)
	}
	h, err := parseRequestPeek(c.req.chunk, maxAuthFrame)
	if err != nil {
		return h, nil, fmt.Errorf("gateway: request during authentication: %w", err)
	}
	frame := make([]byte, 4+h.size)
	copy(frame, c.req.chunk[:requestPeekLen])
	if _, err := io.ReadFull(c.client, frame[requestPeekLen:]); err != nil {
		return h, nil, c.readErr("read request", err)
	}
	return h, frame, nil
}

// decodeAuthRequest decodes a whole request frame; nil when it does not
// parse.
func decodeAuthRequest(h requestHeader, frame []byte) kmsg.Request {
	off, err := skipRequestHeaderRest(frame[requestPeekLen:], h.key, h.version)
	if err != nil {
		return nil
	}
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return nil
	}
	req.SetVersion(h.version)
	if req.ReadFrom(frame[requestPeekLen+off:]) != nil {
		return nil
	}
	return req
}

// relayApiVersions answers ApiVersions before authentication: the broker's
// answer, narrowed to what any virtual cluster may use, since the client's
// virtual cluster is not known yet.
func (c *conn) relayApiVersions(h requestHeader, frame []byte) error {
	if h.version > info(keyApiVersions).maxVersion {
		return c.writeAuthFrame(h.correlationID, unsupportedApiVersions())
	}
	body, err := c.roundTrip(h, frame)
	if err != nil {
		return err
	}
	out, _, err := c.gw.rewriter.rewrite(h.key, h.version, body, nil, nil, c.space(), nil, nil, nil)
	if err != nil {
		return &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: %w", err)}
	}
	return c.writeAuthFrame(h.correlationID, out)
}

// relay forwards a request to the broker and its answer to the client,
// and returns the decoded answer.
func (c *conn) relay(h requestHeader, frame []byte) (kmsg.Response, error) {
	body, err := c.roundTrip(h, frame)
	if err != nil {
		return nil, err
	}
	if err := c.writeAuthFrame(h.correlationID, body); err != nil {
		return nil, err
	}
	resp := kmsg.ResponseForKey(h.key)
	resp.SetVersion(h.version)
	tags, err := skipResponseHeaderTags(body, h.key, h.version)
	if err == nil {
		err = resp.ReadFrom(body[tags:])
	}
	if err != nil {
		return nil, &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: decode %s response: %w", kmsg.NameForKey(h.key), err)}
	}
	return resp, nil
}

// roundTrip sends one request frame upstream and returns the response
// after its correlation id (header tags included).
func (c *conn) roundTrip(h requestHeader, frame []byte) ([]byte, error) {
	if _, err := c.upstream.Write(frame); err != nil {
		return nil, &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: forward request upstream: %w", err)}
	}
	var head [responsePeekLen]byte
	if _, err := io.ReadFull(c.upstream, head[:]); err != nil {
		return nil, &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
	}
	size, corr, err := parseResponsePeek(head[:], maxAuthFrame)
	if err == nil && corr != h.correlationID {
		err = fmt.Errorf("correlation id %d, expected %d", corr, h.correlationID)
	}
	if err != nil {
		return nil, &upstreamFailure{metrics.UpstreamResponse, fmt.Errorf("gateway: upstream response: %w", err)}
	}
	body := make([]byte, size-4)
	if _, err := io.ReadFull(c.upstream, body); err != nil {
		return nil, &upstreamFailure{metrics.UpstreamIO, fmt.Errorf("gateway: read upstream response: %w", err)}
	}
	return body, nil
}

// writeAuthResponse writes a response the gateway produced.
func (c *conn) writeAuthResponse(h requestHeader, resp kmsg.Response) error {
	return c.writeAuthFrame(h.correlationID, localBody(h.key, h.version, resp))
}

// writeAuthFrame writes a response body (everything after the correlation
// id) to the client.
func (c *conn) writeAuthFrame(correlationID int32, body []byte) error {
	if _, err := c.writeBody(correlationID, body); err != nil {
		return fmt.Errorf("gateway: write response: %w", err)
	}
	return nil
}

// localBody encodes a response the gateway answers itself: header tags
// when the version is flexible, then the body.
func localBody(key, version int16, resp kmsg.Response) []byte {
	resp.SetVersion(version)
	var b []byte
	if flexibleResponseHeader(key, version) {
		b = append(b, 0)
	}
	return resp.AppendTo(b)
}

// clientIP returns the IP address of a connection's peer.
func clientIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	return host
}

// tlsState returns the TLS state of a client connection, nil on plain TCP.
func tlsState(c net.Conn) *tls.ConnectionState {
	if tc, ok := c.(*tls.Conn); ok {
		s := tc.ConnectionState()
		return &s
	}
	return nil
}
