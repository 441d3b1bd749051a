// Package messageheaderremoval is the MessageHeaderRemoval interceptor: it
// strips record headers whose key matches a regular expression from the
// records consumers fetch, for the topics it applies to. The records
// stored in Kafka keep their headers; only what the consumer reads
// changes. Batches with no matching header go through byte for byte.
package messageheaderremoval

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("MessageHeaderRemoval",
		"Removes record headers matching a regex from fetched records",
		readme, newRemoval,
		"io.conduktor.gateway.interceptor.MessageHeaderRemovalPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic          interceptor.Pattern `json:"topic" doc:"topics whose fetched records lose headers (default: all)"`
	HeaderKeyRegex interceptor.Pattern `json:"headerKeyRegex" doc:"header keys to remove, whole-key match (required)"`
}

type removal struct {
	interceptor.Base
	cfg *Config
}

func newRemoval(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if !cfg.HeaderKeyRegex.Set() {
		return nil, interceptor.Invalid("headerKeyRegex", "is required")
	}
	return &removal{cfg: cfg}, nil
}

func (r *removal) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Responses: []int16{kmsg.Fetch.Int16()}}
}

// Response removes the matching headers from every partition of the
// topics the interceptor applies to.
func (r *removal) Response(c *interceptor.Call, resp kmsg.Response) {
	f := resp.(*kmsg.FetchResponse)
	for i := range f.Topics {
		t := &f.Topics[i]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		if !r.cfg.Topic.Matches(name) {
			continue
		}
		removed := 0
		for j := range t.Partitions {
			p := &t.Partitions[j]
			out, err := records.Rewrite(p.RecordBatches, func(b *records.Batch) (bool, error) {
				n := r.strip(b)
				removed += n
				return n > 0, nil
			})
			if err != nil {
				// Not something a Kafka client could read either: the
				// consumer sees the broker's bytes and reports them.
				continue
			}
			p.RecordBatches = out
		}
		if removed > 0 {
			c.Report(interceptor.Override, name, fmt.Sprintf("removed %d record headers matching %s", removed, r.cfg.HeaderKeyRegex))
		}
	}
}

// strip removes the matching headers of a batch's records and returns how
// many it removed.
func (r *removal) strip(b *records.Batch) int {
	n := 0
	for i := range b.Records {
		rec := &b.Records[i]
		before := len(rec.Headers)
		rec.Headers = slices.DeleteFunc(rec.Headers, func(h kmsg.Header) bool { return r.cfg.HeaderKeyRegex.Matches(h.Key) })
		n += before - len(rec.Headers)
	}
	return n
}
