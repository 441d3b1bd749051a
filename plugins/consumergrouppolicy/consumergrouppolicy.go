// Package consumergrouppolicy is the ConsumerGroupPolicy interceptor:
// rules on the group id, member id, static instance id and timeouts of
// consumers joining a group. A BLOCK rule refuses the JoinGroup or
// SyncGroup request; INFO reports; OVERRIDE replaces a timeout.
package consumergrouppolicy

import (
	_ "embed"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("ConsumerGroupPolicy",
		"Rules on group id, member id, instance id and timeouts of consumer group members",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.ConsumerGroupPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	GroupID            *interceptor.Regex `json:"groupId" doc:"group ids must match value"`
	SessionTimeoutMs   *interceptor.Range `json:"sessionTimeoutMs" doc:"session.timeout.ms"`
	RebalanceTimeoutMs *interceptor.Range `json:"rebalanceTimeoutMs" doc:"rebalance timeout (max.poll.interval.ms for Java)"`
	MemberID           *interceptor.Regex `json:"memberId" doc:"member ids must match value"`
	GroupInstanceID    *interceptor.Regex `json:"groupInstanceId" doc:"static member instance ids must match value"`
}

type policy struct {
	interceptor.Base
	cfg *Config
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	for field, r := range map[string]*interceptor.Regex{"groupId": cfg.GroupID, "memberId": cfg.MemberID, "groupInstanceId": cfg.GroupInstanceID} {
		if r == nil {
			continue
		}
		if !r.Value.Set() {
			return nil, interceptor.Invalid(field+".value", "is required")
		}
		if err := interceptor.CheckAction(field+".action", r.Action, interceptor.Block, interceptor.Info); err != nil {
			return nil, err
		}
	}
	for field, r := range map[string]*interceptor.Range{"sessionTimeoutMs": cfg.SessionTimeoutMs, "rebalanceTimeoutMs": cfg.RebalanceTimeoutMs} {
		if r != nil {
			if err := interceptor.CheckAction(field+".action", r.Action, interceptor.Block, interceptor.Info, interceptor.Override); err != nil {
				return nil, err
			}
		}
	}
	return &policy{cfg: cfg}, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.JoinGroup.Int16(), kmsg.SyncGroup.Int16()}}
}

// Request checks a JoinGroup or SyncGroup request.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	var group, member string
	var instance *string
	switch r := req.(type) {
	case *kmsg.JoinGroupRequest:
		group, member, instance = r.Group, r.MemberID, r.InstanceID
		if !p.checkIDs(c, group, member, instance) {
			return
		}
		if !p.checkTimeout(c, group, "session timeout", p.cfg.SessionTimeoutMs, &r.SessionTimeoutMillis) {
			return
		}
		if c.Version >= 1 {
			p.checkTimeout(c, group, "rebalance timeout", p.cfg.RebalanceTimeoutMs, &r.RebalanceTimeoutMillis)
		}
	case *kmsg.SyncGroupRequest:
		p.checkIDs(c, r.Group, r.MemberID, r.InstanceID)
	}
}

// checkIDs applies the id rules and reports whether the call goes on. A
// member id is checked once the broker has given one (a first JoinGroup
// has none), an instance id when the member is static.
func (p *policy) checkIDs(c *interceptor.Call, group, member string, instance *string) bool {
	if r := p.cfg.GroupID; r != nil && !r.Value.Matches(group) {
		// INVALID_GROUP_ID makes clients stop with an error naming the
		// group id, where an unexpected code could make them retry.
		if blocked(c, r.Action, kerr.InvalidGroupID.Code, group, fmt.Sprintf("group id %s does not match %s", group, r.Value)) {
			return false
		}
	}
	if r := p.cfg.MemberID; r != nil && member != "" && !r.Value.Matches(member) {
		if blocked(c, r.Action, kerr.PolicyViolation.Code, group, fmt.Sprintf("member id %s does not match %s", member, r.Value)) {
			return false
		}
	}
	if r := p.cfg.GroupInstanceID; r != nil && instance != nil && !r.Value.Matches(*instance) {
		if blocked(c, r.Action, kerr.PolicyViolation.Code, group, fmt.Sprintf("group instance id %s does not match %s", *instance, r.Value)) {
			return false
		}
	}
	return true
}

// checkTimeout applies a timeout rule, overriding the value in place, and
// reports whether the call goes on.
func (p *policy) checkTimeout(c *interceptor.Call, group, name string, r *interceptor.Range, v *int32) bool {
	if r == nil || r.Allows(float64(*v)) {
		return true
	}
	reason := fmt.Sprintf("%s %d ms, must be %s", name, *v, r.Bounds())
	if r.Action.Or(interceptor.Block) == interceptor.Override {
		*v = int32(*r.OverrideValue)
		c.Report(interceptor.Override, group, fmt.Sprintf("%s; overridden with %d", reason, *v))
		return true
	}
	// INVALID_SESSION_TIMEOUT is the code brokers use for timeouts out of
	// their own bounds; clients treat it as fatal.
	return !blocked(c, r.Action, kerr.InvalidSessionTimeout.Code, group, reason)
}

// blocked carries out a BLOCK or INFO rule and reports whether it blocked.
func blocked(c *interceptor.Call, a interceptor.Action, code int16, group, reason string) bool {
	if a.Or(interceptor.Block) == interceptor.Info {
		c.Report(interceptor.Info, group, reason)
		return false
	}
	c.Block(code, group, reason)
	return true
}
