// Package limitjoingrouppolicy is the LimitJoinGroupPolicy
// interceptor: it caps how many JoinGroup requests the members of a
// consumer group send per minute across the whole gateway cluster. Joins over the cap are
// refused with POLICY_VIOLATION (BLOCK), slowed down (THROTTLE) or only
// reported (INFO).
//
// Joins are counted per interceptor, virtual cluster and group id with
// the node's cluster-wide limits (package limits), so the cap holds for
// the sum over every gateway node, up to the bound that package states.
package limitjoingrouppolicy

import (
	_ "embed"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/limits"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("LimitJoinGroupPolicy",
		"Caps JoinGroup requests per consumer group and minute, across the gateway cluster",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.LimitJoinGroupPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	GroupID               interceptor.Pattern `json:"groupId" doc:"consumer groups the limit applies to (default: all)"`
	MaximumJoinsPerMinute int64               `json:"maximumJoinsPerMinute" doc:"joins allowed per group and minute, across the gateway cluster"`
	Action                interceptor.Action  `json:"action" doc:"BLOCK (default), INFO or THROTTLE"`
	ThrottleTimeMs        *int64              `json:"throttleTimeMs" doc:"delay of a throttled join in milliseconds (default 100)"`
}

type policy struct {
	interceptor.Base
	cfg    *Config
	over   limits.Action
	limits interceptor.Limits
}

func newPolicy(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.MaximumJoinsPerMinute <= 0 {
		return nil, interceptor.Invalid("maximumJoinsPerMinute", "is required and must be positive")
	}
	over, err := limits.NewAction(cfg.Action, cfg.ThrottleTimeMs)
	if err != nil {
		return nil, err
	}
	return &policy{cfg: cfg, over: over, limits: limits.For(env)}, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.JoinGroup.Int16()}}
}

// Request counts the join and acts when its group is over the limit.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	group := req.(*kmsg.JoinGroupRequest).Group
	if !p.cfg.GroupID.Matches(group) {
		return
	}
	bucket := "LimitJoinGroupPolicy\x00" + c.Interceptor() + "\x00" + c.Conn.VCluster + "\x00" + group
	if p.limits.Allow(bucket, 1, p.cfg.MaximumJoinsPerMinute, time.Minute) {
		return
	}
	reason := fmt.Sprintf("group %s is over %d joins per minute", group, p.cfg.MaximumJoinsPerMinute)
	p.over.Over(c, reason)
}
