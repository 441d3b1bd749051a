package interceptor

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// PartitionRefusals holds the answers to Produce partitions an interceptor
// took out of a request: Add them while filtering the request, Keep them
// at its end, and Answer adds them to the response.
type PartitionRefusals struct {
	list []partitionRefusal
}

type partitionRefusal struct {
	topic     string
	topicID   [16]byte
	partition kmsg.ProduceResponseTopicPartition
}

// Add records the answer to a partition of t the request no longer holds:
// code and message, and the index of the offending record when known
// (negative otherwise).
func (r *PartitionRefusals) Add(t *kmsg.ProduceRequestTopic, partition int32, code int16, msg string, record int) {
	a := kmsg.NewProduceResponseTopicPartition()
	a.Partition, a.ErrorCode, a.ErrorMessage, a.BaseOffset = partition, code, &msg, -1
	if record >= 0 {
		e := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		e.RelativeOffset, e.ErrorMessage = int32(record), &msg
		a.ErrorRecords = []kmsg.ProduceResponseTopicPartitionErrorRecord{e}
	}
	r.list = append(r.list, partitionRefusal{t.Topic, t.TopicID, a})
}

// Keep ends the request half: topics left without partitions leave the
// request, and the refusals are kept for the response half (with acks=0
// no response comes and they are dropped).
func (r *PartitionRefusals) Keep(c *Call, req *kmsg.ProduceRequest) {
	if r.list == nil {
		return
	}
	req.Topics = slices.DeleteFunc(req.Topics, func(t kmsg.ProduceRequestTopic) bool { return len(t.Partitions) == 0 })
	if req.Acks != 0 {
		c.Keep(r)
	}
}

// AnswerRefused adds to a Produce response the answers the running
// interceptor kept with PartitionRefusals.Keep.
func AnswerRefused(c *Call, resp *kmsg.ProduceResponse) {
	r, ok := c.Kept().(*PartitionRefusals)
	if !ok {
		return
	}
	for _, x := range r.list {
		at := slices.IndexFunc(resp.Topics, func(t kmsg.ProduceResponseTopic) bool {
			return t.Topic == x.topic && t.TopicID == x.topicID
		})
		if at < 0 {
			t := kmsg.NewProduceResponseTopic()
			t.Topic, t.TopicID = x.topic, x.topicID
			resp.Topics = append(resp.Topics, t)
			at = len(resp.Topics) - 1
		}
		resp.Topics[at].Partitions = append(resp.Topics[at].Partitions, x.partition)
	}
}
