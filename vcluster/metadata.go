package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Rules for the APIs that describe topics, and so list them: a tenant's
// listing shows its own topics only, a passthrough listing everything but
// Strait's internal topics.

func init() {
	register(3, rule{maxVersion: 13, passthrough: true, request: tMetadataRequest, response: tMetadataResponse})
	register(75, rule{maxVersion: 0, passthrough: true, request: tDescribeTopicPartitionsRequest, response: tDescribeTopicPartitionsResponse})
}

// tMetadataState is what a Metadata request leaves for its response.
type tMetadataState struct {
	all     bool                         // the request asked for every topic
	refused []kmsg.MetadataResponseTopic // answers for topics named by id
}

func tMetadataRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.MetadataRequest)
	st := tMetadataState{all: r.Topics == nil || r.Version == 0 && len(r.Topics) == 0}
	if !x.Space.IsPassthrough() {
		// The gateway cannot tell whose topic an id is. What is left after
		// refusing ids is never empty-meaning-all: ids need v10+.
		r.Topics, st.refused = tSplit(r.Topics, func(t *kmsg.MetadataRequestTopic) (kmsg.MetadataResponseTopic, bool) {
			a := kmsg.NewMetadataResponseTopic()
			a.ErrorCode, a.TopicID = kerr.UnknownTopicID.Code, t.TopicID
			return a, t.Topic == nil
		})
		for i := range r.Topics {
			t := &r.Topics[i]
			t.Topic = kmsg.StringPtr(x.topic(*t.Topic))
		}
	}
	x.state = st
	return nil
}

func tMetadataResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.MetadataResponse)
	st, _ := x.state.(tMetadataState)
	if x.Space.IsPassthrough() && !st.all {
		return nil // a passthrough client may name internal topics
	}
	r.Topics = retain(r.Topics, func(t *kmsg.MetadataResponseTopic) bool {
		return t.Topic != nil && tRename(x, t.Topic)
	})
	r.Topics = append(r.Topics, st.refused...)
	return nil
}

func tDescribeTopicPartitionsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.DescribeTopicPartitionsRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	switch {
	case r.Cursor != nil:
		r.Cursor.Topic = x.topic(r.Cursor.Topic)
	case len(r.Topics) == 0 && !x.Space.IsPassthrough():
		// Listing every topic walks them in name order from the cursor.
		// A tenant's topics sort together: start where they start, and
		// the first topic past them ends the listing (see the response).
		// An alias sorting elsewhere shows only if a page reaches it.
		c := kmsg.NewDescribeTopicPartitionsRequestCursor()
		c.Topic = x.Space.prefix
		r.Cursor = &c
	}
	return nil
}

func tDescribeTopicPartitionsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.DescribeTopicPartitionsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.DescribeTopicPartitionsResponseTopic) bool {
		return t.Topic != nil && tRename(x, t.Topic)
	})
	if c := r.NextCursor; c != nil && !tRename(x, &c.Topic) {
		r.NextCursor = nil // past a tenant's topics: nothing more to show
		if x.Space.IsPassthrough() {
			// Continue after the block of internal topics the cursor
			// points into.
			next := kmsg.NewDescribeTopicPartitionsResponseNextCursor()
			next.Topic = tPastInternal
			r.NextCursor = &next
		}
	}
	return nil
}

// tPastInternal sorts after every internal topic's name and before any
// other name that sorts after them: '`' comes right after the prefix's
// final '_' and cannot appear in a topic name.
const tPastInternal = "_strait`"
