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

type policy struct {
	interceptor.Base
	rate *limits.ByteRate
}

func newPolicy(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	rate, err := limits.NewByteRate("ConsumerRateLimitingPolicy", "fetched", cfg.MaximumBytesPerSecond, cfg.Action, env)
	if err != nil {
		return nil, err
	}
	return &policy{rate: rate}, nil
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
	p.rate.Count(c, n)
}
