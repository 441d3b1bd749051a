package concentration

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// lookup is one logical partition of a ListOffsets.
type lookup struct {
	topic     *Topic
	partition int32
	timestamp int64
	part      int // -1: answered without the broker
	result    kmsg.ListOffsetsResponseTopicPartition
}

// listOffsets asks the broker about the physical partitions behind
// concentrated ones; logical partitions sharing one go in extra requests.
// Dense topics answer earliest and latest from the offset index, and
// translate the physical offset found for a timestamp.
func (x *Exchange) listOffsets(r *kmsg.ListOffsetsRequest) {
	var used placement
	var lookups []*lookup
	kept := make([]kmsg.ListOffsetsRequestTopic, 0, len(r.Topics))
	var concentrated []kmsg.ListOffsetsRequestTopic
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
			l := &lookup{topic: ct, partition: p.Partition, timestamp: p.Timestamp, part: -1}
			l.result = kmsg.NewListOffsetsResponseTopicPartition()
			l.result.Partition = p.Partition
			lookups = append(lookups, l)
			if _, code := x.c.follower.index(ct, p.Partition); code != 0 {
				l.result.ErrorCode = code
				continue
			}
			q := ct.Partitions[p.Partition]
			l.part = used.take(ptKey{ct.Physical, q})
			if l.part > len(x.Extra) {
				e := kmsg.NewPtrListOffsetsRequest()
				e.SetVersion(r.GetVersion())
				e.ReplicaID, e.IsolationLevel, e.TimeoutMillis = r.ReplicaID, r.IsolationLevel, r.TimeoutMillis
				x.Extra = append(x.Extra, e)
			}
			dst := r
			if l.part > 0 {
				dst = x.Extra[l.part-1].(*kmsg.ListOffsetsRequest)
			}
			p.Partition = q
			addListOffsets(dst, ct.Physical, p)
		}
	}
	x.respond = func(resp kmsg.Response, extra []kmsg.Response) error {
		x.listed(resp.(*kmsg.ListOffsetsResponse), extra, lookups)
		return nil
	}
}

func addListOffsets(r *kmsg.ListOffsetsRequest, topic string, p kmsg.ListOffsetsRequestTopicPartition) {
	for i := range r.Topics {
		if t := &r.Topics[i]; t.Topic == topic {
			t.Partitions = append(t.Partitions, p)
			return
		}
	}
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic, t.Partitions = topic, []kmsg.ListOffsetsRequestTopicPartition{p}
	r.Topics = append(r.Topics, t)
}

// Special timestamps of ListOffsets.
const (
	latest   = -1
	earliest = -2
)

// listed answers the logical partitions of a ListOffsets.
func (x *Exchange) listed(resp *kmsg.ListOffsetsResponse, extra []kmsg.Response, lookups []*lookup) {
	parts := []*kmsg.ListOffsetsResponse{resp}
	for _, e := range extra {
		parts = append(parts, e.(*kmsg.ListOffsetsResponse))
	}
	added := map[ptKey]bool{}
	for _, l := range lookups {
		if l.part < 0 {
			continue
		}
		k := ptKey{l.topic.Physical, l.topic.Partitions[l.partition]}
		if l.part == 0 {
			added[k] = true
		}
		got := listedShape.find(parts[l.part].Topics, k)
		if got == nil {
			l.result.ErrorCode = kerr.UnknownServerError.Code
			continue
		}
		p := l.result.Partition
		l.result = *got
		l.result.Partition = p
		if got.ErrorCode != 0 || !l.topic.Dense {
			continue
		}
		ix, _ := x.c.follower.index(l.topic, l.partition)
		tag := l.topic.Tag(l.partition)
		switch {
		case l.timestamp == earliest:
			l.result.Offset = ix.Start(tag)
		case l.timestamp == latest:
			l.result.Offset = ix.Logical(tag, got.Offset)
		case got.Offset >= 0:
			l.result.Offset = ix.Logical(tag, got.Offset)
		}
		l.result.LeaderEpoch = -1 // the physical record's epoch says nothing of the logical one
	}
	resp.Topics = listedShape.drop(resp.Topics, added)
	for _, l := range lookups {
		name := l.topic.Name
		listedShape.add(&resp.Topics, func(t *kmsg.ListOffsetsResponseTopic) bool { return t.Topic == name },
			func() kmsg.ListOffsetsResponseTopic {
				t := kmsg.NewListOffsetsResponseTopic()
				t.Topic = name
				return t
			}, l.result)
	}
}
