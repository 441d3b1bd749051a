package altertopicconfigpolicy

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/topicconfig"
)

// Alter applies rules to the configs AlterConfigs and
// IncrementalAlterConfigs requests change on one kind of resource. A
// resource that breaks a BLOCK rule is refused alone with
// POLICY_VIOLATION; the others are altered. AlterBrokerConfigPolicy uses
// it for broker resources.
type Alter struct {
	interceptor.Base
	// Type is the resource type checked; Name the resources' names.
	Type kmsg.ConfigResourceType
	Name interceptor.Pattern
	// Blacklist lists configs that may not be changed at all.
	Blacklist *interceptor.Denied
	// Check checks one config's new value, as topicconfig.Rules.Check.
	Check func(config, value string) (topicconfig.Violation, bool)
}

// Subscribe sees both config APIs in both directions.
func (a *Alter) Subscribe() interceptor.Subscription {
	keys := []int16{kmsg.AlterConfigs.Int16(), kmsg.IncrementalAlterConfigs.Int16()}
	return interceptor.Subscription{Requests: keys, Responses: keys}
}

// refusal answers one refused resource.
type refusal struct {
	typ    kmsg.ConfigResourceType
	name   string
	reason string
}

// setting is one config a request changes, pointing at its value so an
// OVERRIDE rewrites it; value is nil for a deletion.
type setting struct {
	name  string
	value **string
}

// Request checks each resource of the type; refused resources leave the
// request and are answered in the response.
func (a *Alter) Request(c *interceptor.Call, req kmsg.Request) {
	var refused []refusal
	switch r := req.(type) {
	case *kmsg.AlterConfigsRequest:
		kept := r.Resources[:0]
		for _, res := range r.Resources {
			var s []setting
			for i := range res.Configs {
				s = append(s, setting{res.Configs[i].Name, &res.Configs[i].Value})
			}
			if reason := a.check(c, res.ResourceType, res.ResourceName, s); reason != "" {
				refused = append(refused, refusal{res.ResourceType, res.ResourceName, reason})
				continue
			}
			kept = append(kept, res)
		}
		r.Resources = kept
	case *kmsg.IncrementalAlterConfigsRequest:
		kept := r.Resources[:0]
		for _, res := range r.Resources {
			var s []setting
			for i := range res.Configs {
				cf := &res.Configs[i]
				switch cf.Op {
				case kmsg.IncrementalAlterConfigOpSet, kmsg.IncrementalAlterConfigOpAppend:
					s = append(s, setting{cf.Name, &cf.Value})
				default: // a deletion or a removal from a list sets no new value
					s = append(s, setting{cf.Name, nil})
				}
			}
			if reason := a.check(c, res.ResourceType, res.ResourceName, s); reason != "" {
				refused = append(refused, refusal{res.ResourceType, res.ResourceName, reason})
				continue
			}
			kept = append(kept, res)
		}
		r.Resources = kept
	}
	if refused != nil {
		c.Keep(refused)
	}
}

// Response adds the answers for the refused resources.
func (a *Alter) Response(c *interceptor.Call, resp kmsg.Response) {
	refused, _ := c.Kept().([]refusal)
	for _, x := range refused {
		msg := interceptor.Refused(c, x.reason)
		switch r := resp.(type) {
		case *kmsg.AlterConfigsResponse:
			e := kmsg.NewAlterConfigsResponseResource()
			e.ResourceType, e.ResourceName, e.ErrorCode, e.ErrorMessage = x.typ, x.name, kerr.PolicyViolation.Code, &msg
			r.Resources = append(r.Resources, e)
		case *kmsg.IncrementalAlterConfigsResponse:
			e := kmsg.NewIncrementalAlterConfigsResponseResource()
			e.ResourceType, e.ResourceName, e.ErrorCode, e.ErrorMessage = x.typ, x.name, kerr.PolicyViolation.Code, &msg
			r.Resources = append(r.Resources, e)
		}
	}
}

// check applies the blacklist and the rules to one resource's changes,
// overriding values in place. It returns the reason of the first BLOCK
// rule broken, "" when none is.
func (a *Alter) check(c *interceptor.Call, typ kmsg.ConfigResourceType, name string, settings []setting) string {
	if typ != a.Type || !a.Name.Matches(name) {
		return ""
	}
	topic := ""
	if typ == kmsg.ConfigResourceTypeTopic {
		topic = name
	}
	for _, s := range settings {
		if b := a.Blacklist; b != nil && b.Denies(s.name) {
			reason := fmt.Sprintf("%s may not be changed", s.name)
			if act(c, topic, b.Action, reason, nil) {
				return reason
			}
		}
		if s.value == nil || *s.value == nil {
			continue
		}
		v, ok := a.Check(s.name, **s.value)
		if ok {
			continue
		}
		if act(c, topic, v.Action, v.Reason, func() { *s.value = kmsg.StringPtr(v.Override) }) {
			return v.Reason
		}
	}
	return ""
}

// act carries out a broken rule's action and reports whether it blocks.
// override applies an OVERRIDE; a rule without one blocks.
func act(c *interceptor.Call, topic string, a interceptor.Action, reason string, override func()) bool {
	switch a.Or(interceptor.Block) {
	case interceptor.Info:
		c.Report(interceptor.Info, topic, reason)
		return false
	case interceptor.Override:
		if override != nil {
			override()
			c.Report(interceptor.Override, topic, reason+"; overridden")
			return false
		}
	}
	c.Report(interceptor.Block, topic, reason)
	return true
}
