package decrypt

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	_ "github.com/strait-gateway/strait/plugins/encrypt"
	"github.com/strait-gateway/strait/records"
	"github.com/strait-gateway/strait/records/recordstest"
)

// produce runs an EncryptPlugin chain on a produce request of one
// partition and returns the partition's records as sent on, or the
// refusal's error code.
func produce(t *testing.T, config, topic string, data []byte) ([]byte, int16, *interceptortest.Events) {
	t.Helper()
	ch, ev := interceptortest.Chain(t, "io.conduktor.gateway.interceptor.EncryptPlugin", config)
	out, code := interceptortest.Produce(t, ch, topic, data)
	return out, code, ev
}

// fetch runs a DecryptPlugin chain on a fetch response of one partition.
func fetch(t *testing.T, config, topic string, data []byte) (kmsg.FetchResponseTopicPartition, *interceptortest.Events) {
	t.Helper()
	ch, ev := interceptortest.Chain(t, "DecryptPlugin", config)
	return interceptortest.Fetch(ch, topic, data), ev
}

// read returns the records of a partition and checks the producer's
// fields survived.
func read(t *testing.T, data []byte, codec kgo.CompressionCodecType) []kmsg.Record {
	t.Helper()
	var out []kmsg.Record
	err := records.Read(data, func(b *records.Batch) error {
		if b.Header.ProducerID != recordstest.ProducerID || b.Header.ProducerEpoch != recordstest.ProducerEpoch ||
			b.Header.FirstSequence != recordstest.FirstSequence {
			return fmt.Errorf("producer id, epoch or sequence lost: %+v", b.Header)
		}
		if b.Codec() != codec {
			return fmt.Errorf("codec %v, want %v", b.Codec(), codec)
		}
		out = append(out, b.Records...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sample() []kmsg.Record {
	return []kmsg.Record{
		{Key: []byte("customer-1"), Value: []byte(`{"card":"4111-1111-1111-1111"}`), Headers: []kmsg.Header{{Key: "ssn", Value: []byte("123-45-6789")}, {Key: "trace", Value: []byte("t1")}}},
		{Key: []byte("customer-2"), Value: nil}, // a tombstone
		{Key: []byte("customer-3"), Value: []byte("plain secret text"), Headers: []kmsg.Header{{Key: "ssn", Value: []byte("987-65-4321")}}},
	}
}

const everything = `{"kmsConfig":{},"recordValue":{"payload":{"keySecretId":"in-memory-kms://k-{{record.topic}}","algorithm":"%s"}},
	"recordKey":{"payload":{"keySecretId":"in-memory-kms://keys"}},
	"recordHeader":{"header":"ssn","payload":{"keySecretId":"in-memory-kms://headers"}}}`

func TestRoundTrip(t *testing.T) {
	for _, alg := range []string{"AES128_GCM", "AES256_GCM", "CHACHA20_POLY1305", "XCHACHA20_POLY1305"} {
		for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
			t.Run(fmt.Sprintf("%s/%v", alg, codec), func(t *testing.T) {
				orig := sample()
				data := recordstest.Batch(t, codec, orig...)
				enc, code, ev := produce(t, fmt.Sprintf(everything, alg), "orders", data)
				if code != 0 {
					t.Fatalf("refused with %v: %s", kerr.ErrorForCode(code), ev)
				}
				stored := read(t, enc, readCodec(t, data))
				for _, secret := range []string{"4111-1111", "123-45-6789", "987-65-4321", "customer-", "plain secret"} {
					if bytes.Contains(recordBytes(stored), []byte(secret)) {
						t.Errorf("%q is stored in clear", secret)
					}
				}
				if stored[1].Value != nil {
					t.Error("the tombstone got a value")
				}
				if locs, _ := encryption.Locations(stored[0].Headers); !reflect.DeepEqual(locs, []string{"value", "key", "header:ssn"}) {
					t.Errorf("marker = %v", locs)
				}
				out, fev := fetch(t, `{}`, "orders", enc)
				if out.ErrorCode != 0 || len(fev.List()) > 0 {
					t.Fatalf("fetch: code %d, events %s", out.ErrorCode, fev)
				}
				got := read(t, out.RecordBatches, readCodec(t, data))
				for i := range orig {
					if !bytes.Equal(got[i].Key, orig[i].Key) || !bytes.Equal(got[i].Value, orig[i].Value) ||
						(got[i].Value == nil) != (orig[i].Value == nil) || !reflect.DeepEqual(got[i].Headers, orig[i].Headers) {
						t.Errorf("record %d: got key %q value %q headers %v, want %q %q %v", i,
							got[i].Key, got[i].Value, got[i].Headers, orig[i].Key, orig[i].Value, orig[i].Headers)
					}
				}
			})
		}
	}
}

func readCodec(t *testing.T, data []byte) kgo.CompressionCodecType {
	var c kgo.CompressionCodecType
	if err := records.Read(data, func(b *records.Batch) error { c = b.Codec(); return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

func recordBytes(rs []kmsg.Record) []byte {
	var b []byte
	for _, r := range rs {
		b = r.AppendTo(b)
	}
	return b
}
