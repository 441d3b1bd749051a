package encrypt_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	_ "github.com/strait-gateway/strait/plugins/decrypt"
	"github.com/strait-gateway/strait/records"
	"github.com/strait-gateway/strait/records/recordstest"
)

// The benchmarks' load: one uncompressed batch of benchRecords values of
// benchSize random bytes, encrypted whole with AES128_GCM under an
// in-memory KMS key.
const (
	benchRecords = 100
	benchSize    = 1024
	benchEncrypt = `{"kmsConfig":{},"recordValue":{"payload":{"keySecretId":"in-memory-kms://bench","algorithm":"AES128_GCM"}}}`
	benchTopic   = "orders"
)

// benchChain runs one plugin with config.
func benchChain(b *testing.B, class, config string) *interceptor.Chain {
	b.Helper()
	ch, _ := interceptortest.Chain(b, class, config)
	return ch
}

// benchBatch is one batch of benchRecords random values.
func benchBatch(b *testing.B) ([]byte, [][]byte) {
	b.Helper()
	recs := make([]kmsg.Record, benchRecords)
	values := make([][]byte, benchRecords)
	for i := range recs {
		values[i] = make([]byte, benchSize)
		if _, err := rand.Read(values[i]); err != nil {
			b.Fatal(err)
		}
		recs[i] = kmsg.Record{Value: values[i]}
	}
	return recordstest.Batch(b, kgo.NoCompression(), recs...), values
}

// produceThrough runs ch on a produce request of one partition holding
// data and returns the partition's records as sent on.
func produceThrough(b *testing.B, ch *interceptor.Chain, data []byte) []byte {
	out, code := interceptortest.Produce(b, ch, benchTopic, data)
	if code != 0 {
		b.Fatalf("the partition was refused with code %d", code)
	}
	return out
}

// fetchThrough runs ch on a fetch response of one partition holding data
// and returns the partition as the client gets it.
func fetchThrough(ch *interceptor.Chain, data []byte) kmsg.FetchResponseTopicPartition {
	return interceptortest.Fetch(ch, benchTopic, data)
}

// values returns the record values of data.
func values(b *testing.B, data []byte) [][]byte {
	b.Helper()
	var out [][]byte
	if err := records.Read(data, func(batch *records.Batch) error {
		for _, r := range batch.Records {
			out = append(out, r.Value)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return out
}

// sameValues fails b unless got holds want's values in order.
func sameValues(b *testing.B, got, want [][]byte) {
	b.Helper()
	if len(got) != len(want) {
		b.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			b.Fatalf("record %d differs from the value produced", i)
		}
	}
}

// BenchmarkEncryptPayload1KB encrypts the whole value of 100 1 KB records
// of one produce batch; the MB/s are of plaintext value bytes.
func BenchmarkEncryptPayload1KB(b *testing.B) {
	ch := benchChain(b, "EncryptPlugin", benchEncrypt)
	data, vals := benchBatch(b)
	// The first request makes the data key; the loop measures the steady
	// state, where it is cached.
	if enc := values(b, produceThrough(b, ch, data)); bytes.Equal(enc[0], vals[0]) {
		b.Fatal("the value was not encrypted")
	}
	b.SetBytes(benchRecords * benchSize)
	b.ReportAllocs()
	for b.Loop() {
		produceThrough(b, ch, data)
	}
	b.ReportMetric(float64(b.N)*benchRecords/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecryptPayload1KB decrypts a fetch response holding the batch
// BenchmarkEncryptPayload1KB writes; the MB/s are of plaintext value
// bytes.
func BenchmarkDecryptPayload1KB(b *testing.B) {
	enc := benchChain(b, "EncryptPlugin", benchEncrypt)
	dec := benchChain(b, "DecryptPlugin", `{"kmsConfig":{}}`)
	data, vals := benchBatch(b)
	stored := produceThrough(b, enc, data)
	out := fetchThrough(dec, stored)
	if out.ErrorCode != 0 {
		b.Fatalf("fetch error code %d", out.ErrorCode)
	}
	sameValues(b, values(b, out.RecordBatches), vals)
	kept := bytes.Clone(stored)
	b.SetBytes(benchRecords * benchSize)
	b.ReportAllocs()
	for b.Loop() {
		fetchThrough(dec, stored)
	}
	b.StopTimer()
	// Decrypting in place would leave later rounds nothing to decrypt.
	if !bytes.Equal(stored, kept) {
		b.Fatal("the fetch response's input was changed in place")
	}
	b.ReportMetric(float64(b.N)*benchRecords/b.Elapsed().Seconds(), "records/s")
}
