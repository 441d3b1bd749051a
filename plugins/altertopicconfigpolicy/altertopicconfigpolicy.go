// Package altertopicconfigpolicy is the AlterTopicConfigPolicy
// interceptor: rules on the topic configs clients change with
// AlterConfigs and IncrementalAlterConfigs — configs that may not be
// changed at all, and bounds on the new values. A topic whose change
// breaks a BLOCK rule is refused alone with POLICY_VIOLATION; INFO only
// reports; OVERRIDE replaces the value before the broker sees it.
package altertopicconfigpolicy

import (
	_ "embed"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/topicconfig"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("AlterTopicConfigPolicy",
		"Rules on the topic configs clients change",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.AlterTopicConfigPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic     interceptor.Pattern `json:"topic" doc:"topics the policy applies to (default: all)"`
	Blacklist *interceptor.Denied `json:"blacklist" doc:"topic configs that may not be changed"`
	topicconfig.Fields
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	all := []interceptor.Action{interceptor.Block, interceptor.Info, interceptor.Override}
	if b := cfg.Blacklist; b != nil {
		if len(b.Values) == 0 {
			return nil, interceptor.Invalid("blacklist.values", "is required")
		}
		if err := interceptor.CheckAction("blacklist.action", b.Action, interceptor.Block, interceptor.Info); err != nil {
			return nil, err
		}
	}
	rules, err := cfg.Rules(all...)
	if err != nil {
		return nil, err
	}
	return &Alter{Type: kmsg.ConfigResourceTypeTopic, Name: cfg.Topic, Blacklist: cfg.Blacklist, Check: rules.Check}, nil
}
