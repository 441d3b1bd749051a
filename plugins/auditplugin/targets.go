package auditplugin

import (
	"strings"
	"unicode"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

// supported are the API keys the plugin can record: the requests that
// name topics.
var supported = []kmsg.Key{
	kmsg.Produce, kmsg.Fetch, kmsg.ListOffsets, kmsg.Metadata,
	kmsg.OffsetCommit, kmsg.OffsetFetch, kmsg.CreateTopics, kmsg.DeleteTopics,
	kmsg.DeleteRecords, kmsg.TxnOffsetCommit, kmsg.DescribeConfigs, kmsg.AlterConfigs,
	kmsg.CreatePartitions, kmsg.IncrementalAlterConfigs, kmsg.OffsetDelete,
}

// names are the supported keys as a config names them, in the order of
// supported.
var names = func() []string {
	out := make([]string, len(supported))
	for i, k := range supported {
		out[i] = upperSnake(k.Name())
	}
	return out
}()

// upperSnake turns kmsg's name of a key ("CreateTopics") into the
// config's ("CREATE_TOPICS").
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// keyOf returns the supported key a config names, in any letter case.
func keyOf(name string) (int16, bool) {
	for i, n := range names {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return supported[i].Int16(), true
		}
	}
	return 0, false
}

// target is one topic a request names, for one consumer group ("" for
// requests without one).
type target struct {
	group, topic string
	// partitions are the audited partitions of the topic the request
	// names; nil when the request is about the whole topic.
	partitions []int32
}

// targets gathers the topics of a request, in request order, merging a
// topic named twice.
type targets struct {
	conn  *interceptor.Conn
	keep  func(partition int32) bool
	list  []target
	index map[[2]string]int
}

// at returns the target for a group and topic, adding it when new. The
// pointer is valid until the next call.
func (ts *targets) at(group, topic string, partitioned bool) *target {
	k := [2]string{group, topic}
	i, ok := ts.index[k]
	if !ok {
		if ts.index == nil {
			ts.index = map[[2]string]int{}
		}
		i = len(ts.list)
		ts.index[k] = i
		ts.list = append(ts.list, target{group: group, topic: topic})
	}
	t := &ts.list[i]
	if partitioned && t.partitions == nil {
		t.partitions = []int32{}
	}
	return t
}

// whole adds a request about a whole topic, named by name or id.
func (ts *targets) whole(group, name string, id [16]byte) {
	ts.at(group, ts.conn.TopicName(name, id), false)
}

// named adds a topic, named by name or id, whose partitions the request
// names; add them to the returned target with ts.add.
func (ts *targets) named(group, name string, id [16]byte) *target {
	return ts.at(group, ts.conn.TopicName(name, id), true)
}

// add records partition p of t if it is audited.
func (ts *targets) add(t *target, p int32) {
	if ts.keep(p) {
		t.partitions = append(t.partitions, p)
	}
}

// collect gathers the topics of a request of a supported key. A request
// about every topic (Metadata or OffsetFetch without a topic list) counts
// as one whole-topic target with an empty name.
func (ts *targets) collect(req kmsg.Request) {
	var none [16]byte
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		for _, x := range r.Topics {
			t := ts.named("", x.Topic, x.TopicID)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.FetchRequest:
		for _, x := range r.Topics {
			t := ts.named("", x.Topic, x.TopicID)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.ListOffsetsRequest:
		for _, x := range r.Topics {
			t := ts.named("", x.Topic, none)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.DeleteRecordsRequest:
		for _, x := range r.Topics {
			t := ts.named("", x.Topic, none)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.OffsetCommitRequest:
		for _, x := range r.Topics {
			t := ts.named(r.Group, x.Topic, x.TopicID)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.TxnOffsetCommitRequest:
		for _, x := range r.Topics {
			t := ts.named(r.Group, x.Topic, none)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.OffsetDeleteRequest:
		for _, x := range r.Topics {
			t := ts.named(r.Group, x.Topic, none)
			for _, p := range x.Partitions {
				ts.add(t, p.Partition)
			}
		}
	case *kmsg.OffsetFetchRequest:
		ts.offsetFetch(r)
	case *kmsg.MetadataRequest:
		if r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0) {
			ts.at("", "", false)
		}
		for _, x := range r.Topics {
			ts.whole("", deref(x.Topic), x.TopicID)
		}
	case *kmsg.CreateTopicsRequest:
		for _, x := range r.Topics {
			ts.whole("", x.Topic, none)
		}
	case *kmsg.DeleteTopicsRequest:
		for _, n := range r.TopicNames { // v0-5
			ts.whole("", n, none)
		}
		for _, x := range r.Topics { // v6+
			ts.whole("", deref(x.Topic), x.TopicID)
		}
	case *kmsg.CreatePartitionsRequest:
		for _, x := range r.Topics {
			ts.whole("", x.Topic, none)
		}
	case *kmsg.DescribeConfigsRequest:
		for _, x := range r.Resources {
			if x.ResourceType == kmsg.ConfigResourceTypeTopic {
				ts.whole("", x.ResourceName, none)
			}
		}
	case *kmsg.AlterConfigsRequest:
		for _, x := range r.Resources {
			if x.ResourceType == kmsg.ConfigResourceTypeTopic {
				ts.whole("", x.ResourceName, none)
			}
		}
	case *kmsg.IncrementalAlterConfigsRequest:
		for _, x := range r.Resources {
			if x.ResourceType == kmsg.ConfigResourceTypeTopic {
				ts.whole("", x.ResourceName, none)
			}
		}
	}
}

// offsetFetch gathers the groups and topics of an OffsetFetch request:
// one group up to v7, a list of groups from v8. A group without a topic
// list asks for all its topics.
func (ts *targets) offsetFetch(r *kmsg.OffsetFetchRequest) {
	var none [16]byte
	if r.Version < 8 {
		if r.Topics == nil {
			ts.at(r.Group, "", false)
		}
		for _, x := range r.Topics {
			t := ts.named(r.Group, x.Topic, none)
			for _, p := range x.Partitions {
				ts.add(t, p)
			}
		}
		return
	}
	for _, g := range r.Groups {
		if g.Topics == nil {
			ts.at(g.Group, "", false)
		}
		for _, x := range g.Topics {
			t := ts.named(g.Group, x.Topic, x.TopicID)
			for _, p := range x.Partitions {
				ts.add(t, p)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
