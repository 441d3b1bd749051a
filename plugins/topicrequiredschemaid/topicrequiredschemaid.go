// Package topicrequiredschemaid is the TopicRequiredSchemaIdPolicy
// interceptor: it checks that the record values produced to its topics
// carry a schema id in the Confluent wire format (a zero magic byte and a
// four-byte id in front of the payload), or, with schemaIdRequired false,
// that they do not. BLOCK refuses only the partitions holding an
// offending record, with INVALID_RECORD; the other partitions of the
// request are written. INFO only reports.
package topicrequiredschemaid

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("TopicRequiredSchemaIdPolicy",
		"Requires (or forbids) a schema id in front of produced record values",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.TopicRequiredSchemaIdPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic            interceptor.Pattern `json:"topic" doc:"topics the policy applies to (default: all)"`
	SchemaIDRequired *bool               `json:"schemaIdRequired" doc:"true (default): values must carry a schema id; false: they must not"`
	Action           interceptor.Action  `json:"action" doc:"BLOCK (default) or INFO"`
}

type policy struct {
	interceptor.Base
	cfg      *Config
	required bool
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if err := interceptor.CheckAction("action", cfg.Action, interceptor.Block, interceptor.Info); err != nil {
		return nil, err
	}
	required := cfg.SchemaIDRequired == nil || *cfg.SchemaIDRequired
	return &policy{cfg: cfg, required: required}, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	k := kmsg.Produce.Int16()
	return interceptor.Subscription{Requests: []int16{k}, Responses: []int16{k}}
}

// refusal is the answer to one refused partition.
type refusal struct {
	topic     string
	topicID   [16]byte
	partition kmsg.ProduceResponseTopicPartition
}

// Request checks the records of every partition of the matching topics;
// with BLOCK, a partition holding an offending record leaves the request
// and is answered in the response.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	block := p.cfg.Action.Or(interceptor.Block) == interceptor.Block
	var refused []refusal
	for i := range r.Topics {
		t := &r.Topics[i]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		if !p.cfg.Topic.Matches(name) {
			continue
		}
		kept := t.Partitions[:0]
		for _, pt := range t.Partitions {
			index, reason := p.check(pt.Records)
			if reason == "" {
				kept = append(kept, pt)
				continue
			}
			reason = fmt.Sprintf("partition %d: %s", pt.Partition, reason)
			if !block {
				c.Report(interceptor.Info, name, reason)
				kept = append(kept, pt)
				continue
			}
			c.Report(interceptor.Block, name, reason)
			msg := interceptor.Refused(c, reason)
			a := kmsg.NewProduceResponseTopicPartition()
			a.Partition, a.ErrorCode, a.ErrorMessage, a.BaseOffset = pt.Partition, kerr.InvalidRecord.Code, &msg, -1
			if index >= 0 {
				e := kmsg.NewProduceResponseTopicPartitionErrorRecord()
				e.RelativeOffset, e.ErrorMessage = int32(index), &msg
				a.ErrorRecords = []kmsg.ProduceResponseTopicPartitionErrorRecord{e}
			}
			refused = append(refused, refusal{t.Topic, t.TopicID, a})
		}
		t.Partitions = kept
	}
	if refused == nil {
		return
	}
	r.Topics = slices.DeleteFunc(r.Topics, func(t kmsg.ProduceRequestTopic) bool { return len(t.Partitions) == 0 })
	if r.Acks != 0 { // acks=0: no response comes, the refused partitions are dropped
		c.Keep(refused)
	}
}

// Response adds the answers for the refused partitions.
func (p *policy) Response(c *interceptor.Call, resp kmsg.Response) {
	refused, ok := c.Kept().([]refusal)
	if !ok {
		return
	}
	r := resp.(*kmsg.ProduceResponse)
	for _, x := range refused {
		at := slices.IndexFunc(r.Topics, func(t kmsg.ProduceResponseTopic) bool {
			return t.Topic == x.topic && t.TopicID == x.topicID
		})
		if at < 0 {
			t := kmsg.NewProduceResponseTopic()
			t.Topic, t.TopicID = x.topic, x.topicID
			r.Topics = append(r.Topics, t)
			at = len(r.Topics) - 1
		}
		r.Topics[at].Partitions = append(r.Topics[at].Partitions, x.partition)
	}
}

// check returns the index in the partition of the first record breaking
// the policy and why, or "" when every record complies. Records whose
// value is null (tombstones) carry no payload and always comply. Data
// that does not decode is refused (index -1).
func (p *policy) check(data []byte) (int, string) {
	index, offending := 0, -1
	err := records.Read(data, func(b *records.Batch) error {
		for _, r := range b.Records {
			if offending < 0 && r.Value != nil && hasSchemaID(r.Value) != p.required {
				offending = index
			}
			index++
		}
		return nil
	})
	switch {
	case err != nil:
		return -1, fmt.Sprintf("cannot read records: %v", err)
	case offending < 0:
		return 0, ""
	case p.required:
		return offending, fmt.Sprintf("record %d has no schema id (magic byte 0 and a 4-byte id)", offending)
	}
	return offending, fmt.Sprintf("record %d has a schema id, none is allowed", offending)
}

// hasSchemaID reports whether a value starts with the Confluent wire
// format: a zero magic byte followed by a four-byte schema id.
func hasSchemaID(v []byte) bool { return len(v) >= 5 && v[0] == 0 }
