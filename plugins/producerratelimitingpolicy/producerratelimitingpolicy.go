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

type policy struct {
	interceptor.Base
	rate *limits.ByteRate
}

func newPolicy(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	rate, err := limits.NewByteRate("ProducerRateLimitingPolicy", "produced", cfg.MaximumBytesPerSecond, cfg.Action, env)
	if err != nil {
		return nil, err
	}
	return &policy{rate: rate}, nil
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
	p.rate.Count(c, n)
}
