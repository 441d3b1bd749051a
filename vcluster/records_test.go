package vcluster

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Builders of requests and responses naming the given topics, identical in
// every other field, for the table in topics_test.go.

func topicsTestProduceRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrProduceRequest()
	r.Version, r.Acks, r.TimeoutMillis = v, -1, 5000
	for _, name := range topics {
		t := kmsg.NewProduceRequestTopic()
		t.Topic = name
		p := kmsg.NewProduceRequestTopicPartition()
		p.Partition, p.Records = 3, []byte{1, 2, 3}
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestProduceResponse(v int16, msg string, topics []string) kmsg.Response {
	r := kmsg.NewPtrProduceResponse()
	r.Version, r.ThrottleMillis = v, 7
	for _, name := range topics {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = name
		p := kmsg.NewProduceResponseTopicPartition()
		p.Partition, p.ErrorCode, p.BaseOffset, p.LogStartOffset = 3, 6, 100, 4
		p.ErrorMessage = kmsg.StringPtr(msg)
		er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		er.RelativeOffset, er.ErrorMessage = 2, kmsg.StringPtr(msg)
		p.ErrorRecords = append(p.ErrorRecords, er)
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestFetchRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrFetchRequest()
	r.Version, r.MaxWaitMillis, r.MinBytes, r.MaxBytes = v, 500, 1, 1<<20
	r.IsolationLevel, r.SessionID, r.SessionEpoch, r.Rack = 1, 9, 2, "rack-1"
	for _, name := range topics {
		t := kmsg.NewFetchRequestTopic()
		t.Topic = name
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition, p.CurrentLeaderEpoch, p.FetchOffset, p.PartitionMaxBytes = 1, 4, 100, 1024
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
		f := kmsg.NewFetchRequestForgottenTopic()
		f.Topic, f.Partitions = name, []int32{5}
		r.ForgottenTopics = append(r.ForgottenTopics, f)
	}
	return r
}

func topicsTestFetchResponse(v int16, _ string, topics []string) kmsg.Response {
	r := kmsg.NewPtrFetchResponse()
	r.Version, r.ThrottleMillis, r.SessionID = v, 3, 9
	for _, name := range topics {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = name
		p := kmsg.NewFetchResponseTopicPartition()
		p.Partition, p.HighWatermark, p.LastStableOffset, p.LogStartOffset = 1, 200, 190, 5
		p.RecordBatches = []byte{9, 8, 7}
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestListOffsetsRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrListOffsetsRequest()
	r.Version, r.IsolationLevel, r.TimeoutMillis = v, 1, 250
	for _, name := range topics {
		t := kmsg.NewListOffsetsRequestTopic()
		t.Topic = name
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition, p.CurrentLeaderEpoch, p.Timestamp = 2, 3, -2
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestListOffsetsResponse(v int16, _ string, topics []string) kmsg.Response {
	r := kmsg.NewPtrListOffsetsResponse()
	r.Version, r.ThrottleMillis = v, 1
	for _, name := range topics {
		t := kmsg.NewListOffsetsResponseTopic()
		t.Topic = name
		p := kmsg.NewListOffsetsResponseTopicPartition()
		p.Partition, p.Offset, p.Timestamp, p.LeaderEpoch = 2, 42, 5, 3
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDeleteRecordsRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrDeleteRecordsRequest()
	r.Version, r.TimeoutMillis = v, 1000
	for _, name := range topics {
		t := kmsg.NewDeleteRecordsRequestTopic()
		t.Topic = name
		p := kmsg.NewDeleteRecordsRequestTopicPartition()
		p.Partition, p.Offset = 1, 10
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDeleteRecordsResponse(v int16, _ string, topics []string) kmsg.Response {
	r := kmsg.NewPtrDeleteRecordsResponse()
	r.Version, r.ThrottleMillis = v, 1
	for _, name := range topics {
		t := kmsg.NewDeleteRecordsResponseTopic()
		t.Topic = name
		p := kmsg.NewDeleteRecordsResponseTopicPartition()
		p.Partition, p.LowWatermark = 1, 10
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestOffsetForLeaderEpochRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrOffsetForLeaderEpochRequest()
	r.Version, r.ReplicaID = v, -1
	for _, name := range topics {
		t := kmsg.NewOffsetForLeaderEpochRequestTopic()
		t.Topic = name
		p := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		p.Partition, p.CurrentLeaderEpoch, p.LeaderEpoch = 1, 5, 4
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestOffsetForLeaderEpochResponse(v int16, _ string, topics []string) kmsg.Response {
	r := kmsg.NewPtrOffsetForLeaderEpochResponse()
	r.Version, r.ThrottleMillis = v, 1
	for _, name := range topics {
		t := kmsg.NewOffsetForLeaderEpochResponseTopic()
		t.Topic = name
		p := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
		p.Partition, p.LeaderEpoch, p.EndOffset = 1, 4, 99
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDescribeProducersRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrDescribeProducersRequest()
	r.Version = v
	for _, name := range topics {
		t := kmsg.NewDescribeProducersRequestTopic()
		t.Topic, t.Partitions = name, []int32{0, 1}
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDescribeProducersResponse(v int16, msg string, topics []string) kmsg.Response {
	r := kmsg.NewPtrDescribeProducersResponse()
	r.Version, r.ThrottleMillis = v, 1
	for _, name := range topics {
		t := kmsg.NewDescribeProducersResponseTopic()
		t.Topic = name
		p := kmsg.NewDescribeProducersResponseTopicPartition()
		p.Partition, p.ErrorCode, p.ErrorMessage = 1, 6, kmsg.StringPtr(msg)
		a := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		a.ProducerID, a.ProducerEpoch, a.LastSequence = 77, 1, 3
		p.ActiveProducers = append(p.ActiveProducers, a)
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func TestProduceTransactionalID(t *testing.T) {
	for _, tc := range []struct {
		space    *Space
		id, want *string
	}{
		{topicsTestTenant, kmsg.StringPtr("txn"), kmsg.StringPtr("team-a.txn")},
		{topicsTestTenant, nil, nil},
		{topicsTestAliased, kmsg.StringPtr("shared"), kmsg.StringPtr("team-a.shared")},
	} {
		req := topicsTestProduceRequest(12, []string{"orders"}).(*kmsg.ProduceRequest)
		req.TransactionID = tc.id
		topicsTestRequest(t, tc.space, req)
		if (req.TransactionID == nil) != (tc.want == nil) || tc.want != nil && *req.TransactionID != *tc.want {
			t.Errorf("%s: transactional id %v became %v, want %v", tc.space.Name(), topicsTestString(tc.id), topicsTestString(req.TransactionID), topicsTestString(tc.want))
		}
	}
}

// TestRecordsPassthrough checks that the data plane is not translated for
// passthrough clients: they may produce to and read Strait's internal topics
// by name.
func TestRecordsPassthrough(t *testing.T) {
	for _, key := range []int16{0, 1, 2, 21, 23, 61} {
		if topicsTestPassthrough.Translates(key) {
			t.Errorf("passthrough translates %s", kmsg.NameForKey(key))
		}
	}
}
