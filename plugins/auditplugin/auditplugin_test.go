package auditplugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// show writes an event as group|topic|partitions, "-" for a whole topic.
func show(ev interceptor.Event) string {
	ps := "-"
	if ev.Partitions != nil {
		ps = fmt.Sprint(ev.Partitions)
	}
	return ev.Group + "|" + ev.Topic + "|" + ps
}

// ids resolves topic ids for requests naming topics by id.
type ids map[[16]byte]string

func (m ids) TopicName(id [16]byte) (string, bool) {
	n, ok := m[id]
	return n, ok
}

var (
	ordersID   = [16]byte{1}
	paymentsID = [16]byte{2}
	unknownID  = [16]byte{9}
)

func conn() *interceptor.Conn {
	return &interceptor.Conn{ID: "c-1", VCluster: "passthrough", Username: "alice",
		Topics: ids{ordersID: "orders", paymentsID: "payments"}}
}

// run passes req through a chain of one AuditPlugin with config and
// returns what it reported, checking that the request is forwarded
// unchanged.
func run(t *testing.T, config string, cn *interceptor.Conn, req kmsg.Request) []string {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.AuditPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "t", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	if !ch.Intercepts(req.Key()) {
		return nil
	}
	before := req.AppendTo(nil)
	call := ch.Begin(cn, req.Key(), req.GetVersion(), nil, time.Now())
	if !call.Request(req) {
		t.Fatal("the request was refused")
	}
	if call.HasResponse() {
		t.Error("the plugin subscribes to responses")
	}
	if call.Throttled() != 0 || call.Delayed() != 0 {
		t.Error("the plugin delayed the request")
	}
	if after := req.AppendTo(nil); !bytes.Equal(before, after) {
		t.Error("the request changed")
	}
	var out []string
	for _, e := range ev.List() {
		if e.Action != interceptor.Audited || e.Plugin != "AuditPlugin" || e.Interceptor != "t" ||
			e.Key != req.Key() || e.ConnID != cn.ID || e.Username != cn.Username || e.VCluster != cn.VCluster {
			t.Errorf("event %+v does not describe the call", e)
		}
		out = append(out, show(e))
	}
	return out
}

func versioned[R interface {
	kmsg.Request
	*T
}, T any](v int16, fill func(R)) kmsg.Request {
	r := R(new(T))
	if d, ok := any(r).(interface{ Default() }); ok {
		d.Default()
	}
	r.SetVersion(v)
	fill(r)
	return r
}

func produce(v int16, topics ...kmsg.ProduceRequestTopic) kmsg.Request {
	return versioned(v, func(r *kmsg.ProduceRequest) { r.Topics = topics })
}

func produceTopic(name string, id [16]byte, partitions ...int32) kmsg.ProduceRequestTopic {
	t := kmsg.NewProduceRequestTopic()
	t.Topic, t.TopicID = name, id
	for _, p := range partitions {
		x := kmsg.NewProduceRequestTopicPartition()
		x.Partition = p
		t.Partitions = append(t.Partitions, x)
	}
	return t
}

func offsetCommit(group string, topic string, partitions ...int32) kmsg.Request {
	return versioned(9, func(r *kmsg.OffsetCommitRequest) {
		r.Group = group
		t := kmsg.NewOffsetCommitRequestTopic()
		t.Topic = topic
		for _, p := range partitions {
			x := kmsg.NewOffsetCommitRequestTopicPartition()
			x.Partition = p
			t.Partitions = append(t.Partitions, x)
		}
		r.Topics = append(r.Topics, t)
	})
}

func createTopics(names ...string) kmsg.Request {
	return versioned(7, func(r *kmsg.CreateTopicsRequest) {
		for _, n := range names {
			t := kmsg.NewCreateTopicsRequestTopic()
			t.Topic = n
			r.Topics = append(r.Topics, t)
		}
	})
}

func configResources[T any](mk func(kmsg.ConfigResourceType, string) T) []T {
	return []T{mk(kmsg.ConfigResourceTypeBroker, "1"), mk(kmsg.ConfigResourceTypeTopic, "orders")}
}

