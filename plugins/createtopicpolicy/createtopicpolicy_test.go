package createtopicpolicy

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

func topic(name string, partitions int32, rf int16, configs ...string) kmsg.CreateTopicsRequestTopic {
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, rf
	for i := 0; i+1 < len(configs); i += 2 {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = configs[i], kmsg.StringPtr(configs[i+1])
		t.Configs = append(t.Configs, c)
	}
	return t
}

// run passes a CreateTopics request through a chain of one CreateTopicPolicy
// and a broker that creates whatever reaches it.
func run(t *testing.T, config string, topics ...kmsg.CreateTopicsRequestTopic) (forwarded []kmsg.CreateTopicsRequestTopic, resp *kmsg.CreateTopicsResponse, ev *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev = &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "policy", Plugin: p.Name, Interceptor: inst}}, ev, interceptor.Node{})
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	req.Topics = topics
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), 7, nil, time.Now())
	if !call.Request(req) {
		t.Fatal("the whole request was refused")
	}
	resp = req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, tp := range req.Topics {
		a := kmsg.NewCreateTopicsResponseTopic()
		a.Topic = tp.Topic
		resp.Topics = append(resp.Topics, a)
	}
	call.Response(resp)
	return req.Topics, resp, ev
}

func codes(resp *kmsg.CreateTopicsResponse) map[string]int16 {
	out := map[string]int16{}
	for _, t := range resp.Topics {
		out[t.Topic] = t.ErrorCode
	}
	return out
}

// TestSeedExample is the seeds' partition limit, verbatim.
func TestSeedExample(t *testing.T) {
	forwarded, resp, ev := run(t, `{"topic":".*","numPartition":{"min":1,"max":6,"action":"BLOCK"}}`,
		topic("small", 6, 1), topic("big", 7, 1), topic("default", -1, -1))
	if len(forwarded) != 2 || forwarded[0].Topic != "small" || forwarded[1].Topic != "default" {
		t.Errorf("forwarded %v", forwarded)
	}
	got := codes(resp)
	if got["small"] != 0 || got["default"] != 0 || got["big"] != kerr.PolicyViolation.Code {
		t.Errorf("codes %v", got)
	}
	for _, a := range resp.Topics {
		if a.Topic == "big" && (a.ErrorMessage == nil || !strings.Contains(*a.ErrorMessage, "7 partitions")) {
			t.Errorf("message %v", a.ErrorMessage)
		}
	}
	if ev.String() != "BLOCK:big" {
		t.Errorf("events %s", ev.String())
	}
}

func TestRules(t *testing.T) {
	for _, c := range []struct {
		name, config string
		topic        kmsg.CreateTopicsRequestTopic
		refused      bool
		events       string
		check        func(kmsg.CreateTopicsRequestTopic) bool
	}{
		{"name outside the topic pattern", `{"topic":"orders-.*","numPartition":{"max":1}}`, topic("payments", 9, 1), false, "", nil},
		{"naming convention", `{"namingConvention":{"value":"[a-z]+\\.[a-z]+"}}`, topic("Bad_Name", 1, 1), true, "BLOCK:Bad_Name", nil},
		{"naming convention INFO", `{"namingConvention":{"value":"[a-z]+\\.[a-z]+","action":"INFO"}}`, topic("Bad_Name", 1, 1), false, "INFO:Bad_Name", nil},
		{"replication factor", `{"replicationFactor":{"min":3}}`, topic("t", 1, 1), true, "BLOCK:t", nil},
		{"partitions overridden", `{"numPartition":{"max":6,"action":"OVERRIDE","overrideValue":6}}`, topic("t", 50, 1), false, "OVERRIDE:t",
			func(t kmsg.CreateTopicsRequestTopic) bool { return t.NumPartitions == 6 }},
		{"retention blocked", `{"retentionMs":{"max":86400000}}`, topic("t", 1, 1, "retention.ms", "604800000"), true, "BLOCK:t", nil},
		{"retention within bounds", `{"retentionMs":{"max":86400000}}`, topic("t", 1, 1, "retention.ms", "3600000"), false, "", nil},
		{"retention overridden", `{"retentionMs":{"max":86400000,"action":"OVERRIDE","overrideValue":86400000}}`,
			topic("t", 1, 1, "retention.ms", "604800000"), false, "OVERRIDE:t",
			func(t kmsg.CreateTopicsRequestTopic) bool { return *t.Configs[0].Value == "86400000" }},
		{"cleanup policy list", `{"cleanupPolicy":{"values":["delete"]}}`, topic("t", 1, 1, "cleanup.policy", "delete,compact"), true, "BLOCK:t", nil},
		{"compression set", `{"compressionType":{"values":["zstd","lz4"]}}`, topic("t", 1, 1, "compression.type", "ZSTD"), false, "", nil},
		{"dirty ratio", `{"minCleanableDirtyRatio":{"min":0.1,"max":0.9}}`, topic("t", 1, 1, "min.cleanable.dirty.ratio", "0.95"), true, "BLOCK:t", nil},
		{"flag", `{"uncleanLeaderElectionEnable":{"value":false}}`, topic("t", 1, 1, "unclean.leader.election.enable", "true"), true, "BLOCK:t", nil},
		{"flag overridden", `{"uncleanLeaderElectionEnable":{"value":false,"action":"OVERRIDE"}}`,
			topic("t", 1, 1, "unclean.leader.election.enable", "true"), false, "OVERRIDE:t",
			func(t kmsg.CreateTopicsRequestTopic) bool { return *t.Configs[0].Value == "false" }},
		{"INFO then BLOCK reports both", `{"namingConvention":{"value":"x","action":"INFO"},"numPartition":{"max":1}}`,
			topic("t", 2, 1), true, "INFO:t,BLOCK:t", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			forwarded, resp, ev := run(t, c.config, c.topic)
			if refused := len(forwarded) == 0; refused != c.refused {
				t.Fatalf("refused = %v, want %v", refused, c.refused)
			}
			if c.refused && codes(resp)[c.topic.Topic] != kerr.PolicyViolation.Code {
				t.Errorf("no POLICY_VIOLATION answer: %v", codes(resp))
			}
			if got := ev.String(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
			if c.check != nil && !c.check(forwarded[0]) {
				t.Errorf("forwarded %+v", forwarded[0])
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("CreateTopicPolicy")
	for config, field := range map[string]string{
		`{"numPartition":{"min":"one"}}`:                         "numPartition.min",
		`{"partitions":{"max":6}}`:                               "partitions",
		`{"topic":"("}`:                                          "topic",
		`{"namingConvention":{"action":"BLOCK"}}`:                "namingConvention.value",
		`{"namingConvention":{"value":"x","action":"OVERRIDE"}}`: "namingConvention.action",
		`{"retentionMs":{"max":1,"action":"THROTTLE"}}`:          "retentionMs.action",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
