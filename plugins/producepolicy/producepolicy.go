// Package producepolicy is the ProducePolicy interceptor: rules on how
// clients produce. The acks setting and the Produce API version are
// properties of the whole request: a BLOCK rule on them refuses the
// request. Compression, idempotence and transactions are read from the
// header of every record batch (which is never compressed): a BLOCK rule
// on them refuses only the partition whose batch breaks it, with
// POLICY_VIOLATION, while the other partitions are written. INFO only
// reports.
package producepolicy

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("ProducePolicy",
		"Rules on acks, compression, idempotence, transactions and API version of produce requests",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.ProducePolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic                interceptor.Pattern `json:"topic" doc:"topics the policy applies to (default: all)"`
	Acks                 *Acks               `json:"acks" doc:"allowed acks settings: -1 (all), 0, 1"`
	Compressions         *interceptor.OneOf  `json:"compressions" doc:"allowed batch compressions: NONE, GZIP, SNAPPY, LZ4, ZSTD"`
	IdempotenceRequired  *interceptor.Flag   `json:"idempotenceRequired" doc:"batches must (true) or must not (false) come from an idempotent producer"`
	TransactionRequired  *interceptor.Flag   `json:"transactionRequired" doc:"batches must (true) or must not (false) be transactional"`
	Version              *interceptor.Range  `json:"version" doc:"allowed Produce API versions"`
	RecordHeaderRequired *interceptor.Flag   `json:"recordHeaderRequired" doc:"with value true, every record must carry at least one header"`
}

// Acks lists the allowed acks values.
type Acks struct {
	Value  []int16            `json:"value"`
	Action interceptor.Action `json:"action"`
}

// compressions are the batch compression codecs, by attribute bits.
var compressions = []string{"NONE", "GZIP", "SNAPPY", "LZ4", "ZSTD"}

type policy struct {
	interceptor.Base
	cfg *Config
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	bi := []interceptor.Action{interceptor.Block, interceptor.Info}
	if a := cfg.Acks; a != nil {
		if len(a.Value) == 0 {
			return nil, interceptor.Invalid("acks.value", "is required")
		}
		for i, v := range a.Value {
			if v != -1 && v != 0 && v != 1 {
				return nil, interceptor.Invalid(fmt.Sprintf("acks.value[%d]", i), "%d is not an acks setting; expect -1, 0 or 1", v)
			}
		}
		if err := interceptor.CheckAction("acks.action", a.Action, bi...); err != nil {
			return nil, err
		}
	}
	if c := cfg.Compressions; c != nil {
		for i, v := range c.Values {
			if !slices.Contains(compressions, strings.ToUpper(v)) {
				return nil, interceptor.Invalid(fmt.Sprintf("compressions.values[%d]", i), "%q is not a compression; expect one of %s", v, strings.Join(compressions, ", "))
			}
		}
		if err := interceptor.CheckAction("compressions.action", c.Action, bi...); err != nil {
			return nil, err
		}
	}
	for field, f := range map[string]*interceptor.Flag{"idempotenceRequired": cfg.IdempotenceRequired,
		"transactionRequired": cfg.TransactionRequired, "recordHeaderRequired": cfg.RecordHeaderRequired} {
		if f != nil {
			if err := interceptor.CheckAction(field+".action", f.Action, bi...); err != nil {
				return nil, err
			}
		}
	}
	if v := cfg.Version; v != nil {
		if err := interceptor.CheckAction("version.action", v.Action, bi...); err != nil {
			return nil, err
		}
	}
	return &policy{cfg: cfg}, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	k := kmsg.Produce.Int16()
	return interceptor.Subscription{Requests: []int16{k}, Responses: []int16{k}}
}

// Request checks the request-level rules first, then every batch of the
// topics the policy applies to.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	var first string // a topic the request writes, for the request-level events
	var topics []int
	for i, t := range r.Topics {
		if name := c.Conn.TopicName(t.Topic, t.TopicID); p.cfg.Topic.Matches(name) {
			if first == "" {
				first = name
			}
			topics = append(topics, i)
		}
	}
	if topics == nil {
		return
	}
	if a := p.cfg.Acks; a != nil && !slices.Contains(a.Value, r.Acks) {
		if refuse(c, a.Action, first, fmt.Sprintf("acks=%d, must be one of %v", r.Acks, a.Value)) {
			return
		}
	}
	if v := p.cfg.Version; v != nil && !v.Allows(float64(c.Version)) {
		if refuse(c, v.Action, first, fmt.Sprintf("Produce API version %d, must be %s", c.Version, v.Bounds())) {
			return
		}
	}
	var refused interceptor.PartitionRefusals
	for _, i := range topics {
		t := &r.Topics[i]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		kept := t.Partitions[:0]
		for _, pt := range t.Partitions {
			if reason := p.checkBatches(c, name, r.TransactionID, pt.Records); reason != "" {
				refused.Add(t, pt.Partition, kerr.PolicyViolation.Code, interceptor.Refused(c, reason), -1)
				continue
			}
			kept = append(kept, pt)
		}
		t.Partitions = kept
	}
	refused.Keep(c, r)
}

