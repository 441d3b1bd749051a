package concentration

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicResource is the config resource type of topics.
const topicResource = kmsg.ConfigResourceTypeTopic

// describeConfigs answers for concentrated topics with the configs they
// were created with; the physical topic decides everything else.
func (x *Exchange) describeConfigs(r *kmsg.DescribeConfigsRequest) {
	var answers []kmsg.DescribeConfigsResponseResource
	r.Resources = slices.DeleteFunc(r.Resources, func(res kmsg.DescribeConfigsRequestResource) bool {
		ct := x.view.byName[res.ResourceName]
		if res.ResourceType != topicResource || ct == nil {
			return false
		}
		a := kmsg.NewDescribeConfigsResponseResource()
		a.ResourceType, a.ResourceName = topicResource, ct.Name
		configs := maps.Clone(ct.Configs)
		if configs == nil {
			configs = map[string]string{}
		}
		configs["cleanup.policy"] = ct.CleanupPolicy
		for _, name := range slices.Sorted(maps.Keys(configs)) {
			if len(res.ConfigNames) > 0 && !slices.Contains(res.ConfigNames, name) {
				continue
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name, c.Value, c.Source = name, kmsg.StringPtr(configs[name]), kmsg.ConfigSourceDynamicTopicConfig
			c.ReadOnly = true
			a.Configs = append(a.Configs, c)
		}
		answers = append(answers, a)
		return true
	})
	if answers == nil {
		return
	}
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		d := resp.(*kmsg.DescribeConfigsResponse)
		d.Resources = append(d.Resources, answers...)
		return nil
	}
}

// alterConfigs refuses changes to concentrated topics' configs: their
// records share a physical topic whose configs are the rule's.
func (x *Exchange) alterConfigs(req kmsg.Request) {
	msg := kmsg.StringPtr("the configs of a concentrated topic are fixed when it is created")
	switch r := req.(type) {
	case *kmsg.AlterConfigsRequest:
		var refused []kmsg.AlterConfigsResponseResource
		r.Resources = slices.DeleteFunc(r.Resources, func(res kmsg.AlterConfigsRequestResource) bool {
			if res.ResourceType != topicResource || x.view.byName[res.ResourceName] == nil {
				return false
			}
			a := kmsg.NewAlterConfigsResponseResource()
			a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicResource, res.ResourceName, kerr.InvalidConfig.Code, msg
			refused = append(refused, a)
			return true
		})
		if refused != nil {
			x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
				a := resp.(*kmsg.AlterConfigsResponse)
				a.Resources = append(a.Resources, refused...)
				return nil
			}
		}
	case *kmsg.IncrementalAlterConfigsRequest:
		var refused []kmsg.IncrementalAlterConfigsResponseResource
		r.Resources = slices.DeleteFunc(r.Resources, func(res kmsg.IncrementalAlterConfigsRequestResource) bool {
			if res.ResourceType != topicResource || x.view.byName[res.ResourceName] == nil {
				return false
			}
			a := kmsg.NewIncrementalAlterConfigsResponseResource()
			a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicResource, res.ResourceName, kerr.InvalidConfig.Code, msg
			refused = append(refused, a)
			return true
		})
		if refused != nil {
			x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
				a := resp.(*kmsg.IncrementalAlterConfigsResponse)
				a.Resources = append(a.Resources, refused...)
				return nil
			}
		}
	}
}
