// Package simulateslowproducersconsumers is the
// SimulateSlowProducersConsumers chaos interceptor: like SimulateSlowBroker,
// it holds back a share of Produce and Fetch responses by a random delay,
// but only for requests naming a topic that matches its pattern, so that
// only some producers and consumers seem slow.
//
// The delay counts from when the request reached the gateway and leaves
// the response's throttle time alone.
package simulateslowproducersconsumers

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
	interceptor.Register(interceptor.Define("SimulateSlowProducersConsumers",
		"Chaos: delays a share of Produce and Fetch responses for some topics by a random time",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.SimulateSlowProducersConsumersPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic         interceptor.Pattern `json:"topic" doc:"topics whose producers and consumers are slowed (whole name)"`
	RateInPercent *int                `json:"rateInPercent" doc:"share of matching requests to delay, 0 to 100"`
	MinLatencyMs  int                 `json:"minLatencyMs" doc:"shortest delay in milliseconds (default 0)"`
	MaxLatencyMs  *int                `json:"maxLatencyMs" doc:"longest delay in milliseconds"`
}

type chaos struct {
	interceptor.Base
	topic    interceptor.Pattern
	rate     int
	min, max int             // milliseconds
	roll     func(n int) int // random number in [0, n)
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if !cfg.Topic.Set() {
		return nil, interceptor.Invalid("topic", "is required")
	}
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
	return &chaos{topic: cfg.Topic, rate: *cfg.RateInPercent, min: cfg.MinLatencyMs, max: *cfg.MaxLatencyMs, roll: rand.IntN}, nil
}

func (c *chaos) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.Produce.Int16(), kmsg.Fetch.Int16()}}
}

// Request delays the response, at the configured rate, when the request
// names a matching topic.
func (c *chaos) Request(call *interceptor.Call, req kmsg.Request) {
	if !c.names(call, req) || c.roll(100) >= c.rate {
		return
	}
	call.Delay(time.Duration(c.min+c.roll(c.max-c.min+1)) * time.Millisecond)
}

// names reports whether a Produce or Fetch request names a matching topic.
func (c *chaos) names(call *interceptor.Call, req kmsg.Request) bool {
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		for _, t := range r.Topics {
			if c.topic.Matches(call.Conn.TopicName(t.Topic, t.TopicID)) {
				return true
			}
		}
	case *kmsg.FetchRequest:
		for _, t := range r.Topics {
			if c.topic.Matches(call.Conn.TopicName(t.Topic, t.TopicID)) {
				return true
			}
		}
	}
	return false
}
