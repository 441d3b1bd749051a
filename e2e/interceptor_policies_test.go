package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// policy applies an Interceptor resource for passthrough clients of the
// single gateway and deletes it when the test ends.
func policy(t *testing.T, name, class, config string) {
	t.Helper()
	apply(t, single.gateway, fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":%q},
		"spec":{"pluginClass":%q,"priority":100,"config":%s}}`, name, class, config))
	t.Cleanup(func() { adminCall(t, single.gateway, "DELETE", "/gateway/v2/interceptor/"+name, "") })
}

// gatewayAdmin is a kadm client of the single gateway.
func gatewayAdmin(t *testing.T, opts ...kgo.Opt) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(single.gatewayAddr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// TestPolicyAlterTopicConfig alters retention.ms through the gateway with
// the incremental and the legacy config APIs: out of bounds is refused
// with POLICY_VIOLATION and the broker keeps its value, within bounds is
// applied, a blacklisted config is refused.
func TestPolicyAlterTopicConfig(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := newTopic(t, single, "alterpol", 1)
	policy(t, "alter-retention", "io.conduktor.gateway.interceptor.safeguard.AlterTopicConfigPolicyPlugin",
		`{"topic":"alterpol-.*","retentionMs":{"min":3600000,"max":86400000},"blacklist":{"values":["min.insync.replicas"]}}`)
	adm := gatewayAdmin(t)
	backing := kadm.NewClient(backingClient(t))
	retention := func() string {
		t.Helper()
		rcs, err := backing.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On(topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" {
				return c.MaybeValue()
			}
		}
		return ""
	}
	before := retention()

	set := func(key, value string) error {
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &value}}, topic)
		if err != nil {
			return err
		}
		r, err := resp.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		return err
	}
	if err := set("retention.ms", "604800000"); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("a week of retention: err %v, want POLICY_VIOLATION", err)
	}
	if got := retention(); got != before {
		t.Fatalf("retention.ms changed to %s though refused", got)
	}
	if err := set("min.insync.replicas", "1"); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("blacklisted config: err %v, want POLICY_VIOLATION", err)
	}
	if err := set("retention.ms", "7200000"); err != nil {
		t.Fatalf("two hours of retention: %v", err)
	}
	if got := retention(); got != "7200000" {
		t.Fatalf("retention.ms is %s after an allowed change, want 7200000", got)
	}

	// The legacy AlterConfigs API, which replaces the topic's configs.
	legacy := func(value string) error {
		resp, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: &value}}, topic)
		if err != nil {
			return err
		}
		r, err := resp.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		return err
	}
	if err := legacy("60000"); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("legacy alter to one minute: err %v, want POLICY_VIOLATION", err)
	}
	if err := legacy("10800000"); err != nil {
		t.Fatalf("legacy alter to three hours: %v", err)
	}
	if got := retention(); got != "10800000" {
		t.Fatalf("retention.ms is %s after an allowed legacy change, want 10800000", got)
	}
}

// TestPolicyReadOnlyTopic refuses a kcat producer and a topic deletion on
// a read-only topic, while a topic outside the pattern is written.
func TestPolicyReadOnlyTopic(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	frozen := newTopic(t, single, "frozen", 1)
	open := newTopic(t, single, "open", 1)
	policy(t, "read-only", "ReadOnlyTopicPolicy", `{"topic":"frozen-.*"}`)

	out := kcatClient.runFailing(t, "produce", "--bootstrap", single.gatewayAddr(), "--topic", frozen, "--count", "3", "--prefix", "kcat",
		"--property", "message.timeout.ms=15000")
	if !strings.Contains(out, "authoriz") {
		t.Errorf("kcat on a read-only topic did not report an authorization error:\n%s", tail(out))
	}
	kcatClient.produce(t, single.gatewayAddr(), open, "kcat", 3)

	resp, err := gatewayAdmin(t).DeleteTopics(ctx, frozen)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp[frozen]; !errors.Is(r.Err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("delete of a read-only topic: %v, want TOPIC_AUTHORIZATION_FAILED", r.Err)
	}
	backing := kadm.NewClient(backingClient(t))
	if td, err := backing.ListTopics(ctx, frozen); err != nil || !td.Has(frozen) {
		t.Fatalf("the read-only topic is gone from the backing cluster: %v", err)
	}
	ends, err := backing.ListEndOffsets(ctx, frozen, open)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup(frozen, 0); o.Offset != 0 {
		t.Errorf("the read-only topic holds %d records", o.Offset)
	}
	if o, _ := ends.Lookup(open, 0); o.Offset != 3 {
		t.Errorf("the open topic holds %d records, want 3", o.Offset)
	}
}

// TestPolicyProduce refuses a Java producer with acks=1 and a kcat
// producer without compression where only acks=all and lz4 are allowed,
// while a Java producer with acks=all and lz4 writes. (librdkafka sends
// small batches uncompressed when compression would not shrink them, so
// kcat cannot be the lz4 producer here.)
func TestPolicyProduce(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := newTopic(t, single, "prodpol", 1)
	policy(t, "durable-lz4", "io.conduktor.gateway.interceptor.safeguard.ProducePolicyPlugin",
		`{"topic":"prodpol-.*","acks":{"value":[-1]},"compressions":{"values":["LZ4"]}}`)
	addr := single.gatewayAddr()

	out := javaClient.runFailing(t, "produce", "--bootstrap", addr, "--topic", topic, "--count", "2", "--prefix", "acks1",
		"--compression", "lz4", "--property", "acks=1")
	if !strings.Contains(out, "PolicyViolationException") || !strings.Contains(out, "acks=1, must be one of [-1]") {
		t.Errorf("acks=1 was not refused for the policy:\n%s", tail(out))
	}
	out = kcatClient.runFailing(t, "produce", "--bootstrap", addr, "--topic", topic, "--count", "2", "--prefix", "plain",
		"--compression", "none", "--property", "message.timeout.ms=15000")
	if !strings.Contains(out, "Policy violation") {
		t.Errorf("an uncompressed batch was not refused for the policy:\n%s", tail(out))
	}
	javaClient.produce(t, addr, topic, "lz4", 4, "--compression", "lz4")

	rs := readTopic(t, ctx, backingClient(t), topic, 4)
	for _, r := range rs {
		if !strings.HasPrefix(r.V, "lz4-") {
			t.Errorf("record %q reached Kafka", r.V)
		}
	}
}

// TestPolicyFetch refuses a read_uncommitted consumer where
// read_committed is required, and serves a read_committed one.
func TestPolicyFetch(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := newTopic(t, single, "fetchpol", 1)
	produceRecords(t, ctx, backingClient(t), topic, "r", 5)
	policy(t, "committed-only", "FetchPolicy", `{"topic":"fetchpol-.*","isolationLevel":{"value":"read_committed"}}`)

	consume := func(level kgo.IsolationLevel) (int, error) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
		defer pcancel()
		n := 0
		for n < 5 {
			fs := cl.PollFetches(pctx)
			if pctx.Err() != nil {
				return n, pctx.Err()
			}
			if err := fs.Err(); err != nil {
				return n, err
			}
			n += fs.NumRecords()
		}
		return n, nil
	}
	if n, err := consume(kgo.ReadUncommitted()); !errors.Is(err, kerr.PolicyViolation) || n != 0 {
		t.Errorf("read_uncommitted: %d records, err %v; want none and POLICY_VIOLATION", n, err)
	}
	if n, err := consume(kgo.ReadCommitted()); err != nil || n != 5 {
		t.Errorf("read_committed: %d records, err %v; want 5", n, err)
	}
}

// TestPolicyConsumerGroup refuses a Java consumer whose group id does not
// match the convention and lets a matching one read.
func TestPolicyConsumerGroup(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := time.Now().UnixNano() % 1e6
	topic := newTopic(t, single, "grouppol", 1)
	produceRecords(t, ctx, backingClient(t), topic, "g", 3)
	policy(t, "group-names", "ConsumerGroupPolicy", `{"groupId":{"value":"team-.*"}}`)

	out := javaClient.runFailing(t, "consume", "--bootstrap", single.gatewayAddr(), "--topic", topic,
		"--group", fmt.Sprintf("rogue-%d", run), "--count", "3", "--timeout-ms", "30000")
	if !strings.Contains(out, "InvalidGroupIdException") {
		t.Errorf("the Java consumer did not fail on its group id:\n%s", tail(out))
	}
	rs := javaClient.consume(t, single.gatewayAddr(), topic, fmt.Sprintf("team-%d", run), 3)
	checkRecords(t, rs, "g", 3)
}

// TestPolicyClientID rewrites the client id of a consumer without one
// matching the convention, as the broker's group membership shows, and
// then refuses such a client.
func TestPolicyClientID(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := time.Now().UnixNano() % 1e6
	topic := newTopic(t, single, "clientid", 1)
	group := fmt.Sprintf("clientid-%d", run)
	renamed := fmt.Sprintf("renamed-%d-passthrough", run)

	t.Run("override", func(t *testing.T) {
		policy(t, "client-ids", "ClientIdRequiredPolicy",
			fmt.Sprintf(`{"namingConvention":"app-.*","clientIdTemplate":"renamed-%d-{{vcluster}}","action":"OVERRIDE"}`, run))
		cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.ClientID("anonymous"),
			kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		go cl.PollFetches(ctx)
		backing := kadm.NewClient(backingClient(t))
		var got []string
		for ctx.Err() == nil {
			got = got[:0]
			gs, err := backing.DescribeGroups(ctx, group)
			if err == nil {
				for _, m := range gs[group].Members {
					got = append(got, m.ClientID)
				}
			}
			if len(got) > 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(got) != 1 || got[0] != renamed {
			t.Fatalf("the broker sees group members %q, want one named %s", got, renamed)
		}
	})

	t.Run("block", func(t *testing.T) {
		policy(t, "client-ids", "ClientIdRequiredPolicy", `{"namingConvention":"app-.*","action":"BLOCK"}`)
		good := gatewayAdmin(t, kgo.ClientID(fmt.Sprintf("app-%d", run)))
		if _, err := good.ListTopics(ctx, topic); err != nil {
			t.Fatalf("a client named app-…: %v", err)
		}
		bad := gatewayAdmin(t, kgo.ClientID("anonymous"), kgo.RequestRetries(0))
		resp, err := bad.CreateTopic(ctx, 1, 1, nil, topic+"-refused")
		if err == nil {
			err = resp.Err
		}
		if !errors.Is(err, kerr.PolicyViolation) {
			t.Fatalf("a client named anonymous: err %v, want POLICY_VIOLATION", err)
		}
	})
}
