// Package fetchpolicy is the FetchPolicy interceptor: rules on how
// consumers fetch — isolation level, rack id, byte and wait bounds and the
// Fetch API version. Every rule concerns the whole request: BLOCK refuses
// it with POLICY_VIOLATION, INFO only reports.
package fetchpolicy

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("FetchPolicy",
		"Rules on isolation level, rack id, byte and wait bounds and API version of fetch requests",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.FetchPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic          interceptor.Pattern `json:"topic" doc:"topics the policy applies to (default: all)"`
	IsolationLevel *Isolation          `json:"isolationLevel" doc:"required isolation level: read_uncommitted or read_committed"`
	RackIDRequired *interceptor.Flag   `json:"rackIdRequired" doc:"the consumer must (true) or must not (false) name its rack"`
	FetchMaxBytes  *interceptor.Range  `json:"fetchMaxBytes" doc:"fetch.max.bytes"`
	FetchMinBytes  *interceptor.Range  `json:"fetchMinBytes" doc:"fetch.min.bytes"`
	MaxWaitMs      *interceptor.Range  `json:"maxWaitMs" doc:"fetch.max.wait.ms"`
	Version        *interceptor.Range  `json:"version" doc:"allowed Fetch API versions"`
}

// Isolation requires an isolation level: {value, action}.
type Isolation struct {
	Value  string             `json:"value"`
	Action interceptor.Action `json:"action"`
}

// levels are the isolation levels by their protocol number.
var levels = []string{"read_uncommitted", "read_committed"}

type policy struct {
	interceptor.Base
	cfg   *Config
	level int8
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	bi := []interceptor.Action{interceptor.Block, interceptor.Info}
	p := &policy{cfg: cfg, level: -1}
	if i := cfg.IsolationLevel; i != nil {
		for n, l := range levels {
			if strings.EqualFold(i.Value, l) {
				p.level = int8(n)
			}
		}
		if p.level < 0 {
			return nil, interceptor.Invalid("isolationLevel.value", "%q is not an isolation level; expect read_uncommitted or read_committed", i.Value)
		}
		if err := interceptor.CheckAction("isolationLevel.action", i.Action, bi...); err != nil {
			return nil, err
		}
	}
	if f := cfg.RackIDRequired; f != nil {
		if err := interceptor.CheckAction("rackIdRequired.action", f.Action, bi...); err != nil {
			return nil, err
		}
	}
	for field, r := range p.ranges() {
		if err := interceptor.CheckAction(field+".action", r.Action, bi...); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ranges returns the configured range rules by field.
func (p *policy) ranges() map[string]*interceptor.Range {
	out := map[string]*interceptor.Range{}
	for field, r := range map[string]*interceptor.Range{"fetchMaxBytes": p.cfg.FetchMaxBytes, "fetchMinBytes": p.cfg.FetchMinBytes,
		"maxWaitMs": p.cfg.MaxWaitMs, "version": p.cfg.Version} {
		if r != nil {
			out[field] = r
		}
	}
	return out
}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.Fetch.Int16()}}
}

// Request checks every rule on a fetch that reads a topic the policy
// applies to, and refuses it on the first BLOCK rule broken.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.FetchRequest)
	topic, ok := p.applies(c, r)
	if !ok {
		return
	}
	if i := p.cfg.IsolationLevel; i != nil && r.IsolationLevel != p.level {
		got := fmt.Sprint(r.IsolationLevel)
		if int(r.IsolationLevel) < len(levels) && r.IsolationLevel >= 0 {
			got = levels[r.IsolationLevel]
		}
		if act(c, i.Action, topic, fmt.Sprintf("isolation level %s, must be %s", got, levels[p.level])) {
			return
		}
	}
	if f := p.cfg.RackIDRequired; f != nil && (r.Rack != "") != f.Value {
		reason := "a rack id is required"
		if !f.Value {
			reason = "a rack id is not allowed"
		}
		if act(c, f.Action, topic, reason) {
			return
		}
	}
	for _, x := range []struct {
		name  string
		rule  *interceptor.Range
		value int32
	}{
		{"fetch max bytes", p.cfg.FetchMaxBytes, r.MaxBytes},
		{"fetch min bytes", p.cfg.FetchMinBytes, r.MinBytes},
		{"max wait ms", p.cfg.MaxWaitMs, r.MaxWaitMillis},
		{"Fetch API version", p.cfg.Version, int32(c.Version)},
	} {
		if x.rule != nil && !x.rule.Allows(float64(x.value)) {
			if act(c, x.rule.Action, topic, fmt.Sprintf("%s %d, must be %s", x.name, x.value, x.rule.Bounds())) {
				return
			}
		}
	}
}

// applies returns the first topic the fetch reads that the policy applies
// to. A fetch naming no topic (an unchanged fetch session) is checked
// only when the policy applies to every topic.
func (p *policy) applies(c *interceptor.Call, r *kmsg.FetchRequest) (string, bool) {
	for _, t := range r.Topics {
		if name := c.Conn.TopicName(t.Topic, t.TopicID); p.cfg.Topic.Matches(name) {
			return name, true
		}
	}
	return "", len(r.Topics) == 0 && !p.cfg.Topic.Set()
}

// act carries out a broken rule and reports whether it blocked.
func act(c *interceptor.Call, a interceptor.Action, topic, reason string) bool {
	if a.Or(interceptor.Block) == interceptor.Info {
		c.Report(interceptor.Info, topic, reason)
		return false
	}
	c.Block(kerr.PolicyViolation.Code, topic, reason)
	return true
}
