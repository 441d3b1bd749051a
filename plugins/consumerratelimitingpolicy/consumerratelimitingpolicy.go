// Package consumerratelimitingpolicy is the ConsumerRateLimitingPolicy
// interceptor: it caps the record bytes each principal (virtual cluster
// and user) fetches per second across the whole gateway cluster. A Fetch
// response that takes the principal over the cap is held back for as long
// as the cap takes to pay for the excess and carries that throttle time,
// so the consumer pauses, and is reported (BLOCK), or only reported
// (INFO). Records are never dropped.
//
// Bytes are counted with the node's cluster-wide limits (package limits),
// so the cap holds for the sum over every gateway node, up to the bound
// that package states.
package consumerratelimitingpolicy

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
	interceptor.Register(interceptor.Define("ConsumerRateLimitingPolicy",
		"Caps fetched bytes per second and principal, across the gateway cluster",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.ConsumerRateLimitingPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	MaximumBytesPerSecond int64              `json:"maximumBytesPerSecond" doc:"record bytes a principal may fetch per second, across the gateway cluster"`
	Action                interceptor.Action `json:"action" doc:"BLOCK (default: throttle the consumer) or INFO"`
}

// throttle returns how long to hold back a request that took the count
// over by excess bytes: the time the limit takes to pay for the excess,
// as Kafka's own quotas do, within [10ms, 5s].
func throttle(excess, limit int64) time.Duration {
	d := time.Duration(float64(excess) / float64(limit) * float64(time.Second))
	return min(max(d, 10*time.Millisecond), 5*time.Second)
}

type policy struct {
	interceptor.Base
	cfg    *Config
	action interceptor.Action
	limits interceptor.Limits
}

func newPolicy(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.MaximumBytesPerSecond <= 0 {
		return nil, interceptor.Invalid("maximumBytesPerSecond", "is required and must be positive")
	}
	if err := interceptor.CheckAction("action", cfg.Action, interceptor.Block, interceptor.Info); err != nil {
		return nil, err
	}
	return &policy{cfg: cfg, action: cfg.Action.Or(interceptor.Block), limits: limits.For(env)}, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Responses: []int16{kmsg.Fetch.Int16()}}
}

// Response counts the response's record bytes and throttles it when the
// principal is over the limit.
func (p *policy) Response(c *interceptor.Call, resp kmsg.Response) {
	var n int64
	for _, t := range resp.(*kmsg.FetchResponse).Topics {
		for _, pt := range t.Partitions {
			n += int64(len(pt.RecordBatches))
		}
	}
	if n == 0 {
		return
	}
	bucket := "ConsumerRateLimitingPolicy\x00" + c.Interceptor() + "\x00" + c.Conn.VCluster + "\x00" + c.Conn.Username
	excess := limits.Over(p.limits, bucket, n, p.cfg.MaximumBytesPerSecond, time.Second)
	if excess == 0 {
		return
	}
	reason := fmt.Sprintf("over %d fetched bytes per second", p.cfg.MaximumBytesPerSecond)
	if p.action == interceptor.Info {
		c.Report(interceptor.Info, "", reason)
		return
	}
	c.Throttle(throttle(excess, p.cfg.MaximumBytesPerSecond), "", reason)
}
