package auth

// The readers below take names out of credentials without checking them.
// They are for delegated authentication only, where the backing cluster has
// already accepted the very same message.

// ScramUsername returns the user a SCRAM client-first message names, or ""
// when the message does not parse.
func ScramUsername(msg []byte) string {
	first, err := parseClientFirst(string(msg))
	if err != nil {
		return ""
	}
	return first.username
}

// UnverifiedClaim returns a string claim of a JWT without verifying its
// signature, or "" when the token or the claim does not parse.
func UnverifiedClaim(token, claim string) string {
	t, err := parseJWS(token)
	if err != nil {
		return ""
	}
	c, err := decodeClaimSet(t.payload)
	if err != nil {
		return ""
	}
	s, _, _ := c.str(claim)
	return s
}
