package backing

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Dialer opens broker connections for the frame path: TCP, then TLS and
// SASL as configured, so the connection is ready to carry client requests.
type Dialer struct {
	cfg Config
	net net.Dialer
}

// NewDialer returns a dialer for the backing cluster.
func (c Config) NewDialer() *Dialer {
	return &Dialer{cfg: c, net: net.Dialer{KeepAlive: 30 * time.Second}}
}

// Dial connects to the broker at address and authenticates.
func (d *Dialer) Dial(ctx context.Context, address string) (net.Conn, error) {
	conn, err := d.net.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("backing: dial %s: %w", address, err)
	}
	if d.cfg.TLS != nil {
		tc := d.cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(address)
		}
		tlsConn := tls.Client(conn, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("backing: tls handshake with %s: %w", address, err)
		}
		conn = tlsConn
	}
	if d.cfg.SASL != nil {
		if deadline, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(deadline)
		}
		if err := d.authenticate(ctx, conn, address); err != nil {
			_ = conn.Close()
			return nil, err
		}
		_ = conn.SetDeadline(time.Time{})
	}
	return conn, nil
}

// authenticate runs the SASL exchange (SaslHandshake, then SaslAuthenticate
// until the mechanism is done) on a fresh connection, before any client
// request is forwarded on it.
func (d *Dialer) authenticate(ctx context.Context, conn net.Conn, address string) error {
	mech := d.cfg.SASL
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = mech.Name()
	var hsResp kmsg.SASLHandshakeResponse
	if err := roundTrip(conn, 1, hs, &hsResp); err != nil {
		return fmt.Errorf("backing: sasl handshake with %s: %w", address, err)
	}
	if err := kerr.ErrorForCode(hsResp.ErrorCode); err != nil {
		return fmt.Errorf("backing: sasl handshake with %s: mechanism %s (broker offers %v): %w", address, mech.Name(), hsResp.SupportedMechanisms, err)
	}
	session, msg, err := mech.Authenticate(ctx, address)
	if err != nil {
		return fmt.Errorf("backing: sasl %s: %w", mech.Name(), err)
	}
	for corr := int32(2); ; corr++ {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.SetVersion(2)
		req.SASLAuthBytes = msg
		var resp kmsg.SASLAuthenticateResponse
		if err := roundTrip(conn, corr, req, &resp); err != nil {
			return fmt.Errorf("backing: sasl authenticate with %s: %w", address, err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			detail := ""
			if resp.ErrorMessage != nil {
				detail = ": " + *resp.ErrorMessage
			}
			return fmt.Errorf("backing: sasl %s with %s rejected%s: %w", mech.Name(), address, detail, err)
		}
		done, next, err := session.Challenge(resp.SASLAuthBytes)
		if err != nil {
			return fmt.Errorf("backing: sasl %s with %s: %w", mech.Name(), address, err)
		}
		if done {
			return nil
		}
		msg = next
	}
}

// roundTrip writes one request and reads its response on conn.
func roundTrip(conn net.Conn, corr int32, req kmsg.Request, resp kmsg.Response) error {
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("strait")).AppendRequest(nil, req, corr)
	if _, err := conn.Write(frame); err != nil {
		return err
	}
	var head [8]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return err
	}
	size := int32(binary.BigEndian.Uint32(head[:4]))
	if got := int32(binary.BigEndian.Uint32(head[4:])); got != corr {
		return fmt.Errorf("response correlation id %d, expected %d", got, corr)
	}
	if size < 4 || size > 1<<20 {
		return fmt.Errorf("response size %d out of range", size)
	}
	body := make([]byte, size-4)
	if _, err := io.ReadFull(conn, body); err != nil {
		return err
	}
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() {
		// Skip the response header's tagged fields.
		n := 1
		if len(body) == 0 || body[0] != 0 {
			return fmt.Errorf("unexpected tagged fields in response header")
		}
		body = body[n:]
	}
	return resp.ReadFrom(body)
}
