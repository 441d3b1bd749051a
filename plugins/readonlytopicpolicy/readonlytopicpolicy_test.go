package readonlytopicpolicy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// chain makes a chain of one ReadOnlyTopicPolicy.
func chain(t *testing.T, config string, ev *interceptortest.Events) *interceptor.Chain {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.ReadOnlyTopicPolicyPlugin")
	if !ok {
		t.Fatal("no alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "ro", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
}

// through runs req through the chain and a broker that answers what
// reaches it with success; it returns the response the client reads.
func through(t *testing.T, ch *interceptor.Chain, req kmsg.Request) kmsg.Response {
	t.Helper()
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), req.GetVersion(), nil, time.Now())
	if !call.Request(req) {
		t.Fatal("whole request refused")
	}
	resp := interceptor.ErrorResponse(req, 0, "") // mirrors what reached the broker
	call.Response(resp)
	return resp
}

func TestProduce(t *testing.T) {
	ev := &interceptortest.Events{}
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	for _, n := range []string{"frozen-a", "open"} {
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = n
		tp.Partitions = []kmsg.ProduceRequestTopicPartition{{Partition: 0}, {Partition: 1}}
		req.Topics = append(req.Topics, tp)
	}
	resp := through(t, chain(t, `{"topic":"frozen-.*"}`, ev), req).(*kmsg.ProduceResponse)
	if len(req.Topics) != 1 || req.Topics[0].Topic != "open" {
		t.Errorf("forwarded %+v", req.Topics)
	}
	got := map[string]int16{}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			got[tp.Topic] += p.ErrorCode
		}
	}
	if got["open"] != 0 || got["frozen-a"] != 2*kerr.TopicAuthorizationFailed.Code {
		t.Errorf("codes %v", got)
	}
	if ev.String() != "BLOCK:frozen-a" {
		t.Errorf("events %s", ev)
	}
}

