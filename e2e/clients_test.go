package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// client produces and consumes following the harness contract of
// e2e/clients/README.md.
type client interface {
	name() string
	produce(t *testing.T, addr, topic, prefix string, n int, extra ...string)
	consume(t *testing.T, addr, topic, group string, n int, extra ...string) []record
}

// external is a harness in another language, run as a process.
type external struct {
	label string
	argv  []string // relative to the repository root
}

func (e external) name() string { return e.label }

func (e external) run(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := e.exec(args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", e.label, strings.Join(args, " "), err, tail(stdout), tail(stderr))
	}
	return stdout
}

// runFailing runs a harness command that must fail, and returns its
// combined output.
func (e external) runFailing(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := e.exec(args...)
	if err == nil {
		t.Fatalf("%s %s succeeded, expected a failure:\n%s", e.label, strings.Join(args, " "), tail(stdout))
	}
	return stdout + stderr
}

func (e external) exec(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	argv := append([]string{}, e.argv...)
	for i, a := range argv {
		if strings.HasPrefix(a, "e2e/") || strings.HasPrefix(a, ".cache/") {
			argv[i] = filepath.Join(repoRoot, a)
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], args...)...)
	cmd.Dir = repoRoot
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (e external) produce(t *testing.T, addr, topic, prefix string, n int, extra ...string) {
	t.Helper()
	out := e.run(t, append([]string{"produce", "--bootstrap", addr, "--topic", topic, "--count", strconv.Itoa(n), "--prefix", prefix}, extra...)...)
	if !strings.Contains(out, fmt.Sprintf("acked %d", n)) {
		t.Fatalf("%s producer did not report %d acks:\n%s", e.label, n, tail(out))
	}
}

func (e external) consume(t *testing.T, addr, topic, group string, n int, extra ...string) []record {
	t.Helper()
	out := e.run(t, append([]string{"consume", "--bootstrap", addr, "--topic", topic, "--group", group, "--count", strconv.Itoa(n), "--timeout-ms", "90000"}, extra...)...)
	return parseRecords(t, out)
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// The external harnesses, installed by e2e/clients/install.sh.
var (
	javaClient    = external{"java", []string{"e2e/clients/java/run.sh"}}
	kafkajsClient = external{"kafkajs", []string{"node", "e2e/clients/node/harness.js"}}
	kafkaPython   = external{"kafka-python", []string{".cache/venv/bin/python", "e2e/clients/python/kafka_python_harness.py"}}
	librdkafkaPy  = external{"confluent-kafka-python", []string{".cache/venv/bin/python", "e2e/clients/python/confluent_harness.py"}}
	kcatClient    = external{"kcat", []string{"e2e/clients/kcat/harness.sh"}}
)

// franzGo is the franz-go client, in process.
type franzGo struct{}

func (franzGo) name() string { return "franz-go" }

func (franzGo) produce(t *testing.T, addr, topic, prefix string, n int, _ ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Key: []byte("key-" + strconv.Itoa(i%8)), Value: []byte(prefix + "-" + strconv.Itoa(i))},
			func(_ *kgo.Record, err error) {
				if err != nil {
					errs <- err
				}
				wg.Done()
			})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func (franzGo) consume(t *testing.T, addr, topic, group string, n int, _ ...string) []record {
	t.Helper()
	return consumeGo(t, addr, topic, group, n)
}

// saramaClient is IBM's sarama, in process.
type saramaClient struct{}

func (saramaClient) name() string { return "sarama" }

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	// One request in flight: a retried batch then never lands behind a later
	// one. sarama's idempotent mode is not used: in this suite it failed
	// now and then with OUT_OF_ORDER_SEQUENCE_NUMBER on a healthy broker.
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

func (saramaClient) produce(t *testing.T, addr, topic, prefix string, n int, _ ...string) {
	t.Helper()
	p, err := sarama.NewSyncProducer([]string{addr}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("key-" + strconv.Itoa(i%8)), Value: sarama.StringEncoder(prefix + "-" + strconv.Itoa(i))}
	}
	if err := p.SendMessages(msgs); err != nil {
		var errs sarama.ProducerErrors
		if errors.As(err, &errs) && len(errs) > 0 {
			t.Fatalf("%v; the first: %v", err, errs[0].Err)
		}
		t.Fatal(err)
	}
}

func (saramaClient) consume(t *testing.T, addr, topic, group string, n int, _ ...string) []record {
	t.Helper()
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	h := &saramaHandler{want: n, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil {
				return
			}
		}
	}()
	select {
	case <-h.done:
	case <-ctx.Done():
		t.Fatalf("sarama consumed %d of %d records", len(h.records), n)
	}
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.records
}

type saramaHandler struct {
	mu      sync.Mutex
	records []record
	want    int
	done    chan struct{}
	once    sync.Once
}

func (*saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.records = append(h.records, record{P: m.Partition, O: m.Offset, K: string(m.Key), V: string(m.Value)})
		full := len(h.records) >= h.want
		h.mu.Unlock()
		s.MarkMessage(m, "")
		if full {
			s.Commit()
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}
