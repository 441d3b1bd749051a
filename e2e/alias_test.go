package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestAliasTopicInsideVirtualCluster gives a topic that lives outside a
// virtual cluster's prefix a name inside it. Clients of the virtual
// cluster produce and consume through that name, as Java and franz-go
// clients; the records land in the physical topic; another virtual cluster
// does not see the name; deleting the AliasTopic takes the name away but
// leaves the data.
func TestAliasTopicInsideVirtualCluster(t *testing.T) {
	a := saslNodes(t, 1)[0]
	tenant(t, a, "shop", "sam")
	tenant(t, a, "other", "olga")
	shopTok, _ := token(t, a, "shop", "sam", time.Hour)
	otherTok, _ := token(t, a, "other", "olga", time.Hour)
	addr := a.KafkaAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// An existing topic of the backing cluster, owned by no tenant.
	direct := backingClient(t)
	dadm := kadm.NewClient(direct)
	physical := fmt.Sprintf("legacy-orders-%d", time.Now().UnixNano()%1e9)
	resp, err := dadm.CreateTopic(ctx, 3, 1, nil, physical)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s on the backing cluster: %v", physical, err)
	}
	waitLed(t, ctx, dadm, physical, 3)
	produceRecords(t, ctx, direct, physical, "owner", 10)

	const alias = "orders"
	apply(t, a, fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"AliasTopic","metadata":{"name":%q,"vCluster":"shop"},"spec":{"physicalName":%q}}`, alias, physical))
	// Metadata is cached for 5s by default; the test watches names come
	// and go.
	fresh := kgo.MetadataMinAge(50 * time.Millisecond)
	shop := plainClient(t, addr, "sam", shopTok, fresh)
	sadm := kadm.NewClient(shop)
	waitLed(t, ctx, sadm, alias, 3)

	// Producing through an alias writes to the physical topic: every
	// request for the alias goes to it (see the report for the reference).
	javaClient.produce(t, addr, alias, "java", 30, javaPlain("sam", shopTok)...)
	produceRecords(t, ctx, shop, alias, "franz", 20)

	t.Run("records land in the physical topic", func(t *testing.T) {
		ends, err := dadm.ListEndOffsets(ctx, physical)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n != 60 {
			t.Fatalf("%s holds %d records, want 10 + 30 + 20", physical, n)
		}
		checkPrefixes(t, readTopic(t, ctx, direct, physical, 60), map[string]int{"owner": 10, "java": 30, "franz": 20})
		if names := physicalTopics(t); slices.Contains(names, "shop."+alias) {
			t.Fatalf("the alias was also created as shop.%s: %v", alias, names)
		}
	})

	t.Run("Java and franz-go consume through the alias", func(t *testing.T) {
		got := javaClient.consume(t, addr, alias, "java-readers", 60, javaPlain("sam", shopTok)...)
		checkPrefixes(t, got, map[string]int{"owner": 10, "java": 30, "franz": 20})
		got = consumeGo(t, addr, alias, "go-readers", 60, loginOpt("sam", shopTok))
		checkPrefixes(t, got, map[string]int{"owner": 10, "java": 30, "franz": 20})

		// Groups stay in the virtual cluster; their offsets name the
		// physical topic on the backing cluster and the alias inside.
		for _, g := range []string{"java-readers", "go-readers"} {
			checkCommitted(t, ctx, dadm, "shop."+g, physical, 60)
			checkCommitted(t, ctx, sadm, g, alias, 60)
		}
	})

	t.Run("the alias is listed under its name in its virtual cluster only", func(t *testing.T) {
		ts, err := sadm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := ts.Names(); !slices.Equal(names, []string{alias}) {
			t.Fatalf("shop lists %v, want [%s]", names, alias)
		}
		if d := ts[alias]; len(d.Partitions) != 3 {
			t.Fatalf("shop's %s has %d partitions, want the physical topic's 3", alias, len(d.Partitions))
		}
		missingTopic(t, ctx, sadm, physical) // the physical name means shop.<name> inside

		other := kadm.NewClient(plainClient(t, addr, "olga", otherTok, fresh))
		ts, err = other.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := ts.Names(); slices.Contains(names, alias) || slices.Contains(names, physical) {
			t.Fatalf("another virtual cluster lists %v", names)
		}
		missingTopic(t, ctx, other, alias)
		missingTopic(t, ctx, other, physical)

		// The other tenant's own topic of the same name is its own.
		created, err := other.CreateTopic(ctx, 1, 1, nil, alias)
		if err == nil {
			err = created.Err
		}
		if err != nil {
			t.Fatalf("other creates its own %s: %v", alias, err)
		}
		waitLed(t, ctx, other, alias, 1)
		if !slices.Contains(physicalTopics(t), "other."+alias) {
			t.Fatalf("other's %s is not other.%s on the backing cluster", alias, alias)
		}
		waitLed(t, ctx, sadm, alias, 3)

		opsTok, _ := token(t, a, "", "ops", time.Hour)
		ts, err = kadm.NewClient(plainClient(t, addr, "ops", opsTok)).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := ts.Names(); !slices.Contains(names, physical) || slices.Contains(names, alias) {
			t.Fatalf("passthrough should list %s and no %s: %v", physical, alias, names)
		}
	})

	t.Run("deleting the AliasTopic removes the name and keeps the data", func(t *testing.T) {
		if code, body := adminCall(t, a, "DELETE", "/gateway/v2/alias-topic/"+alias, `{"vCluster":"shop"}`); code != http.StatusNoContent {
			t.Fatalf("DELETE alias-topic: %d %s", code, body)
		}
		// The client's connections were opened while the alias existed.
		start := time.Now()
		for {
			md, err := sadm.Metadata(ctx, alias)
			if err == nil && errors.Is(md.Topics[alias].Err, kerr.UnknownTopicOrPartition) {
				break
			}
			if time.Since(start) > 15*time.Second {
				t.Fatalf("%s still resolves 15s after the AliasTopic was deleted: %v", alias, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("%s gone %v after the AliasTopic was deleted", alias, time.Since(start))
		ts, err := sadm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := ts.Names(); len(names) != 0 {
			t.Fatalf("shop still lists %v", names)
		}
		ends, err := dadm.ListEndOffsets(ctx, physical)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n != 60 {
			t.Fatalf("%s holds %d records after the alias went, want 60", physical, n)
		}
	})
}

// backingClient is a franz-go client of the single backing cluster itself.
func backingClient(t *testing.T) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceRecords writes prefix-0 … prefix-(n−1) with the harness contract's
// keys, one at a time.
func produceRecords(t *testing.T, ctx context.Context, cl *kgo.Client, topic, prefix string, n int) {
	t.Helper()
	for i := range n {
		r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", i%8), Value: fmt.Appendf(nil, "%s-%d", prefix, i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %s to %s: %v", prefix, topic, err)
		}
	}
}

// readTopic reads n records of a topic from the start, outside any group.
func readTopic(t *testing.T, ctx context.Context, seed *kgo.Client, topic string, n int) []record {
	t.Helper()
	cl, err := kgo.NewClient(append(seed.Opts(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []record
	for len(rs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(rs), n, topic)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			rs = append(rs, record{P: r.Partition, O: r.Offset, K: string(r.Key), V: string(r.Value)})
		})
	}
	return rs
}

// checkPrefixes checks records written by several producers: for each
// prefix, exactly the records one produce of that prefix wrote.
func checkPrefixes(t *testing.T, rs []record, want map[string]int) {
	t.Helper()
	by := map[string][]record{}
	for _, r := range rs {
		i := strings.LastIndexByte(r.V, '-')
		if i < 0 {
			t.Fatalf("unexpected record %+v", r)
		}
		by[r.V[:i]] = append(by[r.V[:i]], r)
	}
	for prefix, n := range want {
		checkRecords(t, by[prefix], prefix, n)
		delete(by, prefix)
	}
	if len(by) > 0 {
		t.Fatalf("records of unexpected producers: %v", by)
	}
}

// checkCommitted checks that a group's committed offsets name only topic
// and add up to n.
func checkCommitted(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string, n int64) {
	t.Helper()
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("offsets of %s: %v", group, err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic != topic || o.Err != nil {
			t.Errorf("group %s: offset for %q (%v), want only %s", group, o.Topic, o.Err, topic)
		}
		sum += o.At
	})
	if sum != n {
		t.Fatalf("group %s committed %d records of %s, want %d", group, sum, topic, n)
	}
}

// missingTopic checks that Metadata answers for a topic as for one that
// does not exist.
func missingTopic(t *testing.T, ctx context.Context, adm *kadm.Client, topic string) {
	t.Helper()
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := md.Topics[topic].Err; !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("Metadata for %s: %v, want UNKNOWN_TOPIC_OR_PARTITION", topic, err)
	}
}