func TestAPIs(t *testing.T) {
	for _, c := range []struct {
		name string
		req  kmsg.Request
		code func(kmsg.Response) map[string]int16
	}{
		{"DeleteTopics v6", func() kmsg.Request {
			r := kmsg.NewPtrDeleteTopicsRequest()
			r.SetVersion(6)
			r.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: kmsg.StringPtr("frozen-a")}, {Topic: kmsg.StringPtr("open")}}
			return r
		}(), func(resp kmsg.Response) map[string]int16 {
			out := map[string]int16{}
			for _, t := range resp.(*kmsg.DeleteTopicsResponse).Topics {
				out[*t.Topic] = t.ErrorCode
			}
			return out
		}},
		{"DeleteTopics v4", func() kmsg.Request {
			r := kmsg.NewPtrDeleteTopicsRequest()
			r.SetVersion(4)
			r.TopicNames = []string{"frozen-a", "open"}
			return r
		}(), func(resp kmsg.Response) map[string]int16 {
			out := map[string]int16{}
			for _, t := range resp.(*kmsg.DeleteTopicsResponse).Topics {
				out[*t.Topic] = t.ErrorCode
			}
			return out
		}},
		{"IncrementalAlterConfigs", func() kmsg.Request {
			r := kmsg.NewPtrIncrementalAlterConfigsRequest()
			r.SetVersion(1)
			r.Resources = []kmsg.IncrementalAlterConfigsRequestResource{
				{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "frozen-a"},
				{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "frozen-a"},
				{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "open"}}
			return r
		}(), func(resp kmsg.Response) map[string]int16 {
			out := map[string]int16{}
			for _, r := range resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
				out[r.ResourceType.String()+"/"+r.ResourceName] = r.ErrorCode
			}
			return out
		}},
		{"CreatePartitions", func() kmsg.Request {
			r := kmsg.NewPtrCreatePartitionsRequest()
			r.SetVersion(2)
			r.Topics = []kmsg.CreatePartitionsRequestTopic{{Topic: "frozen-a", Count: 3}, {Topic: "open", Count: 3}}
			return r
		}(), func(resp kmsg.Response) map[string]int16 {
			out := map[string]int16{}
			for _, t := range resp.(*kmsg.CreatePartitionsResponse).Topics {
				out[t.Topic] = t.ErrorCode
			}
			return out
		}},
		{"DeleteRecords", func() kmsg.Request {
			r := kmsg.NewPtrDeleteRecordsRequest()
			r.SetVersion(2)
			r.Topics = []kmsg.DeleteRecordsRequestTopic{{Topic: "frozen-a", Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0}}},
				{Topic: "open", Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0}}}}
			return r
		}(), func(resp kmsg.Response) map[string]int16 {
			out := map[string]int16{}
			for _, t := range resp.(*kmsg.DeleteRecordsResponse).Topics {
				out[t.Topic] = t.Partitions[0].ErrorCode
			}
			return out
		}},
		{"AlterReplicaLogDirs", func() kmsg.Request {
			r := kmsg.NewPtrAlterReplicaLogDirsRequest()
			r.SetVersion(2)
			r.Dirs = []kmsg.AlterReplicaLogDirsRequestDir{{Dir: "/d", Topics: []kmsg.AlterReplicaLogDirsRequestDirTopic{
				{Topic: "frozen-a", Partitions: []int32{0}}, {Topic: "open", Partitions: []int32{0}}}}}
			return r
		}(), func(resp kmsg.Response) map[string]int16 {
			out := map[string]int16{"open": 0}
			for _, t := range resp.(*kmsg.AlterReplicaLogDirsResponse).Topics {
				out[t.Topic] = t.Partitions[0].ErrorCode
			}
			return out
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := &interceptortest.Events{}
			got := c.code(through(t, chain(t, `{"topic":"frozen-.*"}`, ev), c.req))
			for k, code := range got {
				want := int16(0)
				if strings.HasPrefix(k, "frozen") || strings.HasPrefix(k, "TOPIC/frozen") {
					want = kerr.TopicAuthorizationFailed.Code
				}
				if code != want {
					t.Errorf("%s: code %d, want %d (all %v)", k, code, want, got)
				}
			}
			if len(got) < 2 || ev.String() != "BLOCK:frozen-a" {
				t.Errorf("answers %v, events %s", got, ev)
			}
		})
	}
}

// TestElectLeadersKeepsTopicList checks that refusing every named topic
// does not turn the request into one for every topic (a null list).
func TestElectLeadersKeepsTopicList(t *testing.T) {
	r := kmsg.NewPtrElectLeadersRequest()
	r.SetVersion(2)
	r.Topics = []kmsg.ElectLeadersRequestTopic{{Topic: "frozen-a", Partitions: []int32{0}}}
	resp := through(t, chain(t, `{"topic":"frozen-.*"}`, &interceptortest.Events{}), r).(*kmsg.ElectLeadersResponse)
	if r.Topics == nil || len(r.Topics) != 0 {
		t.Errorf("forwarded topics %#v", r.Topics)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Errorf("response %+v", resp.Topics)
	}
}

func TestInfo(t *testing.T) {
	ev := &interceptortest.Events{}
	r := kmsg.NewPtrCreatePartitionsRequest()
	r.Topics = []kmsg.CreatePartitionsRequestTopic{{Topic: "frozen-a", Count: 3}}
	through(t, chain(t, `{"topic":"frozen-.*","action":"INFO"}`, ev), r)
	if len(r.Topics) != 1 || ev.String() != "INFO:frozen-a" {
		t.Errorf("forwarded %v, events %s", r.Topics, ev)
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("ReadOnlyTopicPolicy")
	for config, field := range map[string]string{
		`{"action":"OVERRIDE"}`: "action",
		`{"topic":"["}`:         "topic",
		`{"topics":"x"}`:        "topics",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
