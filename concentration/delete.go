package concentration

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/store"
)

// deleteTopics removes concentrated topics from the registry; their
// records stay on the physical topic until its retention drops them, but
// no client can read them again: a topic created anew gets a new id.
func (x *Exchange) deleteTopics(ctx context.Context, r *kmsg.DeleteTopicsRequest) error {
	var results []kmsg.DeleteTopicsResponseTopic
	del := func(ct *Topic) {
		res := kmsg.NewDeleteTopicsResponseTopic()
		res.Topic, res.TopicID = kmsg.StringPtr(ct.Name), ct.ID
		err := x.c.registry.Put(ctx, []byte(ct.Name), nil)
		if err == nil {
			err = x.c.forgetCommits(ctx, ct)
		}
		if err != nil {
			x.c.log.Warn("deleting a concentrated topic failed", zap.String("topic", ct.Name), zap.Error(err))
			res.ErrorCode, res.ErrorMessage = kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error())
		} else {
			x.c.log.Info("concentrated topic deleted", zap.String("topic", ct.Name))
		}
		results = append(results, res)
	}
	names := r.TopicNames[:0]
	for _, n := range r.TopicNames {
		if ct := x.view.byName[n]; ct != nil {
			del(ct)
		} else {
			names = append(names, n)
		}
	}
	topics := r.Topics[:0]
	for _, t := range r.Topics {
		if ct := x.view.topic(t.Topic, t.TopicID); ct != nil {
			del(ct)
		} else {
			topics = append(topics, t)
		}
	}
	if results == nil {
		return nil
	}
	r.TopicNames, r.Topics = names, topics
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		d := resp.(*kmsg.DeleteTopicsResponse)
		d.Topics = append(d.Topics, results...)
		return nil
	}
	return nil
}

// forgetCommits removes every group's offsets of a deleted topic.
func (c *Concentrator) forgetCommits(ctx context.Context, ct *Topic) error {
	var kvs []store.KV
	for _, byKey := range *c.committed.Load() {
		for k := range byKey {
			if k.Topic == ct.ID {
				kvs = append(kvs, store.KV{Key: k.bytes()})
			}
		}
	}
	if len(kvs) == 0 {
		return nil
	}
	return c.commits.PutAll(ctx, kvs)
}
