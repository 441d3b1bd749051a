package encrypt

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/avrojson"
	"github.com/strait-gateway/strait/encryption/fields"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records"
	"github.com/strait-gateway/strait/schemaregistry"
)

// kmsTimeout bounds the KMS calls of one produce request.
const kmsTimeout = 10 * time.Second

func (p *plugin) Subscribe() interceptor.Subscription {
	k := kmsg.Produce.Int16()
	return interceptor.Subscription{Requests: []int16{k}, Responses: []int16{k}}
}

// Request encrypts the records of every partition of the topics the
// interceptor applies to. A partition it cannot encrypt entirely leaves
// the request and is answered with an error.
func (p *plugin) Request(c *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	ctx, cancel := context.WithTimeout(context.Background(), kmsTimeout)
	defer cancel()
	var refused interceptor.PartitionRefusals
	for ti := range r.Topics {
		t := &r.Topics[ti]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		if !p.topic.Matches(name) {
			continue
		}
		kept := t.Partitions[:0]
		for _, pt := range t.Partitions {
			out, err := records.RewriteAll(pt.Records, func(b *records.Batch) (bool, error) {
				return p.encryptBatch(ctx, name, b)
			})
			if err != nil {
				code := kerr.InvalidRecord.Code
				if errors.As(err, new(*kmsError)) || errors.As(err, new(*schemaregistry.LookupError)) {
					// Not the record's fault: retriable, and known not written
					// (REQUEST_TIMED_OUT would read as "maybe written", and
					// idempotent producers would never give up).
					code = kerr.NotEnoughReplicas.Code
				}
				msg := fmt.Sprintf("partition %d not encrypted, nothing written: %v", pt.Partition, err)
				refused.Add(t, pt.Partition, code, interceptor.Refused(c, msg), -1)
				if !p.quiet {
					c.Report(interceptor.EncryptFailed, name, msg)
				}
				continue
			}
			pt.Records = out
			kept = append(kept, pt)
		}
		t.Partitions = kept
	}
	refused.Keep(c, r)
}

// Response adds the answers for the refused partitions.
func (p *plugin) Response(c *interceptor.Call, resp kmsg.Response) {
	interceptor.AnswerRefused(c, resp.(*kmsg.ProduceResponse))
}

// kmsError is a failure to get a data key: the KMS, not the record, is at
// fault, so the producer may try again.
type kmsError struct{ err error }

func (e *kmsError) Error() string { return e.err.Error() }
func (e *kmsError) Unwrap() error { return e.err }

// encryptBatch encrypts every record of a batch.
func (p *plugin) encryptBatch(ctx context.Context, topic string, b *records.Batch) (bool, error) {
	changed := false
	for i := range b.Records {
		did, err := p.encryptRecord(ctx, topic, &b.Records[i])
		if err != nil {
			return false, fmt.Errorf("record at offset delta %d: %w", b.Records[i].OffsetDelta, err)
		}
		changed = changed || did
	}
	return changed, nil
}

