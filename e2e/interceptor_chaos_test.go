package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// chaos applies an Interceptor to the passthrough clients of single and
// returns a function removing it; the test's end removes it too.
func chaos(t *testing.T, name, plugin, config string) (remove func()) {
	t.Helper()
	apply(t, single.gateway, fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":%q},"spec":{"pluginClass":%q,"priority":100,"config":%s}}`,
		name, plugin, config))
	remove = func() {
		if code, body := adminCall(t, single.gateway, "DELETE", "/gateway/v2/interceptor/"+name, ""); code != http.StatusNoContent && code != http.StatusNotFound {
			t.Errorf("DELETE interceptor %s: %d %s", name, code, body)
		}
	}
	t.Cleanup(remove)
	return remove
}

// chaosTopic creates a topic on the backing cluster directly, out of the
// interceptors' reach.
func chaosTopic(t *testing.T, ctx context.Context, prefix string, partitions int32) string {
	t.Helper()
	topic := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1e9)
	resp, err := kadm.NewClient(backingClient(t)).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	return topic
}

// actions reads from single's metrics how many times an interceptor took
// an action.
func actions(t *testing.T, interceptor, action string) int {
	t.Helper()
	resp, err := http.Get("http://" + single.gateway.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "strait_interceptor_actions_total{") ||
			!strings.Contains(line, `interceptor="`+interceptor+`"`) || !strings.Contains(line, `action="`+action+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

// endOffsets sums a topic's end offsets on the backing cluster: how many
// records Kafka holds.
func endOffsets(t *testing.T, ctx context.Context, topic string) int64 {
	t.Helper()
	ends, err := kadm.NewClient(backingClient(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		sum += o.Offset
	})
	return sum
}

// gatewayClient is a franz-go client of single's gateway.
func gatewayClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(single.gatewayAddr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// readRetrying reads n records of a topic from the start through the
// gateway, outside any group, riding out retriable fetch errors.
func readRetrying(t *testing.T, ctx context.Context, topic string, n int) []record {
	t.Helper()
	cl := gatewayClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var rs []record
	for len(rs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(rs), n, topic)
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !kerr.IsRetriable(err) {
				t.Fatalf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			rs = append(rs, record{P: r.Partition, O: r.Offset, K: string(r.Key), V: string(r.Value)})
		})
	}
	return rs
}

// TestChaosLeaderElections: with a third of the partitions of every
// produce and fetch failing as in a leader election, the Java idempotent
// producer still writes every record exactly once, and a Java and a
// franz-go consumer read them all, once.
//
// The franz-go idempotent producer is not tested here: after two or three
// refusals of the same batch it bumps its producer epoch locally and then
// sends nothing more (franz-go v1.22.3; logs in the chaos plugins' report).
func TestChaosLeaderElections(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topic := chaosTopic(t, ctx, "chaos-elections", 3)
	name := "chaos-elections-" + topic[len("chaos-elections-"):]
	chaos(t, name, "io.conduktor.gateway.interceptor.chaos.SimulateLeaderElectionsErrorsPlugin", `{"rateInPercent":30}`)

	const n = 300
	javaClient.produce(t, single.gatewayAddr(), topic, "java", n, "--idempotent")
	afterProduce := actions(t, name, "BLOCK")
	if afterProduce == 0 {
		t.Fatal("no produced partition was failed: the test proves nothing")
	}
	if got := endOffsets(t, ctx, topic); got != n {
		t.Fatalf("Kafka holds %d records, want %d: retries lost or duplicated some", got, n)
	}
	checkRecords(t, readTopic(t, ctx, backingClient(t), topic, n), "java", n)

	checkRecords(t, readRetrying(t, ctx, topic, n), "java", n)
	checkRecords(t, javaClient.consume(t, single.gatewayAddr(), topic, name, n), "java", n)
	// A few fetches can all escape a 30% rate; read again until one did
	// not, so the consumers' retries are always exercised.
	for i := 0; i < 10 && actions(t, name, "BLOCK") == afterProduce; i++ {
		checkRecords(t, readRetrying(t, ctx, topic, n), "java", n)
	}
	if actions(t, name, "BLOCK") == afterProduce {
		t.Fatal("no fetched partition was failed: the consumers were not tested")
	}
	t.Logf("%d partitions failed while producing, %d while consuming", afterProduce, actions(t, name, "BLOCK")-afterProduce)
}

// TestChaosBrokenBrokers: every produce fails with the configured error,
// seen as such by franz-go and Java, and nothing is written; with the
// default map, produce fails with CORRUPT_MESSAGE.
func TestChaosBrokenBrokers(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := chaosTopic(t, ctx, "chaos-broken", 1)
	name := "chaos-broken-" + topic[len("chaos-broken-"):]
	const plugin = "SimulateBrokenBrokers"

	chaos(t, name, plugin, `{"rateInPercent":100,"errorMap":{"PRODUCE":"INVALID_RECORD"}}`)
	cl := gatewayClient(t)
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("lost")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("franz-go produce: %v, want INVALID_RECORD", err)
	}
	out := javaClient.runFailing(t, "produce", "--bootstrap", single.gatewayAddr(), "--topic", topic, "--count", "1", "--prefix", "java")
	if !strings.Contains(out, "InvalidRecordException") {
		t.Fatalf("the Java producer did not fail with INVALID_RECORD:\n%s", tail(out))
	}

	chaos(t, name, plugin, `{"rateInPercent":100}`)
	retrying := gatewayClient(t, kgo.DisableIdempotentWrite(), kgo.RecordRetries(2))
	err = retrying.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("lost")}).FirstErr()
	if !errors.Is(err, kerr.CorruptMessage) {
		t.Fatalf("franz-go produce with the default map: %v, want CORRUPT_MESSAGE", err)
	}
	if got := endOffsets(t, ctx, topic); got != 0 {
		t.Fatalf("Kafka holds %d records of refused produces", got)
	}
	if got := actions(t, name, "BLOCK"); got < 3 {
		t.Fatalf("%d refusals reported, want at least 3", got)
	}

	chaos(t, name, plugin, `{"rateInPercent":0}`)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("kept")}).FirstErr(); err != nil {
		t.Fatalf("produce at rate 0: %v", err)
	}
	if got := endOffsets(t, ctx, topic); got != 1 {
		t.Fatalf("Kafka holds %d records, want 1", got)
	}
}

