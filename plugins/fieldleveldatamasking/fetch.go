package fieldleveldatamasking

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

// registryTimeout bounds the schema look-ups of one fetch response.
const registryTimeout = 10 * time.Second

func (p *masking) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Responses: []int16{kmsg.Fetch.Int16()}}
}

// Response masks the records of every partition of the topics the
// interceptor applies to. A partition whose records cannot all be masked
// is failed (POLICY_VIOLATION, no records) or, with skip_masking, left
// unmasked; either is reported.
func (p *masking) Response(c *interceptor.Call, resp kmsg.Response) {
	r := resp.(*kmsg.FetchResponse)
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	for ti := range r.Topics {
		t := &r.Topics[ti]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		if !p.topic.Matches(name) {
			continue
		}
		var o outcome
		for pi := range t.Partitions {
			part := &t.Partitions[pi]
			if part.ErrorCode != 0 || len(part.RecordBatches) == 0 {
				continue
			}
			out, err := records.Rewrite(part.RecordBatches, func(b *records.Batch) (bool, error) {
				return p.maskBatch(ctx, b, &o)
			})
			switch {
			case err == nil:
				part.RecordBatches = out
			case p.skipOnErr:
				c.Report(interceptor.Info, name, fmt.Sprintf("partition %d not masked: %v", part.Partition, err))
			default:
				part.ErrorCode = kerr.PolicyViolation.Code
				part.RecordBatches = nil
				c.Report(interceptor.Block, name, fmt.Sprintf("partition %d refused: %v", part.Partition, err))
			}
		}
		for _, f := range sortedKeys(o.skipped) {
			c.Report(interceptor.Info, name, fmt.Sprintf("field %s holds %s, not a string: left unmasked", f, o.skipped[f]))
		}
	}
}

// maskBatch masks the values of a batch's records.
func (p *masking) maskBatch(ctx context.Context, b *records.Batch, o *outcome) (bool, error) {
	changed := false
	for i := range b.Records {
		rec := &b.Records[i]
		before := o.masked
		v, err := p.m.mask(ctx, rec.Value, o)
		if err != nil {
			return false, fmt.Errorf("offset %d: %w", b.Header.FirstOffset+int64(rec.OffsetDelta), err)
		}
		if o.masked > before {
			rec.Value = v
			changed = true
		}
	}
	return changed, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
