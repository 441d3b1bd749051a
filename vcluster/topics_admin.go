package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Rules for creating and deleting topics and adding partitions to them.
// They apply to the passthrough space too, to keep Strait's internal
// topics out of reach.

func init() {
	register(19, rule{maxVersion: 7, passthrough: true, request: tCreateTopicsRequest, response: tCreateTopicsResponse})
	// v6 may name topics by id, which the gateway cannot translate.
	register(20, rule{maxVersion: 5, passthrough: true, request: tDeleteTopicsRequest, response: tDeleteTopicsResponse})
	register(37, rule{maxVersion: 3, passthrough: true, request: tCreatePartitionsRequest, response: tCreatePartitionsResponse})
}

func tCreateTopicsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.CreateTopicsRequest)
	var refused []kmsg.CreateTopicsResponseTopic
	r.Topics, refused = tSplit(r.Topics, func(t *kmsg.CreateTopicsRequestTopic) (kmsg.CreateTopicsResponseTopic, bool) {
		a := kmsg.NewCreateTopicsResponseTopic()
		a.Topic = t.Topic
		a.ErrorCode, a.ErrorMessage = tGuardNewTopic(x, t.Topic)
		return a, a.ErrorCode != 0
	})
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return tRefuse(x, req, len(r.Topics), refused)
}

func tCreateTopicsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.CreateTopicsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.CreateTopicsResponseTopic) bool {
		x.Space.Scrub(t.ErrorMessage)
		return tRename(x, &t.Topic)
	})
	r.Topics = append(r.Topics, tRefusedEntries[kmsg.CreateTopicsResponseTopic](x)...)
	return nil
}

func tDeleteTopicsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.DeleteTopicsRequest)
	var byName, byID []kmsg.DeleteTopicsResponseTopic
	r.TopicNames, byName = tSplit(r.TopicNames, func(name *string) (kmsg.DeleteTopicsResponseTopic, bool) {
		return tRefuseDelete(x, name, [16]byte{})
	})
	r.Topics, byID = tSplit(r.Topics, func(t *kmsg.DeleteTopicsRequestTopic) (kmsg.DeleteTopicsResponseTopic, bool) {
		return tRefuseDelete(x, t.Topic, t.TopicID)
	})
	for i := range r.TopicNames {
		r.TopicNames[i] = x.topic(r.TopicNames[i])
	}
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = kmsg.StringPtr(x.topic(*t.Topic)) // never nil: refused
	}
	return tRefuse(x, req, len(r.TopicNames)+len(r.Topics), append(byName, byID...))
}

// tRefuseDelete answers a topic the request may not delete: one of
// Strait's internal topics, or one named by id alone (only passthrough
// clients can), since the gateway cannot tell which topic an id stands for.
func tRefuseDelete(x *Exchange, name *string, id [16]byte) (kmsg.DeleteTopicsResponseTopic, bool) {
	a := kmsg.NewDeleteTopicsResponseTopic()
	a.TopicID = id
	if name == nil {
		a.ErrorCode = kerr.TopicAuthorizationFailed.Code
		a.ErrorMessage = kmsg.StringPtr("Through Strait, topics are deleted by name: a topic id could belong to one of Strait's internal topics.")
	} else {
		a.Topic = kmsg.StringPtr(*name)
		a.ErrorCode, a.ErrorMessage = tGuardShared(x, *name)
	}
	return a, a.ErrorCode != 0
}

func tDeleteTopicsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.DeleteTopicsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.DeleteTopicsResponseTopic) bool {
		x.Space.Scrub(t.ErrorMessage)
		return t.Topic != nil && tRename(x, t.Topic)
	})
	r.Topics = append(r.Topics, tRefusedEntries[kmsg.DeleteTopicsResponseTopic](x)...)
	return nil
}

func tCreatePartitionsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.CreatePartitionsRequest)
	var refused []kmsg.CreatePartitionsResponseTopic
	r.Topics, refused = tSplit(r.Topics, func(t *kmsg.CreatePartitionsRequestTopic) (kmsg.CreatePartitionsResponseTopic, bool) {
		a := kmsg.NewCreatePartitionsResponseTopic()
		a.Topic = t.Topic
		a.ErrorCode, a.ErrorMessage = tGuardShared(x, t.Topic)
		return a, a.ErrorCode != 0
	})
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return tRefuse(x, req, len(r.Topics), refused)
}

func tCreatePartitionsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.CreatePartitionsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.CreatePartitionsResponseTopic) bool {
		x.Space.Scrub(t.ErrorMessage)
		return tRename(x, &t.Topic)
	})
	r.Topics = append(r.Topics, tRefusedEntries[kmsg.CreatePartitionsResponseTopic](x)...)
	return nil
}
