package gateway

import (
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/auth"
)

// Refusal is a failed authentication whose details are for the audit log
// only: the client is told Shown, which says nothing an attacker could use.
type Refusal struct {
	// Username is the name the client claimed, when the exchange got
	// that far.
	Username string
	// Reason says why the credentials were refused; it holds no secret.
	Reason string
	// Shown is what the client is told.
	Shown error
}

func (r *Refusal) Error() string { return r.Shown.Error() }

// Unwrap returns what the client is told.
func (r *Refusal) Unwrap() error { return r.Shown }

// connIDs names connections: a random prefix per process and a counter,
// unique across the nodes of a gateway cluster and across restarts.
type connIDs struct {
	prefix string
	next   atomic.Uint64
}

func newConnIDs() *connIDs { return &connIDs{prefix: rand.Text()[:10] + "-"} }

func (ids *connIDs) id() string { return ids.prefix + strconv.FormatUint(ids.next.Add(1), 10) }

// session is a client connection's audit trail.
type session struct {
	emit      audit.Emitter
	conn      audit.Connection
	start     time.Time
	principal *audit.Principal
	// mechanism is the SASL mechanism the client chose, once it has.
	mechanism string
}

// open names a new connection and records its opening.
func (g *Gateway) open(client net.Conn) *session {
	s := &session{
		emit:  g.cfg.Audit,
		conn:  audit.Connection{ID: g.ids.id(), ClientAddress: client.RemoteAddr().String(), Listener: client.LocalAddr().String()},
		start: time.Now(),
	}
	s.emit.Emit(audit.Event{Type: audit.ConnectionOpened, Subject: s.conn.ID, Data: audit.ConnectionData{Connection: s.conn}})
	return s
}

// authenticated records who the client is. A connection that proved
// nothing (no SASL, no certificate) has no authentication event; its
// principal is on its close event.
func (s *session) authenticated(p auth.Principal) {
	s.principal = &audit.Principal{VCluster: p.VCluster, Username: p.Username, Groups: p.Groups, Mechanism: p.Mechanism}
	if p.Mechanism == "" {
		return
	}
	s.emit.Emit(audit.Event{Type: audit.AuthSucceeded, Subject: s.conn.ID, Data: audit.AuthData{
		Connection: s.conn, Mechanism: p.Mechanism, Principal: s.principal,
	}})
}

// refused records a failed authentication: mechanism is what the client
// tried, claimed the principal it claimed, if any.
func (s *session) refused(mechanism string, claimed *auth.Principal, err error) {
	d := audit.AuthData{Connection: s.conn, Mechanism: mechanism, Reason: err.Error()}
	var r *Refusal
	if errors.As(err, &r) {
		d.Reason = r.Reason
		if r.Username != "" {
			d.Principal = &audit.Principal{Username: r.Username}
		}
	}
	if claimed != nil {
		d.Principal = &audit.Principal{VCluster: claimed.VCluster, Username: claimed.Username, Mechanism: claimed.Mechanism}
	}
	s.emit.Emit(audit.Event{Type: audit.AuthFailed, Subject: s.conn.ID, Data: d})
}

// closed records the end of the connection; err is why, nil for an
// orderly close.
func (s *session) closed(err error) {
	d := audit.ConnectionData{Connection: s.conn, Principal: s.principal, DurationMs: time.Since(s.start).Milliseconds()}
	if err != nil {
		d.Reason = err.Error()
	}
	s.emit.Emit(audit.Event{Type: audit.ConnectionClosed, Subject: s.conn.ID, Data: d})
}
