package concentration

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metadata lists concentrated topics as ordinary ones. Each is described
// by its physical topic's partitions, so the request asks for the
// physical topics instead; those the client did not ask for are dropped
// from the answer. A name a rule would concentrate but nobody created is
// unknown rather than left to the broker, which might create it.
func (x *Exchange) metadata(r *kmsg.MetadataRequest) {
	var asked []*Topic // nil with r.Topics nil: every topic
	var unknown []kmsg.MetadataRequestTopic
	added := map[string]bool{}
	if r.Topics != nil {
		kept := r.Topics[:0]
		present := map[string]bool{}
		for _, t := range r.Topics {
			if t.Topic != nil {
				present[*t.Topic] = true
			}
		}
		for _, t := range r.Topics {
			switch ct := x.view.topic(t.Topic, t.TopicID); {
			case ct != nil:
				asked = append(asked, ct)
				if !present[ct.Physical] {
					present[ct.Physical], added[ct.Physical] = true, true
					kept = append(kept, kmsg.MetadataRequestTopic{Topic: kmsg.StringPtr(ct.Physical)})
				}
			case t.Topic != nil && x.concentrates(*t.Topic):
				unknown = append(unknown, t)
			default:
				kept = append(kept, t)
			}
		}
		if len(asked) == 0 && len(unknown) == 0 {
			return
		}
		r.Topics = kept
	} else if len(x.view.byName) == 0 {
		return
	}
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		m := resp.(*kmsg.MetadataResponse)
		physical := map[string]*kmsg.MetadataResponseTopic{}
		for i := range m.Topics {
			if t := &m.Topics[i]; t.Topic != nil {
				physical[*t.Topic] = t
			}
		}
		list := asked
		if r.Topics == nil {
			list = x.all()
		}
		out := make([]kmsg.MetadataResponseTopic, 0, len(list)+len(unknown))
		for _, ct := range list {
			out = append(out, logicalMetadata(ct, physical[ct.Physical]))
		}
		for _, t := range unknown {
			e := kmsg.NewMetadataResponseTopic()
			e.Topic, e.ErrorCode = t.Topic, kerr.UnknownTopicOrPartition.Code
			out = append(out, e)
		}
		m.Topics = slices.DeleteFunc(m.Topics, func(t kmsg.MetadataResponseTopic) bool {
			return t.Topic != nil && added[*t.Topic]
		})
		m.Topics = append(m.Topics, out...)
		return nil
	}
}

// all returns every concentrated topic, in name order.
func (x *Exchange) all() []*Topic {
	ts := make([]*Topic, 0, len(x.view.byName))
	for _, t := range x.view.byName {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *Topic) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return ts
}

// logicalMetadata describes a concentrated topic through its physical
// topic's entry (nil when the answer lacks it).
func logicalMetadata(ct *Topic, p *kmsg.MetadataResponseTopic) kmsg.MetadataResponseTopic {
	e := kmsg.NewMetadataResponseTopic()
	e.Topic, e.TopicID = kmsg.StringPtr(ct.Name), ct.ID
	if p == nil || p.ErrorCode != 0 {
		e.ErrorCode = kerr.LeaderNotAvailable.Code // retriable: the physical topic is not ready
		return e
	}
	e.AuthorizedOperations = p.AuthorizedOperations
	e.Partitions = logicalPartitions(ct, p.Partitions,
		func(pp *kmsg.MetadataResponseTopicPartition) *int32 { return &pp.Partition },
		func() kmsg.MetadataResponseTopicPartition {
			pp := kmsg.NewMetadataResponseTopicPartition()
			pp.ErrorCode, pp.Leader = kerr.LeaderNotAvailable.Code, -1
			return pp
		})
	return e
}

// concentrates reports whether a backing name belongs to the client's
// virtual cluster and falls under one of its rules.
func (x *Exchange) concentrates(name string) bool {
	logical, ok := x.space.LogicalTopic(name)
	return ok && x.c.rules.Load().match(x.space.Name(), logical) != nil
}

// logicalPartitions describes each logical partition of ct by a copy of
// its physical partition's entry in physical, renumbered; missing makes
// the entry of a physical partition the answer lacks.
func logicalPartitions[P any](ct *Topic, physical []P, number func(*P) *int32, missing func() P) []P {
	byNumber := map[int32]*P{}
	for i := range physical {
		byNumber[*number(&physical[i])] = &physical[i]
	}
	out := make([]P, 0, len(ct.Partitions))
	for lp, q := range ct.Partitions {
		e := missing()
		if src := byNumber[q]; src != nil {
			e = *src
		}
		*number(&e) = int32(lp)
		out = append(out, e)
	}
	return out
}
