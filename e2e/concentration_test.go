package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strait-gateway/strait/backing"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// concentrationRule declares a rule keeping topics named pattern on the
// physical topic physical, with dense offsets.
func concentrationRule(t *testing.T, name, pattern, physical string) {
	t.Helper()
	apply(t, single.gateway, fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":{"name":%q},
		"spec":{"pattern":%q,"physicalTopics":{"delete":%q},"offsetCorrectness":true}}`, name, pattern, physical))
	t.Cleanup(func() { adminCall(t, single.gateway, "DELETE", "/gateway/v2/concentration-rule/"+name, "") })
}

// TestConcentrationManyTopicsOnOne puts 120 logical topics on one physical
// topic of real Kafka and checks that each behaves as a topic of its own:
// listed, written and read apart from the others, with dense offsets.
func TestConcentrationManyTopicsOnOne(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	direct := kadm.NewClient(backingClient(t))
	const physical = "conc_many_physical"
	if _, err := direct.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("delete")}, physical); err != nil {
		t.Fatal(err)
	}
	concentrationRule(t, "many", `conc-many-.*`, physical)

	gw, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	adm := kadm.NewClient(gw)
	var topics []string
	for i := range 120 {
		topics = append(topics, fmt.Sprintf("conc-many-%03d", i))
	}
	created, err := adm.CreateTopics(ctx, 2, 1, nil, topics...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range created.Sorted() {
		if c.Err != nil {
			t.Fatalf("create %s: %v (%s)", c.Topic, c.Err, c.ErrMessage)
		}
	}
	missingTopic(t, ctx, direct, topics[0]) // nothing was created in the backing cluster
	listed, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range topics {
		if d := listed[name]; d.Err != nil || len(d.Partitions) != 2 {
			t.Fatalf("metadata of %s: %+v", name, d)
		}
	}

	// Every topic gets 2×5 records, written by one producer in
	// requests that mix many logical partitions on few physical ones.
	var rs []*kgo.Record
	for _, name := range topics {
		for p := range int32(2) {
			for i := range 5 {
				rs = append(rs, &kgo.Record{Topic: name, Partition: p, Value: fmt.Appendf(nil, "%s/%d/%d", name, p, i)})
			}
		}
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if err := producer.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	for _, r := range rs {
		if want := int64(r.Value[len(r.Value)-1] - '0'); r.Offset != want {
			t.Fatalf("record %s written at offset %d, want %d", r.Value, r.Offset, want)
		}
	}

	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != 5 {
			t.Errorf("end offset of %s/%d: %d (%v), want 5", o.Topic, o.Partition, o.Offset, o.Err)
		}
	})

	// Each topic read on its own returns exactly its records, densely
	// numbered.
	for _, name := range []string{topics[0], topics[57], topics[119]} {
		got := readTopic(t, ctx, gw, name, 10)
		if len(got) != 10 {
			t.Fatalf("%s: read %d records, want 10", name, len(got))
		}
		for _, r := range got {
			if want := fmt.Sprintf("%s/%d/%d", name, r.P, r.O); r.V != want {
				t.Fatalf("%s: record %q at %d/%d, want %q", name, r.V, r.P, r.O, want)
			}
		}
	}

	code, body := adminCall(t, single.gateway, http.MethodGet, "/gateway/v2/concentrated-topic", "")
	var list []struct {
		Metadata struct{ Name string }
		Spec     struct {
			PhysicalTopic string
			Partitions    int
		}
	}
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil {
		t.Fatalf("GET concentrated-topic: %d %s %v", code, body, err)
	}
	n := 0
	for _, e := range list {
		if strings.HasPrefix(e.Metadata.Name, "conc-many-") {
			n++
			if e.Spec.PhysicalTopic != physical || e.Spec.Partitions != 2 {
				t.Fatalf("listed %+v", e)
			}
		}
	}
	if n != 120 {
		t.Fatalf("GET concentrated-topic lists %d of the 120 topics", n)
	}

	// Kafka's topic tool describes a concentrated topic like any other;
	// its configs cannot change.
	out, err := kafkaToolPlain(t, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", single.gatewayAddr(), "--describe", "--topic", topics[0])
	if err != nil || !strings.Contains(out, "PartitionCount: 2") || !strings.Contains(out, "cleanup.policy=delete") {
		t.Fatalf("kafka-topics --describe %s: %v\n%s", topics[0], err, out)
	}
	altered, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("1000")}}, topics[0])
	if err == nil {
		var r kadm.AlterConfigsResponse
		if r, err = altered.On(topics[0], nil); err == nil {
			err = r.Err
		}
	}
	if !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("altering a concentrated topic's configs: %v, want INVALID_CONFIG", err)
	}

	// A deleted topic created again starts empty.
	if _, err := adm.DeleteTopics(ctx, topics[3]); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, topics[3]); err != nil {
		t.Fatal(err)
	}
	ends, err = adm.ListEndOffsets(ctx, topics[3])
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != 0 {
			t.Errorf("recreated %s/%d ends at %d (%v), want 0", o.Topic, o.Partition, o.Offset, o.Err)
		}
	})
}

// TestConcentrationGroupOffsets checks consumer groups on concentrated
// topics: commits are kept in logical terms, Kafka's consumer-group tool
// reports the right lag, and another gateway node (started fresh, so with
// the state rebuilt from the internal topics) resumes the group where it
// stopped.
func TestConcentrationGroupOffsets(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1*time.Minute)
	defer cancel()
	direct := kadm.NewClient(backingClient(t))
	const physical = "conc_group_physical"
	if _, err := direct.CreateTopic(ctx, 2, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("delete")}, physical); err != nil {
		t.Fatal(err)
	}
	concentrationRule(t, "groups", `conc-grp-.*`, physical)
	topics := []string{"conc-grp-a", "conc-grp-b", "conc-grp-c"}
	gw, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	adm := kadm.NewClient(gw)
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, topics...); err != nil {
		t.Fatal(err)
	}
	produce := func(topic string, p int32, from, n int) {
		var rs []*kgo.Record
		for i := from; i < from+n; i++ {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%s/%d/%d", topic, p, i)})
		}
		if err := gw.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range topics {
		produce(name, 0, 0, 10)
		produce(name, 1, 0, 10)
	}
	const group = "conc-grp-readers"
	consume := func(seed string, n int) []string {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seed), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var got []string
		for len(got) < n {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("group read %d of %d records", len(got), n)
			}
			fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
			fs.EachRecord(func(r *kgo.Record) {
				if want := fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset); string(r.Value) != want {
					t.Fatalf("record %q at %s/%d/%d", r.Value, r.Topic, r.Partition, r.Offset)
				}
				got = append(got, string(r.Value))
			})
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatalf("commit: %v", err)
		}
		return got
	}
	if got := consume(single.gatewayAddr(), 60); len(got) != 60 {
		t.Fatalf("first read: %d records", len(got))
	}
	for _, name := range topics {
		produce(name, 0, 10, 3) // lag 3 on each partition 0
	}

	// Kafka's own tool sees the logical topics, the committed offsets and
	// the lag, and nothing of the physical topic.
	out, err := kafkaToolPlain(t, "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
		"--bootstrap-server", single.gatewayAddr(), "--describe", "--group", group)
	if err != nil {
		t.Fatalf("consumer-group tool: %v\n%s", err, out)
	}
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != group {
			continue
		}
		if f[1] == physical {
			t.Fatalf("the tool shows the physical topic: %s", line)
		}
		rows++
		want := []string{"10", "13", "3"}
		if f[2] == "1" {
			want = []string{"10", "10", "0"}
		}
		if f[3] != want[0] || f[4] != want[1] || f[5] != want[2] {
			t.Errorf("tool row %q: current/end/lag want %v", line, want)
		}
	}
	if rows != 6 {
		t.Fatalf("the tool lists %d partitions, want 6:\n%s", rows, out)
	}

	// A second node, fresh, serves the same group from where it stopped.
	cfg := gatewayConfig()
	cfg.Backing = backing.Config{Bootstrap: strings.Split(single.direct, ","), SecurityProtocol: "PLAINTEXT"}
	cfg.MinBrokerID, cfg.PortCount, cfg.ExternalLoadBalancing = 1, 3, true
	other, err := startGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = other.Shutdown(sctx)
		scancel()
	}()
	got := consume(other.KafkaAddr(), 9)
	slices.Sort(got)
	var want []string
	for _, name := range topics {
		for i := 10; i < 13; i++ {
			want = append(want, fmt.Sprintf("%s/0/%d", name, i))
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("second node read %v, want %v", got, want)
	}

	// A deleted group leaves no offsets behind for a group of the same
	// name.
	if _, err := adm.DeleteGroup(ctx, group); err != nil {
		t.Fatalf("delete group: %v", err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.At >= 0 {
			t.Errorf("deleted group still has offset %d on %s/%d", o.At, o.Topic, o.Partition)
		}
	})
}

// kafkaToolPlain runs one of Kafka's command line tools without
// credentials.
func kafkaToolPlain(t *testing.T, mainClass string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh"), append([]string{"tool", mainClass}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestConcentrationClientMatrix has every client of the matrix write and
// read a concentrated topic of its own, all on one physical topic: each
// reads exactly its own records, exactly once, with dense offsets.
func TestConcentrationClientMatrix(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const physical = "conc_matrix_physical"
	if _, err := kadm.NewClient(backingClient(t)).CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("delete")}, physical); err != nil {
		t.Fatal(err)
	}
	concentrationRule(t, "matrix", `cmx-.*`, physical)
	for _, c := range []client{franzGo{}, saramaClient{}, javaClient, kafkajsClient, kafkaPython, librdkafkaPy, kcatClient} {
		t.Run(c.name(), func(t *testing.T) {
			const n = 500
			topic := newTopic(t, single, "cmx-"+c.name(), 3)
			c.produce(t, single.gatewayAddr(), topic, c.name(), n)
			rs := c.consume(t, single.gatewayAddr(), topic, "group-"+topic, n)
			checkRecords(t, rs, c.name(), n)
			checkDense(t, rs)
		})
	}
	t.Run("transactions refused", func(t *testing.T) {
		topic := newTopic(t, single, "cmx-txn", 1)
		cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.TransactionalID("cmx-txn-"+topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		tctx, tcancel := context.WithTimeout(ctx, 20*time.Second)
		defer tcancel()
		err = cl.ProduceSync(tctx, &kgo.Record{Topic: topic, Value: []byte("in a transaction")}).FirstErr()
		if !errors.Is(err, kerr.InvalidTxnState) {
			t.Fatalf("transactional produce to a concentrated topic: %v, want INVALID_TXN_STATE at once", err)
		}
	})
	t.Run("read_committed", func(t *testing.T) {
		topic := newTopic(t, single, "cmx-committed", 2)
		cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		produceRecords(t, ctx, cl, topic, "committed", 50)
		reader, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		if err != nil {
			t.Fatal(err)
		}
		defer reader.Close()
		rs := readTopic(t, ctx, reader, topic, 50)
		checkRecords(t, rs, "committed", 50)
		checkDense(t, rs)
	})
}

// checkDense checks that each partition's offsets are 0, 1, 2, ….
func checkDense(t *testing.T, rs []record) {
	t.Helper()
	by := map[int32][]int64{}
	for _, r := range rs {
		by[r.P] = append(by[r.P], r.O)
	}
	for p, offs := range by {
		slices.Sort(offs)
		for i, o := range offs {
			if o != int64(i) {
				t.Fatalf("partition %d: offsets %v are not 0, 1, 2, …", p, offs)
			}
		}
	}
}

// TestConcentrationInsideVirtualCluster declares an auto-managed rule in
// one tenant: the tenant's topics land on a physical topic of its own
// space, created and extended by the gateway, while another tenant using
// the same names gets ordinary topics and sees nothing of the first.
func TestConcentrationInsideVirtualCluster(t *testing.T) {
	a := saslNodes(t, 1)[0]
	tenant(t, a, "cred", "ann")
	tenant(t, a, "cblue", "ben")
	apply(t, a, `{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":{"name":"events","vCluster":"cred"},
		"spec":{"pattern":"ev-.*","physicalTopics":{"delete":"events-store"},"autoManaged":true,"offsetCorrectness":true}}`)
	redTok, _ := token(t, a, "cred", "ann", time.Hour)
	blueTok, _ := token(t, a, "cblue", "ben", time.Hour)
	red := plainClient(t, a.KafkaAddr(), "ann", redTok, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	blue := plainClient(t, a.KafkaAddr(), "ben", blueTok)
	radm, badm := kadm.NewClient(red), kadm.NewClient(blue)
	direct := kadm.NewClient(backingClient(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	create := func(adm *kadm.Client, name string, partitions int32, configs map[string]*string) kadm.CreateTopicResponse {
		resps, err := adm.CreateTopics(ctx, partitions, -1, configs, name)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return resps[name]
	}
	if r := create(radm, "ev-a", 2, map[string]*string{"retention.ms": kadm.StringPtr("900000000")}); r.Err != nil {
		t.Fatalf("create ev-a: %v %s", r.Err, r.ErrMessage)
	}
	if r := create(radm, "ev-b", 3, nil); r.Err != nil {
		t.Fatalf("create ev-b: %v %s", r.Err, r.ErrMessage)
	}
	if r := create(badm, "ev-a", 1, nil); r.Err != nil { // no rule in blue: an ordinary topic
		t.Fatalf("blue create ev-a: %v", r.Err)
	}
	listed, err := direct.ListTopics(ctx, "cred.events-store", "cred.ev-a", "cblue.ev-a")
	if err != nil {
		t.Fatal(err)
	}
	if d := listed["cred.events-store"]; d.Err != nil || len(d.Partitions) != 3 {
		t.Fatalf("the auto-managed physical topic: %+v (want 3 partitions)", d)
	}
	if d, ok := listed["cred.ev-a"]; ok && d.Err == nil {
		t.Fatal("red's concentrated topic exists in the backing cluster")
	}
	if d := listed["cblue.ev-a"]; d.Err != nil {
		t.Fatalf("blue's ordinary topic: %v", d.Err)
	}
	rc, err := direct.DescribeTopicConfigs(ctx, "cred.events-store")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := rc.On("cred.events-store", nil); err != nil || configValue(c, "retention.ms") != "900000000" {
		t.Fatalf("physical retention.ms %q (%v), want it raised to 900000000", configValue(c, "retention.ms"), err)
	}
	if c, _ := rc.On("cred.events-store", nil); configValue(c, "max.message.bytes") != "2097152" {
		t.Fatalf("physical max.message.bytes %q, want room for the tags (2097152)", configValue(c, "max.message.bytes"))
	}

	refusals := []struct {
		name    string
		configs map[string]*string
		want    string
	}{
		{"ev-compact", map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, "no physical topic for it"},
		{"ev-segment", map[string]*string{"segment.bytes": kadm.StringPtr("1048576")}, "cannot be set on a concentrated topic"},
		{"ev-a", nil, "already exists"},
	}
	for _, c := range refusals {
		r := create(radm, c.name, 1, c.configs)
		if r.Err == nil || !strings.Contains(r.ErrMessage, c.want) {
			t.Errorf("create %s: %v %q, want an error saying %q", c.name, r.Err, r.ErrMessage, c.want)
		}
	}

	for p := range int32(2) {
		for i := range 4 {
			seq := int(p)*4 + i
			if err := red.ProduceSync(ctx, &kgo.Record{Topic: "ev-a", Partition: p, Key: fmt.Appendf(nil, "key-%d", seq%8),
				Value: fmt.Appendf(nil, "red-%d", seq)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := blue.ProduceSync(ctx, &kgo.Record{Topic: "ev-a", Key: []byte("key-0"), Value: []byte("blue-0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	rs := consumeGo(t, a.KafkaAddr(), "ev-a", "red-readers", 8, loginOpt("ann", redTok))
	checkRecords(t, rs, "red", 8)
	checkDense(t, rs)
	checkRecords(t, consumeGo(t, a.KafkaAddr(), "ev-a", "blue-readers", 1, loginOpt("ben", blueTok)), "blue", 1)

	names, err := badm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names.Has("ev-b") || names.Has("events-store") {
		t.Fatalf("blue sees red's topics: %v", names.Names())
	}
	code, body := adminCall(t, a, http.MethodGet, "/gateway/v2/concentrated-topic?vcluster=cred", "")
	if code != http.StatusOK || !strings.Contains(body, `"name":"ev-b"`) || !strings.Contains(body, `"physicalTopic":"events-store"`) {
		t.Fatalf("GET concentrated-topic?vcluster=cred: %d %s", code, body)
	}
}

// configValue returns a config's value from a described resource.
func configValue(rc kadm.ResourceConfig, name string) string {
	for _, c := range rc.Configs {
		if c.Key == name {
			return c.MaybeValue()
		}
	}
	return ""
}
