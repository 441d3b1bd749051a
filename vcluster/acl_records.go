package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Guards of the APIs that name topics: every topic the client may not
// touch is taken out of the request and answered with
// TOPIC_AUTHORIZATION_FAILED, the rest goes to the broker, as Kafka's own
// authorizer does per topic.

func init() {
	produce := aTopicGuard(kmsg.ACLOperationWrite,
		func(r *kmsg.ProduceRequest) *[]kmsg.ProduceRequestTopic { return &r.Topics },
		func(t *kmsg.ProduceRequestTopic) string { return t.Topic },
		func(t *kmsg.ProduceRequestTopic, code int16) kmsg.ProduceResponseTopic {
			a := kmsg.NewProduceResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewProduceResponseTopicPartition()
				ap.Partition, ap.ErrorCode, ap.BaseOffset = p.Partition, code, -1
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.ProduceResponse) *[]kmsg.ProduceResponseTopic { return &r.Topics })
	guardKey(0, guard{
		request: func(x *Exchange, req kmsg.Request) bool {
			if r := req.(*kmsg.ProduceRequest); r.TransactionID != nil && !x.canTxn(*r.TransactionID, kmsg.ACLOperationWrite) {
				return produce.refuseAll(x, req, kerr.TransactionalIDAuthorizationFailed.Code)
			}
			return produce.request(x, req)
		},
		response: produce.response,
	})
	guardKey(1, aTopicGuard(kmsg.ACLOperationRead,
		func(r *kmsg.FetchRequest) *[]kmsg.FetchRequestTopic { return &r.Topics },
		func(t *kmsg.FetchRequestTopic) string { return t.Topic },
		func(t *kmsg.FetchRequestTopic, code int16) kmsg.FetchResponseTopic {
			a := kmsg.NewFetchResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewFetchResponseTopicPartition()
				ap.Partition, ap.ErrorCode, ap.HighWatermark = p.Partition, code, -1
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.FetchResponse) *[]kmsg.FetchResponseTopic { return &r.Topics }).guard())
	guardKey(2, aTopicGuard(kmsg.ACLOperationDescribe,
		func(r *kmsg.ListOffsetsRequest) *[]kmsg.ListOffsetsRequestTopic { return &r.Topics },
		func(t *kmsg.ListOffsetsRequestTopic) string { return t.Topic },
		func(t *kmsg.ListOffsetsRequestTopic, code int16) kmsg.ListOffsetsResponseTopic {
			a := kmsg.NewListOffsetsResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewListOffsetsResponseTopicPartition()
				ap.Partition, ap.ErrorCode = p.Partition, code
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.ListOffsetsResponse) *[]kmsg.ListOffsetsResponseTopic { return &r.Topics }).guard())
	guardKey(21, aTopicGuard(kmsg.ACLOperationDelete,
		func(r *kmsg.DeleteRecordsRequest) *[]kmsg.DeleteRecordsRequestTopic { return &r.Topics },
		func(t *kmsg.DeleteRecordsRequestTopic) string { return t.Topic },
		func(t *kmsg.DeleteRecordsRequestTopic, code int16) kmsg.DeleteRecordsResponseTopic {
			a := kmsg.NewDeleteRecordsResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewDeleteRecordsResponseTopicPartition()
				ap.Partition, ap.ErrorCode, ap.LowWatermark = p.Partition, code, -1
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.DeleteRecordsResponse) *[]kmsg.DeleteRecordsResponseTopic { return &r.Topics }).guard())
	guardKey(23, aTopicGuard(kmsg.ACLOperationDescribe,
		func(r *kmsg.OffsetForLeaderEpochRequest) *[]kmsg.OffsetForLeaderEpochRequestTopic { return &r.Topics },
		func(t *kmsg.OffsetForLeaderEpochRequestTopic) string { return t.Topic },
		func(t *kmsg.OffsetForLeaderEpochRequestTopic, code int16) kmsg.OffsetForLeaderEpochResponseTopic {
			a := kmsg.NewOffsetForLeaderEpochResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
				ap.Partition, ap.ErrorCode = p.Partition, code
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.OffsetForLeaderEpochResponse) *[]kmsg.OffsetForLeaderEpochResponseTopic { return &r.Topics }).guard())
	guardKey(61, aTopicGuard(kmsg.ACLOperationRead,
		func(r *kmsg.DescribeProducersRequest) *[]kmsg.DescribeProducersRequestTopic { return &r.Topics },
		func(t *kmsg.DescribeProducersRequestTopic) string { return t.Topic },
		func(t *kmsg.DescribeProducersRequestTopic, code int16) kmsg.DescribeProducersResponseTopic {
			a := kmsg.NewDescribeProducersResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewDescribeProducersResponseTopicPartition()
				ap.Partition, ap.ErrorCode = p, code
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.DescribeProducersResponse) *[]kmsg.DescribeProducersResponseTopic { return &r.Topics }).guard())
}

// aEntries is the guard of an API whose request lists entries (T) that
// each name one resource and whose response answers each with an entry (A).
type aEntries[Req kmsg.Request, Resp kmsg.Response, T, A any] struct {
	entries func(Req) *[]T
	// check returns the error code that refuses an entry, 0 to allow it.
	check   func(x *Exchange, t *T) int16
	answer  func(t *T, code int16) A
	answers func(Resp) *[]A
}

// aTopicGuard returns the guard that requires op on the topic of every
// entry.
func aTopicGuard[Req kmsg.Request, Resp kmsg.Response, T, A any](op kmsg.ACLOperation, entries func(Req) *[]T, name func(*T) string, answer func(*T, int16) A, answers func(Resp) *[]A) aEntries[Req, Resp, T, A] {
	check := func(x *Exchange, t *T) int16 {
		if x.canTopic(name(t), op) {
			return 0
		}
		return kerr.TopicAuthorizationFailed.Code
	}
	return aEntries[Req, Resp, T, A]{entries, check, answer, answers}
}

func (g aEntries[Req, Resp, T, A]) guard() guard {
	return guard{request: g.request, response: g.response}
}

// request refuses the entries check turns down.
func (g aEntries[Req, Resp, T, A]) request(x *Exchange, req kmsg.Request) bool {
	s := g.entries(req.(Req))
	var refused []A
	*s, refused = tSplit(*s, func(t *T) (A, bool) {
		if code := g.check(x, t); code != 0 {
			return g.answer(t, code), true
		}
		var none A
		return none, false
	})
	aKeep(x, refused)
	return len(*s) > 0
}

// refuseAll answers every entry with code.
func (g aEntries[Req, Resp, T, A]) refuseAll(x *Exchange, req kmsg.Request, code int16) bool {
	s := g.entries(req.(Req))
	refused := make([]A, 0, len(*s))
	for i := range *s {
		refused = append(refused, g.answer(&(*s)[i], code))
	}
	*s = nil
	aKeep(x, refused)
	return false
}

// response appends the answers for the refused entries.
func (g aEntries[Req, Resp, T, A]) response(x *Exchange, resp kmsg.Response) {
	s := g.answers(resp.(Resp))
	*s = append(*s, aAnswers[A](x)...)
}
