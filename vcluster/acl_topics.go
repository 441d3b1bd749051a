package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Guards of the APIs that describe, create, delete and configure topics.
// Listings keep only what the client may describe.

func init() {
	guardKey(3, guard{request: aMetadataRequest, response: aMetadataResponse})
	guardKey(75, guard{request: aDescribeTopicPartitionsRequest, response: aDescribeTopicPartitionsResponse})
	guardKey(19, aEntries[*kmsg.CreateTopicsRequest, *kmsg.CreateTopicsResponse, kmsg.CreateTopicsRequestTopic, kmsg.CreateTopicsResponseTopic]{
		entries: func(r *kmsg.CreateTopicsRequest) *[]kmsg.CreateTopicsRequestTopic { return &r.Topics },
		check: func(x *Exchange, t *kmsg.CreateTopicsRequestTopic) int16 {
			if x.canCluster(kmsg.ACLOperationCreate) || x.canTopic(t.Topic, kmsg.ACLOperationCreate) {
				return 0
			}
			return kerr.TopicAuthorizationFailed.Code
		},
		answer: func(t *kmsg.CreateTopicsRequestTopic, code int16) kmsg.CreateTopicsResponseTopic {
			a := kmsg.NewCreateTopicsResponseTopic()
			a.Topic, a.ErrorCode = t.Topic, code
			return a
		},
		answers: func(r *kmsg.CreateTopicsResponse) *[]kmsg.CreateTopicsResponseTopic { return &r.Topics },
	}.guard())
	guardKey(20, aTopicGuard(kmsg.ACLOperationDelete,
		func(r *kmsg.DeleteTopicsRequest) *[]string { return &r.TopicNames },
		func(t *string) string { return *t },
		func(t *string, code int16) kmsg.DeleteTopicsResponseTopic {
			a := kmsg.NewDeleteTopicsResponseTopic()
			a.Topic, a.ErrorCode = kmsg.StringPtr(*t), code
			return a
		},
		func(r *kmsg.DeleteTopicsResponse) *[]kmsg.DeleteTopicsResponseTopic { return &r.Topics }).guard())
	guardKey(37, aTopicGuard(kmsg.ACLOperationAlter,
		func(r *kmsg.CreatePartitionsRequest) *[]kmsg.CreatePartitionsRequestTopic { return &r.Topics },
		func(t *kmsg.CreatePartitionsRequestTopic) string { return t.Topic },
		func(t *kmsg.CreatePartitionsRequestTopic, code int16) kmsg.CreatePartitionsResponseTopic {
			a := kmsg.NewCreatePartitionsResponseTopic()
			a.Topic, a.ErrorCode = t.Topic, code
			return a
		},
		func(r *kmsg.CreatePartitionsResponse) *[]kmsg.CreatePartitionsResponseTopic { return &r.Topics }).guard())
	guardKey(32, aEntries[*kmsg.DescribeConfigsRequest, *kmsg.DescribeConfigsResponse, kmsg.DescribeConfigsRequestResource, kmsg.DescribeConfigsResponseResource]{
		entries: func(r *kmsg.DescribeConfigsRequest) *[]kmsg.DescribeConfigsRequestResource { return &r.Resources },
		check: func(x *Exchange, c *kmsg.DescribeConfigsRequestResource) int16 {
			return aConfigCheck(x, c.ResourceType, c.ResourceName, kmsg.ACLOperationDescribeConfigs)
		},
		answer: func(c *kmsg.DescribeConfigsRequestResource, code int16) kmsg.DescribeConfigsResponseResource {
			a := kmsg.NewDescribeConfigsResponseResource()
			a.ResourceType, a.ResourceName, a.ErrorCode = c.ResourceType, c.ResourceName, code
			return a
		},
		answers: func(r *kmsg.DescribeConfigsResponse) *[]kmsg.DescribeConfigsResponseResource { return &r.Resources },
	}.guard())
	guardKey(33, aEntries[*kmsg.AlterConfigsRequest, *kmsg.AlterConfigsResponse, kmsg.AlterConfigsRequestResource, kmsg.AlterConfigsResponseResource]{
		entries: func(r *kmsg.AlterConfigsRequest) *[]kmsg.AlterConfigsRequestResource { return &r.Resources },
		check: func(x *Exchange, c *kmsg.AlterConfigsRequestResource) int16 {
			return aConfigCheck(x, c.ResourceType, c.ResourceName, kmsg.ACLOperationAlterConfigs)
		},
		answer: func(c *kmsg.AlterConfigsRequestResource, code int16) kmsg.AlterConfigsResponseResource {
			a := kmsg.NewAlterConfigsResponseResource()
			a.ResourceType, a.ResourceName, a.ErrorCode = c.ResourceType, c.ResourceName, code
			return a
		},
		answers: func(r *kmsg.AlterConfigsResponse) *[]kmsg.AlterConfigsResponseResource { return &r.Resources },
	}.guard())
	guardKey(44, aEntries[*kmsg.IncrementalAlterConfigsRequest, *kmsg.IncrementalAlterConfigsResponse, kmsg.IncrementalAlterConfigsRequestResource, kmsg.IncrementalAlterConfigsResponseResource]{
		entries: func(r *kmsg.IncrementalAlterConfigsRequest) *[]kmsg.IncrementalAlterConfigsRequestResource {
			return &r.Resources
		},
		check: func(x *Exchange, c *kmsg.IncrementalAlterConfigsRequestResource) int16 {
			return aConfigCheck(x, c.ResourceType, c.ResourceName, kmsg.ACLOperationAlterConfigs)
		},
		answer: func(c *kmsg.IncrementalAlterConfigsRequestResource, code int16) kmsg.IncrementalAlterConfigsResponseResource {
			a := kmsg.NewIncrementalAlterConfigsResponseResource()
			a.ResourceType, a.ResourceName, a.ErrorCode = c.ResourceType, c.ResourceName, code
			return a
		},
		answers: func(r *kmsg.IncrementalAlterConfigsResponse) *[]kmsg.IncrementalAlterConfigsResponseResource {
			return &r.Resources
		},
	}.guard())
}

