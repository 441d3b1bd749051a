package vcluster

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicsTestResource is a config resource of a test: a type and a name.
type topicsTestResource struct {
	typ  kmsg.ConfigResourceType
	name string
}

// topicsTestTopicResources names topic config resources.
func topicsTestTopicResources(topics []string) []topicsTestResource {
	var rs []topicsTestResource
	for _, name := range topics {
		rs = append(rs, topicsTestResource{kmsg.ConfigResourceTypeTopic, name})
	}
	return rs
}

func topicsTestDescribeConfigsRequest(v int16, topics []string) kmsg.Request {
	return topicsTestDescribeConfigs(v, topicsTestTopicResources(topics))
}

func topicsTestDescribeConfigs(v int16, resources []topicsTestResource) *kmsg.DescribeConfigsRequest {
	r := kmsg.NewPtrDescribeConfigsRequest()
	r.Version, r.IncludeSynonyms, r.IncludeDocumentation = v, true, true
	for _, rs := range resources {
		c := kmsg.NewDescribeConfigsRequestResource()
		c.ResourceType, c.ResourceName, c.ConfigNames = rs.typ, rs.name, []string{"retention.ms"}
		r.Resources = append(r.Resources, c)
	}
	return r
}

func topicsTestDescribeConfigsResponse(v int16, msg string, topics []string) kmsg.Response {
	return topicsTestDescribeConfigsAnswer(v, msg, topicsTestTopicResources(topics))
}

func topicsTestDescribeConfigsAnswer(v int16, msg string, resources []topicsTestResource) *kmsg.DescribeConfigsResponse {
	r := kmsg.NewPtrDescribeConfigsResponse()
	r.Version, r.ThrottleMillis = v, 3
	for _, rs := range resources {
		c := kmsg.NewDescribeConfigsResponseResource()
		c.ResourceType, c.ResourceName, c.ErrorMessage = rs.typ, rs.name, kmsg.StringPtr(msg)
		e := kmsg.NewDescribeConfigsResponseResourceConfig()
		e.Name, e.Value, e.Source = "retention.ms", kmsg.StringPtr("1000"), kmsg.ConfigSourceDynamicTopicConfig
		c.Configs = append(c.Configs, e)
		r.Resources = append(r.Resources, c)
	}
	return r
}

func topicsTestAlterConfigsRequest(v int16, topics []string) kmsg.Request {
	return topicsTestAlterConfigs(v, topicsTestTopicResources(topics))
}

func topicsTestAlterConfigs(v int16, resources []topicsTestResource) *kmsg.AlterConfigsRequest {
	r := kmsg.NewPtrAlterConfigsRequest()
	r.Version, r.ValidateOnly = v, true
	for _, rs := range resources {
		c := kmsg.NewAlterConfigsRequestResource()
		c.ResourceType, c.ResourceName = rs.typ, rs.name
		e := kmsg.NewAlterConfigsRequestResourceConfig()
		e.Name, e.Value = "retention.ms", kmsg.StringPtr("1000")
		c.Configs = append(c.Configs, e)
		r.Resources = append(r.Resources, c)
	}
	return r
}

func topicsTestAlterConfigsResponse(v int16, msg string, topics []string) kmsg.Response {
	return topicsTestAlterConfigsAnswer(v, msg, topicsTestTopicResources(topics))
}

func topicsTestAlterConfigsAnswer(v int16, msg string, resources []topicsTestResource) *kmsg.AlterConfigsResponse {
	r := kmsg.NewPtrAlterConfigsResponse()
	r.Version, r.ThrottleMillis = v, 3
	for _, rs := range resources {
		c := kmsg.NewAlterConfigsResponseResource()
		c.ResourceType, c.ResourceName, c.ErrorCode, c.ErrorMessage = rs.typ, rs.name, 40, kmsg.StringPtr(msg)
		r.Resources = append(r.Resources, c)
	}
	return r
}

func topicsTestIncrementalAlterConfigsRequest(v int16, topics []string) kmsg.Request {
	return topicsTestIncrementalAlterConfigs(v, topicsTestTopicResources(topics))
}

func topicsTestIncrementalAlterConfigs(v int16, resources []topicsTestResource) *kmsg.IncrementalAlterConfigsRequest {
	r := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r.Version, r.ValidateOnly = v, true
	for _, rs := range resources {
		c := kmsg.NewIncrementalAlterConfigsRequestResource()
		c.ResourceType, c.ResourceName = rs.typ, rs.name
		e := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		e.Name, e.Op, e.Value = "retention.ms", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr("1000")
		c.Configs = append(c.Configs, e)
		r.Resources = append(r.Resources, c)
	}
	return r
}

