// Package duplicatemessages is the DuplicateMessages chaos interceptor: a
// share of the records of its topics is delivered twice, so that teams can
// see whether their consumers are idempotent.
//
// With target CONSUME (the default) the records stored in Kafka are not
// changed. For every fetched batch holding a chosen record, the gateway
// sends right after it a second batch with the same base offset holding
// the chosen records again, as a broker re-delivering them would. Clients
// differ in what they do with records at offsets they have just read:
// librdkafka (kcat, confluent-kafka) hands them to the application again;
// franz-go and the Java consumer skip every record below their position,
// so they read each record once.
//
// With target PRODUCE the chosen records are appended again to the batch
// the producer sent, so Kafka stores them twice, at new offsets, and every
// consumer reads them twice. Batches of idempotent or transactional
// producers (those with a producer id) are left alone: their sequence
// numbers count the records, and a longer batch would make the broker
// refuse the producer's next batch with OUT_OF_ORDER_SEQUENCE_NUMBER.
package duplicatemessages

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("DuplicateMessages",
		"Chaos: delivers a share of the records twice, to consumers or to Kafka",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.DuplicateMessagesPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic         interceptor.Pattern `json:"topic" doc:"topics whose records are duplicated (default: all)"`
	RateInPercent *int                `json:"rateInPercent" doc:"share of records duplicated, 0 to 100 (default 100)"`
	Target        string              `json:"target" doc:"CONSUME (default): in Fetch responses; PRODUCE: written twice to Kafka"`
}

type chaos struct {
	interceptor.Base
	topic   interceptor.Pattern
	rate    int
	produce bool
	roll    func(n int) int // random number in [0, n)
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	c := &chaos{topic: cfg.Topic, rate: 100, roll: rand.IntN}
	if cfg.RateInPercent != nil {
		if r := *cfg.RateInPercent; r < 0 || r > 100 {
			return nil, interceptor.Invalid("rateInPercent", "%d is not between 0 and 100", r)
		}
		c.rate = *cfg.RateInPercent
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

// chosen reports whether a record is duplicated, at the configured rate.
func (c *chaos) chosen() bool { return c.roll(100) < c.rate }

// Request appends the chosen records of every produced batch again.
func (c *chaos) Request(call *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		name := call.Conn.TopicName(t.Topic, t.TopicID)
		if !c.topic.Matches(name) {
			continue
		}
		added, skipped := 0, 0
		for j := range t.Partitions {
			p := &t.Partitions[j]
			out, err := records.Rewrite(p.Records, func(b *records.Batch) (bool, error) {
				if b.Header.ProducerID >= 0 {
					skipped++
					return false, nil
				}
				n := c.appendCopies(b)
				added += n
				return n > 0, nil
			})
			if err != nil {
				continue // the broker refuses what it cannot read
			}
			p.Records = out
		}
		if added > 0 {
			call.Report(interceptor.Override, name, fmt.Sprintf("wrote %d records twice", added))
		}
		if skipped > 0 {
			call.Report(interceptor.Info, name, fmt.Sprintf("left %d batches of idempotent producers alone", skipped))
		}
	}
}

// appendCopies appends a copy of each chosen record after the batch's last
// record and returns how many it appended.
func (c *chaos) appendCopies(b *records.Batch) int {
	n := len(b.Records)
	for i := range n {
		if !c.chosen() {
			continue
		}
		cp := b.Records[i]
		cp.OffsetDelta = b.Records[len(b.Records)-1].OffsetDelta + 1
		b.Records = append(b.Records, cp)
	}
	return len(b.Records) - n
}

// Response sends, after every fetched batch holding chosen records, a
// copy of the batch holding only those.
func (c *chaos) Response(call *interceptor.Call, resp kmsg.Response) {
	f := resp.(*kmsg.FetchResponse)
	for i := range f.Topics {
		t := &f.Topics[i]
		name := call.Conn.TopicName(t.Topic, t.TopicID)
		if !c.topic.Matches(name) {
			continue
		}
		added := 0
		for j := range t.Partitions {
			p := &t.Partitions[j]
			out, n, err := c.redeliver(p.RecordBatches)
			if err != nil {
				continue // the consumer sees the broker's bytes and reports them
			}
			p.RecordBatches, added = out, added+n
		}
		if added > 0 {
			call.Report(interceptor.Override, name, fmt.Sprintf("delivered %d records twice", added))
		}
	}
}

// redeliver returns data with, after each batch holding chosen records, a
// copy of that batch reduced to them, and how many records it copied. A
// partial batch at the end is kept last.
func (c *chaos) redeliver(data []byte) ([]byte, int, error) {
	orig, out, copied := data, []byte(nil), 0
	for len(data) >= 12 {
		n := int64(int32(binary.BigEndian.Uint32(data[8:]))) + 12
		if n < 12 || n > int64(len(data)) {
			break
		}
		raw := data[:n]
		data = data[n:]
		kept := 0
		dup, err := records.Rewrite(raw, func(b *records.Batch) (bool, error) {
			chosen := b.Records[:0]
			for _, r := range b.Records {
				if c.chosen() {
					chosen = append(chosen, r)
				}
			}
			b.Records, kept = chosen, len(chosen)
			return kept > 0, nil
		})
		if err != nil {
			return nil, 0, err
		}
		out = append(out, raw...)
		if kept > 0 {
			out = append(out, dup...)
			copied += kept
		}
	}
	if copied == 0 {
		return orig, 0, nil
	}
	return append(out, data...), copied, nil
}