// aConfigCheck authorizes op on a config resource: a topic's or a group's.
// The translation rules refuse every other type for tenants.
func aConfigCheck(x *Exchange, typ kmsg.ConfigResourceType, name string, op kmsg.ACLOperation) int16 {
	switch {
	case typ == kmsg.ConfigResourceTypeTopic && !x.canTopic(name, op):
		return kerr.TopicAuthorizationFailed.Code
	case typ == kmsg.ConfigResourceTypeGroupConfig && !x.canGroup(name, op):
		return kerr.GroupAuthorizationFailed.Code
	}
	return 0
}

// aMetadataRequest refuses the named topics the client may not describe
// and stops the broker creating topics the client may not create. The
// request always goes on: its answer carries the brokers.
func aMetadataRequest(x *Exchange, req kmsg.Request) bool {
	r := req.(*kmsg.MetadataRequest)
	var refused []kmsg.MetadataResponseTopic
	r.Topics, refused = tSplit(r.Topics, func(t *kmsg.MetadataRequestTopic) (kmsg.MetadataResponseTopic, bool) {
		a := kmsg.NewMetadataResponseTopic()
		a.Topic, a.ErrorCode = t.Topic, kerr.TopicAuthorizationFailed.Code
		return a, t.Topic != nil && !x.canTopic(*t.Topic, kmsg.ACLOperationDescribe)
	})
	if r.Topics == nil && len(refused) > 0 {
		r.Topics = []kmsg.MetadataRequestTopic{} // not nil: that would ask for every topic
	}
	if r.AllowAutoTopicCreation && !x.canCluster(kmsg.ACLOperationCreate) {
		for _, t := range r.Topics {
			if t.Topic != nil && !x.canTopic(*t.Topic, kmsg.ACLOperationCreate) {
				r.AllowAutoTopicCreation = false
			}
		}
	}
	aKeep(x, refused)
	return true
}

// aMetadataResponse keeps the topics the client may describe and adds the
// refused ones.
func aMetadataResponse(x *Exchange, resp kmsg.Response) {
	r := resp.(*kmsg.MetadataResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.MetadataResponseTopic) bool {
		return t.Topic == nil || x.canTopic(*t.Topic, kmsg.ACLOperationDescribe)
	})
	r.Topics = append(r.Topics, aAnswers[kmsg.MetadataResponseTopic](x)...)
}

func aDescribeTopicPartitionsRequest(x *Exchange, req kmsg.Request) bool {
	r := req.(*kmsg.DescribeTopicPartitionsRequest)
	listing := len(r.Topics) == 0
	var refused []kmsg.DescribeTopicPartitionsResponseTopic
	r.Topics, refused = tSplit(r.Topics, func(t *kmsg.DescribeTopicPartitionsRequestTopic) (kmsg.DescribeTopicPartitionsResponseTopic, bool) {
		a := kmsg.NewDescribeTopicPartitionsResponseTopic()
		a.Topic, a.ErrorCode = kmsg.StringPtr(t.Topic), kerr.TopicAuthorizationFailed.Code
		return a, !x.canTopic(t.Topic, kmsg.ACLOperationDescribe)
	})
	aKeep(x, refused)
	return listing || len(r.Topics) > 0 // an emptied list would ask for every topic
}

func aDescribeTopicPartitionsResponse(x *Exchange, resp kmsg.Response) {
	r := resp.(*kmsg.DescribeTopicPartitionsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.DescribeTopicPartitionsResponseTopic) bool {
		return t.Topic == nil || x.canTopic(*t.Topic, kmsg.ACLOperationDescribe)
	})
	r.Topics = append(r.Topics, aAnswers[kmsg.DescribeTopicPartitionsResponseTopic](x)...)
}
