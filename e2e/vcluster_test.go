package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestVirtualClustersStayIsolated runs two tenants that use the same topic
// and group names side by side, and walks the admin APIs from one trying to
// reach the other's resources.
func TestVirtualClustersStayIsolated(t *testing.T) {
	a := saslNodes(t, 1)[0]
	tenant(t, a, "red", "ann")
	tenant(t, a, "blue", "ben")
	redTok, _ := token(t, a, "red", "ann", time.Hour)
	blueTok, _ := token(t, a, "blue", "ben", time.Hour)
	addr := a.KafkaAddr()
	red := plainClient(t, addr, "ann", redTok)
	blue := plainClient(t, addr, "ben", blueTok)
	radm, badm := kadm.NewClient(red), kadm.NewClient(blue)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	topic := fmt.Sprintf("same-name-%d", time.Now().UnixNano()%1e9)
	group := "same-group"
	for _, c := range []struct {
		adm        *kadm.Client
		partitions int32
	}{{radm, 2}, {badm, 3}} {
		resp, err := c.adm.CreateTopic(ctx, c.partitions, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("create %s: %v", topic, err)
		}
	}
	waitLed(t, ctx, radm, topic, 2)
	waitLed(t, ctx, badm, topic, 3)
	produce := func(cl *kgo.Client, prefix string, n int) {
		for i := range n {
			r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", i%8), Value: fmt.Appendf(nil, "%s-%d", prefix, i)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(red, "red", 10)
	produce(blue, "blue", 7)

	redRecords := consumeGo(t, addr, topic, group, 10, loginOpt("ann", redTok))
	checkRecords(t, redRecords, "red", 10)
	blueRecords := consumeGo(t, addr, topic, group, 7, loginOpt("ben", blueTok))
	checkRecords(t, blueRecords, "blue", 7)

	t.Run("listings show only the tenant's own resources", func(t *testing.T) {
		ts, err := radm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range ts.Names() {
			if strings.HasPrefix(name, "blue.") || strings.HasPrefix(name, "red.") || strings.HasPrefix(name, "_strait_") {
				t.Errorf("red sees %q", name)
			}
		}
		if !slices.Contains(ts.Names(), topic) {
			t.Errorf("red does not see its own %s: %v", topic, ts.Names())
		}
		if d := ts[topic]; len(d.Partitions) != 2 {
			t.Errorf("red's %s has %d partitions, want its own 2", topic, len(d.Partitions))
		}
		groups, err := radm.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := groups.Groups(); !slices.Equal(names, []string{group}) {
			t.Errorf("red lists groups %v, want [%s]", names, group)
		}
	})

	t.Run("physical names carry the virtual cluster", func(t *testing.T) {
		names := physicalTopics(t)
		for _, want := range []string{"red." + topic, "blue." + topic} {
			if !slices.Contains(names, want) {
				t.Errorf("backing cluster lacks %s", want)
			}
		}
	})

	t.Run("passthrough sees physical names but no internal topics", func(t *testing.T) {
		opsTok, _ := token(t, a, "", "ops", time.Hour)
		ts, err := kadm.NewClient(plainClient(t, addr, "ops", opsTok)).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := ts.Names()
		if !slices.Contains(names, "red."+topic) || !slices.Contains(names, "blue."+topic) {
			t.Errorf("passthrough lacks the tenants' physical topics: %v", names)
		}
		for _, n := range names {
			if strings.HasPrefix(n, "_strait_") {
				t.Errorf("passthrough lists internal topic %s", n)
			}
		}
		if !slices.ContainsFunc(physicalTopics(t), func(n string) bool { return strings.HasPrefix(n, "_strait_") }) {
			t.Fatal("the backing cluster has no internal topic; the check above proves nothing")
		}
	})

	t.Run("the other tenant's names are missing topics", func(t *testing.T) {
		md, err := radm.Metadata(ctx, "blue."+topic)
		if err != nil {
			t.Fatal(err)
		}
		if err := md.Topics["blue."+topic].Err; !errors.Is(err, kerr.UnknownTopicOrPartition) {
			t.Fatalf("red asking for blue.%s: %v, want UNKNOWN_TOPIC_OR_PARTITION", topic, err)
		}
	})

	t.Run("committed offsets are per tenant", func(t *testing.T) {
		for _, c := range []struct {
			adm  *kadm.Client
			want int64
		}{{radm, 10}, {badm, 7}} {
			offs, err := c.adm.FetchOffsets(ctx, group)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			offs.Each(func(o kadm.OffsetResponse) {
				if o.Topic != topic {
					t.Errorf("offset for foreign topic %q", o.Topic)
				}
				sum += o.At
			})
			if sum != c.want {
				t.Errorf("committed offsets sum to %d, want %d", sum, c.want)
			}
		}
	})

	t.Run("configs: own topics yes, shared brokers no", func(t *testing.T) {
		rc, err := radm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := rc.On(topic, nil); err != nil || c.Err != nil {
			t.Fatalf("describe own topic config: %v %v", err, c.Err)
		}
		bc, err := radm.DescribeBrokerConfigs(ctx, 1)
		if err == nil && len(bc) > 0 {
			err = bc[0].Err
		}
		if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
			t.Fatalf("broker configs from a tenant: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
		}
	})

	t.Run("deleting touches only the tenant's own", func(t *testing.T) {
		if _, err := radm.DeleteGroups(ctx, group); err != nil {
			t.Fatal(err)
		}
		bg, err := badm.DescribeGroups(ctx, group)
		if err != nil || bg[group].Err != nil {
			t.Fatalf("blue's group after red deleted its own: %v %v", err, bg[group].Err)
		}
		if offs, err := badm.FetchOffsets(ctx, group); err != nil || len(offs) == 0 {
			t.Fatalf("blue's offsets gone after red deleted its group: %v", err)
		}
		resp, err := radm.DeleteTopic(ctx, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
		md, err := badm.Metadata(ctx, topic)
		if err != nil || md.Topics[topic].Err != nil {
			t.Fatalf("blue's topic after red deleted its own: %v", err)
		}
	})
}

// TestTransactionsAndGroupsInsideVirtualCluster runs a Java transactional
// producer and a KIP-848 consumer inside a virtual cluster.
func TestTransactionsAndGroupsInsideVirtualCluster(t *testing.T) {
	a := saslNodes(t, 1)[0]
	tenant(t, a, "green", "gus")
	tok, _ := token(t, a, "green", "gus", time.Hour)
	topic := fmt.Sprintf("txn-%d", time.Now().UnixNano()%1e9)
	login := javaPlain("gus", tok)
	javaClient.produce(t, a.KafkaAddr(), topic, "tx", 40, append([]string{"--transactional-id", "payments-tx"}, login...)...)
	got := javaClient.consume(t, a.KafkaAddr(), topic, "green-readers", 40,
		append([]string{"--isolation", "read_committed", "--group-protocol", "consumer"}, login...)...)
	checkRecords(t, got, "tx", 40)

	direct, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	txns, err := kadm.NewClient(direct).DescribeTransactions(ctx, "green.payments-tx")
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := txns["green.payments-tx"]; !ok || d.Err != nil {
		t.Fatalf("backing cluster has no transactional id green.payments-tx: %+v", txns)
	}
	groups, err := kadm.NewClient(direct).ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(groups.Groups(), "green.green-readers") {
		t.Fatalf("backing cluster has no group green.green-readers: %v", groups.Groups())
	}
}

func loginOpt(user, password string) kgo.Opt {
	return kgo.SASL(plainMechanism(user, password))
}

// waitLed waits until every partition of a topic has a leader.
func waitLed(t *testing.T, ctx context.Context, adm *kadm.Client, topic string, partitions int) {
	t.Helper()
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil && md.Topics[topic].Err == nil && len(md.Topics[topic].Partitions) == partitions && allLed(md.Topics[topic].Partitions) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s never led: %v", topic, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
