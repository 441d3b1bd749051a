// Package simulateinvalidschemaid is the SimulateInvalidSchemaId chaos
// interceptor: record values in the Confluent wire format (a zero magic
// byte, then a four-byte big-endian schema id, then the payload) get
// another schema id, so teams can see how their deserializers cope with a
// schema id the registry does not know. Values without the prefix, and
// null values, are left alone.
//
// With target CONSUME (the default) only what consumers fetch changes;
// with PRODUCE the records are stored with the invalid id.
package simulateinvalidschemaid

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("SimulateInvalidSchemaId",
		"Chaos: replaces the schema id in front of record values with an invalid one",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.SimulateInvalidSchemaIdPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic           interceptor.Pattern `json:"topic" doc:"topics whose records get the invalid schema id (default: all)"`
	InvalidSchemaID *int64              `json:"invalidSchemaId" doc:"schema id written, 0 to 2147483647 (default: a random id per record)"`
	Target          string              `json:"target" doc:"CONSUME (default): in Fetch responses; PRODUCE: in the records written to Kafka"`
}

type chaos struct {
	interceptor.Base
	topic   interceptor.Pattern
	id      func() uint32 // the schema id to write
	produce bool
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	c := &chaos{topic: cfg.Topic, id: func() uint32 { return uint32(rand.Int32()) }}
	if cfg.InvalidSchemaID != nil {
		id := *cfg.InvalidSchemaID
		if id < 0 || id > math.MaxInt32 {
			return nil, interceptor.Invalid("invalidSchemaId", "%d is not between 0 and 2147483647", id)
		}
		c.id = func() uint32 { return uint32(id) }
	}
	switch strings.ToUpper(cfg.Target) {
	case "", "CONSUME":
	case "PRODUCE":
		c.produce = true
	default:
		return nil, interceptor.Invalid("target", "%q: expect CONSUME or PRODUCE", cfg.Target)
	}
	return c, nil
}

func (c *chaos) Subscribe() interceptor.Subscription {
	if c.produce {
		return interceptor.Subscription{Requests: []int16{kmsg.Produce.Int16()}}
	}
	return interceptor.Subscription{Responses: []int16{kmsg.Fetch.Int16()}}
}

// Request replaces the schema ids of the records produced to the matching
// topics.
func (c *chaos) Request(call *interceptor.Call, req kmsg.Request) {
	for i := range req.(*kmsg.ProduceRequest).Topics {
		t := &req.(*kmsg.ProduceRequest).Topics[i]
		name := call.Conn.TopicName(t.Topic, t.TopicID)
		if c.topic.Matches(name) {
			c.report(call, name, c.rewrite(len(t.Partitions), func(j int) *[]byte { return &t.Partitions[j].Records }))
		}
	}
}

// Response replaces the schema ids of the records fetched from the
// matching topics.
func (c *chaos) Response(call *interceptor.Call, resp kmsg.Response) {
	for i := range resp.(*kmsg.FetchResponse).Topics {
		t := &resp.(*kmsg.FetchResponse).Topics[i]
		name := call.Conn.TopicName(t.Topic, t.TopicID)
		if c.topic.Matches(name) {
			c.report(call, name, c.rewrite(len(t.Partitions), func(j int) *[]byte { return &t.Partitions[j].RecordBatches }))
		}
	}
}

func (c *chaos) report(call *interceptor.Call, topic string, n int) {
	if n > 0 {
		call.Report(interceptor.Override, topic, fmt.Sprintf("replaced the schema id of %d record values", n))
	}
}

// rewrite replaces the schema ids in the record batches of n partitions,
// reached through data, and returns how many values it changed. Data
// that does not decode is left for Kafka or the client to refuse.
func (c *chaos) rewrite(n int, data func(partition int) *[]byte) int {
	changed := 0
	for j := range n {
		d, here := data(j), 0
		out, err := records.Rewrite(*d, func(b *records.Batch) (bool, error) {
			before := here
			for i := range b.Records {
				v := b.Records[i].Value
				if len(v) < 5 || v[0] != 0 {
					continue
				}
				v = append([]byte(nil), v...) // the decoded value shares the request's bytes
				binary.BigEndian.PutUint32(v[1:], c.id())
				b.Records[i].Value = v
				here++
			}
			return here > before, nil
		})
		if err == nil {
			*d, changed = out, changed+here
		}
	}
	return changed
}
