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

// Request checks the records of every partition of the matching topics;
// with BLOCK, a partition holding an offending record leaves the request
// and is answered in the response.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	block := p.cfg.Action.Or(interceptor.Block) == interceptor.Block
	var refused interceptor.PartitionRefusals
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
			refused.Add(t, pt.Partition, kerr.InvalidRecord.Code, interceptor.Refused(c, reason), index)
		}
		t.Partitions = kept
	}
	refused.Keep(c, r)
}

// Response adds the answers for the refused partitions.
func (p *policy) Response(c *interceptor.Call, resp kmsg.Response) {
	interceptor.AnswerRefused(c, resp.(*kmsg.ProduceResponse))
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