// Response adds the answers for the refused partitions.
func (p *policy) Response(c *interceptor.Call, resp kmsg.Response) {
	interceptor.AnswerRefused(c, resp.(*kmsg.ProduceResponse))
}

// checkBatches applies the batch rules to a partition's record batches.
// It returns the reason of the first BLOCK rule broken, "" when none is.
func (p *policy) checkBatches(c *interceptor.Call, topic string, txnID *string, data []byte) string {
	all := data
	for len(data) > 0 {
		var b kmsg.RecordBatch
		if err := b.ReadFrom(data); err != nil {
			return "" // not a record batch Kafka accepts either; the broker answers it
		}
		size := 12 + int(b.Length)
		if size <= 12 || size > len(data) {
			return ""
		}
		data = data[size:]
		if reason := p.checkBatch(c, topic, txnID, &b); reason != "" {
			return reason
		}
	}
	return p.checkHeaders(c, topic, all)
}

// checkHeaders applies recordHeaderRequired, which needs the records
// themselves (decompressed); it returns the reason when it blocks.
func (p *policy) checkHeaders(c *interceptor.Call, topic string, data []byte) string {
	f := p.cfg.RecordHeaderRequired
	if f == nil || !f.Value {
		return ""
	}
	missing := 0
	err := records.Read(data, func(b *records.Batch) error {
		for _, r := range b.Records {
			if len(r.Headers) == 0 {
				missing++
			}
		}
		return nil
	})
	var reason string
	switch {
	case err != nil:
		reason = fmt.Sprintf("record batches cannot be read to check headers: %v", err)
	case missing > 0:
		reason = fmt.Sprintf("%d records without a header; every record must carry one", missing)
	default:
		return ""
	}
	if act(c, f.Action, topic, reason) {
		return reason
	}
	return ""
}

func (p *policy) checkBatch(c *interceptor.Call, topic string, txnID *string, b *kmsg.RecordBatch) string {
	if cp := p.cfg.Compressions; cp != nil {
		codec := "codec " + strconv.Itoa(int(b.Attributes&7))
		if i := int(b.Attributes & 7); i < len(compressions) {
			codec = compressions[i]
		}
		if !cp.Allows(codec) {
			reason := fmt.Sprintf("compression %s, must be one of %s", codec, strings.Join(cp.Values, ", "))
			if act(c, cp.Action, topic, reason) {
				return reason
			}
		}
	}
	if f := p.cfg.IdempotenceRequired; f != nil {
		if idem := b.ProducerID >= 0; idem != f.Value {
			reason := fmt.Sprintf("idempotent producer is %t, must be %t", idem, f.Value)
			if act(c, f.Action, topic, reason) {
				return reason
			}
		}
	}
	if f := p.cfg.TransactionRequired; f != nil {
		if txn := b.Attributes&0x10 != 0 || txnID != nil; txn != f.Value {
			reason := fmt.Sprintf("transactional is %t, must be %t", txn, f.Value)
			if act(c, f.Action, topic, reason) {
				return reason
			}
		}
	}
	return ""
}

// refuse carries out a broken request-level rule: BLOCK refuses the whole
// request with POLICY_VIOLATION. It reports whether it blocked.
func refuse(c *interceptor.Call, a interceptor.Action, topic, reason string) bool {
	if a.Or(interceptor.Block) == interceptor.Info {
		c.Report(interceptor.Info, topic, reason)
		return false
	}
	c.Block(kerr.PolicyViolation.Code, topic, reason)
	return true
}

// act carries out a broken batch rule and reports whether it blocks; the
// caller then refuses the partition.
func act(c *interceptor.Call, a interceptor.Action, topic, reason string) bool {
	if a.Or(interceptor.Block) == interceptor.Info {
		c.Report(interceptor.Info, topic, reason)
		return false
	}
	c.Report(interceptor.Block, topic, reason)
	return true
}
