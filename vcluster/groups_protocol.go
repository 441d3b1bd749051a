package vcluster

import "github.com/twmb/franz-go/pkg/kmsg"

// Classic groups carry opaque bytes the broker stores and hands back: each
// member's protocol metadata (JoinGroup) and the leader's assignments
// (SyncGroup). Groups of Kafka consumers fill them with the embedded
// consumer protocol, which names topics, so those names are translated like
// any other; bytes of any other shape pass untouched.

// gConsumerProtocol is the protocol type of groups of Kafka consumers.
const gConsumerProtocol = "consumer"

// gMaybeConsumer reports whether a group whose protocol type is pt, nil when
// the request or response version does not carry it, may use the consumer
// protocol. Unknown types are translated when their bytes parse, the same
// way in both directions, so what a member reads is what the leader wrote.
func gMaybeConsumer(pt *string) bool {
	return pt == nil || *pt == gConsumerProtocol
}

// gMetadata translates the topics of consumer member metadata: those it
// subscribes to and, from version 1, those it owns. translate returns false
// for a topic to drop. The fields kmsg knows re-encode to as many bytes as
// they were read from, so rest is whatever a newer version appended; it is
// kept as it came.
func gMetadata(b []byte, translate func(string) (string, bool)) []byte {
	var m kmsg.ConsumerMemberMetadata
	if m.ReadFrom(b) != nil {
		return b
	}
	rest := b[len(m.AppendTo(nil)):]
	m.Topics = gNames(m.Topics, translate)
	m.OwnedPartitions = retain(m.OwnedPartitions, func(p *kmsg.ConsumerMemberMetadataOwnedPartition) bool {
		return gRename(&p.Topic, translate)
	})
	return append(m.AppendTo(nil), rest...)
}

// gAssignment translates the topics of a consumer member assignment.
func gAssignment(b []byte, translate func(string) (string, bool)) []byte {
	var a kmsg.ConsumerMemberAssignment
	if a.ReadFrom(b) != nil {
		return b
	}
	rest := b[len(a.AppendTo(nil)):]
	a.Topics = retain(a.Topics, func(t *kmsg.ConsumerMemberAssignmentTopic) bool {
		return gRename(&t.Topic, translate)
	})
	return append(a.AppendTo(nil), rest...)
}
