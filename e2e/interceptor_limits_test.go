package e2e

import (
	"context"
	be "encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/server"
)

// limitNodes starts n gateway nodes of one gateway cluster on the single
// real Kafka cluster, plain passthrough, each advertising every broker at
// its own address so that a client stays on the node it bootstraps from.
func limitNodes(t *testing.T, n int) []*server.Server {
	t.Helper()
	requireReal(t)
	clusterID := fmt.Sprintf("limits%d", time.Now().UnixNano()%1e9)
	var nodes []*server.Server
	for range n {
		cfg := gatewayConfig()
		cfg.ClusterID = clusterID
		cfg.Backing.Bootstrap = strings.Split(single.direct, ",")
		cfg.Backing.SecurityProtocol = "PLAINTEXT"
		cfg.PortCount = 3
		cfg.ExternalLoadBalancing = true
		srv, err := startGateway(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		nodes = append(nodes, srv)
	}
	return nodes
}

// applyEverywhere applies an Interceptor for passthrough clients on every
// node; each PUT returns once that node has the resource in force.
func applyEverywhere(t *testing.T, nodes []*server.Server, name, class, config string) {
	t.Helper()
	doc := fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":%q},
		"spec":{"pluginClass":%q,"priority":100,"config":%s}}`, name, class, config)
	for _, n := range nodes {
		apply(t, n, doc)
	}
}

// committer commits offsets of group through one node and counts the
// commits the gateway admitted and refused.
func committer(t *testing.T, srv *server.Server) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.KafkaAddr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// commitN commits offset i of topic/0 for i < n, one commit every pause,
// and returns how many were admitted. Any refusal other than
// POLICY_VIOLATION fails the test.
func commitN(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string, n int, pause time.Duration) (admitted int) {
	t.Helper()
	for i := range n {
		var o kadm.Offsets
		o.AddOffset(topic, 0, int64(i), -1)
		resp, err := adm.CommitOffsets(ctx, group, o)
		if err != nil {
			t.Errorf("commit %d of %s: %v", i, group, err)
			return admitted
		}
		switch err := resp.Error(); {
		case err == nil:
			admitted++
		case err == kerr.PolicyViolation:
		default:
			t.Errorf("commit %d of %s: %v, want success or POLICY_VIOLATION", i, group, err)
		}
		time.Sleep(pause)
	}
	return admitted
}

// TestLimitCommitOffsetAcrossNodes applies LimitCommitOffsetPolicy once to
// a gateway cluster of two nodes and commits through both: the limit
// holds for the cluster, although each node alone stays under it.
func TestLimitCommitOffsetAcrossNodes(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := limitNodes(t, 2)
	topic := newTopic(t, single, "limitcommit", 1)
	const limit = 30
	applyEverywhere(t, nodes, "commit-limit", "io.conduktor.gateway.interceptor.safeguard.LimitCommitOffsetPolicyPlugin",
		fmt.Sprintf(`{"groupId":"limits-e2e-.*","maximumCommitsPerMinute":%d,"action":"BLOCK"}`, limit))
	a, b := committer(t, nodes[0]), committer(t, nodes[1])
	suffix := time.Now().UnixNano()

	t.Run("one node after the other", func(t *testing.T) {
		group := fmt.Sprintf("limits-e2e-seq-%d", suffix)
		if got := commitN(t, ctx, a, group, topic, 20, 0); got != 20 {
			t.Fatalf("node a admitted %d of 20 commits under a limit of %d", got, limit)
		}
		time.Sleep(time.Second) // several report intervals
		if got := commitN(t, ctx, b, group, topic, 20, 0); got != limit-20 {
			t.Fatalf("node b admitted %d of 20 commits; node a had used 20 of %d", got, limit)
		}
	})

	t.Run("both nodes at once", func(t *testing.T) {
		// Each node gets 25 commits at 25 a second: under the limit alone,
		// 50 together. The README's bound: the cluster admits at most the
		// limit plus what the other node admits during one lag, the report
		// interval (250ms) plus delivery; we allow delivery 250ms, so 25 a
		// second × 0.5s = 12 more at most.
		group := fmt.Sprintf("limits-e2e-par-%d", suffix)
		const perNode, pause, bound = 25, 40 * time.Millisecond, limit + 12
		var wg sync.WaitGroup
		got := make([]int, 2)
		for i, adm := range []*kadm.Client{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = commitN(t, ctx, adm, group, topic, perNode, pause)
			}()
		}
		wg.Wait()
		total := got[0] + got[1]
		t.Logf("admitted %d (node a %d, node b %d) of %d; limit %d, bound %d", total, got[0], got[1], 2*perNode, limit, bound)
		if total < limit || total > bound {
			t.Fatalf("the cluster admitted %d commits, want from %d to %d", total, limit, bound)
		}
	})
}

// connectOnce opens a connection to addr and asks for ApiVersions. It
// reports whether the gateway answered, false when it closed the
// connection.
func connectOnce(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// ApiVersions v0: key 18, version 0, correlation id 1, client id "limits".
	body := be.BigEndian.AppendUint16(nil, 18)
	body = be.BigEndian.AppendUint16(body, 0)
	body = be.BigEndian.AppendUint32(body, 1)
	body = be.BigEndian.AppendUint16(body, 6)
	body = append(body, "limits"...)
	frame := be.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := c.Write(append(frame, body...)); err != nil {
		return false
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return false
	}
	resp := make([]byte, be.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return false
	}
	return be.BigEndian.Uint32(resp) == 1
}

// TestLimitConnectionAcrossNodes: connections to one node count against
// the other's, so the second node refuses connections once the cluster
// has used the second's allowance, and accepts again a second later.
func TestLimitConnectionAcrossNodes(t *testing.T) {
	requireReal(t)
	nodes := limitNodes(t, 2)
	const limit = 6
	applyEverywhere(t, nodes, "connection-limit", "io.conduktor.gateway.interceptor.safeguard.LimitConnectionPolicyPlugin",
		fmt.Sprintf(`{"maximumConnectionsPerSecond":%d}`, limit))
	a, b := nodes[0].KafkaAddr(), nodes[1].KafkaAddr()
	// Wait for a fresh second: the limit's window is one second long.
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	for i := range limit {
		if !connectOnce(t, a) {
			t.Fatalf("node a refused connection %d of %d", i+1, limit)
		}
	}
	time.Sleep(500 * time.Millisecond) // two report intervals
	if time.Since(start) > 900*time.Millisecond {
		t.Fatalf("connections took %v; the window passed before node b could be checked", time.Since(start))
	}
	for i := range 3 {
		if connectOnce(t, b) {
			t.Fatalf("node b accepted connection %d although node a used the cluster's %d for this second", i+1, limit)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if !connectOnce(t, b) {
		t.Fatal("node b still refuses connections after the window passed")
	}
}

// TestProducerRateAcrossNodes applies ProducerRateLimitingPolicy once and
// produces as fast as the gateway lets through both nodes with the same
// principal: together they get about the cluster's limit, each node alone
// under it. Limited per node, each would get the whole limit and the sum,
// about twice the limit, would break the bound checked here.
func TestProducerRateAcrossNodes(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := limitNodes(t, 2)
	topic := newTopic(t, single, "limitproduce", 1)
	const limit = 100_000 // bytes a second
	applyEverywhere(t, nodes, "produce-rate", "io.conduktor.gateway.interceptor.safeguard.ProducerRateLimitingPolicyPlugin",
		fmt.Sprintf(`{"maximumBytesPerSecond":%d}`, limit))
	const run = 4 * time.Second
	value := make([]byte, 8000)
	sent := make([]int, 2)
	var wg sync.WaitGroup
	for i, n := range nodes {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.KafkaAddr()), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := time.Now().Add(run)
			for time.Now().Before(end) {
				if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr(); err != nil {
					t.Errorf("produce through node %d: %v", i, err)
					return
				}
				sent[i] += len(value)
			}
		}()
	}
	wg.Wait()
	total := sent[0] + sent[1]
	perRun := limit * int(run/time.Second)
	t.Logf("produced %d bytes in %v (node a %d, node b %d); limit %d bytes a second", total, run, sent[0], sent[1], limit)
	if total > perRun*3/2 {
		t.Fatalf("the cluster let %d bytes through in %v, more than 1.5 × the limit (%d)", total, run, perRun*3/2)
	}
	if total < perRun/2 {
		t.Fatalf("the cluster let only %d bytes through in %v; the limit allows %d", total, run, perRun)
	}
	for i, s := range sent {
		if s >= perRun {
			t.Fatalf("node %d alone let %d bytes through, the whole cluster's allowance", i, s)
		}
	}
}
