package concentration

import (
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/records"
)

// route is where one logical partition of a Produce went, and its answer.
type route struct {
	topic     *Topic
	partition int32
	part      int   // 0: the translated request, i: x.Extra[i-1]
	last      int64 // last offset delta of the batch sent
	result    kmsg.ProduceResponseTopicPartition
}

// indexWait bounds how long a produce answer waits for the offset index
// to reach its batches; past it the logical offsets are answered as -1
// (unknown), which producers accept.
const indexWait = 5 * time.Second

// produce sends the batches of concentrated topics to their physical
// partitions, each record tagged with its logical topic and partition.
// A Produce carries one batch per partition, so batches of logical
// partitions sharing a physical one go in extra requests. Producer ids
// are cleared: sequence numbers count per logical partition and would
// clash on the shared physical one (so a retried batch may be written
// twice). Transactional writes are refused.
func (x *Exchange) produce(r *kmsg.ProduceRequest) {
	v := r.GetVersion() >= 13 // topics by id
	var concentrated []kmsg.ProduceRequestTopic
	var used placement
	kept := make([]kmsg.ProduceRequestTopic, 0, len(r.Topics))
	for _, t := range r.Topics {
		if x.view.topic(&t.Topic, t.TopicID) != nil {
			concentrated = append(concentrated, t)
			continue
		}
		for _, p := range t.Partitions {
			used.take(keyOf(v, t.Topic, t.TopicID, p.Partition))
		}
		kept = append(kept, t)
	}
	if concentrated == nil {
		return
	}
	r.Topics = kept
	var routes []*route
	for _, t := range concentrated {
		ct := x.view.topic(&t.Topic, t.TopicID)
		for _, p := range t.Partitions {
			rt := &route{topic: ct, partition: p.Partition, part: -1}
			rt.result = kmsg.NewProduceResponseTopicPartition()
			rt.result.Partition, rt.result.BaseOffset = p.Partition, -1
			routes = append(routes, rt)
			if code, msg := x.tagPartition(r, ct, &p, &rt.last); code != 0 {
				rt.result.ErrorCode, rt.result.ErrorMessage = code, msg
				continue
			}
			rt.part = used.take(keyOf(v, ct.Physical, ct.PhysicalID, p.Partition))
			if rt.part > len(x.Extra) {
				e := kmsg.NewPtrProduceRequest()
				e.SetVersion(r.GetVersion())
				e.Acks, e.TimeoutMillis = r.Acks, r.TimeoutMillis
				x.Extra = append(x.Extra, e)
			}
			dst := r
			if rt.part > 0 {
				dst = x.Extra[rt.part-1].(*kmsg.ProduceRequest)
			}
			addProduce(dst, ct, p)
		}
	}
	x.respond = func(resp kmsg.Response, extra []kmsg.Response) error {
		return x.produced(resp.(*kmsg.ProduceResponse), extra, routes)
	}
}

// tagPartition checks one logical partition of a Produce and rewrites its
// batches in place for the physical partition (p.Partition becomes the
// physical one). A non-zero code refuses the partition.
func (x *Exchange) tagPartition(r *kmsg.ProduceRequest, ct *Topic, p *kmsg.ProduceRequestTopicPartition, last *int64) (int16, *string) {
	switch {
	case p.Partition < 0 || int(p.Partition) >= len(ct.Partitions):
		return kerr.UnknownTopicOrPartition.Code, nil
	case r.TransactionID != nil:
		return kerr.InvalidTxnState.Code, kmsg.StringPtr("transactions are not supported on concentrated topics")
	}
	data, n, err := tag(p.Records, ct.ID, p.Partition)
	if err != nil {
		return kerr.InvalidRecord.Code, kmsg.StringPtr(err.Error())
	}
	p.Records, p.Partition, *last = data, ct.Partitions[p.Partition], n
	return 0, nil
}

