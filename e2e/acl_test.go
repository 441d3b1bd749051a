package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/server"
)

// aclCommand runs Kafka's own ACL tool (kafka-acls) against a gateway
// node, logged in with a gateway token, and returns its output.
func aclCommand(t *testing.T, srv *server.Server, user, tok string, args ...string) (string, error) {
	t.Helper()
	return kafkaTool(t, srv, user, tok, "org.apache.kafka.tools.AclCommand", args...)
}

// kafkaTool runs one of Kafka's command line tools (its main class) against
// a gateway node as a SASL PLAIN user and returns its output.
func kafkaTool(t *testing.T, srv *server.Server, user, password, mainClass string, args ...string) (string, error) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "client.properties")
	props := fmt.Sprintf("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"+
		"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"%s\" password=\"%s\";\n", user, password)
	if err := os.WriteFile(conf, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh"), append([]string{"tool",
		mainClass, "--bootstrap-server", srv.KafkaAddr(), "--command-config", conf}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitAllowed polls until the client can list its ACL-visible topics and
// sees topic among them, so a change made through one node is known to be
// in force on another before a real client relies on it.
func waitAllowed(t *testing.T, cl *kgo.Client, topic string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ts, err := kadm.NewClient(cl).ListTopics(ctx)
		cancel()
		if err == nil && slices.Contains(ts.Names(), topic) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s never became visible (last %v, %v)", topic, ts.Names(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestACLsInsideVirtualCluster(t *testing.T) {
	nodes := saslNodes(t, 2)
	a, b := nodes[0], nodes[1]
	apply(t, a, `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"guarded"},"spec":{"aclEnabled":true,"aclMode":"KAFKA_API","superUsers":["admin"]}}`)
	tokens := map[string]string{}
	for _, user := range []string{"admin", "writer", "reader"} {
		apply(t, a, `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"`+user+`","vCluster":"guarded"},"spec":{"type":"LOCAL"}}`)
		tokens[user], _ = token(t, a, "guarded", user, time.Hour)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("orders-%d", time.Now().UnixNano()%1e9)

	// The super user needs no ACL to create topics.
	admin := kadm.NewClient(plainClient(t, a.KafkaAddr(), "admin", tokens["admin"]))
	for _, name := range []string{topic, topic + "-hidden"} {
		if _, err := admin.CreateTopic(ctx, 1, 1, nil, name); err != nil {
			t.Fatalf("super user creating %s: %v", name, err)
		}
	}

	// Without ACLs, a real producer is refused.
	out := javaClient.runFailing(t, append([]string{"produce", "--bootstrap", a.KafkaAddr(), "--topic", topic,
		"--count", "1", "--prefix", "x"}, javaPlain("writer", tokens["writer"])...)...)
	if !strings.Contains(out, "AuthorizationException") {
		t.Fatalf("Java producer without ACLs did not fail on authorization:\n%s", tail(out))
	}

	// A non-super user cannot grant itself anything.
	writerAdmin := kadm.NewClient(plainClient(t, a.KafkaAddr(), "writer", tokens["writer"]))
	self := kadm.NewACLs().Allow("User:writer").Topics(topic).Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral)
	res, err := writerAdmin.CreateACLs(ctx, self)
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("writer creating its own ACL: %+v, %v; want CLUSTER_AUTHORIZATION_FAILED", res, err)
	}

	// The super user grants through node b with Kafka's own kafka-acls.
	for _, args := range [][]string{
		{"--add", "--allow-principal", "User:writer", "--operation", "Write", "--topic", topic},
		{"--add", "--allow-principal", "User:reader", "--operation", "Read", "--topic", topic, "--group", "readers"},
	} {
		if out, err := aclCommand(t, b, "admin", tokens["admin"], args...); err != nil {
			t.Fatalf("kafka-acls %v: %v\n%s", args, err, tail(out))
		}
	}
	out, err = aclCommand(t, b, "admin", tokens["admin"], "--list", "--topic", topic)
	if err != nil || !strings.Contains(out, "User:writer") || !strings.Contains(out, "User:reader") || !strings.Contains(out, "WRITE") {
		t.Fatalf("kafka-acls --list: %v\n%s", err, tail(out))
	}

	// Node a follows the secrets topic: the grants are in force there.
	reader := plainClient(t, a.KafkaAddr(), "reader", tokens["reader"], kgo.DisableIdempotentWrite())
	waitAllowed(t, reader, topic)
	javaClient.produce(t, a.KafkaAddr(), topic, "acl", 20, javaPlain("writer", tokens["writer"])...)
	got := kcatClient.consume(t, b.KafkaAddr(), topic, "readers", 20, kcatLogin("PLAIN", "reader", tokens["reader"])...)
	checkRecords(t, got, "acl", 20)

	t.Run("listings show only what the client may describe", func(t *testing.T) {
		ts, err := kadm.NewClient(reader).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := ts.Names(); !slices.Equal(names, []string{topic}) {
			t.Fatalf("reader sees %v, want only %s", names, topic)
		}
		all, err := admin.ListTopics(ctx)
		if err != nil || !all.Has(topic+"-hidden") {
			t.Fatalf("super user should see every topic: %v %v", all.Names(), err)
		}
	})

	t.Run("denied operations answer Kafka's errors", func(t *testing.T) {
		err := reader.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("no")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("reader producing: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
		out := javaClient.runFailing(t, append([]string{"consume", "--bootstrap", a.KafkaAddr(), "--topic", topic,
			"--group", "strangers", "--count", "1", "--timeout-ms", "30000"}, javaPlain("reader", tokens["reader"])...)...)
		if !strings.Contains(out, "GroupAuthorizationException") {
			t.Fatalf("Java consumer in a group without READ did not fail on authorization:\n%s", tail(out))
		}
		// kadm returns the topic's error both ways.
		resp, _ := kadm.NewClient(reader).DeleteTopic(ctx, topic)
		if !errors.Is(resp.Err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("reader deleting the topic: %+v, want TOPIC_AUTHORIZATION_FAILED", resp)
		}
	})

	t.Run("a DENY wins over an ALLOW", func(t *testing.T) {
		deny := kadm.NewACLs().Deny("User:reader").Topics(topic).Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
		if res, err := admin.CreateACLs(ctx, deny); err != nil || res[0].Err != nil {
			t.Fatalf("create deny: %+v %v", res, err)
		}
		fetch := kmsg.NewPtrListOffsetsRequest()
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = topic
		lt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{{Partition: 0, Timestamp: -1, CurrentLeaderEpoch: -1}}
		fetch.Topics = []kmsg.ListOffsetsRequestTopic{lt}
		ofs, err := fetch.RequestWith(ctx, reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(ofs.Topics) != 1 || ofs.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("DENY READ must leave DESCRIBE (implied by the ALLOW READ) in force, as in Kafka; got %+v", ofs.Topics)
		}
		cl := plainClient(t, a.KafkaAddr(), "reader", tokens["reader"], kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		fs := cl.PollFetches(ctx)
		var fetchErr error
		fs.EachError(func(_ string, _ int32, err error) { fetchErr = err })
		if !errors.Is(fetchErr, kerr.TopicAuthorizationFailed) {
			t.Fatalf("fetch after DENY READ: %v, want TOPIC_AUTHORIZATION_FAILED", fetchErr)
		}
	})

	t.Run("removing an ACL takes the right back", func(t *testing.T) {
		if out, err := aclCommand(t, a, "admin", tokens["admin"], "--remove", "--force", "--allow-principal", "User:writer",
			"--operation", "Write", "--topic", topic); err != nil {
			t.Fatalf("kafka-acls --remove: %v\n%s", err, tail(out))
		}
		writer := plainClient(t, a.KafkaAddr(), "writer", tokens["writer"], kgo.DisableIdempotentWrite())
		err := writer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("late")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("writer after removal: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
	})

	t.Run("ACLs stay inside their virtual cluster", func(t *testing.T) {
		tenant(t, a, "open-house", "guest")
		tok, _ := token(t, a, "open-house", "guest", time.Hour)
		describeAll := func(cl *kgo.Client) *kmsg.DescribeACLsResponse {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
			req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		if resp := describeAll(plainClient(t, a.KafkaAddr(), "guest", tok)); resp.ErrorCode != kerr.SecurityDisabled.Code {
			t.Fatalf("describe in a virtual cluster without ACLs: error %d, want SECURITY_DISABLED", resp.ErrorCode)
		}
		resp := describeAll(plainClient(t, a.KafkaAddr(), "admin", tokens["admin"]))
		if resp.ErrorCode != 0 || len(resp.Resources) == 0 {
			t.Fatalf("super user describing ACLs: error %d, %d resources", resp.ErrorCode, len(resp.Resources))
		}
		for _, r := range resp.Resources {
			if r.ResourceName != topic && r.ResourceName != "readers" {
				t.Fatalf("guarded sees a foreign ACL: %+v", r)
			}
		}
	})
}

func TestDeclaredACLs(t *testing.T) {
	srv := saslNodes(t, 1)[0]
	apply(t, srv, `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"declared"},"spec":{"aclEnabled":true,"aclMode":"REST_API","acls":[
		{"resourcePattern":{"resourceType":"TOPIC","name":"pay-","patternType":"PREFIXED"},"principal":"User:app","operation":"ALL","permissionType":"ALLOW"},
		{"resourcePattern":{"resourceType":"GROUP","name":"app-","patternType":"PREFIXED"},"principal":"User:app","operation":"READ","permissionType":"ALLOW"},
		{"resourcePattern":{"resourceType":"CLUSTER","name":"kafka-cluster"},"principal":"User:app","operation":"ALTER","permissionType":"ALLOW"}]}}`,
		`{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"app","vCluster":"declared"},"spec":{"type":"LOCAL"}}`)
	tok, _ := token(t, srv, "declared", "app", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := kadm.NewClient(plainClient(t, srv.KafkaAddr(), "app", tok))
	topic := fmt.Sprintf("pay-%d", time.Now().UnixNano()%1e9)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatalf("ALL on the prefix should allow creating %s: %v", topic, err)
	}
	resp, err := adm.CreateTopic(ctx, 1, 1, nil, "ledger")
	if err == nil && !errors.Is(resp.Err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("creating outside the prefix: %+v", resp)
	}
	javaClient.produce(t, srv.KafkaAddr(), topic, "decl", 10, javaPlain("app", tok)...)
	got := javaClient.consume(t, srv.KafkaAddr(), topic, "app-readers", 10, javaPlain("app", tok)...)
	checkRecords(t, got, "decl", 10)

	// Declared ACLs change only through the configuration, even for a
	// client with ALTER on the cluster.
	out, err := aclCommand(t, srv, "app", tok, "--add", "--allow-principal", "User:other", "--operation", "Read", "--topic", topic)
	if err == nil && !strings.Contains(out, "aclMode REST_API") {
		t.Fatalf("kafka-acls --add in REST_API mode succeeded:\n%s", tail(out))
	}
	if !strings.Contains(out, "aclMode REST_API") {
		t.Fatalf("kafka-acls did not show why the change was refused:\n%s", tail(out))
	}
}
