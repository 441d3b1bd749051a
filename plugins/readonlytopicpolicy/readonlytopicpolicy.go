// Package readonlytopicpolicy is the ReadOnlyTopicPolicy interceptor: the
// topics it names can be read but not written or changed. Every request
// that writes records to a topic, deletes it or its records, or changes
// its configs, partitions or replicas is refused for those topics alone,
// with TOPIC_AUTHORIZATION_FAILED, as if the client lacked the ACL; the
// rest of the request goes on. INFO only reports.
package readonlytopicpolicy

import (
	_ "embed"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("ReadOnlyTopicPolicy",
		"Topics that can be read but not written, deleted or reconfigured",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.ReadOnlyTopicPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic  interceptor.Pattern `json:"topic" doc:"the read-only topics (default: all)"`
	Action interceptor.Action  `json:"action" doc:"BLOCK (default) or INFO"`
}

type policy struct {
	interceptor.Base
	cfg *Config
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if err := interceptor.CheckAction("action", cfg.Action, interceptor.Block, interceptor.Info); err != nil {
		return nil, err
	}
	return &policy{cfg: cfg}, nil
}

// keys are the APIs that write to or change a topic.
var keys = []int16{kmsg.Produce.Int16(), kmsg.DeleteTopics.Int16(), kmsg.AlterConfigs.Int16(),
	kmsg.IncrementalAlterConfigs.Int16(), kmsg.CreatePartitions.Int16(), kmsg.DeleteRecords.Int16(),
	kmsg.AlterPartitionAssignments.Int16(), kmsg.ElectLeaders.Int16(), kmsg.AlterReplicaLogDirs.Int16()}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: keys, Responses: keys}
}

// topicResource is the resource type of a topic in the config APIs.
const topicResource = kmsg.ConfigResourceTypeTopic

// reason is what a refused client reads.
const reason = "the topic is read-only"

