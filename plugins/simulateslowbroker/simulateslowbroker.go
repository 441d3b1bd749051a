// Package simulateslowbroker is the SimulateSlowBroker chaos interceptor: a
// share of Produce and Fetch responses is held back by a random delay, as
// from an overloaded broker. Unlike a quota throttle, the client is not
// told: the response's throttle time is left alone.
//
// The delay counts from when the request reached the gateway: a response
// leaves no earlier than that, so a broker already slower than the delay
// (a long-polling fetch) is not slowed further.
package simulateslowbroker

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
	interceptor.Register(interceptor.Define("SimulateSlowBroker",
		"Chaos: delays a share of Produce and Fetch responses by a random time",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.SimulateSlowBrokerPlugin"))
}

// Config is the plugin's config.
type Config struct {
	RateInPercent *int `json:"rateInPercent" doc:"share of Produce and Fetch requests to delay, 0 to 100"`
	MinLatencyMs  int  `json:"minLatencyMs" doc:"shortest delay in milliseconds (default 0)"`
	MaxLatencyMs  *int `json:"maxLatencyMs" doc:"longest delay in milliseconds"`
}

type chaos struct {
	interceptor.Base
	rate     int
	min, max int             // milliseconds
	roll     func(n int) int // random number in [0, n)
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.RateInPercent == nil {
		return nil, interceptor.Invalid("rateInPercent", "is required")
	}
	if r := *cfg.RateInPercent; r < 0 || r > 100 {
		return nil, interceptor.Invalid("rateInPercent", "%d is not between 0 and 100", r)
	}
	if cfg.MinLatencyMs < 0 {
		return nil, interceptor.Invalid("minLatencyMs", "%d is negative", cfg.MinLatencyMs)
	}
	if cfg.MaxLatencyMs == nil {
		return nil, interceptor.Invalid("maxLatencyMs", "is required")
	}
	if *cfg.MaxLatencyMs < cfg.MinLatencyMs {
		return nil, interceptor.Invalid("maxLatencyMs", "%d is below minLatencyMs %d", *cfg.MaxLatencyMs, cfg.MinLatencyMs)
	}
	return &chaos{rate: *cfg.RateInPercent, min: cfg.MinLatencyMs, max: *cfg.MaxLatencyMs, roll: rand.IntN}, nil
}

func (c *chaos) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.Produce.Int16(), kmsg.Fetch.Int16()}}
}

// Request delays the response at the configured rate.
func (c *chaos) Request(call *interceptor.Call, _ kmsg.Request) {
	if c.roll(100) >= c.rate {
		return
	}
	call.Delay(time.Duration(c.min+c.roll(c.max-c.min+1)) * time.Millisecond)
}
