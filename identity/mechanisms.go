package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/gateway"
)

// errInvalid is what a client is told whenever its credentials are
// refused, whatever the reason: the reason is logged, not disclosed.
var errInvalid = errors.New("invalid credentials")

// counted wraps an exchange to log its outcome and feed the per-address
// failure limiter.
type counted struct {
	gateway.SASL
	id        *Identity
	ip        string
	mechanism string
}

func (c *counted) Step(in []byte) ([]byte, *auth.Principal, error) {
	out, p, err := c.SASL.Step(in)
	switch {
	case err != nil:
		if c.id.cfg.Limiter != nil {
			c.id.cfg.Limiter.Fail(c.ip, time.Now())
		}
		var user string
		if cl, ok := c.SASL.(claimant); ok {
			user = cl.claimed()
		}
		c.id.cfg.Log.Info("authentication failed", zap.String("client", c.ip), zap.String("mechanism", c.mechanism),
			zap.String("username", user), zap.Error(err))
		shown := errInvalid
		if errors.Is(err, errExpired) {
			shown = errExpired
		}
		err = &gateway.Refusal{Username: user, Reason: err.Error(), Shown: shown}
	case p != nil:
		c.id.cfg.Log.Debug("authenticated", zap.String("client", c.ip), zap.String("mechanism", c.mechanism),
			zap.String("username", p.Username), zap.String("vcluster", p.VCluster))
	}
	return out, p, err
}

// claimant is an exchange that knows the name the client claimed, for
// the log and the audit event of a failure.
type claimant interface{ claimed() string }

// errExpired tells the client its token expired, which it can act on.
var errExpired = errors.New("token expired")

// plainToken is SASL PLAIN whose password is a gateway token: the user
// name must match the token's, and the token must be valid, unexpired and
// not revoked.
type plainToken struct {
	id   *Identity
	user string // as the client sent it
}

func (x *plainToken) claimed() string { return x.user }

func (x *plainToken) Step(in []byte) ([]byte, *auth.Principal, error) {
	_, user, password, err := auth.ParsePlain(in)
	if err != nil {
		return nil, nil, err
	}
	x.user = user
	claims, err := x.id.cfg.Keys.Verify(password, time.Now())
	switch {
	case errors.Is(err, auth.ErrExpired):
		return nil, nil, errExpired
	case err != nil:
		return nil, nil, err
	case claims.Username != user:
		return nil, nil, fmt.Errorf("user %q does not match the token's", user)
	case x.id.Revoked(claims.ID):
		return nil, nil, fmt.Errorf("token %s revoked", claims.ID)
	}
	vc := claims.VCluster
	if vc == "" {
		vc = "passthrough"
	}
	d := x.id.dir.Load()
	if a, ok := d.accounts[[2]string{vc, user}]; ok && a.external {
		return nil, nil, fmt.Errorf("service account %s/%s is EXTERNAL", vc, user)
	} else if !ok && x.id.cfg.AccountRequired {
		return nil, nil, fmt.Errorf("service account %s/%s does not exist", vc, user)
	}
	return nil, &auth.Principal{VCluster: vc, Username: user, Mechanism: "PLAIN", TokenID: claims.ID, Expires: claims.Expires}, nil
}

// scram is SCRAM-SHA-256/512 against the stored salted credentials.
type scram struct {
	srv       *auth.ScramServer
	mechanism string
}

func (x *scram) claimed() string { return x.srv.Username() }

func (x *scram) Step(in []byte) ([]byte, *auth.Principal, error) {
	out, done, err := x.srv.Step(in)
	if err != nil || !done {
		return out, nil, err
	}
	vc, user := splitLogin(x.srv.Username())
	return out, &auth.Principal{VCluster: vc, Username: user, Mechanism: x.mechanism}, nil
}

// oauth is OAUTHBEARER with JWTs validated against the configured JWKS.
type oauth struct{ id *Identity }

func (x *oauth) Step(in []byte) ([]byte, *auth.Principal, error) {
	token, _, err := auth.ParseOAuthBearer(in)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := x.id.cfg.OAuth.Validate(ctx, token, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return nil, &p, nil
}
