package membership

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/gateway"
	"github.com/strait-gateway/strait/store"
)

const topic = "_strait_test_members"

func cluster(t *testing.T) []kgo.Opt {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
}

func member(node string, portStart int, rack string) Member {
	return Member{Node: node, Host: node + ".example", PortStart: portStart, PortCount: 3, MinBrokerID: 1, Rack: rack}
}

func join(t *testing.T, opts []kgo.Opt, self Member) *Membership {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := Join(ctx, opts, Config{
		Self:     self,
		Store:    store.Config{Topic: topic, Log: zaptest.NewLogger(t)},
		Interval: 100 * time.Millisecond,
		Timeout:  600 * time.Millisecond,
		Log:      zaptest.NewLogger(t).Named(self.Node),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitLive waits until m sees exactly the given nodes.
func waitLive(t *testing.T, m *Membership, nodes ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if slices.Equal(nodeIDs(m.Live()), nodes) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s sees %v, want %v", m.cfg.Self.Node, nodeIDs(m.Live()), nodes)
	return 0
}

func TestNodesSeeEachOther(t *testing.T) {
	opts := cluster(t)
	a := join(t, opts, member("a", 7000, ""))
	defer a.Close()
	b := join(t, opts, member("b", 8000, ""))
	defer b.Close()
	c := join(t, opts, member("c", 9000, ""))
	waitLive(t, a, "a", "b", "c")
	waitLive(t, b, "a", "b", "c")
	waitLive(t, c, "a", "b", "c")

	// Every node places the three brokers the same way, one per node.
	for id, want := range map[int32]int{1: 7000, 2: 8001, 3: 9002} {
		for _, m := range []*Membership{a, b, c} {
			r, ok := m.Place(id, "")
			if port, _ := r.Port(id); !ok || int(port) != want {
				t.Errorf("%s places broker %d on port %d (%v), want %d", m.cfg.Self.Node, id, port, ok, want)
			}
		}
	}

	// A node that stops without leaving is dropped after the timeout.
	c.Close()
	waitLive(t, a, "a", "b")
	waitLive(t, b, "a", "b")
	if r, _ := a.Place(3, ""); r.AdvertisedHost != "a.example" {
		t.Errorf("broker 3 placed on %s after c died, want a (offset 2 of 2 nodes)", r.AdvertisedHost)
	}
}

func TestLeaveIsImmediate(t *testing.T) {
	opts := cluster(t)
	a := join(t, opts, member("a", 7000, ""))
	defer a.Close()
	b := join(t, opts, member("b", 8000, ""))
	waitLive(t, a, "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// Well inside the 600 ms timeout: the tombstone removes b.
	if took := waitLive(t, a, "a"); took > 400*time.Millisecond {
		t.Errorf("leave took %v to be seen", took)
	}
}

func TestRestartRebuildsMembersWithoutStaleOnes(t *testing.T) {
	opts := cluster(t)
	a := join(t, opts, member("a", 7000, ""))
	dead := join(t, opts, member("dead", 8000, ""))
	waitLive(t, a, "a", "dead")
	dead.Close() // killed: its last heartbeat stays in the topic
	a.Close()
	time.Sleep(700 * time.Millisecond)
	// A node starting now reads the old heartbeats but takes neither a
	// nor dead for live.
	b := join(t, opts, member("b", 9000, ""))
	defer b.Close()
	if got := nodeIDs(b.Live()); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("fresh node sees %v, want only itself", got)
	}
}

func TestPlacementPrefersTheBrokersRack(t *testing.T) {
	m := &Membership{cfg: Config{Self: member("a", 7000, "r1")}}
	m.live.Store(&[]Member{member("a", 7000, "r1"), member("b", 8000, "r2"), member("c", 9000, "r2")})
	tests := []struct {
		broker int32
		rack   string
		want   string
	}{
		{1, "r2", "b.example"}, // offset 0 among b, c
		{2, "r2", "c.example"}, // offset 1
		{2, "r1", "a.example"}, // a is the only r1 node
		{2, "r9", "b.example"}, // no node in r9: all three, offset 1
		{3, "", "c.example"},   // no rack: offset 2 of three
	}
	for _, tc := range tests {
		r, ok := m.Place(tc.broker, tc.rack)
		if !ok || r.AdvertisedHost != tc.want {
			t.Errorf("broker %d rack %q: placed on %q (%v), want %q", tc.broker, tc.rack, r.AdvertisedHost, ok, tc.want)
		}
	}
	// A broker outside every node's port range is not placed.
	if _, ok := m.Place(50, ""); ok {
		t.Error("broker 50 placed although no node has a port for it")
	}
	var _ gateway.Placement = m
}

func TestDecodeRejectsBadHeartbeats(t *testing.T) {
	good, _ := json.Marshal(member("a", 7000, ""))
	tests := []struct {
		name, key, value string
		ok               bool
	}{
		{"valid", "a", string(good), true},
		{"not json", "a", "{", false},
		{"key names another node", "b", string(good), false},
		{"no address", "a", `{"node":"a"}`, false},
	}
	for _, tc := range tests {
		_, err := decode([]byte(tc.key), []byte(tc.value))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
