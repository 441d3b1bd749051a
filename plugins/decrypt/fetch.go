package decrypt

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
)

// kmsTimeout bounds the KMS calls of one fetch response.
const kmsTimeout = 10 * time.Second

func (p *plugin) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Responses: []int16{kmsg.Fetch.Int16()}}
}

// Response decrypts the records of the topics the interceptor applies to.
func (p *plugin) Response(c *interceptor.Call, resp kmsg.Response) {
	r := resp.(*kmsg.FetchResponse)
	ctx, cancel := context.WithTimeout(context.Background(), kmsTimeout)
	defer cancel()
	for ti := range r.Topics {
		t := &r.Topics[ti]
		name := c.Conn.TopicName(t.Topic, t.TopicID)
		if !p.topic.Matches(name) {
			continue
		}
		for pi := range t.Partitions {
			part := &t.Partitions[pi]
			if part.ErrorCode != 0 || len(part.RecordBatches) == 0 {
				continue
			}
			var f failures
			out, err := records.Rewrite(part.RecordBatches, func(b *records.Batch) (bool, error) {
				return p.decryptBatch(ctx, name, b, &f)
			})
			if err == nil && p.failFetch && f.count > 0 {
				err = f.first
			}
			switch {
			case err != nil:
				part.ErrorCode = kerr.PolicyViolation.Code
				part.RecordBatches = nil
				p.report(c, name, fmt.Sprintf("partition %d refused: %v", part.Partition, err))
			default:
				part.RecordBatches = out
				if f.count > 0 {
					p.report(c, name, fmt.Sprintf("partition %d: %d items left encrypted, first: %v", part.Partition, f.count, f.first))
				}
			}
		}
	}
}

func (p *plugin) report(c *interceptor.Call, topic, msg string) {
	if !p.quiet {
		c.Report(interceptor.DecryptFailed, topic, msg)
	}
}

// failures counts the items left encrypted in one partition.
type failures struct {
	count int
	first error
}

func (f *failures) add(offset int64, err error) {
	if f.count == 0 {
		f.first = fmt.Errorf("offset %d: %w", offset, err)
	}
	f.count++
}

// decryptBatch decrypts the records of a batch that carry the marker.
func (p *plugin) decryptBatch(ctx context.Context, topic string, b *records.Batch, f *failures) (bool, error) {
	changed := false
	for i := range b.Records {
		r := &b.Records[i]
		locs, err := encryption.Locations(r.Headers)
		if err != nil {
			f.add(b.Header.FirstOffset+int64(r.OffsetDelta), err)
			continue
		}
		if len(locs) == 0 {
			continue
		}
		fail := func(err error) { f.add(b.Header.FirstOffset+int64(r.OffsetDelta), err) }
		if slices.ContainsFunc(r.Headers, func(h kmsg.Header) bool { return h.Key == avrojson.SchemaHeader }) {
			changed = p.decryptConverted(ctx, topic, r, locs, fail) || changed
			continue
		}
		left := p.decryptRecord(ctx, topic, r, locs, fail)
		if len(left) != len(locs) {
			r.Headers = encryption.Mark(r.Headers, left)
			changed = true
		}
	}
	return changed, nil
}

// decryptRecord decrypts the chosen locations of one record and returns
// the locations still encrypted.
func (p *plugin) decryptRecord(ctx context.Context, topic string, r *kmsg.Record, locs []string, fail func(error)) []string {
	left := locs[:0:0]
	for _, loc := range locs {
		done, err := p.decryptAt(ctx, topic, r, loc)
		if err != nil {
			fail(fmt.Errorf("%s: %w", loc, err))
		}
		if !done {
			left = append(left, loc)
		}
	}
	return left
}

// decryptAt decrypts one location if the config chooses it; it reports
// whether the location is now clear.
func (p *plugin) decryptAt(ctx context.Context, topic string, r *kmsg.Record, loc string) (bool, error) {
	open := func(env []byte) ([]byte, error) {
		return p.keys.Open(ctx, env, encryption.Context(topic, loc))
	}
	switch {
	case loc == "value" && p.value.whole():
		pt, err := open(r.Value)
		if err != nil {
			return false, err
		}
		r.Value = pt
		return true, nil
	case loc == "key" && p.key.whole():
		pt, err := open(r.Key)
		if err != nil {
			return false, err
		}
		r.Key = pt
		return true, nil
	case strings.HasPrefix(loc, "header:"):
		name := strings.TrimPrefix(loc, "header:")
		if p.headers != nil && !slices.Contains(p.headers, name) {
			return false, nil
		}
		clear := make([][]byte, len(r.Headers))
		for i, h := range r.Headers {
			if h.Key != name || h.Value == nil {
				continue
			}
			pt, err := open(h.Value)
			if err != nil {
				return false, err
			}
			clear[i] = pt
		}
		for i, pt := range clear {
			if pt != nil {
				r.Headers[i].Value = pt
			}
		}
		return true, nil
	case strings.HasPrefix(loc, "value:") || strings.HasPrefix(loc, "key:"):
		return p.decryptField(ctx, topic, r, loc)
	}
	return false, nil
}

