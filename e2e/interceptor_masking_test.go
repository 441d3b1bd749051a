package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// maskingRegistry starts the real schema registry (Apicurio, Confluent
// API) on a free port and returns its base URL and a client.
func maskingRegistry(t *testing.T) (string, *sr.Client) {
	t.Helper()
	port := fmt.Sprint(freePort())
	script := filepath.Join(repoRoot, "e2e/registry/registry.sh")
	out, err := exec.Command(script, "start", port).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("registry.sh start: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("registry.sh start: %v", err)
	}
	t.Cleanup(func() { _ = exec.Command(script, "stop", port).Run() })
	url := strings.TrimSpace(string(out))
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	return url, cl
}

// maskingTopic creates a one-partition topic on the backing cluster and
// writes values to it directly.
func maskingTopic(t *testing.T, ctx context.Context, values ...[]byte) string {
	t.Helper()
	topic := fmt.Sprintf("masking-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	cl := backingClient(t)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}
	return topic
}

// maskingPolicy applies a FieldLevelDataMasking interceptor for one topic.
func maskingPolicy(t *testing.T, topic, registry, policies string) {
	t.Helper()
	policy(t, topic, "io.conduktor.gateway.interceptor.FieldLevelDataMaskingPlugin",
		fmt.Sprintf(`{"topic":%q,"schemaRegistryConfig":{"host":%q},"policies":%s}`, topic, registry, policies))
}

// maskedValues returns the record values in offset order.
func maskedValues(rs []record) []string {
	out := make([]string, len(rs))
	for _, r := range rs {
		out[r.O] = r.V
	}
	return out
}

// TestMaskingFieldLevel masks Avro, JSON and Protobuf values consumed
// through the gateway with real clients, while the broker keeps the clear
// values; a value that cannot be decoded fails the fetch.
func TestMaskingFieldLevel(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	url, reg := maskingRegistry(t)

	t.Run("avro", func(t *testing.T) {
		schema := `{"type":"record","name":"Customer","namespace":"e2e","fields":[
			{"name":"name","type":"string"},{"name":"email","type":"string"},{"name":"age","type":"int"},
			{"name":"cards","type":{"type":"array","items":{"type":"record","name":"Card","fields":[{"name":"number","type":"string"}]}}}]}`
		ss, err := reg.CreateSchema(ctx, "masking-avro-value", sr.Schema{Schema: schema, Type: sr.TypeAvro})
		if err != nil {
			t.Fatal(err)
		}
		s := avro.MustParse(schema)
		var in [][]byte
		for i := range 3 {
			body, err := avro.Marshal(s, map[string]any{"name": fmt.Sprint("customer-", i), "email": fmt.Sprintf("c%d@example.com", i), "age": 30 + i,
				"cards": []any{map[string]any{"number": fmt.Sprint("411111111111111", i)}}})
			if err != nil {
				t.Fatal(err)
			}
			head, _ := new(sr.ConfluentHeader).AppendEncode(nil, ss.ID, nil)
			in = append(in, append(head, body...))
		}
		topic := maskingTopic(t, ctx, in...)
		maskingPolicy(t, topic, url, `[{"name":"email","fields":["email"],"rule":{"type":"MASK_ALL"}},
			{"name":"cards","fields":["cards[*].number"],"rule":{"type":"MASK_FIRST_N","numberOfChars":12,"maskingChar":"X"}}]`)

		decode := func(v string) map[string]any {
			id, body, err := new(sr.ConfluentHeader).DecodeID([]byte(v))
			if err != nil || id != ss.ID {
				t.Fatalf("value %q lost its header: id %d, %v", v, id, err)
			}
			var out map[string]any
			if err := avro.Unmarshal(s, body, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		for i, v := range maskedValues(consumeGo(t, single.gatewayAddr(), topic, topic+"-g", 3)) {
			got := decode(v)
			card := got["cards"].([]any)[0].(map[string]any)["number"]
			if got["email"] != strings.Repeat("*", len(fmt.Sprintf("c%d@example.com", i))) || card != fmt.Sprint("XXXXXXXXXXXX111", i) ||
				got["name"] != fmt.Sprint("customer-", i) || got["age"] != 30+i {
				t.Errorf("record %d through the gateway: %v", i, got)
			}
		}
		for i, v := range maskedValues(readTopic(t, ctx, backingClient(t), topic, 3)) {
			if got := decode(v); got["email"] != fmt.Sprintf("c%d@example.com", i) {
				t.Errorf("record %d on the broker: %v", i, got)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		var in [][]byte
		for i := range 3 {
			in = append(in, fmt.Appendf(nil, `{"user":{"email":"u%d@example.com","phone":"+33 6 12 34 56 7%d"},"amount":%d}`, i, i, 10*i))
		}
		topic := maskingTopic(t, ctx, in...)
		maskingPolicy(t, topic, url, `[{"name":"email","fields":["user.email"],"rule":{"type":"MASK_ALL","maskingChar":"#"}},
			{"name":"phone","fields":["user.phone","amount"],"rule":{"type":"MASK_LAST_N","numberOfChars":4}}]`)
		for i, v := range maskedValues(kcatClient.consume(t, single.gatewayAddr(), topic, topic+"-g", 3)) {
			var got struct {
				User   map[string]string
				Amount int
			}
			if err := json.Unmarshal([]byte(v), &got); err != nil {
				t.Fatalf("record %d: %q: %v", i, v, err)
			}
			if got.User["email"] != strings.Repeat("#", len(fmt.Sprintf("u%d@example.com", i))) ||
				got.User["phone"] != "+33 6 12 34 5****" || got.Amount != 10*i {
				t.Errorf("record %d through the gateway: %s", i, v)
			}
		}
		for i, v := range maskedValues(readTopic(t, ctx, backingClient(t), topic, 3)) {
			if v != string(in[i]) {
				t.Errorf("record %d on the broker: %s", i, v)
			}
		}
	})

	t.Run("protobuf", func(t *testing.T) {
		common := "syntax = \"proto3\";\npackage e2e.common;\nmessage Address { string street = 1; string city = 2; }\n"
		order := "syntax = \"proto3\";\npackage e2e;\nimport \"e2e/common.proto\";\n" +
			"message Noise { string x = 1; }\nmessage Order { string id = 1; string card = 2; e2e.common.Address address = 3; repeated string notes = 4; }\n"
		if _, err := reg.CreateSchema(ctx, "e2e/common.proto", sr.Schema{Schema: common, Type: sr.TypeProtobuf}); err != nil {
			t.Fatal(err)
		}
		ss, err := reg.CreateSchema(ctx, "masking-proto-value", sr.Schema{Schema: order, Type: sr.TypeProtobuf,
			References: []sr.SchemaReference{{Name: "e2e/common.proto", Subject: "e2e/common.proto", Version: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		files, err := (&protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(
			map[string]string{"order.proto": order, "e2e/common.proto": common})}}).Compile(ctx, "order.proto")
		if err != nil {
			t.Fatal(err)
		}
		md := files[0].Messages().ByName("Order")
		field := func(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
			return m.Descriptor().Fields().ByName(protoreflect.Name(name))
		}
		var in [][]byte
		for i := range 2 {
			m := dynamicpb.NewMessage(md)
			m.Set(field(m, "id"), protoreflect.ValueOfString(fmt.Sprint("order-", i)))
			m.Set(field(m, "card"), protoreflect.ValueOfString(fmt.Sprint("5500000000000004", i)))
			addr := m.Mutable(field(m, "address")).Message()
			addr.Set(field(addr, "street"), protoreflect.ValueOfString("1 rue de la Paix"))
			addr.Set(field(addr, "city"), protoreflect.ValueOfString("Paris"))
			m.Mutable(field(m, "notes")).List().Append(protoreflect.ValueOfString("leave at door"))
			body, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			head, _ := new(sr.ConfluentHeader).AppendEncode(nil, ss.ID, []int{1}) // Order is the second message
			in = append(in, append(head, body...))
		}
		topic := maskingTopic(t, ctx, in...)
		maskingPolicy(t, topic, url, `[{"name":"pci","fields":["card","address.street","notes[0]"],"rule":{"type":"MASK_ALL"}}]`)
		decode := func(v string) *dynamicpb.Message {
			id, rest, err := new(sr.ConfluentHeader).DecodeID([]byte(v))
			if err != nil || id != ss.ID {
				t.Fatalf("value lost its header: id %d, %v", id, err)
			}
			index, rest, err := new(sr.ConfluentHeader).DecodeIndex(rest, 8)
			if err != nil || len(index) != 1 || index[0] != 1 {
				t.Fatalf("value lost its message index: %v, %v", index, err)
			}
			m := dynamicpb.NewMessage(md)
			if err := proto.Unmarshal(rest, m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		for i, v := range maskedValues(consumeGo(t, single.gatewayAddr(), topic, topic+"-g", 2)) {
			m := decode(v)
			addr := m.Get(field(m, "address")).Message()
			if m.Get(field(m, "card")).String() != strings.Repeat("*", 17) || m.Get(field(m, "id")).String() != fmt.Sprint("order-", i) ||
				addr.Get(field(addr, "street")).String() != strings.Repeat("*", 16) || addr.Get(field(addr, "city")).String() != "Paris" ||
				m.Get(field(m, "notes")).List().Get(0).String() != strings.Repeat("*", 13) {
				t.Errorf("record %d through the gateway: %v", i, m)
			}
		}
		for i, v := range maskedValues(readTopic(t, ctx, backingClient(t), topic, 2)) {
			if m := decode(v); m.Get(field(m, "card")).String() != fmt.Sprint("5500000000000004", i) {
				t.Errorf("record %d on the broker: %v", i, m)
			}
		}
	})

	t.Run("fail_fetch", func(t *testing.T) {
		clear := "card 4111111111111111 exp 12/29"
		topic := maskingTopic(t, ctx, []byte(`{"card":"4000000000000002"}`), []byte(clear))
		maskingPolicy(t, topic, url, `[{"name":"pci","fields":["card"],"rule":{"type":"MASK_ALL"}}]`)

		cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		defer pcancel()
		var fetchErr error
		for fetchErr == nil && pctx.Err() == nil {
			fs := cl.PollFetches(pctx)
			fs.EachRecord(func(r *kgo.Record) { t.Errorf("franz-go received %q", r.Value) })
			fs.EachError(func(_ string, _ int32, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					fetchErr = err
				}
			})
		}
		if !errors.Is(fetchErr, kerr.PolicyViolation) {
			t.Errorf("franz-go fetch error %v, want POLICY_VIOLATION", fetchErr)
		}

		out := javaClient.runFailing(t, "consume", "--bootstrap", single.gatewayAddr(), "--topic", topic, "--group", topic+"-java",
			"--count", "2", "--timeout-ms", "20000")
		if strings.Contains(out, "4111111111111111") || strings.Contains(out, "4000000000000002") {
			t.Errorf("the Java consumer saw a clear value:\n%s", tail(out))
		}
		// The Java consumer throws on POLICY_VIOLATION (44) in a fetch.
		if !strings.Contains(out, "error code 44") {
			t.Errorf("the Java consumer did not fail on POLICY_VIOLATION:\n%s", tail(out))
		}
	})
}
