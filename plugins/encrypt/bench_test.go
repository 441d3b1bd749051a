package encrypt_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

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

var benchConn = &interceptor.Conn{VCluster: "passthrough", Username: "alice"}

// benchChain runs one plugin with config.
func benchChain(b *testing.B, class, config string) *interceptor.Chain {
	b.Helper()
	p, ok := interceptor.Lookup(class)
	if !ok {
		b.Fatalf("no plugin %s", class)
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		b.Fatal(err)
	}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "b", Plugin: p.Name, Priority: 1, Interceptor: inst}},
		&interceptortest.Events{}, interceptor.Node{})
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
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	pt := kmsg.NewProduceRequestTopicPartition()
	pt.Records = data
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.Partitions = benchTopic, []kmsg.ProduceRequestTopicPartition{pt}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	call := ch.Begin(benchConn, req.Key(), 9, nil, time.Now())
	if !call.Request(req) || len(req.Topics) != 1 || len(req.Topics[0].Partitions) != 1 {
		b.Fatal("the partition was refused")
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(9)
	call.Response(resp)
	return req.Topics[0].Partitions[0].Records
}

// fetchThrough runs ch on a fetch response of one partition holding data
// and returns the partition as the client gets it.
func fetchThrough(ch *interceptor.Chain, data []byte) kmsg.FetchResponseTopicPartition {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(12)
	pt := kmsg.NewFetchResponseTopicPartition()
	pt.RecordBatches = data
	rt := kmsg.NewFetchResponseTopic()
	rt.Topic, rt.Partitions = benchTopic, []kmsg.FetchResponseTopicPartition{pt}
	resp.Topics = []kmsg.FetchResponseTopic{rt}
	call := ch.Begin(benchConn, kmsg.Fetch.Int16(), 12, nil, time.Now())
	call.Response(resp)
	return resp.Topics[0].Partitions[0]
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
