// Package simulatelatency is the SimulateLatency chaos interceptor: a share
// of all requests has its response held back by a fixed latency, as over a
// slow network. The client is not told: no throttle time is set.
//
// It sees every API except the handshake ones (ApiVersions, SaslHandshake,
// SaslAuthenticate), which it leaves alone so that connecting stays fast.
// Seeing a request means decoding it, so this interceptor makes the
// gateway decode and re-encode every request it applies to.
package simulatelatency

import (
	_ "embed"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("SimulateLatency",
		"Chaos: delays a share of all responses by a fixed latency",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.SimulateLatencyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	AppliedPercentage *int `json:"appliedPercentage" doc:"share of requests to delay, 0 to 100"`
	LatencyMs         *int `json:"latencyMs" doc:"delay in milliseconds"`
}

type chaos struct {
	interceptor.Base
	rate    int
	latency time.Duration
	roll    func(n int) int // random number in [0, n)
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.AppliedPercentage == nil {
		return nil, interceptor.Invalid("appliedPercentage", "is required")
	}
	if r := *cfg.AppliedPercentage; r < 0 || r > 100 {
		return nil, interceptor.Invalid("appliedPercentage", "%d is not between 0 and 100", r)
	}
	if cfg.LatencyMs == nil {
		return nil, interceptor.Invalid("latencyMs", "is required")
	}
	if *cfg.LatencyMs < 0 {
		return nil, interceptor.Invalid("latencyMs", "%d is negative", *cfg.LatencyMs)
	}
	return &chaos{rate: *cfg.AppliedPercentage, latency: time.Duration(*cfg.LatencyMs) * time.Millisecond, roll: rand.IntN}, nil
}

// handshake are the keys of connecting, never delayed.
var handshake = map[int16]bool{
	kmsg.ApiVersions.Int16(): true, kmsg.SASLHandshake.Int16(): true, kmsg.SASLAuthenticate.Int16(): true,
}

func (c *chaos) Subscribe() interceptor.Subscription {
	var keys []int16
	for k := int16(0); k <= kmsg.MaxKey; k++ {
		if kmsg.RequestForKey(k) != nil && !handshake[k] {
			keys = append(keys, k)
		}
	}
	return interceptor.Subscription{Requests: keys}
}

// Request delays the response at the configured rate.
func (c *chaos) Request(call *interceptor.Call, _ kmsg.Request) {
	if c.roll(100) < c.rate {
		call.Delay(c.latency)
	}
}
