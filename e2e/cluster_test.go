package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// loadProducer produces through the gateway until stopped and remembers
// every record the cluster acknowledged.
type loadProducer struct {
	cl     *kgo.Client
	topic  string
	mu     sync.Mutex
	acked  map[string]bool
	failed int
	stop   chan struct{}
	done   chan struct{}
}

// startLoad starts producing to topic through the gateway at addr (one
// address or a comma-separated list).
func startLoad(t *testing.T, addr, topic string) *loadProducer {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(addr, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	lp := &loadProducer{cl: cl, topic: topic, acked: make(map[string]bool), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(lp.done)
		for i := 0; ; i++ {
			select {
			case <-lp.stop:
				_ = cl.Flush(context.Background())
				return
			default:
			}
			v := "load-" + strconv.Itoa(i)
			cl.Produce(context.Background(), &kgo.Record{Key: []byte("key-" + strconv.Itoa(i%8)), Value: []byte(v)}, func(r *kgo.Record, err error) {
				lp.mu.Lock()
				defer lp.mu.Unlock()
				if err != nil {
					lp.failed++
					return
				}
				lp.acked[string(r.Value)] = true
			})
			time.Sleep(time.Millisecond)
		}
	}()
	return lp
}

// finish stops the load and returns the acknowledged values.
func (lp *loadProducer) finish(t *testing.T) map[string]bool {
	t.Helper()
	close(lp.stop)
	<-lp.done
	lp.cl.Close()
	lp.mu.Lock()
	defer lp.mu.Unlock()
	t.Logf("%d records acknowledged, %d failed", len(lp.acked), lp.failed)
	if len(lp.acked) == 0 {
		t.Fatal("no record was acknowledged")
	}
	return lp.acked
}

// checkNoAckedLoss consumes the topic through the gateway at addr (one
// address or a comma-separated list) and checks that every acknowledged
// record is there, once.
func checkNoAckedLoss(t *testing.T, addr, topic string, acked map[string]bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(addr, ",")...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := make(map[string]int)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	missing := len(acked)
	for missing > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d acknowledged records never arrived", missing)
		}
		fs.EachRecord(func(r *kgo.Record) {
			v := string(r.Value)
			got[v]++
			if got[v] > 1 {
				t.Fatalf("record %s delivered twice", v)
			}
			if acked[v] {
				missing--
			}
		})
	}
}

func requireTrio(t *testing.T) {
	t.Helper()
	if trio == nil {
		t.Skip("-short: the three-broker real Kafka cluster is not started")
	}
}

// TestLeaderMovesUnderLoad moves partition leadership between brokers
// (reassign and preferred-leader election, straight on the cluster) while a
// producer writes through the gateway.
func TestLeaderMovesUnderLoad(t *testing.T) {
	requireTrio(t)
	topic := newTopic(t, trio, "leader-move", 3)
	direct, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(trio.direct, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	adm := kadm.NewClient(direct)
	lp := startLoad(t, trio.gatewayAddr(), topic)
	ctx := context.Background()
	for round := range 3 {
		time.Sleep(time.Second)
		var as kadm.AlterPartitionAssignmentsReq
		for p := int32(0); p < 3; p++ {
			first := int32((int(p)+round+1)%3) + 1
			as.Assign(topic, p, []int32{first, first%3 + 1, (first+1)%3 + 1})
		}
		if _, err := adm.AlterPartitionAssignments(ctx, as); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		set := make(kadm.TopicsSet)
		set.Add(topic, 0, 1, 2)
		if _, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, set); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	checkNoAckedLoss(t, trio.gatewayAddr(), topic, lp.finish(t))
}

// TestBrokerRestartUnderLoad stops one broker and starts it again while a
// producer writes through the gateway.
func TestBrokerRestartUnderLoad(t *testing.T) {
	requireTrio(t)
	topic := newTopic(t, trio, "restart", 3)
	lp := startLoad(t, trio.gatewayAddr(), topic)
	script := filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh")
	time.Sleep(2 * time.Second)
	if out, err := exec.Command(script, "stop-node", trio.kafka, "2").CombinedOutput(); err != nil {
		t.Fatalf("stop node: %v\n%s", err, out)
	}
	time.Sleep(3 * time.Second)
	if out, err := exec.Command(script, "start-node", trio.kafka, "2").CombinedOutput(); err != nil {
		t.Fatalf("start node: %v\n%s", err, out)
	}
	time.Sleep(3 * time.Second)
	checkNoAckedLoss(t, trio.gatewayAddr(), topic, lp.finish(t))
}
