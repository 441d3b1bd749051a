package vcluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func topicsTestCreateTopicsRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrCreateTopicsRequest()
	r.Version, r.TimeoutMillis, r.ValidateOnly = v, 3000, true
	for _, name := range topics {
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = name, 3, 2
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = "cleanup.policy", kmsg.StringPtr("compact")
		t.Configs = append(t.Configs, c)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestCreateTopicsResponse(v int16, msg string, topics []string) kmsg.Response {
	r := kmsg.NewPtrCreateTopicsResponse()
	r.Version, r.ThrottleMillis = v, 2
	for _, name := range topics {
		t := kmsg.NewCreateTopicsResponseTopic()
		t.Topic, t.TopicID, t.ErrorCode, t.ErrorMessage = name, [16]byte{1}, 36, kmsg.StringPtr(msg)
		t.NumPartitions, t.ReplicationFactor = 3, 2
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value = "cleanup.policy", kmsg.StringPtr("compact")
		t.Configs = append(t.Configs, c)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDeleteTopicsRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrDeleteTopicsRequest()
	r.Version, r.TimeoutMillis = v, 3000
	for _, name := range topics {
		if v < 6 {
			r.TopicNames = append(r.TopicNames, name)
			continue
		}
		t := kmsg.NewDeleteTopicsRequestTopic()
		t.Topic = kmsg.StringPtr(name)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDeleteTopicsResponse(v int16, msg string, topics []string) kmsg.Response {
	r := kmsg.NewPtrDeleteTopicsResponse()
	r.Version, r.ThrottleMillis = v, 2
	for _, name := range topics {
		t := kmsg.NewDeleteTopicsResponseTopic()
		t.Topic, t.ErrorCode, t.ErrorMessage = kmsg.StringPtr(name), 3, kmsg.StringPtr(msg)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestCreatePartitionsRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrCreatePartitionsRequest()
	r.Version, r.TimeoutMillis, r.ValidateOnly = v, 3000, true
	for _, name := range topics {
		t := kmsg.NewCreatePartitionsRequestTopic()
		t.Topic, t.Count = name, 6
		a := kmsg.NewCreatePartitionsRequestTopicAssignment()
		a.Replicas = []int32{1, 2}
		t.Assignment = append(t.Assignment, a)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestCreatePartitionsResponse(v int16, msg string, topics []string) kmsg.Response {
	r := kmsg.NewPtrCreatePartitionsResponse()
	r.Version, r.ThrottleMillis = v, 2
	for _, name := range topics {
		t := kmsg.NewCreatePartitionsResponseTopic()
		t.Topic, t.ErrorCode, t.ErrorMessage = name, 37, kmsg.StringPtr(msg)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestCreateRefusal(name string, code int16, msg string) kmsg.CreateTopicsResponseTopic {
	a := kmsg.NewCreateTopicsResponseTopic()
	a.Topic, a.ErrorCode, a.ErrorMessage = name, code, kmsg.StringPtr(msg)
	return a
}

func TestCreateTopicsRefusals(t *testing.T) {
	longest := strings.Repeat("x", tMaxTopicLen-len("team-a."))
	tooLong := longest + "y"
	req := topicsTestCreateTopicsRequest(7, []string{"", "orders", tooLong, ".", longest, ".."}).(*kmsg.CreateTopicsRequest)
	x := topicsTestRequest(t, topicsTestTenant, req)
	topicsTestEqual(t, "forwarded", req, topicsTestCreateTopicsRequest(7, []string{"team-a.orders", "team-a." + longest}))
	topicsTestWire(t, req)

	resp := topicsTestCreateTopicsResponse(7, "", []string{"team-a.orders", "team-a." + longest})
	topicsTestResponse(t, x, resp)
	want := topicsTestCreateTopicsResponse(7, "", []string{"orders", longest}).(*kmsg.CreateTopicsResponse)
	invalid := kerr.InvalidTopicException.Code
	want.Topics = append(want.Topics,
		topicsTestCreateRefusal("", invalid, "Topic name is empty."),
		topicsTestCreateRefusal(tooLong, invalid, "Topic name "+tooLong+" is too long: names in this virtual cluster have at most 242 characters."),
		topicsTestCreateRefusal(".", invalid, "Topic name cannot be . or .."),
		topicsTestCreateRefusal("..", invalid, "Topic name cannot be . or .."),
	)
	topicsTestEqual(t, "response", resp, want)

	for v := range int16(8) {
		req := topicsTestCreateTopicsRequest(v, []string{tooLong, "."})
		local := topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestTenant, req), req).(*kmsg.CreateTopicsResponse)
		if len(local.Topics) != 2 || local.Topics[0].Topic != tooLong || local.Topics[1].Topic != "." || local.Topics[0].ErrorCode != invalid {
			t.Errorf("v%d local answer %+v", v, local.Topics)
		}
	}
}

func TestCreateTopicsPassthrough(t *testing.T) {
	long := strings.Repeat("x", 300) // the broker's to refuse
	req := topicsTestCreateTopicsRequest(7, []string{"_strait_config", "orders", long, "_strait"})
	x := topicsTestRequest(t, topicsTestPassthrough, req)
	topicsTestEqual(t, "forwarded", req, topicsTestCreateTopicsRequest(7, []string{"orders", long, "_strait"}))

	resp := topicsTestCreateTopicsResponse(7, "m", []string{"orders", long, "_strait", "_strait_offsets"})
	topicsTestResponse(t, x, resp)
	want := topicsTestCreateTopicsResponse(7, "m", []string{"orders", long, "_strait"}).(*kmsg.CreateTopicsResponse)
	want.Topics = append(want.Topics, topicsTestCreateRefusal("_strait_config", kerr.TopicAuthorizationFailed.Code,
		"Topic names starting with _strait_ are reserved for Strait's internal topics."))
	topicsTestEqual(t, "response", resp, want)
}

func TestDeleteTopicsPassthrough(t *testing.T) {
	refusal := func(name string) kmsg.DeleteTopicsResponseTopic {
		a := kmsg.NewDeleteTopicsResponseTopic()
		a.Topic, a.ErrorCode = kmsg.StringPtr(name), kerr.TopicAuthorizationFailed.Code
		a.ErrorMessage = kmsg.StringPtr("Topic " + name + " belongs to Strait and cannot be changed by clients.")
		return a
	}
	for _, v := range []int16{0, 5, 6} {
		req := topicsTestDeleteTopicsRequest(v, []string{"_strait_config", "orders", "__consumer_offsets"}).(*kmsg.DeleteTopicsRequest)
		byID := kmsg.NewDeleteTopicsRequestTopic()
		byID.TopicID = [16]byte{7}
		if v >= 6 {
			req.Topics = append(req.Topics, byID)
		}
		x := topicsTestRequest(t, topicsTestPassthrough, req)
		topicsTestEqual(t, fmt.Sprintf("v%d forwarded", v), req, topicsTestDeleteTopicsRequest(v, []string{"orders", "__consumer_offsets"}))

		resp := topicsTestDeleteTopicsResponse(v, "", []string{"orders", "__consumer_offsets"})
		topicsTestResponse(t, x, resp)
		want := topicsTestDeleteTopicsResponse(v, "", []string{"orders", "__consumer_offsets"}).(*kmsg.DeleteTopicsResponse)
		want.Topics = append(want.Topics, refusal("_strait_config"))
		if v >= 6 {
			a := kmsg.NewDeleteTopicsResponseTopic()
			a.TopicID, a.ErrorCode = byID.TopicID, kerr.TopicAuthorizationFailed.Code
			a.ErrorMessage = kmsg.StringPtr("Through Strait, topics are deleted by name: a topic id could belong to one of Strait's internal topics.")
			want.Topics = append(want.Topics, a)
		}
		topicsTestEqual(t, fmt.Sprintf("v%d response", v), resp, want)

		req = topicsTestDeleteTopicsRequest(v, []string{"_strait_config"}).(*kmsg.DeleteTopicsRequest)
		local := topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestPassthrough, req), req)
		topicsTestEqual(t, fmt.Sprintf("v%d local answer", v), local.(*kmsg.DeleteTopicsResponse).Topics, []kmsg.DeleteTopicsResponseTopic{refusal("_strait_config")})
	}
}

func TestCreatePartitionsPassthrough(t *testing.T) {
	refusal := kmsg.NewCreatePartitionsResponseTopic()
	refusal.Topic, refusal.ErrorCode = "_strait_config", kerr.TopicAuthorizationFailed.Code
	refusal.ErrorMessage = kmsg.StringPtr("Topic _strait_config belongs to Strait and cannot be changed by clients.")

	req := topicsTestCreatePartitionsRequest(3, []string{"orders", "_strait_config"})
	x := topicsTestRequest(t, topicsTestPassthrough, req)
	topicsTestEqual(t, "forwarded", req, topicsTestCreatePartitionsRequest(3, []string{"orders"}))
	resp := topicsTestCreatePartitionsResponse(3, "", []string{"orders"})
	topicsTestResponse(t, x, resp)
	want := topicsTestCreatePartitionsResponse(3, "", []string{"orders"}).(*kmsg.CreatePartitionsResponse)
	want.Topics = append(want.Topics, refusal)
	topicsTestEqual(t, "response", resp, want)

	req = topicsTestCreatePartitionsRequest(0, []string{"_strait_config"})
	local := topicsTestCheckLocal(t, topicsTestRequest(t, topicsTestPassthrough, req), req)
	topicsTestEqual(t, "local answer", local.(*kmsg.CreatePartitionsResponse).Topics, []kmsg.CreatePartitionsResponseTopic{refusal})
}
