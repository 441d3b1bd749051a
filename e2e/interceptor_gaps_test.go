package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestPolicyAlterBrokerConfig changes a dynamic broker config through the
// gateway with franz-go's admin client: out of bounds is refused with
// POLICY_VIOLATION and the broker keeps its value, a blacklisted config is
// refused, an allowed change is applied (and removed afterwards).
func TestPolicyAlterBrokerConfig(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	policy(t, "broker-retention", "io.conduktor.gateway.interceptor.safeguard.AlterBrokerConfigPolicyPlugin",
		`{"logRetentionMs":{"min":3600000,"max":604800000},"blacklist":{"values":["log.cleaner.threads"]}}`)
	adm := gatewayAdmin(t)
	backing := kadm.NewClient(backingClient(t))
	brokers, err := backing.ListBrokers(ctx)
	if err != nil || len(brokers) == 0 {
		t.Fatalf("list brokers: %v", err)
	}
	id := brokers[0].NodeID
	value := func() string {
		t.Helper()
		rcs, err := backing.DescribeBrokerConfigs(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range rcs {
			for _, c := range rc.Configs {
				if c.Key == "log.retention.ms" && c.Source == kmsg.ConfigSourceDynamicBrokerConfig {
					return c.MaybeValue()
				}
			}
		}
		return ""
	}
	set := func(key, v string) error {
		resp, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &v}}, id)
		if err != nil {
			return err
		}
		for _, r := range resp {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	}
	t.Cleanup(func() {
		_, _ = backing.AlterBrokerConfigs(context.Background(), []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "log.retention.ms"}}, id)
	})
	before := value()
	if err := set("log.retention.ms", "60000"); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("one minute of log retention: err %v, want POLICY_VIOLATION", err)
	}
	if got := value(); got != before {
		t.Fatalf("log.retention.ms became %q though refused", got)
	}
	if err := set("log.cleaner.threads", "2"); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("blacklisted broker config: err %v, want POLICY_VIOLATION", err)
	}
	if err := set("log.retention.ms", "86400000"); err != nil {
		t.Fatalf("a day of log retention: %v", err)
	}
	// Dynamic broker configs reach the broker through the metadata log.
	for deadline := time.Now().Add(15 * time.Second); value() != "86400000"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("log.retention.ms is %q after an allowed change, want 86400000", value())
		}
	}
}

// TestLimitJoinGroup sends JoinGroup requests with franz-go through the
// gateway: the first maximumJoinsPerMinute reach the real broker, the
// next is refused with POLICY_VIOLATION, and another group is unaffected.
func TestLimitJoinGroup(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const limit = 3
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	policy(t, "join-limit", "io.conduktor.gateway.interceptor.safeguard.LimitJoinGroupPolicyPlugin",
		`{"groupId":"join-limited-.*","maximumJoinsPerMinute":`+strconv.Itoa(limit)+`}`)
	cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	join := func(group string) int16 {
		t.Helper()
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.ProtocolType, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = group, "consumer", 10000, 10000
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "range", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		req.Protocols = append(req.Protocols, p)
		var resp *kmsg.JoinGroupResponse
		// The group's coordinator answers; franz-go finds it.
		for range 20 {
			r, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			resp = r
			if kerr.ErrorForCode(r.ErrorCode) != kerr.CoordinatorLoadInProgress {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		return resp.ErrorCode
	}
	limited := "join-limited-" + run
	for i := range limit {
		if code := join(limited); code == kerr.PolicyViolation.Code {
			t.Fatalf("join %d of %d was refused", i+1, limit)
		}
	}
	if code := join(limited); code != kerr.PolicyViolation.Code {
		t.Fatalf("join %d answered %v, want POLICY_VIOLATION", limit+1, kerr.ErrorForCode(code))
	}
	if code := join("join-free-" + run); code == kerr.PolicyViolation.Code {
		t.Fatal("a group outside the pattern was refused")
	}
}

// TestLimitConsumerRate reads the same records through the gateway with
// and without ConsumerRateLimitingPolicy: with it, franz-go's consumer is
// throttled to about the configured bytes per second.
func TestLimitConsumerRate(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := newTopic(t, single, "consumerate", 1)
	const records, size = 60, 10_000 // 600 kB
	// Random values, written uncompressed: the limit counts the bytes
	// fetched, which compression would shrink.
	writer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	for range records {
		value := make([]byte, size)
		_, _ = rand.Read(value)
		if err := writer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	read := func() time.Duration {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(50_000), kgo.FetchMaxPartitionBytes(50_000))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		start, n := time.Now(), 0
		for n < records {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				t.Fatal(err)
			}
			n += fs.NumRecords()
		}
		return time.Since(start)
	}
	free := read()
	const limit = 150_000 // bytes a second
	policy(t, "consume-rate", "io.conduktor.gateway.interceptor.safeguard.ConsumerRateLimitingPolicyPlugin",
		`{"maximumBytesPerSecond":`+strconv.Itoa(limit)+`}`)
	limited := read()
	t.Logf("600 kB read in %v without the limit, %v at %d bytes a second", free, limited, limit)
	// The first second's worth passes at once; the rest is held to the
	// limit: at least (600 kB − 150 kB) / 150 kB/s = 3 s, minus slack.
	if limited < 2*time.Second || limited < 2*free {
		t.Fatalf("the limited read took %v (unlimited %v); the limit was not enforced", limited, free)
	}
}