// decryptField decrypts one field of a value or key.
func (p *plugin) decryptField(ctx context.Context, topic string, r *kmsg.Record, loc string) (bool, error) {
	part, at, _ := strings.Cut(loc, ":")
	pth, err := fieldpath.Parse(at)
	if err != nil {
		return false, fmt.Errorf("the marker names a malformed field path: %w", err)
	}
	sel := p.value
	if part == "key" {
		sel = p.key
	}
	if !sel.field(pth) {
		return false, nil
	}
	data := &r.Value
	if part == "key" {
		data = &r.Key
	}
	fieldHeader := slices.IndexFunc(r.Headers, func(h kmsg.Header) bool { return h.Key == encryption.FieldHeader+loc })
	found := false
	out, err := p.codec.Replace(ctx, *data, pth, func(got string, f fields.Field) ([]byte, error) {
		if got != at {
			return f.Raw, nil
		}
		found = true
		var env []byte
		if fieldHeader >= 0 {
			env = r.Headers[fieldHeader].Value
		} else {
			text, ok := f.Text()
			if !ok {
				return nil, errors.New("the field holds no ciphertext")
			}
			var err error
			if env, err = base64.StdEncoding.DecodeString(text); err != nil {
				return nil, errors.New("the field's ciphertext is not base64")
			}
		}
		return p.keys.Open(ctx, env, encryption.Context(topic, loc))
	})
	if err != nil {
		return false, err
	}
	if !found {
		return false, errors.New("the field is missing")
	}
	*data = out
	if fieldHeader >= 0 {
		r.Headers = slices.Delete(r.Headers, fieldHeader, fieldHeader+1)
	}
	return true, nil
}

// decryptConverted decrypts a value EncryptPlugin stored as JSON
// (convert_json) and turns it back into Avro of its schema id. A value
// field left encrypted (not chosen, or failing) is set to the zero of its
// type, so the value stays valid for the schema. The record is left as
// stored when its schema cannot be had or the JSON does not fit it; it
// reports whether the record changed.
func (p *plugin) decryptConverted(ctx context.Context, topic string, r *kmsg.Record, locs []string, fail func(error)) bool {
	id, s, err := p.convertedSchema(ctx, r.Headers)
	if err != nil {
		fail(fmt.Errorf("value: %w", err))
		return false
	}
	value, headers := r.Value, slices.Clone(r.Headers)
	left := p.decryptRecord(ctx, topic, r, locs, fail)
	var zero []fieldpath.Path
	kept := left[:0:0]
	for _, loc := range left {
		at, ok := strings.CutPrefix(loc, "value:")
		if !ok {
			kept = append(kept, loc)
			continue
		}
		pth, err := fieldpath.Parse(at)
		if err != nil {
			r.Value, r.Headers = value, headers
			return false // decryptRecord reported it
		}
		zero = append(zero, pth)
	}
	body, err := avrojson.FromJSON(s, r.Value, zero...)
	if err != nil {
		r.Value, r.Headers = value, headers
		fail(fmt.Errorf("value: %w", err))
		return false
	}
	var h sr.ConfluentHeader
	out, err := h.AppendEncode(make([]byte, 0, 5+len(body)), id, nil)
	if err != nil {
		r.Value, r.Headers = value, headers
		fail(fmt.Errorf("value: %w", err))
		return false
	}
	r.Value = append(out, body...)
	r.Headers = slices.DeleteFunc(r.Headers, func(h kmsg.Header) bool { return h.Key == avrojson.SchemaHeader })
	r.Headers = encryption.Mark(r.Headers, kept)
	return true
}

// convertedSchema returns the Avro schema a convert_json record names.
func (p *plugin) convertedSchema(ctx context.Context, headers []kmsg.Header) (int, avro.Schema, error) {
	i := slices.IndexFunc(headers, func(h kmsg.Header) bool { return h.Key == avrojson.SchemaHeader })
	id, err := strconv.Atoi(string(headers[i].Value))
	if err != nil || id < 0 {
		return 0, nil, fmt.Errorf("header %s is not a schema id", avrojson.SchemaHeader)
	}
	if p.codec.Registry == nil {
		return 0, nil, fields.ErrNoRegistry
	}
	s, err := p.codec.Registry.Schema(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	as, ok := s.(avro.Schema)
	if !ok {
		return 0, nil, fmt.Errorf("schema %d is not Avro", id)
	}
	return id, as, nil
}
