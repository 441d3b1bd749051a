// Package auth authenticates Kafka clients at the gateway. It answers the
// SASL mechanisms PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER,
// issues and verifies the gateway's own tokens, maps TLS client
// certificates to names with Kafka's ssl.principal.mapping.rules, and
// limits failed attempts per client address.
//
// The package holds no configuration of its own and does no I/O except the
// OAuth validator's JWKS fetches; the gateway decides which mechanisms a
// listener offers and what an authenticated principal may do.
package auth

import "time"

// Principal is who a connection is.
type Principal struct {
	// VCluster is the virtual cluster; "" means the credential did not
	// decide it.
	VCluster string
	// Username is the authenticated name.
	Username string
	// Groups are external groups the credential carries (an OAuth claim);
	// nil when it carries none.
	Groups []string
	// Mechanism is how the connection authenticated: "PLAIN",
	// "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "MTLS", ...
	Mechanism string
	// TokenID is the id (jti) of the gateway token used, "" otherwise.
	TokenID string
	// Expires is when the credential stops being valid; zero when it does
	// not expire.
	Expires time.Time
}
