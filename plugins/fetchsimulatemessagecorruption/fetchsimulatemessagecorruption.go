// Package fetchsimulatemessagecorruption is the
// FetchSimulateMessageCorruption chaos interceptor: random bytes are
// appended to the values of a share of the records consumers fetch from
// its topics, so teams can see how their consumers and deserializers cope
// with corrupted payloads. The records stored in Kafka are not changed.
// Records with a null value (tombstones) stay null; offsets, timestamps
// and codecs are kept, and the CRC is computed again, so clients accept
// the batches.
package fetchsimulatemessagecorruption

import (
	crand "crypto/rand"
	_ "embed"
	"fmt"
	"math/rand/v2"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("FetchSimulateMessageCorruption",
		"Chaos: appends random bytes to the values of fetched records",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.FetchSimulateMessageCorruptionPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic         interceptor.Pattern `json:"topic" doc:"topics whose fetched records are corrupted (default: all)"`
	SizeInBytes   *int                `json:"sizeInBytes" doc:"random bytes appended to each chosen value, 1 to 1048576 (default 10)"`
	RateInPercent *int                `json:"rateInPercent" doc:"share of records corrupted, 0 to 100 (default 100)"`
}

type chaos struct {
	interceptor.Base
	topic interceptor.Pattern
	size  int
	rate  int
	roll  func(n int) int // random number in [0, n)
	fill  func(b []byte)  // random bytes
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	c := &chaos{topic: cfg.Topic, size: 10, rate: 100, roll: rand.IntN, fill: func(b []byte) { _, _ = crand.Read(b) }}
	if cfg.SizeInBytes != nil {
		if s := *cfg.SizeInBytes; s < 1 || s > 1<<20 {
			return nil, interceptor.Invalid("sizeInBytes", "%d is not between 1 and 1048576", s)
		}
		c.size = *cfg.SizeInBytes
	}
	if cfg.RateInPercent != nil {
		if r := *cfg.RateInPercent; r < 0 || r > 100 {
			return nil, interceptor.Invalid("rateInPercent", "%d is not between 0 and 100", r)
		}
		c.rate = *cfg.RateInPercent
	}
	return c, nil
}

func (c *chaos) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Responses: []int16{kmsg.Fetch.Int16()}}
}

// Response corrupts the chosen records of every partition of the
// matching topics.
func (c *chaos) Response(call *interceptor.Call, resp kmsg.Response) {
	r := resp.(*kmsg.FetchResponse)
	for i := range r.Topics {
		t := &r.Topics[i]
		name := call.Conn.TopicName(t.Topic, t.TopicID)
		if !c.topic.Matches(name) {
			continue
		}
		corrupted := 0
		for j := range t.Partitions {
			p := &t.Partitions[j]
			out, err := records.Rewrite(p.RecordBatches, func(b *records.Batch) (bool, error) {
				n := c.corrupt(b)
				corrupted += n
				return n > 0, nil
			})
			if err != nil {
				continue // the consumer sees the broker's bytes and reports them
			}
			p.RecordBatches = out
		}
		if corrupted > 0 {
			call.Report(interceptor.Override, name, fmt.Sprintf("appended %d random bytes to %d record values", c.size, corrupted))
		}
	}
}

// corrupt appends random bytes to the chosen non-null values of a batch
// and returns how many it changed.
func (c *chaos) corrupt(b *records.Batch) int {
	n := 0
	for i := range b.Records {
		r := &b.Records[i]
		if r.Value == nil || c.roll(100) >= c.rate {
			continue
		}
		junk := make([]byte, c.size)
		c.fill(junk)
		r.Value = append(r.Value[:len(r.Value):len(r.Value)], junk...)
		n++
	}
	return n
}
