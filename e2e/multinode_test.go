package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// gatewayNode is one strait process of a multi-node gateway cluster.
type gatewayNode struct {
	name      string
	portStart int
	httpPort  int
	env       []string
	proc      *process
}

func (n *gatewayNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.portStart) }
func (n *gatewayNode) api() string  { return "http://127.0.0.1:" + strconv.Itoa(n.httpPort) }

// start runs the node's process and waits until it is ready.
func (n *gatewayNode) start(t *testing.T) {
	t.Helper()
	n.proc = startProcess(t, n.env...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(n.api() + "/health/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after 30s:\n%s", n.name, n.proc.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// multiNodeCluster describes three strait processes in front of the trio
// cluster. Their port ranges are fixed below the ephemeral range so that a
// restarted node gets its own ports back.
func multiNodeCluster(clusterID string) []*gatewayNode {
	var nodes []*gatewayNode
	for i, name := range []string{"A", "B", "C"} {
		n := &gatewayNode{name: name, portStart: 23000 + 100*i, httpPort: 23090 + 100*i}
		n.env = []string{
			"KAFKA_BOOTSTRAP_SERVERS=" + trio.direct,
			"GATEWAY_CLUSTER_ID=" + clusterID,
			"GATEWAY_ADMIN_API_USERS=" + e2eAdminUsers,
			"GATEWAY_BIND_HOST=127.0.0.1", "GATEWAY_ADVERTISED_HOST=127.0.0.1",
			"GATEWAY_PORT_START=" + strconv.Itoa(n.portStart), "GATEWAY_PORT_COUNT=5", "GATEWAY_MIN_BROKERID=1",
			"GATEWAY_HTTP_PORT=" + strconv.Itoa(n.httpPort),
			"GATEWAY_MEMBERSHIP_HEARTBEAT_MS=300", "GATEWAY_MEMBERSHIP_TIMEOUT_MS=2000",
			"GATEWAY_METADATA_REFRESH_MS=1000",
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// advertised returns the port each broker is advertised on, asking through
// addr.
func advertised(addr string) (map[int32]int32, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return nil, err
	}
	ports := map[int32]int32{}
	for _, b := range md.Brokers {
		ports[b.NodeID] = b.Port
	}
	return ports, nil
}

// waitPlacement waits until every node in askers advertises the brokers on
// the ports want gives.
func waitPlacement(t *testing.T, askers []*gatewayNode, want map[int32]int32) time.Duration {
	t.Helper()
	start := time.Now()
	for _, n := range askers {
		for {
			got, err := advertised(n.addr())
			if err == nil && maps.Equal(got, want) {
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("node %s advertises %v (%v), want %v\n%s", n.name, got, err, want, n.proc.output())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// groupReader consumes a topic in a group until stopped and remembers every
// value it saw.
type groupReader struct {
	cl   *kgo.Client
	mu   sync.Mutex
	seen map[string]bool
	done chan struct{}
}

func startGroupReader(t *testing.T, seeds []string, topic string) *groupReader {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup("g-"+topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	r := &groupReader{cl: cl, seen: map[string]bool{}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			r.mu.Lock()
			fs.EachRecord(func(rec *kgo.Record) { r.seen[string(rec.Value)] = true })
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cl.Close(); <-r.done })
	return r
}

// waitAll waits until the reader has seen every value in want.
func (r *groupReader) waitAll(t *testing.T, want map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r.mu.Lock()
		missing := 0
		for v := range want {
			if !r.seen[v] {
				missing++
			}
		}
		r.mu.Unlock()
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the group consumer never received %d of %d acknowledged records", missing, len(want))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestThreeGatewayProcesses runs three strait processes on one real Kafka
// cluster: they find each other and spread the brokers; a change through
// one node's API is in force on the others; killing a node under produce
// and consume load loses no acknowledged record while clients move to the
// survivors; the restarted node rebuilds the same state and takes its
// brokers back.
func TestThreeGatewayProcesses(t *testing.T) {
	requireTrio(t)
	nodes := multiNodeCluster(fmt.Sprintf("multi-%d", time.Now().UnixNano()%1e9))
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, n := range nodes {
		n.start(t)
	}
	// Node ids sort A < B < C; broker n goes to node (n−1) mod 3, each
	// on its own port for that broker.
	spread := map[int32]int32{1: 23000, 2: 23101, 3: 23202}
	took := waitPlacement(t, nodes, spread)
	t.Logf("three nodes advertise one broker each after %v", took)

	doc := `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"multi"},"spec":{"members":[{"name":"alice"}]}}`
	if code, body := adminAt(t, a.api(), "PUT", "/gateway/v2/group", doc); code != 200 || !strings.Contains(body, "CREATED") {
		t.Fatalf("PUT on A: %d %s", code, body)
	}
	for _, n := range []*gatewayNode{b, c} {
		waitAt(t, n.api(), "/gateway/v2/group/multi", func(code int, body string) bool {
			return code == 200 && strings.Contains(body, "alice")
		})
	}

	seeds := []string{a.addr(), b.addr(), c.addr()}
	topic := newTopicAt(t, a.addr(), trio, "multinode", 6)
	reader := startGroupReader(t, seeds, topic)
	load := startLoad(t, strings.Join(seeds, ","), topic)
	time.Sleep(3 * time.Second)

	killed := time.Now()
	b.proc.kill()
	load.mu.Lock()
	ackedAtKill := len(load.acked)
	load.mu.Unlock()
	// B's broker moves to a survivor: A and C share the three brokers.
	took = waitPlacement(t, []*gatewayNode{a, c}, map[int32]int32{1: 23000, 2: 23201, 3: 23002})
	t.Logf("survivors took over B's broker %v after the kill", took)
	time.Sleep(5 * time.Second)
	acked := load.finish(t)
	if len(acked) <= ackedAtKill+100 {
		t.Fatalf("only %d records acknowledged after B was killed (%d before, %v ago): clients did not continue through A and C",
			len(acked)-ackedAtKill, ackedAtKill, time.Since(killed))
	}
	reader.waitAll(t, acked)
	checkNoAckedLoss(t, a.addr()+","+c.addr(), topic, acked)

	// A change while B is down, then B restarts and rebuilds everything.
	doc2 := strings.Replace(doc, `"multi"`, `"while-b-down"`, 1)
	if code, body := adminAt(t, c.api(), "PUT", "/gateway/v2/group", doc2); code != 200 {
		t.Fatalf("PUT on C: %d %s", code, body)
	}
	b.start(t)
	for _, name := range []string{"multi", "while-b-down"} {
		if code, body := adminAt(t, b.api(), "GET", "/gateway/v2/group/"+name, ""); code != 200 || !strings.Contains(body, "alice") {
			t.Fatalf("restarted B lacks group %s: %d %s", name, code, body)
		}
	}
	waitPlacement(t, nodes, spread)
}
