package concentration

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/store"
)

// offsetCommit keeps a group's offsets of concentrated partitions in the
// gateway's commits topic. The broker still judges the commit — member,
// generation or epoch — through a witness: the request commits offset -1
// (no offset) on a physical partition in their place, and the logical
// offsets are written only when the broker accepted it.
func (x *Exchange) offsetCommit(r *kmsg.OffsetCommitRequest) {
	v := r.GetVersion() >= 10 // topics by id
	var pending []commit
	var refused []refusal
	var witness *Topic
	kept := make([]kmsg.OffsetCommitRequestTopic, 0, len(r.Topics))
	for _, t := range r.Topics {
		ct := x.view.topic(&t.Topic, t.TopicID)
		if ct == nil {
			kept = append(kept, t)
			continue
		}
		for _, p := range t.Partitions {
			if p.Partition < 0 || int(p.Partition) >= len(ct.Partitions) {
				refused = append(refused, refusal{ct, p.Partition, kerr.UnknownTopicOrPartition.Code})
				continue
			}
			witness = ct
			pending = append(pending, commit{Group: r.Group, Topic: ct.ID, Partition: p.Partition,
				Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Metadata: p.Metadata})
		}
	}
	if pending == nil && refused == nil {
		return
	}
	wk := ptKey{}
	if witness != nil {
		w := kmsg.NewOffsetCommitRequestTopic()
		w.Topic, w.TopicID = witness.Physical, witness.PhysicalID
		wp := kmsg.NewOffsetCommitRequestTopicPartition()
		wp.Partition, wp.Offset, wp.LeaderEpoch = witness.Partitions[0], -1, -1
		w.Partitions = []kmsg.OffsetCommitRequestTopicPartition{wp}
		kept = append(kept, w)
		wk = keyOf(v, witness.Physical, witness.PhysicalID, wp.Partition)
	}
	r.Topics = kept
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		c := resp.(*kmsg.OffsetCommitResponse)
		code := kerr.UnknownServerError.Code
		for i := range c.Topics {
			t := &c.Topics[i]
			t.Partitions = deleteFunc(t.Partitions, func(p *kmsg.OffsetCommitResponseTopicPartition) bool {
				if keyOf(v, t.Topic, t.TopicID, p.Partition) != wk {
					return false
				}
				code = p.ErrorCode
				return true
			})
		}
		c.Topics = deleteFunc(c.Topics, func(t *kmsg.OffsetCommitResponseTopic) bool { return len(t.Partitions) == 0 })
		if witness != nil && code == 0 {
			code = x.c.storeCommits(pending)
		}
		for _, a := range refused {
			commitAnswer(c, a.topic, a.partition, a.code)
		}
		for _, p := range pending {
			commitAnswer(c, x.view.byID[p.Topic], p.Partition, code)
		}
		return nil
	}
}

// refusal is a partition answered without asking anyone.
type refusal struct {
	topic     *Topic
	partition int32
	code      int16
}

// commitAnswer adds a logical partition's answer to an OffsetCommit
// response.
func commitAnswer(c *kmsg.OffsetCommitResponse, ct *Topic, partition int32, code int16) {
	p := kmsg.NewOffsetCommitResponseTopicPartition()
	p.Partition, p.ErrorCode = partition, code
	for i := range c.Topics {
		if t := &c.Topics[i]; t.Topic == ct.Name && t.TopicID == ct.ID {
			t.Partitions = append(t.Partitions, p)
			return
		}
	}
	t := kmsg.NewOffsetCommitResponseTopic()
	t.Topic, t.TopicID = ct.Name, ct.ID
	t.Partitions = []kmsg.OffsetCommitResponseTopicPartition{p}
	c.Topics = append(c.Topics, t)
}

// commitTimeout bounds writing a commit to the commits topic.
const commitTimeout = 10 * time.Second

// storeCommits writes accepted offsets; a failure is answered with a
// retriable error, so the client commits again.
func (c *Concentrator) storeCommits(cs []commit) int16 {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	kvs := make([]store.KV, len(cs))
	for i, cm := range cs {
		value, _ := json.Marshal(cm) // cannot fail
		kvs[i] = store.KV{Key: commitKey{cm.Group, cm.Topic, cm.Partition}.bytes(), Value: value}
	}
	if err := c.commits.PutAll(ctx, kvs); err != nil {
		c.log.Warn("storing committed offsets of concentrated topics failed", zap.String("group", cs[0].Group), zap.Error(err))
		return kerr.CoordinatorNotAvailable.Code
	}
	return 0
}

// deleteGroups forgets the concentrated offsets of every group the broker
// deleted, so a group created again under the name starts afresh.
func (x *Exchange) deleteGroups(r *kmsg.DeleteGroupsRequest) {
	cs := *x.c.committed.Load()
	if !slices.ContainsFunc(r.Groups, func(g string) bool { return len(cs[g]) > 0 }) {
		return
	}
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		var kvs []store.KV
		for _, g := range resp.(*kmsg.DeleteGroupsResponse).Groups {
			if g.ErrorCode != 0 {
				continue
			}
			for k := range cs[g.Group] {
				kvs = append(kvs, store.KV{Key: k.bytes()})
			}
		}
		if len(kvs) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		defer cancel()
		if err := x.c.commits.PutAll(ctx, kvs); err != nil {
			// The groups are gone at the broker; their old offsets would
			// come back with a group of the same name, so say so.
			x.c.log.Error("forgetting deleted groups' offsets of concentrated topics failed", zap.Error(err))
		}
		return nil
	}
}
