// Package alterbrokerconfigpolicy is the AlterBrokerConfigPolicy
// interceptor: rules on the broker configs clients change with
// AlterConfigs and IncrementalAlterConfigs — configs that may not be
// changed at all, and bounds on log retention and segment size. A broker
// whose change breaks a BLOCK rule is refused alone with POLICY_VIOLATION;
// INFO only reports; OVERRIDE replaces the value.
package alterbrokerconfigpolicy

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/altertopicconfigpolicy"
	"github.com/strait-gateway/strait/plugins/topicconfig"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("AlterBrokerConfigPolicy",
		"Rules on the broker configs clients change",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.AlterBrokerConfigPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Blacklist         *interceptor.Denied `json:"blacklist" doc:"broker configs that may not be changed"`
	LogRetentionBytes *interceptor.Range  `json:"logRetentionBytes" doc:"log.retention.bytes"`
	LogRetentionMs    *interceptor.Range  `json:"logRetentionMs" doc:"log.retention.ms"`
	LogSegmentBytes   *interceptor.Range  `json:"logSegmentBytes" doc:"log.segment.bytes"`
}

// rules are the configured ranges by broker config name.
type rules map[string]*interceptor.Range

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if b := cfg.Blacklist; b != nil {
		if len(b.Values) == 0 {
			return nil, interceptor.Invalid("blacklist.values", "is required")
		}
		if err := interceptor.CheckAction("blacklist.action", b.Action, interceptor.Block, interceptor.Info); err != nil {
			return nil, err
		}
	}
	rs := rules{}
	for _, x := range []struct {
		config, field string
		r             *interceptor.Range
	}{
		{"log.retention.bytes", "logRetentionBytes", cfg.LogRetentionBytes},
		{"log.retention.ms", "logRetentionMs", cfg.LogRetentionMs},
		{"log.segment.bytes", "logSegmentBytes", cfg.LogSegmentBytes},
	} {
		if x.r == nil {
			continue
		}
		if err := interceptor.CheckAction(x.field+".action", x.r.Action, interceptor.Block, interceptor.Info, interceptor.Override); err != nil {
			return nil, err
		}
		rs[x.config] = x.r
	}
	return &altertopicconfigpolicy.Alter{Type: kmsg.ConfigResourceTypeBroker, Blacklist: cfg.Blacklist, Check: rs.check}, nil
}

// check checks one config value; a value Kafka cannot parse is left to
// the broker to refuse.
func (rs rules) check(config, value string) (v topicconfig.Violation, ok bool) {
	r, found := rs[config]
	if !found {
		return v, true
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || r.Allows(n) {
		return v, true
	}
	v.Config, v.Action = config, r.Action.Or(interceptor.Block)
	v.Reason = fmt.Sprintf("%s is %s, must be %s", config, value, r.Bounds())
	if r.OverrideValue != nil {
		v.Override = strconv.FormatFloat(*r.OverrideValue, 'f', -1, 64)
	}
	return v, false
}