// TestKeys sends a request of each supported key at a current version.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		req       kmsg.Request
		want      []string
	}{
		{"produce by id", "PRODUCE", produce(13, produceTopic("", ordersID, 2, 0), produceTopic("", paymentsID, 1)),
			[]string{"|orders|[0 2]", "|payments|[1]"}},
		{"produce by name", "PRODUCE", produce(9, produceTopic("orders", [16]byte{}, 0)), []string{"|orders|[0]"}},
		{"produce unknown id", "PRODUCE", produce(13, produceTopic("", unknownID, 0)), []string{"||[0]"}},
		{"fetch by id", "FETCH", versioned(18, func(r *kmsg.FetchRequest) {
			t := kmsg.NewFetchRequestTopic()
			t.TopicID = paymentsID
			for _, p := range []int32{3, 1} {
				x := kmsg.NewFetchRequestTopicPartition()
				x.Partition = p
				t.Partitions = append(t.Partitions, x)
			}
			r.Topics = append(r.Topics, t)
		}), []string{"|payments|[1 3]"}},
		{"list offsets", "LIST_OFFSETS", versioned(11, func(r *kmsg.ListOffsetsRequest) {
			t := kmsg.NewListOffsetsRequestTopic()
			t.Topic = "orders"
			x := kmsg.NewListOffsetsRequestTopicPartition()
			x.Partition = 4
			t.Partitions = append(t.Partitions, x)
			r.Topics = append(r.Topics, t)
		}), []string{"|orders|[4]"}},
		{"metadata of topics", "METADATA", versioned(13, func(r *kmsg.MetadataRequest) {
			a, b := kmsg.NewMetadataRequestTopic(), kmsg.NewMetadataRequestTopic()
			a.Topic, b.TopicID = kmsg.StringPtr("orders"), paymentsID
			r.Topics = []kmsg.MetadataRequestTopic{a, b}
		}), []string{"|orders|-", "|payments|-"}},
		{"metadata of every topic", "METADATA", versioned(13, func(r *kmsg.MetadataRequest) {}), []string{"||-"}},
		{"metadata of no topic", "METADATA", versioned(13, func(r *kmsg.MetadataRequest) { r.Topics = []kmsg.MetadataRequestTopic{} }), nil},
		{"offset commit", "OFFSET_COMMIT", offsetCommit("g1", "orders", 1, 0), []string{"g1|orders|[0 1]"}},
		{"offset commit by id", "OFFSET_COMMIT", versioned(10, func(r *kmsg.OffsetCommitRequest) {
			r.Group = "g1"
			t := kmsg.NewOffsetCommitRequestTopic()
			t.TopicID = ordersID
			x := kmsg.NewOffsetCommitRequestTopicPartition()
			t.Partitions = append(t.Partitions, x)
			r.Topics = append(r.Topics, t)
		}), []string{"g1|orders|[0]"}},
		{"offset fetch v7", "OFFSET_FETCH", versioned(7, func(r *kmsg.OffsetFetchRequest) {
			r.Group = "g1"
			t := kmsg.NewOffsetFetchRequestTopic()
			t.Topic, t.Partitions = "orders", []int32{2}
			r.Topics = append(r.Topics, t)
		}), []string{"g1|orders|[2]"}},
		{"offset fetch v7 of every topic", "OFFSET_FETCH", versioned(7, func(r *kmsg.OffsetFetchRequest) { r.Group = "g1" }),
			[]string{"g1||-"}},
		{"offset fetch of groups", "OFFSET_FETCH", versioned(10, func(r *kmsg.OffsetFetchRequest) {
			g1, g2 := kmsg.NewOffsetFetchRequestGroup(), kmsg.NewOffsetFetchRequestGroup()
			g1.Group, g2.Group = "g1", "g2"
			t := kmsg.NewOffsetFetchRequestGroupTopic()
			t.TopicID, t.Partitions = ordersID, []int32{5, 0}
			g1.Topics = append(g1.Topics, t)
			r.Groups = []kmsg.OffsetFetchRequestGroup{g1, g2}
		}), []string{"g1|orders|[0 5]", "g2||-"}},
		{"create topics", "CREATE_TOPICS", createTopics("orders", "payments"), []string{"|orders|-", "|payments|-"}},
		{"delete topics v5", "DELETE_TOPICS", versioned(5, func(r *kmsg.DeleteTopicsRequest) { r.TopicNames = []string{"orders"} }),
			[]string{"|orders|-"}},
		{"delete topics by id", "DELETE_TOPICS", versioned(6, func(r *kmsg.DeleteTopicsRequest) {
			a, b := kmsg.NewDeleteTopicsRequestTopic(), kmsg.NewDeleteTopicsRequestTopic()
			a.Topic, b.TopicID = kmsg.StringPtr("orders"), paymentsID
			r.Topics = []kmsg.DeleteTopicsRequestTopic{a, b}
		}), []string{"|orders|-", "|payments|-"}},
		{"delete records", "DELETE_RECORDS", versioned(2, func(r *kmsg.DeleteRecordsRequest) {
			t := kmsg.NewDeleteRecordsRequestTopic()
			t.Topic = "orders"
			x := kmsg.NewDeleteRecordsRequestTopicPartition()
			x.Partition = 7
			t.Partitions = append(t.Partitions, x)
			r.Topics = append(r.Topics, t)
		}), []string{"|orders|[7]"}},
		{"txn offset commit", "TXN_OFFSET_COMMIT", versioned(6, func(r *kmsg.TxnOffsetCommitRequest) {
			r.Group = "g1"
			t := kmsg.NewTxnOffsetCommitRequestTopic()
			t.Topic = "orders"
			x := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			x.Partition = 3
			t.Partitions = append(t.Partitions, x)
			r.Topics = append(r.Topics, t)
		}), []string{"g1|orders|[3]"}},
		{"offset delete", "OFFSET_DELETE", versioned(0, func(r *kmsg.OffsetDeleteRequest) {
			r.Group = "g1"
			t := kmsg.NewOffsetDeleteRequestTopic()
			t.Topic = "orders"
			x := kmsg.NewOffsetDeleteRequestTopicPartition()
			x.Partition = 1
			t.Partitions = append(t.Partitions, x)
			r.Topics = append(r.Topics, t)
		}), []string{"g1|orders|[1]"}},
		{"create partitions", "CREATE_PARTITIONS", versioned(3, func(r *kmsg.CreatePartitionsRequest) {
			t := kmsg.NewCreatePartitionsRequestTopic()
			t.Topic, t.Count = "orders", 6
			r.Topics = append(r.Topics, t)
		}), []string{"|orders|-"}},
		{"describe configs", "DESCRIBE_CONFIGS", versioned(4, func(r *kmsg.DescribeConfigsRequest) {
			r.Resources = configResources(func(ty kmsg.ConfigResourceType, n string) kmsg.DescribeConfigsRequestResource {
				x := kmsg.NewDescribeConfigsRequestResource()
				x.ResourceType, x.ResourceName = ty, n
				return x
			})
		}), []string{"|orders|-"}},
		{"alter configs", "ALTER_CONFIGS", versioned(2, func(r *kmsg.AlterConfigsRequest) {
			r.Resources = configResources(func(ty kmsg.ConfigResourceType, n string) kmsg.AlterConfigsRequestResource {
				x := kmsg.NewAlterConfigsRequestResource()
				x.ResourceType, x.ResourceName = ty, n
				return x
			})
		}), []string{"|orders|-"}},
		{"incremental alter configs", "INCREMENTAL_ALTER_CONFIGS", versioned(1, func(r *kmsg.IncrementalAlterConfigsRequest) {
			r.Resources = configResources(func(ty kmsg.ConfigResourceType, n string) kmsg.IncrementalAlterConfigsRequestResource {
				x := kmsg.NewIncrementalAlterConfigsRequestResource()
				x.ResourceType, x.ResourceName = ty, n
				return x
			})
		}), []string{"|orders|-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, `{"apiKeys":["`+tc.key+`"]}`, conn(), tc.req)
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEveryKeyTested keeps TestKeys in step with the supported keys.
func TestEveryKeyTested(t *testing.T) {
	want := []string{"PRODUCE", "FETCH", "LIST_OFFSETS", "METADATA", "OFFSET_COMMIT", "OFFSET_FETCH",
		"CREATE_TOPICS", "DELETE_TOPICS", "DELETE_RECORDS", "TXN_OFFSET_COMMIT", "DESCRIBE_CONFIGS",
		"ALTER_CONFIGS", "CREATE_PARTITIONS", "INCREMENTAL_ALTER_CONFIGS", "OFFSET_DELETE"}
	if !slices.Equal(names, want) {
		t.Errorf("supported keys are %q, want %q", names, want)
	}
}

func TestFilters(t *testing.T) {
	bob := conn()
	bob.Username = "bob"
	inVC := conn()
	inVC.VCluster = "vc-eu"
	two := produce(9, produceTopic("orders", [16]byte{}, 0, 1, 2), produceTopic("orders-eu", [16]byte{}, 1), produceTopic("payments", [16]byte{}, 1))
	for _, tc := range []struct {
		name, config string
		conn         *interceptor.Conn
		req          kmsg.Request
		want         []string
	}{
		{"every topic by default", `{"apiKeys":["PRODUCE"]}`, conn(), two,
			[]string{"|orders|[0 1 2]", "|orders-eu|[1]", "|payments|[1]"}},
		{"topic regex", `{"apiKeys":["PRODUCE"],"topic":"orders.*"}`, conn(), two,
			[]string{"|orders|[0 1 2]", "|orders-eu|[1]"}},
		{"topic regex matches whole names", `{"apiKeys":["PRODUCE"],"topic":"orders"}`, conn(), two,
			[]string{"|orders|[0 1 2]"}},
		{"key in lower case", `{"apiKeys":["produce"]}`, conn(), produce(9, produceTopic("orders", [16]byte{}, 0)),
			[]string{"|orders|[0]"}},
		{"key not configured", `{"apiKeys":["FETCH"]}`, conn(), two, nil},
		{"username matches", `{"apiKeys":["PRODUCE"],"username":"al.*","topic":"payments"}`, conn(), two,
			[]string{"|payments|[1]"}},
		{"username does not match", `{"apiKeys":["PRODUCE"],"username":"al.*"}`, bob, two, nil},
		{"vcluster matches", `{"apiKeys":["PRODUCE"],"vcluster":"vc-.*","topic":"payments"}`, inVC, two,
			[]string{"|payments|[1]"}},
		{"vcluster does not match", `{"apiKeys":["PRODUCE"],"vcluster":"vc-.*"}`, conn(), two, nil},
		{"group filter skips requests without a group", `{"apiKeys":["PRODUCE"],"consumerGroupId":"orders-.*"}`, conn(), two, nil},
		{"group filter matches", `{"apiKeys":["OFFSET_COMMIT"],"consumerGroupId":"orders-.*"}`, conn(),
			offsetCommit("orders-app", "orders", 0), []string{"orders-app|orders|[0]"}},
		{"group filter does not match", `{"apiKeys":["OFFSET_COMMIT"],"consumerGroupId":"orders-.*"}`, conn(),
			offsetCommit("billing", "orders", 0), nil},
		{"empty group pattern skips group requests", `{"apiKeys":["OFFSET_COMMIT","PRODUCE"],"consumerGroupId":""}`, conn(),
			offsetCommit("billing", "orders", 0), nil},
		{"partitions kept", `{"apiKeys":["PRODUCE"],"topicPartitions":[2,1]}`, conn(), two,
			[]string{"|orders|[1 2]", "|orders-eu|[1]", "|payments|[1]"}},
		{"topic without a kept partition", `{"apiKeys":["PRODUCE"],"topicPartitions":[0]}`, conn(), two,
			[]string{"|orders|[0]"}},
		{"whole-topic requests ignore partitions", `{"apiKeys":["CREATE_TOPICS"],"topicPartitions":[0]}`, conn(),
			createTopics("orders"), []string{"|orders|-"}},
		{"topic named twice", `{"apiKeys":["PRODUCE"]}`, conn(),
			produce(9, produceTopic("orders", [16]byte{}, 3, 1), produceTopic("orders", [16]byte{}, 1, 0)),
			[]string{"|orders|[0 1 3]"}},
		{"topic regex on ids", `{"apiKeys":["PRODUCE"],"topic":"pay.*"}`, conn(),
			produce(13, produceTopic("", ordersID, 0), produceTopic("", paymentsID, 0)), []string{"|payments|[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, tc.config, tc.conn, tc.req)
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		config, field, msg string
	}{
		{`{}`, "apiKeys", "CREATE_TOPICS"},
		{`{"apiKeys":[]}`, "apiKeys", "required"},
		{`{"apiKeys":["PRODUCE","JOIN_GROUP"]}`, "apiKeys[1]", "INCREMENTAL_ALTER_CONFIGS"},
		{`{"apiKeys":"PRODUCE"}`, "apiKeys", "array"},
		{`{"apiKeys":["PRODUCE"],"topic":"("}`, "topic", "regular expression"},
		{`{"apiKeys":["PRODUCE"],"vcluster":"["}`, "vcluster", "regular expression"},
		{`{"apiKeys":["PRODUCE"],"username":"(a"}`, "username", "regular expression"},
		{`{"apiKeys":["PRODUCE"],"consumerGroupId":"*"}`, "consumerGroupId", "regular expression"},
		{`{"apiKeys":["PRODUCE"],"topicPartitions":[0,-1]}`, "topicPartitions[1]", "negative"},
		{`{"apiKeys":["PRODUCE"],"topicPartitions":["a"]}`, "topicPartitions[0]", "integer"},
		{`{"apiKeys":["PRODUCE"],"topics":".*"}`, "topics", "unknown field"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			err := interceptor.Validate("AuditPlugin", json.RawMessage(tc.config))
			var ce *interceptor.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a config error", err)
			}
			if ce.Field != tc.field || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got %q, want field %s with %q", err, tc.field, tc.msg)
			}
		})
	}
	if err := interceptor.Validate("AuditPlugin", json.RawMessage(
		`{"apiKeys":["Produce","FETCH","create_topics","DELETE_TOPICS","ALTER_CONFIGS"],"topic":".*","vcluster":".*",
		  "username":".*","consumerGroupId":".*","topicPartitions":[1,2]}`)); err != nil {
		t.Errorf("the documented config is refused: %v", err)
	}
}

// TestReadme checks the README names every supported key and config field.
func TestReadme(t *testing.T) {
	p, _ := interceptor.Lookup("AuditPlugin")
	fields := p.Schema()["properties"].(map[string]any)
	words := append(slices.Clone(names), "io.strait.request.audited")
	for f := range fields {
		words = append(words, f)
	}
	for _, w := range words {
		if !strings.Contains(readme, "`"+w+"`") {
			t.Errorf("README does not document `%s`", w)
		}
	}
}
