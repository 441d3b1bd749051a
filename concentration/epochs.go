package concentration

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// epochAsk is one logical partition of an OffsetForLeaderEpoch.
type epochAsk struct {
	topic     *Topic
	partition int32
	part      int // -1: answered without the broker
	result    kmsg.OffsetForLeaderEpochResponseTopicPartition
}

// offsetForLeaderEpoch asks about the physical partitions behind
// concentrated ones (a consumer validates its position after a leader
// change or when resuming from a commit). Leader epochs are the physical
// partition's; the end offset of an epoch is translated for dense topics.
func (x *Exchange) offsetForLeaderEpoch(r *kmsg.OffsetForLeaderEpochRequest) {
	var used placement
	var asks []*epochAsk
	kept := make([]kmsg.OffsetForLeaderEpochRequestTopic, 0, len(r.Topics))
	var concentrated []kmsg.OffsetForLeaderEpochRequestTopic
	for _, t := range r.Topics {
		if x.view.byName[t.Topic] != nil {
			concentrated = append(concentrated, t)
			continue
		}
		for _, p := range t.Partitions {
			used.take(ptKey{t.Topic, p.Partition})
		}
		kept = append(kept, t)
	}
	if concentrated == nil {
		return
	}
	r.Topics = kept
	for _, t := range concentrated {
		ct := x.view.byName[t.Topic]
		for _, p := range t.Partitions {
			a := &epochAsk{topic: ct, partition: p.Partition, part: -1}
			a.result = kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			a.result.Partition = p.Partition
			asks = append(asks, a)
			if _, code := x.c.follower.index(ct, p.Partition); code != 0 {
				a.result.ErrorCode = code
				continue
			}
			q := ct.Partitions[p.Partition]
			a.part = used.take(ptKey{ct.Physical, q})
			if a.part > len(x.Extra) {
				e := kmsg.NewPtrOffsetForLeaderEpochRequest()
				e.SetVersion(r.GetVersion())
				e.ReplicaID = r.ReplicaID
				x.Extra = append(x.Extra, e)
			}
			dst := r
			if a.part > 0 {
				dst = x.Extra[a.part-1].(*kmsg.OffsetForLeaderEpochRequest)
			}
			p.Partition = q
			addEpochAsk(dst, ct.Physical, p)
		}
	}
	x.respond = func(resp kmsg.Response, extra []kmsg.Response) error {
		x.epochsAnswered(resp.(*kmsg.OffsetForLeaderEpochResponse), extra, asks)
		return nil
	}
}

func addEpochAsk(r *kmsg.OffsetForLeaderEpochRequest, topic string, p kmsg.OffsetForLeaderEpochRequestTopicPartition) {
	for i := range r.Topics {
		if t := &r.Topics[i]; t.Topic == topic {
			t.Partitions = append(t.Partitions, p)
			return
		}
	}
	t := kmsg.NewOffsetForLeaderEpochRequestTopic()
	t.Topic, t.Partitions = topic, []kmsg.OffsetForLeaderEpochRequestTopicPartition{p}
	r.Topics = append(r.Topics, t)
}

// epochsAnswered answers the logical partitions of an
// OffsetForLeaderEpoch.
func (x *Exchange) epochsAnswered(resp *kmsg.OffsetForLeaderEpochResponse, extra []kmsg.Response, asks []*epochAsk) {
	parts := []*kmsg.OffsetForLeaderEpochResponse{resp}
	for _, e := range extra {
		parts = append(parts, e.(*kmsg.OffsetForLeaderEpochResponse))
	}
	added := map[ptKey]bool{}
	for _, a := range asks {
		if a.part < 0 {
			continue
		}
		k := ptKey{a.topic.Physical, a.topic.Partitions[a.partition]}
		if a.part == 0 {
			added[k] = true
		}
		got := epochShape.find(parts[a.part].Topics, k)
		if got == nil {
			a.result.ErrorCode = kerr.UnknownServerError.Code
			continue
		}
		p := a.result.Partition
		a.result = *got
		a.result.Partition = p
		if got.ErrorCode == 0 && a.topic.Dense && got.EndOffset >= 0 {
			ix, _ := x.c.follower.index(a.topic, a.partition)
			a.result.EndOffset = ix.Logical(a.topic.Tag(a.partition), got.EndOffset)
		}
	}
	resp.Topics = epochShape.drop(resp.Topics, added)
	for _, a := range asks {
		name := a.topic.Name
		epochShape.add(&resp.Topics, func(t *kmsg.OffsetForLeaderEpochResponseTopic) bool { return t.Topic == name },
			func() kmsg.OffsetForLeaderEpochResponseTopic {
				t := kmsg.NewOffsetForLeaderEpochResponseTopic()
				t.Topic = name
				return t
			}, a.result)
	}
}