// throttles counts the throttle times a franz-go client is told of.
type throttles struct{ n *atomic.Int64 }

func (h throttles) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h.n.Add(1)
	}
}

// roundTrips times n sequential produces of one record each.
func roundTrips(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, n int) []time.Duration {
	t.Helper()
	var out []time.Duration
	for range n {
		start := time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

// TestChaosSlow measures produce round trips, and Metadata ones, with and
// without the delaying plugins, on the same warm connections.
func TestChaosSlow(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	slow := chaosTopic(t, ctx, "chaos-slow", 1)
	fast := chaosTopic(t, ctx, "chaos-fast", 1)
	run := slow[len("chaos-slow-"):]
	var throttled atomic.Int64
	cl := gatewayClient(t, kgo.WithHooks(throttles{&throttled}))
	roundTrips(t, ctx, cl, fast, 3) // connections, metadata, producer id
	const minMs, maxMs, n = 300, 400, 8
	floor := minMs * time.Millisecond

	before := roundTrips(t, ctx, cl, slow, n)
	if median := before[n/2]; median >= floor/2 {
		t.Fatalf("produce already takes %v without interceptors: cannot measure a %v delay", median, floor)
	}
	check := func(what string, got []time.Duration) {
		t.Helper()
		if got[0] < floor {
			t.Errorf("%s: fastest produce %v, want at least %v (without the interceptor: %v)", what, got[0], floor, before)
		}
		if got[n-1] > maxMs*time.Millisecond+2*time.Second {
			t.Errorf("%s: slowest produce %v, far above maxLatencyMs %d", what, got[n-1], maxMs)
		}
		t.Logf("%s: produce %v → %v (medians)", what, before[n/2], got[n/2])
	}

	t.Run("SimulateSlowBroker", func(t *testing.T) {
		remove := chaos(t, "chaos-slow-broker-"+run, "io.conduktor.gateway.interceptor.chaos.SimulateSlowBrokerPlugin",
			fmt.Sprintf(`{"rateInPercent":100,"minLatencyMs":%d,"maxLatencyMs":%d}`, minMs, maxMs))
		check("slow broker", roundTrips(t, ctx, cl, slow, n))
		remove()
		if after := roundTrips(t, ctx, cl, slow, n); after[n/2] >= floor/2 {
			t.Errorf("still slow after the interceptor went: %v", after)
		}
	})
	t.Run("SimulateSlowProducersConsumers", func(t *testing.T) {
		remove := chaos(t, "chaos-slow-clients-"+run, "SimulateSlowProducersConsumers",
			fmt.Sprintf(`{"topic":"chaos-slow-.*","rateInPercent":100,"minLatencyMs":%d,"maxLatencyMs":%d}`, minMs, maxMs))
		defer remove()
		check("slow topic", roundTrips(t, ctx, cl, slow, n))
		if other := roundTrips(t, ctx, cl, fast, n); other[n/2] >= floor/2 {
			t.Errorf("a topic outside the pattern is slowed too: %v", other)
		}
	})
	t.Run("SimulateLatency", func(t *testing.T) {
		metadata := func() []time.Duration {
			var out []time.Duration
			for range n {
				req := kmsg.NewPtrMetadataRequest()
				start := time.Now()
				if _, err := req.RequestWith(ctx, cl); err != nil {
					t.Fatal(err)
				}
				out = append(out, time.Since(start))
			}
			slices.Sort(out)
			return out
		}
		plain := metadata()
		remove := chaos(t, "chaos-latency-"+run, "SimulateLatency", fmt.Sprintf(`{"appliedPercentage":100,"latencyMs":%d}`, minMs))
		defer remove()
		check("latency", roundTrips(t, ctx, cl, slow, n))
		slowed := metadata()
		if slowed[0] < floor || plain[n/2] >= floor/2 {
			t.Errorf("metadata round trips %v with the interceptor, %v without; want the first all above %v", slowed, plain, floor)
		}
	})
	if throttled.Load() != 0 {
		t.Errorf("the client was told of %d throttles: a delay is not a quota", throttled.Load())
	}
}