func topicsTestIncrementalAlterConfigsResponse(v int16, msg string, topics []string) kmsg.Response {
	return topicsTestIncrementalAlterConfigsAnswer(v, msg, topicsTestTopicResources(topics))
}

func topicsTestIncrementalAlterConfigsAnswer(v int16, msg string, resources []topicsTestResource) *kmsg.IncrementalAlterConfigsResponse {
	r := kmsg.NewPtrIncrementalAlterConfigsResponse()
	r.Version, r.ThrottleMillis = v, 3
	for _, rs := range resources {
		c := kmsg.NewIncrementalAlterConfigsResponseResource()
		c.ResourceType, c.ResourceName, c.ErrorCode, c.ErrorMessage = rs.typ, rs.name, 40, kmsg.StringPtr(msg)
		r.Resources = append(r.Resources, c)
	}
	return r
}

const (
	topicsTestTopic  = kmsg.ConfigResourceTypeTopic
	topicsTestGroup  = kmsg.ConfigResourceTypeGroupConfig
	topicsTestBroker = kmsg.ConfigResourceTypeBroker
	topicsTestLogger = kmsg.ConfigResourceTypeBrokerLogger
	topicsTestClient = kmsg.ConfigResourceTypeClientMetrics
)

// topicsTestClusterRefusal is the answer to a tenant naming a resource of
// the shared cluster.
func topicsTestClusterRefusal(typ kmsg.ConfigResourceType, name string) (kmsg.ConfigResourceType, string, int16, *string) {
	return typ, name, kerr.ClusterAuthorizationFailed.Code, kmsg.StringPtr("The configuration of " + typ.String() + " resources is not available inside a virtual cluster.")
}

func TestDescribeConfigsTenant(t *testing.T) {
	asked := []topicsTestResource{{topicsTestBroker, "1"}, {topicsTestTopic, "orders"}, {topicsTestLogger, "1"}, {topicsTestGroup, "billing"}, {topicsTestClient, "m"}, {0, "x"}}
	req := topicsTestDescribeConfigs(4, asked)
	x := topicsTestRequest(t, topicsTestTenant, req)
	topicsTestEqual(t, "forwarded", req, topicsTestDescribeConfigs(4, []topicsTestResource{{topicsTestTopic, "team-a.orders"}, {topicsTestGroup, "team-a.billing"}}))

	resp := topicsTestDescribeConfigsAnswer(4, "team-a.billing: no such group", []topicsTestResource{
		{topicsTestTopic, "team-a.orders"}, {topicsTestGroup, "team-a.billing"}, {topicsTestGroup, "team-b.billing"},
		{topicsTestTopic, "team-b.orders"}, {topicsTestBroker, "1"}, {topicsTestTopic, "_strait_config"},
	})
	topicsTestResponse(t, x, resp)
	want := topicsTestDescribeConfigsAnswer(4, "billing: no such group", []topicsTestResource{{topicsTestTopic, "orders"}, {topicsTestGroup, "billing"}})
	for _, rs := range []topicsTestResource{{topicsTestBroker, "1"}, {topicsTestLogger, "1"}, {topicsTestClient, "m"}, {0, "x"}} {
		a := kmsg.NewDescribeConfigsResponseResource()
		a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicsTestClusterRefusal(rs.typ, rs.name)
		want.Resources = append(want.Resources, a)
	}
	topicsTestEqual(t, "response", resp, want)

	for v := range int16(5) {
		req := topicsTestDescribeConfigs(v, []topicsTestResource{{topicsTestBroker, ""}})
		local := topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestTenant, req), req).(*kmsg.DescribeConfigsResponse)
		a := kmsg.NewDescribeConfigsResponseResource()
		a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicsTestClusterRefusal(topicsTestBroker, "")
		topicsTestEqual(t, "local answer", local.Resources, []kmsg.DescribeConfigsResponseResource{a})
	}
}

