package interceptor

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// refuseOdd takes the odd partitions out of every Produce request.
type refuseOdd struct{ Base }

func (refuseOdd) Subscribe() Subscription {
	return Subscription{Requests: []int16{0}, Responses: []int16{0}}
}

func (refuseOdd) Request(c *Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	var refused PartitionRefusals
	for i := range r.Topics {
		t := &r.Topics[i]
		kept := t.Partitions[:0]
		for _, p := range t.Partitions {
			if p.Partition%2 == 1 {
				refused.Add(t, p.Partition, 87, "odd", int(p.Partition))
				continue
			}
			kept = append(kept, p)
		}
		t.Partitions = kept
	}
	refused.Keep(c, r)
}

func (refuseOdd) Response(c *Call, resp kmsg.Response) {
	AnswerRefused(c, resp.(*kmsg.ProduceResponse))
}

func TestPartitionRefusals(t *testing.T) {
	ch := NewChain(1, []Step{{Name: "odd", Plugin: "t", Interceptor: refuseOdd{}}}, nil, Node{})
	for _, acks := range []int16{-1, 0} {
		req := kmsg.NewPtrProduceRequest()
		req.Acks = acks
		for _, name := range []string{"a", "b"} {
			topic := kmsg.NewProduceRequestTopic()
			topic.Topic = name
			for p := range int32(2) {
				if name == "b" && p == 0 {
					continue // b holds only a refused partition
				}
				pt := kmsg.NewProduceRequestTopicPartition()
				pt.Partition = p
				topic.Partitions = append(topic.Partitions, pt)
			}
			req.Topics = append(req.Topics, topic)
		}
		call := ch.Begin(&Conn{}, 0, 9, nil, time.Now())
		call.Request(req)
		if len(req.Topics) != 1 || req.Topics[0].Topic != "a" || len(req.Topics[0].Partitions) != 1 {
			t.Fatalf("acks=%d: forwarded %+v", acks, req.Topics)
		}
		resp := kmsg.NewPtrProduceResponse()
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = "a"
		rt.Partitions = []kmsg.ProduceResponseTopicPartition{kmsg.NewProduceResponseTopicPartition()}
		resp.Topics = []kmsg.ProduceResponseTopic{rt}
		call.Response(resp)
		if acks == 0 {
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("acks=0 kept refusals: %+v", resp.Topics)
			}
			continue
		}
		if len(resp.Topics) != 2 || len(resp.Topics[0].Partitions) != 2 || resp.Topics[1].Topic != "b" {
			t.Fatalf("answers: %+v", resp.Topics)
		}
		a := resp.Topics[1].Partitions[0]
		if a.Partition != 1 || a.ErrorCode != 87 || *a.ErrorMessage != "odd" || a.BaseOffset != -1 ||
			len(a.ErrorRecords) != 1 || a.ErrorRecords[0].RelativeOffset != 1 {
			t.Fatalf("refusal answer: %+v", a)
		}
	}
}
