package gateway

import (
	"crypto/tls"
	"errors"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/vcluster"
)

// Identity decides who each client connection is and which virtual cluster
// it sees. The server implements it over the gateway's configuration; a
// gateway without one serves every client as an anonymous passthrough user.
type Identity interface {
	// Mechanisms returns the SASL mechanisms clients must authenticate
	// with, or nil when the listener takes no SASL.
	Mechanisms() []string
	// Delegated reports whether SASL exchanges go to the backing cluster
	// (DELEGATED_SASL_*) instead of being answered by the gateway.
	Delegated() bool
	// Begin starts a gateway-managed SASL exchange for the client at the
	// given IP address. Its error is shown to the client.
	Begin(mechanism, clientIP string) (SASL, error)
	// Connect decides a connection's principal once authentication is
	// over: sasl is what SASL established (nil without SASL) and tls the
	// client's TLS state (nil on plain TCP). Its error is logged and the
	// connection closed.
	Connect(sasl *auth.Principal, tls *tls.ConnectionState, clientIP string) (auth.Principal, error)
	// Space returns the current view of a virtual cluster; nil when the
	// virtual cluster no longer exists.
	Space(vcluster string) *vcluster.Space
	// Access returns what a principal connected from clientIP may do
	// inside its virtual cluster; nil when the virtual cluster does not
	// enforce ACLs.
	Access(p auth.Principal, clientIP string) vcluster.Access
}

// SASL is one gateway-managed SASL exchange.
type SASL interface {
	// Step consumes one client message and returns the reply. The
	// principal is set once the exchange has succeeded.
	Step(in []byte) (out []byte, p *auth.Principal, err error)
}

// errNoVCluster closes a connection whose virtual cluster was deleted.
var errNoVCluster = errors.New("virtual cluster no longer exists")

// passthroughSpace is the view of connections without an Identity.
var passthroughSpace = vcluster.New(vcluster.Passthrough, nil)
