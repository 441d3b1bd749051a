package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"
)

// item is a test value: JSON with a positive count.
type item struct {
	Count int `json:"count"`
}

func decodeItem(_, value []byte) (item, error) {
	var it item
	if err := json.Unmarshal(value, &it); err != nil {
		return item{}, fmt.Errorf("not json: %w", err)
	}
	if it.Count <= 0 {
		return item{}, errors.New("count must be positive")
	}
	return it, nil
}

func newCluster(t *testing.T) []kgo.Opt {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
}

func open(t *testing.T, opts []kgo.Opt) *Store[item] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, opts, Config{Topic: "_strait_test_config", Log: zaptest.NewLogger(t)}, decodeItem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func put(t *testing.T, s *Store[item], key, value string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var v []byte
	if value != "" {
		v = []byte(value)
	}
	return s.Put(ctx, []byte(key), v)
}

func TestPutReadYourWritesAndDelete(t *testing.T) {
	s := open(t, newCluster(t))
	if err := put(t, s, "a", `{"count":1}`); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if snap.Entries["a"].Count != 1 || snap.Generation == 0 {
		t.Fatalf("after put: %+v", snap)
	}
	if err := put(t, s, "a", ""); err != nil { // tombstone
		t.Fatal(err)
	}
	if _, ok := s.Snapshot().Entries["a"]; ok {
		t.Fatal("tombstone did not delete")
	}
}

func TestRejectedRecordKeepsPreviousValue(t *testing.T) {
	s := open(t, newCluster(t))
	if err := put(t, s, "a", `{"count":2}`); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"count":-1}`, `garbage`, `{"count":`} {
		if err := put(t, s, "a", bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	if got := s.Snapshot().Entries["a"].Count; got != 2 {
		t.Fatalf("value %d after rejected records, want 2", got)
	}
	if s.Rejected() != 3 {
		t.Fatalf("rejected %d, want 3", s.Rejected())
	}
	// The store keeps working after rejections.
	if err := put(t, s, "b", `{"count":5}`); err != nil {
		t.Fatal(err)
	}
}

func TestPutAllAppliesEveryRecordAndReportsRejection(t *testing.T) {
	s := open(t, newCluster(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.PutAll(ctx, []KV{{[]byte("a"), []byte(`{"count":1}`)}, {[]byte("b"), []byte(`{"count":2}`)}, {[]byte("c"), []byte(`{"count":3}`)}}); err != nil {
		t.Fatal(err)
	}
	if e := s.Snapshot().Entries; e["a"].Count != 1 || e["b"].Count != 2 || e["c"].Count != 3 {
		t.Fatalf("after PutAll: %+v", e)
	}
	err := s.PutAll(ctx, []KV{{[]byte("a"), nil}, {[]byte("b"), []byte(`{"count":-5}`)}})
	if err == nil {
		t.Fatal("a rejected record among several was not reported")
	}
	e := s.Snapshot().Entries
	if _, ok := e["a"]; ok || e["b"].Count != 2 {
		t.Fatalf("after a tombstone and a rejected record: %+v", e)
	}
}

func TestNodesConvergeAndRestartRebuilds(t *testing.T) {
	opts := newCluster(t)
	a, b := open(t, opts), open(t, opts)
	changes := make(chan uint64, 100)
	b.Watch(func(s *Snapshot[item]) { changes <- s.Generation })
	for i := range 20 {
		if err := put(t, a, fmt.Sprintf("k%d", i%5), fmt.Sprintf(`{"count":%d}`, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := put(t, a, "k0", ""); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"k1": 17, "k2": 18, "k3": 19, "k4": 20}
	deadline := time.Now().Add(10 * time.Second)
	for !sameCounts(b.Snapshot().Entries, want) {
		if time.Now().After(deadline) {
			t.Fatalf("node b has %v, want %v", b.Snapshot().Entries, want)
		}
		<-changes
	}
	// A node started afterwards rebuilds the same state from the topic.
	c := open(t, opts)
	if !sameCounts(c.Snapshot().Entries, want) {
		t.Fatalf("restarted node has %v, want %v", c.Snapshot().Entries, want)
	}
}

func sameCounts(got map[string]item, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k].Count != v {
			return false
		}
	}
	return true
}

// TestTransactionalWrites: records written in transactions count once
// committed, never when aborted, and a topic that ends in a commit marker
// (which no consumer sees as a record) still loads.
func TestTransactionalWrites(t *testing.T) {
	opts := newCluster(t)
	s := open(t, opts) // creates the topic
	s.Close()
	cl, err := kgo.NewClient(append(opts, kgo.TransactionalID("hand-writer"),
		kgo.DefaultProduceTopic("_strait_test_config"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		key, value string
		commit     kgo.TransactionEndTry
	}{
		{"aborted", `{"count":1}`, kgo.TryAbort},
		{"committed", `{"count":2}`, kgo.TryCommit},
	} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(tc.key), Value: []byte(tc.value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, tc.commit); err != nil {
			t.Fatal(err)
		}
	}
	got := open(t, opts).Snapshot().Entries
	if len(got) != 1 || got["committed"].Count != 2 {
		t.Fatalf("state after one aborted and one committed transaction: %v", got)
	}
}

// TestObserve checks that every record's outcome is reported in order,
// and that records read at start-up are marked as loading.
func TestObserve(t *testing.T) {
	opts := newCluster(t)
	writer := open(t, opts)
	for _, r := range [][2]string{{"a", `{"count":1}`}, {"b", `{"count":0}`}} {
		_ = put(t, writer, r[0], r[1])
	}
	var seen []Outcome
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, opts, Config{Topic: "_strait_test_config", Log: zaptest.NewLogger(t), Observe: func(o Outcome) {
		mu.Lock()
		seen = append(seen, o)
		mu.Unlock()
	}}, decodeItem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	_ = put(t, s, "a", "")
	_ = put(t, s, "c", `not json`)

	mu.Lock()
	defer mu.Unlock()
	want := []struct {
		offset   int64
		key      string
		rejected bool
		loading  bool
		tomb     bool
	}{{0, "a", false, true, false}, {1, "b", true, true, false}, {2, "a", false, false, true}, {3, "c", true, false, false}}
	if len(seen) != len(want) {
		t.Fatalf("%d outcomes, want %d: %+v", len(seen), len(want), seen)
	}
	for i, w := range want {
		o := seen[i]
		if o.Offset != w.offset || string(o.Key) != w.key || (o.Err != nil) != w.rejected || o.Loading != w.loading || (o.Value == nil) != w.tomb {
			t.Errorf("outcome %d = %+v, want %+v", i, o, w)
		}
	}
}