// Request takes the read-only topics out of the request; their refusal is
// answered with the response.
func (p *policy) Request(c *interceptor.Call, req kmsg.Request) {
	code := kerr.TopicAuthorizationFailed.Code
	var refused kmsg.Response // answers for the refused items
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		var out []kmsg.ProduceRequestTopic
		r.Topics, out = split(p, c, r.Topics, func(t kmsg.ProduceRequestTopic) string { return c.Conn.TopicName(t.Topic, t.TopicID) })
		if out != nil {
			x := *r
			x.Topics = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.DeleteTopicsRequest:
		var names []string
		var out []kmsg.DeleteTopicsRequestTopic
		r.TopicNames, names = split(p, c, r.TopicNames, func(n string) string { return n })
		r.Topics, out = split(p, c, r.Topics, func(t kmsg.DeleteTopicsRequestTopic) string {
			return c.Conn.TopicName(deref(t.Topic), t.TopicID)
		})
		if names != nil || out != nil {
			x := *r
			x.TopicNames, x.Topics = names, out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.AlterConfigsRequest:
		var out []kmsg.AlterConfigsRequestResource
		r.Resources, out = split(p, c, r.Resources, func(x kmsg.AlterConfigsRequestResource) string { return topicOf(x.ResourceType, x.ResourceName) })
		if out != nil {
			x := *r
			x.Resources = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.IncrementalAlterConfigsRequest:
		var out []kmsg.IncrementalAlterConfigsRequestResource
		r.Resources, out = split(p, c, r.Resources, func(x kmsg.IncrementalAlterConfigsRequestResource) string {
			return topicOf(x.ResourceType, x.ResourceName)
		})
		if out != nil {
			x := *r
			x.Resources = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.CreatePartitionsRequest:
		var out []kmsg.CreatePartitionsRequestTopic
		r.Topics, out = split(p, c, r.Topics, func(t kmsg.CreatePartitionsRequestTopic) string { return t.Topic })
		if out != nil {
			x := *r
			x.Topics = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.DeleteRecordsRequest:
		var out []kmsg.DeleteRecordsRequestTopic
		r.Topics, out = split(p, c, r.Topics, func(t kmsg.DeleteRecordsRequestTopic) string { return t.Topic })
		if out != nil {
			x := *r
			x.Topics = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.AlterPartitionAssignmentsRequest:
		var out []kmsg.AlterPartitionAssignmentsRequestTopic
		r.Topics, out = split(p, c, r.Topics, func(t kmsg.AlterPartitionAssignmentsRequestTopic) string { return t.Topic })
		if out != nil {
			x := *r
			x.Topics = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.ElectLeadersRequest:
		// A request naming no topic elects leaders everywhere; it
		// changes no topic's data or config and goes through.
		var out []kmsg.ElectLeadersRequestTopic
		r.Topics, out = split(p, c, r.Topics, func(t kmsg.ElectLeadersRequestTopic) string { return t.Topic })
		if out != nil {
			x := *r
			x.Topics = out
			refused = interceptor.ErrorResponse(&x, code, interceptor.Refused(c, reason))
		}
	case *kmsg.AlterReplicaLogDirsRequest:
		a := kmsg.NewPtrAlterReplicaLogDirsResponse()
		for i := range r.Dirs {
			var out []kmsg.AlterReplicaLogDirsRequestDirTopic
			r.Dirs[i].Topics, out = split(p, c, r.Dirs[i].Topics, func(t kmsg.AlterReplicaLogDirsRequestDirTopic) string { return t.Topic })
			for _, t := range out {
				rt := kmsg.NewAlterReplicaLogDirsResponseTopic()
				rt.Topic = t.Topic
				for _, n := range t.Partitions {
					rp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
					rp.Partition, rp.ErrorCode = n, code
					rt.Partitions = append(rt.Partitions, rp)
				}
				a.Topics = append(a.Topics, rt)
			}
		}
		if a.Topics != nil {
			refused = a
		}
	}
	if refused != nil {
		c.Keep(refused)
	}
}

// Response adds the answers for the refused topics.
func (p *policy) Response(c *interceptor.Call, resp kmsg.Response) {
	refused, ok := c.Kept().(kmsg.Response)
	if !ok {
		return
	}
	switch r := resp.(type) {
	case *kmsg.ProduceResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.ProduceResponse).Topics...)
	case *kmsg.DeleteTopicsResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.DeleteTopicsResponse).Topics...)
	case *kmsg.AlterConfigsResponse:
		r.Resources = append(r.Resources, refused.(*kmsg.AlterConfigsResponse).Resources...)
	case *kmsg.IncrementalAlterConfigsResponse:
		r.Resources = append(r.Resources, refused.(*kmsg.IncrementalAlterConfigsResponse).Resources...)
	case *kmsg.CreatePartitionsResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.CreatePartitionsResponse).Topics...)
	case *kmsg.DeleteRecordsResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.DeleteRecordsResponse).Topics...)
	case *kmsg.AlterPartitionAssignmentsResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.AlterPartitionAssignmentsResponse).Topics...)
	case *kmsg.ElectLeadersResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.ElectLeadersResponse).Topics...)
	case *kmsg.AlterReplicaLogDirsResponse:
		r.Topics = append(r.Topics, refused.(*kmsg.AlterReplicaLogDirsResponse).Topics...)
	}
}

// split separates the items naming a read-only topic from the others,
// reporting each. With action INFO nothing is refused. kept is never nil
// when items is not: a null topic list means every topic to ElectLeaders.
func split[T any](p *policy, c *interceptor.Call, items []T, topic func(T) string) (kept, refused []T) {
	for _, it := range items {
		name := topic(it)
		if name == "" || !p.cfg.Topic.Matches(name) {
			kept = append(kept, it)
			continue
		}
		if p.cfg.Action.Or(interceptor.Block) == interceptor.Info {
			c.Report(interceptor.Info, name, reason)
			kept = append(kept, it)
			continue
		}
		c.Report(interceptor.Block, name, reason)
		refused = append(refused, it)
	}
	if kept == nil && items != nil {
		kept = items[:0]
	}
	return kept, refused
}

// topicOf returns a config resource's topic, "" for other resources.
func topicOf(typ kmsg.ConfigResourceType, name string) string {
	if typ != topicResource {
		return ""
	}
	return name
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
