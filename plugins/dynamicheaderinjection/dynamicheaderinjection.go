// Package dynamicheaderinjection is the DynamicHeaderInjection
// interceptor: it adds headers to every record clients produce to the
// topics it applies to. Header values are templates filled per request
// with who sent it ({{user}}, {{userIp}}, {{clientId}}, ...). A record
// that already carries a header of that name keeps it unless
// overrideIfExists is set. The record batches are re-encoded with their
// own codec, keeping the producer id, epoch and sequence, so idempotent
// and transactional producers are unaffected.
package dynamicheaderinjection

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("DynamicHeaderInjection",
		"Adds headers, filled from templates, to produced records",
		readme, newInjection,
		"io.conduktor.gateway.interceptor.DynamicHeaderInjectionPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic            interceptor.Pattern             `json:"topic" doc:"topics whose produced records get the headers (default: all)"`
	Headers          map[string]interceptor.Template `json:"headers" doc:"header name to value template (required)"`
	OverrideIfExists bool                            `json:"overrideIfExists" doc:"replace a header the record already has (default false: keep it)"`
}

type injection struct {
	interceptor.Base
	cfg   *Config
	names []string // header names, sorted, so records get them in a stable order
}

func newInjection(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if len(cfg.Headers) == 0 {
		return nil, interceptor.Invalid("headers", "is required")
	}
	names := slices.Sorted(maps.Keys(cfg.Headers))
	for _, n := range names {
		if n == "" {
			return nil, interceptor.Invalid("headers", "a header name is empty")
		}
		if err := cfg.Headers[n].CheckVars("headers."+n, interceptor.CallVars); err != nil {
			return nil, err
		}
	}
	return &injection{cfg: cfg, names: names}, nil
}

func (in *injection) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{kmsg.Produce.Int16()}}
}

// Request adds the headers to the records of the matching topics. The
// templates are rendered once per request.
func (in *injection) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	var headers []kmsg.Header
	for i := range r.Topics {
		t := &r.Topics[i]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		if !in.cfg.Topic.Matches(name) {
			continue
		}
		if headers == nil {
			for _, n := range in.names {
				headers = append(headers, kmsg.Header{Key: n, Value: []byte(in.cfg.Headers[n].Render(c.Var))})
			}
		}
		changed := 0
		for j := range t.Partitions {
			p := &t.Partitions[j]
			out, err := records.Rewrite(p.Records, func(b *records.Batch) (bool, error) {
				n := in.inject(b, headers)
				changed += n
				return n > 0, nil
			})
			if err != nil {
				// The broker would refuse these bytes too; refuse the
				// request rather than write records without the headers.
				c.Block(kerr.CorruptMessage.Code, name, fmt.Sprintf("cannot add headers: %v", err))
				return
			}
			p.Records = out
		}
		if changed > 0 {
			c.Report(interceptor.Override, name, fmt.Sprintf("set headers %v on %d records", in.names, changed))
		}
	}
}

// inject sets the headers on a batch's records and returns how many
// records changed.
func (in *injection) inject(b *records.Batch, headers []kmsg.Header) int {
	changed := 0
	for i := range b.Records {
		rec := &b.Records[i]
		touched := false
		for _, h := range headers {
			at := slices.IndexFunc(rec.Headers, func(x kmsg.Header) bool { return x.Key == h.Key })
			switch {
			case at < 0:
				rec.Headers = append(rec.Headers, h)
				touched = true
			case in.cfg.OverrideIfExists:
				rec.Headers = slices.DeleteFunc(rec.Headers, func(x kmsg.Header) bool { return x.Key == h.Key })
				rec.Headers = append(rec.Headers, h)
				touched = true
			}
		}
		if touched {
			changed++
		}
	}
	return changed
}
