package gateway

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/auth"
)

// delegation follows a SASL exchange the backing cluster answers, to learn
// the principal the broker authenticated. The broker has checked the
// credentials; the gateway only reads the name out of them.
type delegation struct {
	mechanism string
	rounds    int
	username  string
}

// handshakeMechanism returns the mechanism a SaslHandshake request names.
func handshakeMechanism(h requestHeader, frame []byte) string {
	if req, ok := decodeAuthRequest(h, frame).(*kmsg.SASLHandshakeRequest); ok {
		return req.Mechanism
	}
	return ""
}

// step notes one client message the broker accepted and returns the
// principal once the exchange is complete.
func (d *delegation) step(msg []byte) *auth.Principal {
	d.rounds++
	switch {
	case d.mechanism == "PLAIN":
		if _, user, _, err := auth.ParsePlain(msg); err == nil {
			d.username = user
		}
	case strings.HasPrefix(d.mechanism, "SCRAM-"):
		if d.rounds == 1 {
			d.username = auth.ScramUsername(msg)
			return nil // the broker answers with a challenge first
		}
	case d.mechanism == "OAUTHBEARER":
		if token, _, err := auth.ParseOAuthBearer(msg); err == nil {
			d.username = auth.UnverifiedClaim(token, "sub")
		}
	}
	return &auth.Principal{Username: d.username, Mechanism: d.mechanism}
}
