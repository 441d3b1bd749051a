package concentration

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strait-gateway/strait/concentration/offsetmap"
	"github.com/strait-gateway/strait/store"
)

// waitFor polls cond until it holds or the test's time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFollowerCheckpointsAndRestores(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "phys"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Topic a has three logical partitions on phys/0; its records come in
	// runs of 7, with an untagged record after every 100.
	a := &Topic{Name: "a", ID: idA, Physical: "phys", Partitions: []int32{0, 0, 0}, CleanupPolicy: "delete", Dense: true}
	const n = offsetmap.ChunkSize + 4000
	want := map[offsetmap.Tag]int64{}
	producer, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("phys"), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	var recs []*kgo.Record
	for i := range n {
		r := &kgo.Record{Value: []byte("v")}
		if i%100 != 99 {
			p := int32(i/7) % 3
			r.Headers = []kgo.RecordHeader{{Key: TopicHeader, Value: []byte(idA.String())}, {Key: PartitionHeader, Value: []byte(strconv.Itoa(int(p)))}}
			want[a.Tag(p)]++
		}
		recs = append(recs, r)
	}
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := Config{ClientOpts: opts, Offsets: store.Config{Topic: "_strait_t_offsets"}}
	reg := &store.Snapshot[*Topic]{Entries: map[string]*Topic{"a": a}}
	v := &view{byName: map[string]*Topic{"a": a}, byID: map[ID]*Topic{idA: a}, byPhysical: map[string]bool{"phys": true}}
	first, err := openFollower(ctx, cfg, reg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()
	first.follow(v)
	ix1, _ := first.index(a, 0)
	waitFor(t, "the first follower to index every record", func() bool { return ix1.Watermark() == n })
	key := checkpointKey("phys", 0, 0)
	waitFor(t, "the checkpoint of chunk 0", func() bool {
		return first.offsets.Snapshot().Entries[key] == struct{}{} && len(first.offsets.Snapshot().Entries) == 1
	})
	for tg, count := range want {
		if got := ix1.End(tg); got != count {
			t.Errorf("first follower: tag %v has %d records, want %d", tg, got, count)
		}
	}

	core, logs := observer.New(zap.InfoLevel)
	second, err := openFollower(ctx, cfg, reg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer second.close()
	// Restored from the checkpoint alone, before reading anything.
	ix2, code := second.index(a, 0)
	if code != 0 || ix2.Watermark() != offsetmap.ChunkSize {
		t.Fatalf("restored index: code %d, watermark %v; want the end of chunk 0", code, ix2)
	}
	restored := logs.FilterMessage("offset index restored from checkpoints").All()
	if len(restored) != 1 || restored[0].ContextMap()["chunks"] != int64(1) {
		t.Errorf("restore log: %v", restored)
	}
	second.follow(v)
	waitFor(t, "the second follower to catch up", func() bool { return ix2.Watermark() == n })
	for p := range int32(3) {
		tg := a.Tag(p)
		if e1, e2 := ix1.End(tg), ix2.End(tg); e1 != e2 || e1 != want[tg] {
			t.Errorf("tag %v: ends %d and %d, want %d", tg, e1, e2, want[tg])
		}
		for off := range want[tg] + 1 {
			s1, err1 := ix1.Seek(tg, off)
			s2, err2 := ix2.Seek(tg, off)
			if s1 != s2 || err1 != nil || err2 != nil {
				t.Fatalf("tag %v offset %d: seeks %d, %v and %d, %v", tg, off, s1, err1, s2, err2)
			}
		}
	}
}

func TestParseCheckpointKey(t *testing.T) {
	for _, tc := range []struct {
		key       string
		topic     string
		partition int32
		chunk     int64
		ok        bool
	}{
		{"phys/0/0", "phys", 0, 0, true},
		{"phys/3/12", "phys", 3, 12, true},
		{"a/b/c/7/9", "a/b/c", 7, 9, true},
		{"phys/2147483647/9223372036854775807", "phys", 1<<31 - 1, 1<<63 - 1, true},
		{"phys/2147483648/0", "", 0, 0, false},
		{"phys/-1/0", "", 0, 0, false},
		{"phys/0/-1", "", 0, 0, false},
		{"phys/0", "", 0, 0, false},
		{"/0/0", "", 0, 0, false},
		{"phys/x/0", "", 0, 0, false},
		{"phys/0/", "", 0, 0, false},
		{"", "", 0, 0, false},
	} {
		topic, partition, chunk, ok := parseCheckpointKey(tc.key)
		if topic != tc.topic || partition != tc.partition || chunk != tc.chunk || ok != tc.ok {
			t.Errorf("parseCheckpointKey(%q) = %q %d %d %v", tc.key, topic, partition, chunk, ok)
		}
	}
}

// FuzzCheckpointKey checks that parseCheckpointKey never panics and that
// what it accepts names the same chunk as checkpointKey writes it.
func FuzzCheckpointKey(f *testing.F) {
	f.Add("phys/0/0")
	f.Add("a/b/1/2")
	f.Add("//")
	f.Fuzz(func(t *testing.T, key string) {
		topic, partition, chunk, ok := parseCheckpointKey(key)
		if !ok {
			return
		}
		k := checkpointKey(topic, partition, chunk)
		t2, p2, c2, ok := parseCheckpointKey(k)
		if !ok || t2 != topic || p2 != partition || c2 != chunk {
			t.Fatalf("%q → %q %d %d → %q → %q %d %d %v", key, topic, partition, chunk, k, t2, p2, c2, ok)
		}
	})
}