// encryptRecord encrypts what the config names of one record and lists
// it in the marker header. It reports whether anything was encrypted.
func (p *plugin) encryptRecord(ctx context.Context, topic string, r *kmsg.Record) (bool, error) {
	if slices.ContainsFunc(r.Headers, func(h kmsg.Header) bool { return encryption.IsOwn(h.Key) }) {
		return false, errors.New("the record already carries " + encryption.Header + " headers: encrypting it again would hide what it holds")
	}
	vars := recordVars{ctx: ctx, codec: p.codec, topic: topic, r: r}
	var locs []string
	var extra []kmsg.Header // envelopes of fields that cannot hold text
	seal := func(it *item, location string, plaintext []byte) ([]byte, error) {
		keyID, err := vars.keyID(it.keyID)
		if err != nil {
			return nil, err
		}
		env, err := p.keys.Seal(ctx, keyID, it.alg, plaintext, encryption.Context(topic, location))
		if err != nil {
			return nil, &kmsError{err}
		}
		locs = append(locs, location)
		return env, nil
	}
	// Key ids are resolved from the clear record, so every item is sealed
	// before any is replaced.
	vt := p.value
	if vt == nil && p.find != nil && r.Value != nil {
		found, err := p.find(ctx, p.codec, r.Value)
		if err != nil {
			return false, fmt.Errorf("value fields: %w", err)
		}
		vt = &target{}
		for _, f := range found {
			vt.fields = append(vt.fields, fieldItem{path: f.Path, item: item{keyID: f.KeySecretID, alg: f.Algorithm}})
		}
	}
	value, err := p.sealPart(ctx, vt, "value", r.Value, seal, &extra)
	if err != nil {
		return false, err
	}
	key, err := p.sealPart(ctx, p.key, "key", r.Key, seal, &extra)
	if err != nil {
		return false, err
	}
	var headers [][]byte
	if p.header != nil {
		headers = make([][]byte, len(r.Headers))
		for i, h := range r.Headers {
			if encryption.IsOwn(h.Key) || !p.header.names.Matches(h.Key) || h.Value == nil {
				continue
			}
			if headers[i], err = seal(&p.header.item, "header:"+h.Key, h.Value); err != nil {
				return false, err
			}
		}
	}
	if len(locs) == 0 {
		return false, nil
	}
	if value != nil {
		r.Value = value
	}
	if key != nil {
		r.Key = key
	}
	for i, v := range headers {
		if v != nil {
			r.Headers[i].Value = v
		}
	}
	r.Headers = encryption.Mark(append(r.Headers, extra...), dedupe(locs))
	return true, nil
}

// sealFunc encrypts one item of a record at a location.
type sealFunc func(it *item, location string, plaintext []byte) ([]byte, error)

// sealPart encrypts a value or key as its target says: whole, or field by
// field. It returns nil when nothing was encrypted (no target, a null, no
// configured field present).
func (p *plugin) sealPart(ctx context.Context, t *target, part string, data []byte, seal sealFunc, extra *[]kmsg.Header) ([]byte, error) {
	if t == nil || data == nil {
		return nil, nil
	}
	if t.whole != nil {
		return seal(t.whole, part, data)
	}
	schemaID := -1
	if part == "value" && p.toJSON {
		var err error
		if data, schemaID, err = p.avroToJSON(ctx, data); err != nil {
			return nil, err
		}
	}
	paths := make([]fieldpath.Path, len(t.fields))
	for i := range t.fields {
		paths[i] = t.fields[i].path
	}
	changed := false
	out, err := p.codec.ReplaceAll(ctx, data, paths, func(i int, at string, fld fields.Field) ([]byte, error) {
		loc := part + ":" + at
		env, err := seal(&t.fields[i].item, loc, fld.Raw)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", at, err)
		}
		repl, inHeader, err := fld.Conceal(base64.StdEncoding.EncodeToString(env))
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", at, err)
		}
		if inHeader {
			*extra = append(*extra, kmsg.Header{Key: encryption.FieldHeader + loc, Value: env})
		}
		changed = true
		return repl, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s fields: %w", part, err)
	}
	if !changed {
		return nil, nil
	}
	if schemaID >= 0 {
		*extra = append(*extra, kmsg.Header{Key: avrojson.SchemaHeader, Value: strconv.AppendInt(nil, int64(schemaID), 10)})
	}
	return out, nil
}

// avroToJSON returns the JSON text of a Confluent-framed Avro value and
// its schema id (convert_json); any other value comes back as it is, with
// the id -1.
func (p *plugin) avroToJSON(ctx context.Context, data []byte) ([]byte, int, error) {
	if len(data) < 5 || data[0] != 0 || p.codec.Registry == nil {
		return data, -1, nil // JSON, or refused by the codec as before
	}
	var h sr.ConfluentHeader
	id, body, err := h.DecodeID(data)
	if err != nil {
		return nil, -1, fmt.Errorf("value: %w", err)
	}
	s, err := p.codec.Registry.Schema(ctx, id)
	if err != nil {
		return nil, -1, err
	}
	as, ok := s.(avro.Schema)
	if !ok {
		return data, -1, nil // JSON Schema and Protobuf keep their encoding
	}
	doc, err := avrojson.ToJSON(as, body)
	if err != nil {
		return nil, -1, fmt.Errorf("value: %w", err)
	}
	return doc, id, nil
}

// dedupe drops repeated locations (a header name may occur twice).
func dedupe(locs []string) []string {
	out := locs[:0]
	for _, l := range locs {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
