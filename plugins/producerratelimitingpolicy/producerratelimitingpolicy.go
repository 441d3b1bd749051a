// Package producerratelimitingpolicy is the ProducerRateLimitingPolicy
// interceptor: it caps the record bytes each principal (virtual cluster
// and user) produces per second across the whole gateway cluster. A
// Produce request that takes the principal over the cap is throttled for
// as long as the cap takes to pay for the excess — its response is held
// back and carries the throttle time, so the client pauses — and reported
// (BLOCK), or only reported (INFO).
// Records are never dropped.
//
// Bytes are counted with the node's cluster-wide limits (package limits),
// so the cap holds for the sum over every gateway node, up to the bound
// that package states.
package producerratelimitingpolicy

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
	interceptor.Register(interceptor.Define("ProducerRateLimitingPolicy",
		"Caps produced bytes per second and principal, across the gateway cluster",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.ProducerRateLimitingPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	MaximumBytesPerSecond int64              `json:"maximumBytesPerSecond" doc:"record bytes a principal may produce per second, across the gateway cluster"`
	Action                interceptor.Action `json:"action" doc:"BLOCK (default: throttle the producer) or INFO"`
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
	return interceptor.Subscription{Requests: []int16{kmsg.Produce.Int16()}}
}

// Request counts the request's record bytes and throttles it when the
// principal is over the limit.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	var n int64
	for _, t := range req.(*kmsg.ProduceRequest).Topics {
		for _, pt := range t.Partitions {
			n += int64(len(pt.Records))
		}
	}
	if n == 0 {
		return
	}
	bucket := "ProducerRateLimitingPolicy\x00" + c.Interceptor() + "\x00" + c.Conn.VCluster + "\x00" + c.Conn.Username
	excess := limits.Over(p.limits, bucket, n, p.cfg.MaximumBytesPerSecond, time.Second)
	if excess == 0 {
		return
	}
	reason := fmt.Sprintf("over %d produced bytes per second", p.cfg.MaximumBytesPerSecond)
	if p.action == interceptor.Info {
		c.Report(interceptor.Info, "", reason)
		return
	}
	c.Throttle(throttle(excess, p.cfg.MaximumBytesPerSecond), "", reason)
}
