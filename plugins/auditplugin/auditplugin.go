// Package auditplugin is the AuditPlugin interceptor: it records the
// requests of chosen Kafka API keys on the audit topic. For every topic a
// matching request names it reports one AUDIT event (interceptor.Call.Audit)
// carrying the topic, the partitions of it the request names and the
// consumer group, if any. It never blocks, delays or changes a request and
// never sees responses.
//
// Filters: topic, vcluster, username and consumerGroupId are whole-match
// regular expressions (default: everything); consumerGroupId is matched
// against "" for requests that carry no group. topicPartitions, when set,
// keeps only those partitions of requests that name partitions; requests
// about whole topics are recorded regardless.
package auditplugin

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("AuditPlugin",
		"Records requests of chosen API keys, per topic, on the audit topic",
		readme, newAudit,
		"io.conduktor.gateway.interceptor.AuditPlugin"))
}

// Config is the plugin's config.
type Config struct {
	APIKeys         []string            `json:"apiKeys" doc:"API keys to record, such as PRODUCE or CREATE_TOPICS (required)"`
	Topic           interceptor.Pattern `json:"topic" doc:"topics to record (default: all)"`
	VCluster        interceptor.Pattern `json:"vcluster" doc:"virtual clusters whose clients are recorded (default: all)"`
	Username        interceptor.Pattern `json:"username" doc:"users whose requests are recorded (default: all)"`
	ConsumerGroupID interceptor.Pattern `json:"consumerGroupId" doc:"consumer groups to record; a request without a group is matched as the empty string (default: all)"`
	TopicPartitions []int32             `json:"topicPartitions" doc:"partitions to record of requests naming partitions (default: all)"`
}

type audit struct {
	interceptor.Base
	cfg        *Config
	keys       []int16
	partitions map[int32]bool // nil: every partition
}

func newAudit(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if len(cfg.APIKeys) == 0 {
		return nil, interceptor.Invalid("apiKeys", "is required; expect some of %s", strings.Join(names, ", "))
	}
	a := &audit{cfg: cfg}
	for i, n := range cfg.APIKeys {
		k, ok := keyOf(n)
		if !ok {
			return nil, interceptor.Invalid(fmt.Sprintf("apiKeys[%d]", i), "unsupported API key %q; expect one of %s", n, strings.Join(names, ", "))
		}
		if !slices.Contains(a.keys, k) {
			a.keys = append(a.keys, k)
		}
	}
	for i, p := range cfg.TopicPartitions {
		if p < 0 {
			return nil, interceptor.Invalid(fmt.Sprintf("topicPartitions[%d]", i), "partition %d is negative", p)
		}
		if a.partitions == nil {
			a.partitions = map[int32]bool{}
		}
		a.partitions[p] = true
	}
	return a, nil
}

// Subscribe asks for the requests of the configured keys only.
func (a *audit) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: a.keys}
}

// Request reports one AUDIT event per topic of the request that passes
// the filters. It leaves the request as it is.
func (a *audit) Request(c *interceptor.Call, req kmsg.Request) {
	if !a.cfg.VCluster.Matches(c.Conn.VCluster) || !a.cfg.Username.Matches(c.Conn.Username) {
		return
	}
	ts := &targets{conn: c.Conn, keep: a.keep}
	ts.collect(req)
	for _, t := range ts.list {
		if !a.cfg.Topic.Matches(t.topic) || !a.cfg.ConsumerGroupID.Matches(t.group) {
			continue
		}
		if t.partitions != nil && a.partitions != nil && len(t.partitions) == 0 {
			continue // none of the partitions it names is audited
		}
		slices.Sort(t.partitions)
		c.Audit(t.topic, slices.Compact(t.partitions), t.group)
	}
}

// keep reports whether partition p is audited.
func (a *audit) keep(p int32) bool { return a.partitions == nil || a.partitions[p] }
