// Package createtopicpolicy is the CreateTopicPolicy interceptor: rules on
// the name, partitions, replication factor and configs of topics clients
// create. A topic that breaks a BLOCK rule is refused alone, with
// POLICY_VIOLATION, while the rest of the request goes on; INFO only
// reports; OVERRIDE replaces the value before the broker sees it.
package createtopicpolicy

import (
	_ "embed"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/topicconfig"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("CreateTopicPolicy",
		"Rules on the name, partitions, replication factor and configs of created topics",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic             interceptor.Pattern `json:"topic" doc:"topics the policy applies to (default: all)"`
	NamingConvention  *interceptor.Regex  `json:"namingConvention" doc:"topic names must match value"`
	NumPartition      *interceptor.Range  `json:"numPartition"`
	ReplicationFactor *interceptor.Range  `json:"replicationFactor"`
	topicconfig.Fields
}

type policy struct {
	interceptor.Base
	cfg   *Config
	rules topicconfig.Rules
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	all := []interceptor.Action{interceptor.Block, interceptor.Info, interceptor.Override}
	if r := cfg.NamingConvention; r != nil {
		if !r.Value.Set() {
			return nil, interceptor.Invalid("namingConvention.value", "is required")
		}
		if err := interceptor.CheckAction("namingConvention.action", r.Action, interceptor.Block, interceptor.Info); err != nil {
			return nil, err
		}
	}
	for field, r := range map[string]*interceptor.Range{"numPartition": cfg.NumPartition, "replicationFactor": cfg.ReplicationFactor} {
		if r != nil {
			if err := interceptor.CheckAction(field+".action", r.Action, all...); err != nil {
				return nil, err
			}
		}
	}
	rules, err := cfg.Rules(all...)
	if err != nil {
		return nil, err
	}
	return &policy{cfg: cfg, rules: rules}, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.CreateTopics.Int16()}, Responses: []int16{kmsg.CreateTopics.Int16()}}
}

// Request checks each topic; refused topics leave the request and are
// answered in the response.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.CreateTopicsRequest)
	var refused []kmsg.CreateTopicsResponseTopic
	kept := r.Topics[:0]
	for _, t := range r.Topics {
		if !p.cfg.Topic.Matches(t.Topic) {
			kept = append(kept, t)
			continue
		}
		if reason := p.check(c, &t); reason != "" {
			a := kmsg.NewCreateTopicsResponseTopic()
			a.Topic, a.ErrorCode = t.Topic, kerr.PolicyViolation.Code
			msg := interceptor.Refused(c, reason)
			a.ErrorMessage = &msg
			refused = append(refused, a)
			continue
		}
		kept = append(kept, t)
	}
	r.Topics = kept
	if refused != nil {
		c.Keep(refused)
	}
}

// Response adds the answers for the refused topics.
func (p *policy) Response(c *interceptor.Call, resp kmsg.Response) {
	if refused, ok := c.Kept().([]kmsg.CreateTopicsResponseTopic); ok {
		r := resp.(*kmsg.CreateTopicsResponse)
		r.Topics = append(r.Topics, refused...)
	}
}

// check applies every rule to one topic, overriding values in place. It
// returns the reason of the first BLOCK rule broken, "" when none is.
func (p *policy) check(c *interceptor.Call, t *kmsg.CreateTopicsRequestTopic) string {
	if r := p.cfg.NamingConvention; r != nil && !r.Value.Matches(t.Topic) {
		reason := fmt.Sprintf("topic name %s does not match %s", t.Topic, r.Value)
		if r.Action.Or(interceptor.Block) == interceptor.Block {
			c.Report(interceptor.Block, t.Topic, reason)
			return reason
		}
		c.Report(interceptor.Info, t.Topic, reason)
	}
	partitions, replicas := t.NumPartitions, t.ReplicationFactor
	if len(t.ReplicaAssignment) > 0 {
		partitions, replicas = int32(len(t.ReplicaAssignment)), int16(len(t.ReplicaAssignment[0].Replicas))
	}
	if r := p.cfg.NumPartition; r != nil && partitions >= 0 && !r.Allows(float64(partitions)) {
		reason := fmt.Sprintf("%d partitions, must be %s", partitions, r.Bounds())
		if blocked := act(c, t.Topic, r.Action, reason, func() bool {
			if len(t.ReplicaAssignment) > 0 {
				return false // an explicit assignment cannot be resized
			}
			t.NumPartitions = int32(*r.OverrideValue)
			return true
		}); blocked {
			return reason
		}
	}
	if r := p.cfg.ReplicationFactor; r != nil && replicas >= 0 && !r.Allows(float64(replicas)) {
		reason := fmt.Sprintf("replication factor %d, must be %s", replicas, r.Bounds())
		if blocked := act(c, t.Topic, r.Action, reason, func() bool {
			if len(t.ReplicaAssignment) > 0 {
				return false
			}
			t.ReplicationFactor = int16(*r.OverrideValue)
			return true
		}); blocked {
			return reason
		}
	}
	for i := range t.Configs {
		cf := &t.Configs[i]
		if cf.Value == nil {
			continue
		}
		v, ok := p.rules.Check(cf.Name, *cf.Value)
		if ok {
			continue
		}
		if blocked := act(c, t.Topic, v.Action, v.Reason, func() bool {
			cf.Value = kmsg.StringPtr(v.Override)
			return true
		}); blocked {
			return v.Reason
		}
	}
	return ""
}

// act carries out a broken rule's action and reports whether it blocks.
// override applies an OVERRIDE; when it cannot, the rule blocks.
func act(c *interceptor.Call, topic string, a interceptor.Action, reason string, override func() bool) bool {
	switch a.Or(interceptor.Block) {
	case interceptor.Info:
		c.Report(interceptor.Info, topic, reason)
		return false
	case interceptor.Override:
		if override() {
			c.Report(interceptor.Override, topic, reason+"; overridden")
			return false
		}
	}
	c.Report(interceptor.Block, topic, reason)
	return true
}