func TestAlterConfigsTenant(t *testing.T) {
	req := topicsTestAlterConfigs(2, []topicsTestResource{{topicsTestTopic, "orders"}, {topicsTestBroker, "1"}, {topicsTestGroup, "billing"}})
	x := topicsTestRequest(t, topicsTestAliased, req)
	topicsTestEqual(t, "forwarded", req, topicsTestAlterConfigs(2, []topicsTestResource{{topicsTestTopic, "team-a.orders"}, {topicsTestGroup, "team-a.billing"}}))
	resp := topicsTestAlterConfigsAnswer(2, "", []topicsTestResource{{topicsTestTopic, "team-a.orders"}, {topicsTestGroup, "team-a.billing"}})
	topicsTestResponse(t, x, resp)
	want := topicsTestAlterConfigsAnswer(2, "", []topicsTestResource{{topicsTestTopic, "orders"}, {topicsTestGroup, "billing"}})
	a := kmsg.NewAlterConfigsResponseResource()
	a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicsTestClusterRefusal(topicsTestBroker, "1")
	want.Resources = append(want.Resources, a)
	topicsTestEqual(t, "response", resp, want)

	local := topicsTestAlterConfigs(0, []topicsTestResource{{topicsTestLogger, "1"}})
	topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestTenant, local), local)
}

func TestIncrementalAlterConfigsTenant(t *testing.T) {
	req := topicsTestIncrementalAlterConfigs(1, []topicsTestResource{{topicsTestClient, "m"}, {topicsTestGroup, "billing"}})
	x := topicsTestRequest(t, topicsTestTenant, req)
	topicsTestEqual(t, "forwarded", req, topicsTestIncrementalAlterConfigs(1, []topicsTestResource{{topicsTestGroup, "team-a.billing"}}))
	resp := topicsTestIncrementalAlterConfigsAnswer(1, "", []topicsTestResource{{topicsTestGroup, "team-a.billing"}})
	topicsTestResponse(t, x, resp)
	want := topicsTestIncrementalAlterConfigsAnswer(1, "", []topicsTestResource{{topicsTestGroup, "billing"}})
	a := kmsg.NewIncrementalAlterConfigsResponseResource()
	a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicsTestClusterRefusal(topicsTestClient, "m")
	want.Resources = append(want.Resources, a)
	topicsTestEqual(t, "response", resp, want)

	local := topicsTestIncrementalAlterConfigs(0, []topicsTestResource{{topicsTestBroker, "1"}, {topicsTestClient, "m"}})
	got := topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestTenant, local), local).(*kmsg.IncrementalAlterConfigsResponse)
	if len(got.Resources) != 2 {
		t.Errorf("local answer %+v", got.Resources)
	}
}

// TestConfigsPassthrough checks that the passthrough space may change any
// configuration but an internal topic's, and describe any.
func TestConfigsPassthrough(t *testing.T) {
	if topicsTestPassthrough.Translates(32) {
		t.Error("passthrough translates DescribeConfigs")
	}
	internal := kmsg.StringPtr("Topic _strait_config belongs to Strait and cannot be changed by clients.")
	asked := []topicsTestResource{{topicsTestTopic, "_strait_config"}, {topicsTestBroker, "1"}, {topicsTestTopic, "orders"}, {topicsTestGroup, "g"}, {topicsTestLogger, "2"}}
	allowed := asked[1:]

	req := topicsTestAlterConfigs(2, asked)
	x := topicsTestRequest(t, topicsTestPassthrough, req)
	topicsTestEqual(t, "alter forwarded", req, topicsTestAlterConfigs(2, allowed))
	resp := topicsTestAlterConfigsAnswer(2, "m", allowed)
	topicsTestResponse(t, x, resp)
	want := topicsTestAlterConfigsAnswer(2, "m", allowed)
	a := kmsg.NewAlterConfigsResponseResource()
	a.ResourceType, a.ResourceName, a.ErrorCode, a.ErrorMessage = topicsTestTopic, "_strait_config", kerr.TopicAuthorizationFailed.Code, internal
	want.Resources = append(want.Resources, a)
	topicsTestEqual(t, "alter response", resp, want)

	ireq := topicsTestIncrementalAlterConfigs(1, asked)
	x = topicsTestRequest(t, topicsTestPassthrough, ireq)
	topicsTestEqual(t, "incremental alter forwarded", ireq, topicsTestIncrementalAlterConfigs(1, allowed))
	iresp := topicsTestIncrementalAlterConfigsAnswer(1, "m", allowed)
	topicsTestResponse(t, x, iresp)
	iwant := topicsTestIncrementalAlterConfigsAnswer(1, "m", allowed)
	ia := kmsg.NewIncrementalAlterConfigsResponseResource()
	ia.ResourceType, ia.ResourceName, ia.ErrorCode, ia.ErrorMessage = topicsTestTopic, "_strait_config", kerr.TopicAuthorizationFailed.Code, internal
	iwant.Resources = append(iwant.Resources, ia)
	topicsTestEqual(t, "incremental alter response", iresp, iwant)

	ireq = topicsTestIncrementalAlterConfigs(0, asked[:1])
	topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestPassthrough, ireq), ireq)
}
