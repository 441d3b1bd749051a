// Package limitconnectionpolicy is the LimitConnectionPolicy interceptor:
// it caps how many client connections the gateway cluster as a whole
// accepts per second. Once a client has authenticated, a connection over
// the cap is closed (BLOCK), held back before its first request is read
// (THROTTLE) or only reported (INFO).
//
// Connections are counted per interceptor name with the node's
// cluster-wide limits (package limits); a connection refused still counts,
// so clients reconnecting in a tight loop stay refused until they slow
// down.
package limitconnectionpolicy

import (
	_ "embed"
	"fmt"
	"time"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/limits"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("LimitConnectionPolicy",
		"Caps new client connections per second, across the gateway cluster",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.LimitConnectionPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	MaximumConnectionsPerSecond int64              `json:"maximumConnectionsPerSecond" doc:"connections accepted per second, across the gateway cluster"`
	Action                      interceptor.Action `json:"action" doc:"BLOCK (default), INFO or THROTTLE"`
	ThrottleTimeMs              *int64             `json:"throttleTimeMs" doc:"delay of a throttled connection in milliseconds (default 100)"`
}

type policy struct {
	interceptor.Base
	cfg    *Config
	over   limits.Action
	limits interceptor.Limits
}

var _ interceptor.Connector = (*policy)(nil)

func newPolicy(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.MaximumConnectionsPerSecond <= 0 {
		return nil, interceptor.Invalid("maximumConnectionsPerSecond", "is required and must be positive")
	}
	over, err := limits.NewAction(cfg.Action, cfg.ThrottleTimeMs)
	if err != nil {
		return nil, err
	}
	return &policy{cfg: cfg, over: over, limits: limits.For(env)}, nil
}

// Subscribe sees no request: the policy acts when a connection opens.
func (p *policy) Subscribe() interceptor.Subscription { return interceptor.Subscription{} }

// Connected counts the connection and acts when the cluster is over the
// limit.
func (p *policy) Connected(c *interceptor.Call) {
	bucket := "LimitConnectionPolicy\x00" + c.Interceptor()
	if p.limits.Allow(bucket, 1, p.cfg.MaximumConnectionsPerSecond, time.Second) {
		return
	}
	reason := fmt.Sprintf("over %d connections per second", p.cfg.MaximumConnectionsPerSecond)
	p.over.Over(c, reason)
}