// addProduce adds a physical partition's batch to a Produce request.
func addProduce(r *kmsg.ProduceRequest, ct *Topic, p kmsg.ProduceRequestTopicPartition) {
	for i := range r.Topics {
		if t := &r.Topics[i]; t.Topic == ct.Physical && t.TopicID == ct.PhysicalID {
			t.Partitions = append(t.Partitions, p)
			return
		}
	}
	t := kmsg.NewProduceRequestTopic()
	t.Topic, t.TopicID = ct.Physical, ct.PhysicalID
	t.Partitions = []kmsg.ProduceRequestTopicPartition{p}
	r.Topics = append(r.Topics, t)
}

var errTransactional = errors.New("concentration: transactional batches are not supported on concentrated topics")

// tag rewrites a producer's batches: every record gets the tag headers
// (replacing any it brought), and the producer id, epoch and sequence are
// cleared. It returns the last offset delta of the batches.
func tag(data []byte, id ID, partition int32) ([]byte, int64, error) {
	idText, pText := []byte(id.String()), []byte(strconv.Itoa(int(partition)))
	var last int64
	out, err := records.RewriteAll(data, func(b *records.Batch) (bool, error) {
		if b.Header.Attributes&0x10 != 0 {
			return false, errTransactional
		}
		b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.FirstSequence = -1, -1, -1
		for i := range b.Records {
			rec := &b.Records[i]
			hs := rec.Headers[:0]
			for _, h := range rec.Headers {
				if h.Key != TopicHeader && h.Key != PartitionHeader {
					hs = append(hs, h)
				}
			}
			rec.Headers = append(hs,
				kmsg.Header{Key: TopicHeader, Value: idText},
				kmsg.Header{Key: PartitionHeader, Value: pText})
		}
		last += int64(b.Header.LastOffsetDelta) + 1
		return true, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, last - 1, nil
}

// produced answers a Produce in logical terms: the routed partitions'
// answers replace the physical ones the gateway added.
func (x *Exchange) produced(resp *kmsg.ProduceResponse, extra []kmsg.Response, routes []*route) error {
	v := resp.GetVersion() >= 13
	parts := append([]*kmsg.ProduceResponse{resp}, make([]*kmsg.ProduceResponse, len(extra))...)
	for i, e := range extra {
		parts[i+1] = e.(*kmsg.ProduceResponse)
	}
	added := map[ptKey]bool{}
	// One wait for the index per answer, however many partitions it has.
	deadline := time.Now().Add(indexWait)
	for _, rt := range routes {
		if rt.part < 0 {
			continue
		}
		k := keyOf(v, rt.topic.Physical, rt.topic.PhysicalID, rt.topic.Partitions[rt.partition])
		if rt.part == 0 {
			added[k] = true
		}
		got := produceShape(v).find(parts[rt.part].Topics, k)
		if got == nil {
			rt.result.ErrorCode = kerr.UnknownServerError.Code
			continue
		}
		rt.result.ErrorCode, rt.result.ErrorMessage = got.ErrorCode, got.ErrorMessage
		rt.result.LogAppendTime, rt.result.ErrorRecords = got.LogAppendTime, got.ErrorRecords
		rt.result.CurrentLeader = got.CurrentLeader
		if got.ErrorCode == 0 {
			rt.result.BaseOffset = x.c.follower.logicalOffset(rt.topic, rt.partition, got.BaseOffset, got.BaseOffset+rt.last, deadline)
			rt.result.LogStartOffset = x.c.follower.logicalStart(rt.topic, rt.partition, got.LogStartOffset)
		}
	}
	// Drop the physical answers the gateway caused, then add the logical.
	sh := produceShape(v)
	resp.Topics = sh.drop(resp.Topics, added)
	for _, rt := range routes {
		ct := rt.topic
		sh.add(&resp.Topics, func(t *kmsg.ProduceResponseTopic) bool { return t.Topic == ct.Name && t.TopicID == ct.ID },
			func() kmsg.ProduceResponseTopic {
				t := kmsg.NewProduceResponseTopic()
				t.Topic, t.TopicID = ct.Name, ct.ID
				return t
			}, rt.result)
	}
	return nil
}
