package concentration

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeTopicPartitions describes concentrated topics through their
// physical topics, as metadata does; Kafka's admin client asks this API
// for topic descriptions. Concentrated topics are answered whole: the
// request's partition limit and cursor apply to the others.
func (x *Exchange) describeTopicPartitions(r *kmsg.DescribeTopicPartitionsRequest) {
	all := len(r.Topics) == 0
	var asked []*Topic
	added := map[string]bool{}
	if all {
		if len(x.view.byName) == 0 || r.Cursor != nil {
			return
		}
		asked = x.all()
	} else {
		present := map[string]bool{}
		for _, t := range r.Topics {
			present[t.Topic] = true
		}
		kept := r.Topics[:0]
		for _, t := range r.Topics {
			ct := x.view.byName[t.Topic]
			if ct == nil {
				kept = append(kept, t)
				continue
			}
			asked = append(asked, ct)
			if !present[ct.Physical] {
				present[ct.Physical], added[ct.Physical] = true, true
				kept = append(kept, kmsg.DescribeTopicPartitionsRequestTopic{Topic: ct.Physical})
			}
		}
		if asked == nil {
			return
		}
		r.Topics = kept
	}
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		d := resp.(*kmsg.DescribeTopicPartitionsResponse)
		physical := map[string]*kmsg.DescribeTopicPartitionsResponseTopic{}
		for i := range d.Topics {
			if t := &d.Topics[i]; t.Topic != nil {
				physical[*t.Topic] = t
			}
		}
		var out []kmsg.DescribeTopicPartitionsResponseTopic
		for _, ct := range asked {
			out = append(out, describeLogical(ct, physical[ct.Physical]))
		}
		d.Topics = slices.DeleteFunc(d.Topics, func(t kmsg.DescribeTopicPartitionsResponseTopic) bool {
			return t.Topic != nil && added[*t.Topic]
		})
		d.Topics = append(d.Topics, out...)
		return nil
	}
}

// describeLogical describes a concentrated topic through its physical
// topic's entry (nil when the answer lacks it, as in a listing cut short
// by the partition limit: the physical topic is then described as not
// ready, and the client asks again).
func describeLogical(ct *Topic, p *kmsg.DescribeTopicPartitionsResponseTopic) kmsg.DescribeTopicPartitionsResponseTopic {
	e := kmsg.NewDescribeTopicPartitionsResponseTopic()
	e.Topic, e.TopicID = kmsg.StringPtr(ct.Name), ct.ID
	if p == nil || p.ErrorCode != 0 {
		e.ErrorCode = kerr.LeaderNotAvailable.Code
		return e
	}
	e.AuthorizedOperations = p.AuthorizedOperations
	e.Partitions = logicalPartitions(ct, p.Partitions,
		func(pp *kmsg.DescribeTopicPartitionsResponseTopicPartition) *int32 { return &pp.Partition },
		func() kmsg.DescribeTopicPartitionsResponseTopicPartition {
			pp := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
			pp.ErrorCode, pp.LeaderID = kerr.LeaderNotAvailable.Code, -1
			return pp
		})
	return e
}
