package gateway

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func produceResponse(version int16, withBrokers bool) []byte {
	r := kmsg.NewPtrProduceResponse()
	r.SetVersion(version)
	msg := "not leader"
	for ti := range 2 {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = "topic-" + string(rune('a'+ti))
		t.TopicID = [16]byte{byte(ti + 1)}
		for pi := range 3 {
			p := kmsg.NewProduceResponseTopicPartition()
			p.Partition = int32(pi)
			p.ErrorMessage = &msg
			er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
			er.ErrorMessage = &msg
			p.ErrorRecords = append(p.ErrorRecords, er)
			p.CurrentLeader.LeaderID = 2
			t.Partitions = append(t.Partitions, p)
		}
		r.Topics = append(r.Topics, t)
	}
	if withBrokers {
		b := kmsg.NewProduceResponseBroker()
		b.NodeID, b.Host, b.Port = 2, "broker-2.internal", 9092
		r.Brokers = append(r.Brokers, b)
	}
	return r.AppendTo(nil)
}

func fetchResponse(version int16, withBrokers bool) []byte {
	r := kmsg.NewPtrFetchResponse()
	r.SetVersion(version)
	for ti := range 2 {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = "topic"
		t.TopicID = [16]byte{byte(ti + 1)}
		for pi := range 3 {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = int32(pi)
			p.RecordBatches = make([]byte, 300+pi)
			p.AbortedTransactions = append(p.AbortedTransactions, kmsg.NewFetchResponseTopicPartitionAbortedTransaction())
			p.CurrentLeader.LeaderID = 1
			t.Partitions = append(t.Partitions, p)
		}
		r.Topics = append(r.Topics, t)
	}
	if withBrokers {
		b := kmsg.NewFetchResponseBroker()
		b.NodeID, b.Host, b.Port = 1, "broker-1.internal", 9092
		r.Brokers = append(r.Brokers, b)
	}
	return r.AppendTo(nil)
}

func TestHasNodeEndpoints(t *testing.T) {
	type enc func(int16, bool) []byte
	for _, tc := range []struct {
		key      int16
		from, to int16
		encode   enc
	}{
		{keyProduce, 10, info(keyProduce).maxVersion, produceResponse},
		{keyFetch, 16, info(keyFetch).maxVersion, fetchResponse},
	} {
		for v := tc.from; v <= tc.to; v++ {
			for _, with := range []bool{false, true} {
				body := tc.encode(v, with)
				got, err := hasNodeEndpoints(tc.key, v, body)
				if err != nil || got != with {
					t.Errorf("key %d v%d brokers=%v: got %v, err %v", tc.key, v, with, got, err)
				}
				for cut := 1; cut < len(body); cut += 7 {
					if _, err := hasNodeEndpoints(tc.key, v, body[:len(body)-cut]); err == nil {
						t.Errorf("key %d v%d: body cut by %d accepted", tc.key, v, cut)
						break
					}
				}
			}
		}
	}
}

// FuzzHasNodeEndpoints checks the scanner never panics and never misses
// endpoints that kmsg's full decoder finds. (An empty tag 0 is reported as
// present; the gateway then decodes and re-encodes, which is harmless.)
func FuzzHasNodeEndpoints(f *testing.F) {
	f.Add(int16(0), int16(11), produceResponse(11, true))
	f.Add(int16(0), int16(10), produceResponse(10, false))
	f.Add(int16(1), int16(17), fetchResponse(17, true))
	f.Add(int16(1), int16(16), fetchResponse(16, false))
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		key &= 1
		if key == keyProduce {
			version = 10 + (version&0x7fff)%(info(keyProduce).maxVersion-9)
		} else {
			version = 16 + (version&0x7fff)%(info(keyFetch).maxVersion-15)
		}
		got, err := hasNodeEndpoints(key, version, body)
		resp := kmsg.ResponseForKey(key)
		resp.SetVersion(version)
		if resp.ReadFrom(body) != nil || err != nil {
			return
		}
		var want bool
		switch r := resp.(type) {
		case *kmsg.ProduceResponse:
			want = len(r.Brokers) > 0
		case *kmsg.FetchResponse:
			want = len(r.Brokers) > 0
		}
		if want && !got {
			t.Fatalf("scanner says %v, decoder says %v", got, want)
		}
	})
}
