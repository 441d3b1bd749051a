package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Rules for the APIs that describe and change configurations. A tenant may
// reach the configuration of its own topics and consumer groups, never the
// shared cluster's (brokers, loggers, client metrics). The passthrough
// space may change anything but Strait's internal topics.

func init() {
	register(32, rule{maxVersion: 4, request: tDescribeConfigsRequest, response: tDescribeConfigsResponse})
	register(33, rule{maxVersion: 2, passthrough: true, request: tAlterConfigsRequest, response: tAlterConfigsResponse})
	register(44, rule{maxVersion: 1, passthrough: true, request: tIncrementalAlterConfigsRequest, response: tIncrementalAlterConfigsResponse})
}

// tConfigResource turns the name of a request's config resource into its
// physical form, or, leaving it alone, returns the error code and message
// to refuse the resource with. Only the altering rules run for the
// passthrough space, so an internal topic is refused there.
func tConfigResource(x *Exchange, typ kmsg.ConfigResourceType, name *string) (int16, *string) {
	switch {
	case typ == kmsg.ConfigResourceTypeTopic:
		if code, msg := tGuardInternal(x, *name); code != 0 {
			return code, msg
		}
		*name = x.topic(*name)
	case x.Space.IsPassthrough():
		// Any other resource, untranslated.
	case typ == kmsg.ConfigResourceTypeGroupConfig:
		*name = x.Space.Group(*name)
	default:
		return kerr.ClusterAuthorizationFailed.Code, kmsg.StringPtr("The configuration of " + typ.String() + " resources is not available inside a virtual cluster.")
	}
	return 0, nil
}

// tLogicalConfigResource turns the name of a response's config resource
// into its logical form; it reports false when the resource is not part of
// the space.
func tLogicalConfigResource(x *Exchange, typ kmsg.ConfigResourceType, name *string) bool {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return tRename(x, name)
	case kmsg.ConfigResourceTypeGroupConfig:
		l, ok := x.Space.LogicalGroup(*name)
		if ok {
			*name = l
		}
		return ok
	}
	return x.Space.IsPassthrough()
}

func tDescribeConfigsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.DescribeConfigsRequest)
	var refused []kmsg.DescribeConfigsResponseResource
	r.Resources, refused = tSplit(r.Resources, func(c *kmsg.DescribeConfigsRequestResource) (kmsg.DescribeConfigsResponseResource, bool) {
		a := kmsg.NewDescribeConfigsResponseResource()
		a.ResourceType, a.ResourceName = c.ResourceType, c.ResourceName
		a.ErrorCode, a.ErrorMessage = tConfigResource(x, c.ResourceType, &c.ResourceName)
		return a, a.ErrorCode != 0
	})
	return tRefuse(x, req, len(r.Resources), refused)
}

func tDescribeConfigsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.DescribeConfigsResponse)
	r.Resources = retain(r.Resources, func(c *kmsg.DescribeConfigsResponseResource) bool {
		x.Space.Scrub(c.ErrorMessage)
		return tLogicalConfigResource(x, c.ResourceType, &c.ResourceName)
	})
	r.Resources = append(r.Resources, tRefusedEntries[kmsg.DescribeConfigsResponseResource](x)...)
	return nil
}

func tAlterConfigsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.AlterConfigsRequest)
	var refused []kmsg.AlterConfigsResponseResource
	r.Resources, refused = tSplit(r.Resources, func(c *kmsg.AlterConfigsRequestResource) (kmsg.AlterConfigsResponseResource, bool) {
		a := kmsg.NewAlterConfigsResponseResource()
		a.ResourceType, a.ResourceName = c.ResourceType, c.ResourceName
		a.ErrorCode, a.ErrorMessage = tConfigResource(x, c.ResourceType, &c.ResourceName)
		return a, a.ErrorCode != 0
	})
	return tRefuse(x, req, len(r.Resources), refused)
}

func tAlterConfigsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.AlterConfigsResponse)
	r.Resources = retain(r.Resources, func(c *kmsg.AlterConfigsResponseResource) bool {
		x.Space.Scrub(c.ErrorMessage)
		return tLogicalConfigResource(x, c.ResourceType, &c.ResourceName)
	})
	r.Resources = append(r.Resources, tRefusedEntries[kmsg.AlterConfigsResponseResource](x)...)
	return nil
}

func tIncrementalAlterConfigsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.IncrementalAlterConfigsRequest)
	var refused []kmsg.IncrementalAlterConfigsResponseResource
	r.Resources, refused = tSplit(r.Resources, func(c *kmsg.IncrementalAlterConfigsRequestResource) (kmsg.IncrementalAlterConfigsResponseResource, bool) {
		a := kmsg.NewIncrementalAlterConfigsResponseResource()
		a.ResourceType, a.ResourceName = c.ResourceType, c.ResourceName
		a.ErrorCode, a.ErrorMessage = tConfigResource(x, c.ResourceType, &c.ResourceName)
		return a, a.ErrorCode != 0
	})
	return tRefuse(x, req, len(r.Resources), refused)
}

func tIncrementalAlterConfigsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.IncrementalAlterConfigsResponse)
	r.Resources = retain(r.Resources, func(c *kmsg.IncrementalAlterConfigsResponseResource) bool {
		x.Space.Scrub(c.ErrorMessage)
		return tLogicalConfigResource(x, c.ResourceType, &c.ResourceName)
	})
	r.Resources = append(r.Resources, tRefusedEntries[kmsg.IncrementalAlterConfigsResponseResource](x)...)
	return nil
}
