package concentration

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupAsk is what an OffsetFetch asks of one group about concentrated
// topics: some partitions of named topics, or everything (all).
type groupAsk struct {
	group string
	all   bool
	named map[*Topic][]int32
}

// offsetFetch answers a group's offsets of concentrated partitions from
// the commits topic; the broker answers the rest. A listing of all of a
// group's offsets leaves out the witnesses OffsetCommit left (offset -1
// on a physical topic of concentration).
func (x *Exchange) offsetFetch(r *kmsg.OffsetFetchRequest) {
	v := r.GetVersion()
	var asks []*groupAsk
	named := func(group string, topics int, each func(func(name *string, id [16]byte, parts []int32) bool)) *groupAsk {
		a := &groupAsk{group: group, all: topics < 0, named: map[*Topic][]int32{}}
		each(func(name *string, id [16]byte, parts []int32) bool {
			ct := x.view.topic(name, id)
			if ct != nil {
				a.named[ct] = parts
			}
			return ct == nil
		})
		return a
	}
	if v < 8 {
		n := len(r.Topics)
		if r.Topics == nil {
			n = -1
		}
		asks = append(asks, named(r.Group, n, func(keep func(*string, [16]byte, []int32) bool) {
			r.Topics = slices.DeleteFunc(r.Topics, func(t kmsg.OffsetFetchRequestTopic) bool {
				return !keep(&t.Topic, [16]byte{}, t.Partitions)
			})
		}))
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		n := len(g.Topics)
		if g.Topics == nil {
			n = -1
		}
		asks = append(asks, named(g.Group, n, func(keep func(*string, [16]byte, []int32) bool) {
			g.Topics = slices.DeleteFunc(g.Topics, func(t kmsg.OffsetFetchRequestGroupTopic) bool {
				return !keep(&t.Topic, t.TopicID, t.Partitions)
			})
		}))
	}
	if !slices.ContainsFunc(asks, func(a *groupAsk) bool { return a.all || len(a.named) > 0 }) {
		return
	}
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		f := resp.(*kmsg.OffsetFetchResponse)
		if v < 8 {
			f.Topics = x.answerOffsets(asks[0], f.Topics)
			return nil
		}
		for i := range f.Groups {
			g := &f.Groups[i]
			for _, a := range asks {
				if a.group == g.Group {
					g.Topics = x.answerGroupOffsets(a, g.Topics)
				}
			}
		}
		return nil
	}
}

// offsets lists what a group committed on the concentrated partitions an
// ask names: per topic, partition → commit (offset -1 when none).
func (x *Exchange) offsets(a *groupAsk) map[*Topic][]commit {
	cs := x.c.committed.Load()
	out := map[*Topic][]commit{}
	mine := (*cs)[a.group]
	if a.all {
		for k, c := range mine {
			if ct := x.view.byID[k.Topic]; ct != nil && int(k.Partition) < len(ct.Partitions) {
				out[ct] = append(out[ct], c)
			}
		}
		return out
	}
	for ct, parts := range a.named {
		for _, p := range parts {
			c, ok := mine[commitKey{a.group, ct.ID, p}]
			if !ok {
				c = commit{Partition: p, Offset: -1, LeaderEpoch: -1}
			}
			out[ct] = append(out[ct], c)
		}
	}
	return out
}

// witness reports whether a listed offset is one OffsetCommit left.
func (x *Exchange) witness(a *groupAsk, topic string, offset int64) bool {
	return a.all && offset == -1 && x.view.byPhysical[topic]
}

func (x *Exchange) answerOffsets(a *groupAsk, topics []kmsg.OffsetFetchResponseTopic) []kmsg.OffsetFetchResponseTopic {
	for i := range topics {
		t := &topics[i]
		t.Partitions = slices.DeleteFunc(t.Partitions, func(p kmsg.OffsetFetchResponseTopicPartition) bool {
			return x.witness(a, t.Topic, p.Offset)
		})
	}
	topics = slices.DeleteFunc(topics, func(t kmsg.OffsetFetchResponseTopic) bool { return len(t.Partitions) == 0 })
	for ct, cs := range x.offsets(a) {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = ct.Name
		for _, c := range cs {
			p := kmsg.NewOffsetFetchResponseTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = c.Partition, c.Offset, c.LeaderEpoch, c.Metadata
			t.Partitions = append(t.Partitions, p)
		}
		topics = append(topics, t)
	}
	return topics
}

func (x *Exchange) answerGroupOffsets(a *groupAsk, topics []kmsg.OffsetFetchResponseGroupTopic) []kmsg.OffsetFetchResponseGroupTopic {
	for i := range topics {
		t := &topics[i]
		t.Partitions = slices.DeleteFunc(t.Partitions, func(p kmsg.OffsetFetchResponseGroupTopicPartition) bool {
			return x.witness(a, t.Topic, p.Offset) || (t.Topic == "" && a.all && p.Offset == -1 && x.view.physicalIDs[t.TopicID])
		})
	}
	topics = slices.DeleteFunc(topics, func(t kmsg.OffsetFetchResponseGroupTopic) bool { return len(t.Partitions) == 0 })
	for ct, cs := range x.offsets(a) {
		t := kmsg.NewOffsetFetchResponseGroupTopic()
		t.Topic, t.TopicID = ct.Name, ct.ID
		for _, c := range cs {
			p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = c.Partition, c.Offset, c.LeaderEpoch, c.Metadata
			t.Partitions = append(t.Partitions, p)
		}
		topics = append(topics, t)
	}
	return topics
}
