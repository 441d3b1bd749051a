package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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

	walkOtherTenant(t, &crossTenant{
		ctx: ctx, addr: addr, topic: topic, group: group,
		red: red, redLogin: loginOpt("ann", redTok), blueLogin: loginOpt("ben", blueTok),
		redUser: "ann", redTok: redTok,
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

// crossTenant is the walk in which red, holding blue's physical names and
// topic ids, tries to reach blue's resources through every API that names
// them. Each attempt must be answered as for a resource nobody has, and
// nothing of blue's may change.
type crossTenant struct {
	ctx                 context.Context
	addr                string
	topic, group        string
	red                 *kgo.Client
	redLogin, blueLogin kgo.Opt
	redUser, redTok     string
	direct              *kadm.Client // the backing cluster itself
	broker              int          // its only broker, as red sees it
	consumers           []*kgo.Client
}

// Transactional ids and KIP-848 groups of the walk; the same- ones exist
// in both virtual clusters.
const (
	sameTxn  = "same-tx"
	blueTxn  = "blue-only-tx"
	sameNext = "same-848"
	blueNext = "blue-only-848"
)

func walkOtherTenant(t *testing.T, w *crossTenant) {
	w.direct = kadm.NewClient(backingClient(t))
	md, err := kadm.NewClient(w.red).BrokerMetadata(w.ctx)
	if err != nil || len(md.Brokers) != 1 {
		t.Fatalf("red's view of the brokers: %v %v, want the single cluster's one", md.Brokers, err)
	}
	w.broker = int(md.Brokers[0].NodeID)

	w.transact(t, w.redLogin, sameTxn)
	w.transact(t, w.blueLogin, sameTxn)
	w.transact(t, w.blueLogin, blueTxn)
	w.joinNextGen(t, w.redLogin, "red", sameNext, 2)
	w.joinNextGen(t, w.blueLogin, "blue", sameNext, 3)
	w.joinNextGen(t, w.blueLogin, "blue", blueNext, 3)
	defer func() {
		for _, cl := range w.consumers {
			cl.Close()
		}
	}()
	before := w.blueState(t)

	t.Run("DescribeProducers", w.describeProducers)
	t.Run("DeleteRecords", w.deleteRecords)
	t.Run("ListTransactions and DescribeTransactions", w.transactions)
	t.Run("OffsetDelete", w.offsetDelete)
	t.Run("ListGroups, DescribeGroups and ConsumerGroupDescribe with KIP-848 groups", w.groups)
	t.Run("Metadata and DeleteTopics by topic id", w.topicIDs)

	t.Run("nothing of blue's changed on the backing cluster", func(t *testing.T) {
		if after := w.blueState(t); after != before {
			t.Fatalf("blue's state before the walk:\n%s\nafter:\n%s", before, after)
		}
	})
}

// transact commits one transaction with a transactional id.
func (w *crossTenant) transact(t *testing.T, login kgo.Opt, txn string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.addr), login, kgo.TransactionalID(txn))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(w.ctx, &kgo.Record{Topic: w.topic, Value: []byte(txn)}).FirstErr(); err != nil {
		t.Fatalf("transaction %s: %v", txn, err)
	}
	if err := cl.EndTransaction(w.ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit %s: %v", txn, err)
	}
}

// joinNextGen starts a KIP-848 consumer in a group and waits until the
// broker has assigned it every partition of the topic. It stays in the
// group until the test ends.
func (w *crossTenant) joinNextGen(t *testing.T, login kgo.Opt, vc, group string, partitions int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.addr), login, kgo.ConsumeTopics(w.topic), kgo.ConsumerGroup(group),
		kgo.Balancers(kgo.RangeBalancer()), kgo.ServerSideBalancer(), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	w.consumers = append(w.consumers, cl)
	go func() {
		for w.ctx.Err() == nil {
			fs := cl.PollFetches(w.ctx)
			if fs.IsClientClosed() {
				return
			}
			if fs.Err() != nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	physical := vc + "." + group
	for {
		gs, err := w.direct.DescribeConsumerGroups(w.ctx, physical)
		g := gs[physical]
		if err == nil && g.Err == nil && len(g.Members) == 1 && len(g.Members[0].Assignment[vc+"."+w.topic]) == partitions {
			return
		}
		if w.ctx.Err() != nil {
			t.Fatalf("KIP-848 group %s never assigned %d partitions: %v %+v", physical, partitions, err, g)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// blueState describes, from the backing cluster, everything of blue's the
// walk aims at: topics and their ids, log start and end offsets, groups,
// members and assignments, committed offsets and transactions.
func (w *crossTenant) blueState(t *testing.T) string {
	t.Helper()
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	ts, err := w.direct.ListTopics(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, d := range ts.Sorted() {
		if strings.HasPrefix(d.Topic, "blue.") {
			topics = append(topics, d.Topic)
			add("topic %s id %s partitions %d", d.Topic, d.ID, len(d.Partitions))
		}
	}
	starts, err1 := w.direct.ListStartOffsets(w.ctx, topics...)
	ends, err2 := w.direct.ListEndOffsets(w.ctx, topics...)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	starts.Each(func(o kadm.ListedOffset) { add("start %s/%d %d %v", o.Topic, o.Partition, o.Offset, o.Err) })
	ends.Each(func(o kadm.ListedOffset) { add("end %s/%d %d %v", o.Topic, o.Partition, o.Offset, o.Err) })
	offs, err := w.direct.FetchOffsets(w.ctx, "blue."+w.group)
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		add("committed blue.%s %s/%d %d %v", w.group, o.Topic, o.Partition, o.At, o.Err)
	})
	groups, err := w.direct.ListGroups(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.Sorted() {
		if strings.HasPrefix(g.Group, "blue.") {
			add("group %s %s %s", g.Group, g.ProtocolType, g.State)
		}
	}
	cgs, err := w.direct.DescribeConsumerGroups(w.ctx, "blue."+sameNext, "blue."+blueNext)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range cgs.Sorted() {
		for _, m := range g.Members {
			add("member %s %s %v %v", g.Group, m.MemberID, m.Assignment.Sorted(), g.Err)
		}
	}
	txns, err := w.direct.DescribeTransactions(w.ctx, "blue."+sameTxn, "blue."+blueTxn)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range txns.Sorted() {
		add("transaction %s %s producer %d epoch %d %v", d.TxnID, d.State, d.ProducerID, d.ProducerEpoch, d.Err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// ask sends a request as red straight to the backing cluster's only
// broker, past the client's own routing (which would answer for an unknown
// topic itself), so the gateway sees the request as written.
func (w *crossTenant) ask(t *testing.T, req kmsg.Request) kmsg.Response {
	t.Helper()
	resp, err := w.red.Broker(w.broker).Request(w.ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp
}

// answer is one entry of a response: the name it is about (empty when the
// API does not echo it), its error code and message.
type answer struct {
	name string
	code int16
	msg  string
}

// sameAsMissing sends the request built for blue's resource and for a name
// nobody uses, and requires the same answers once the name is masked: the
// name echoed as asked and, when want is set, Kafka's error for a missing
// resource.
func (w *crossTenant) sameAsMissing(t *testing.T, want *kerr.Error, blueName string, build func(name string) kmsg.Request, read func(kmsg.Response) []answer) {
	t.Helper()
	missing := fmt.Sprintf("nobody-%d", time.Now().UnixNano()%1e9)
	got := map[string][]answer{}
	for _, name := range []string{blueName, missing} {
		as := read(w.ask(t, build(name)))
		if len(as) == 0 {
			t.Fatalf("no answer about %s", name)
		}
		for i := range as {
			a := &as[i]
			a.name = strings.ReplaceAll(a.name, name, "<name>")
			a.msg = strings.ReplaceAll(a.msg, name, "<name>")
			if a.name != "" && !strings.HasPrefix(a.name, "<name>") {
				t.Errorf("answer about %s names %q", name, a.name)
			}
			if want != nil && a.code != want.Code {
				t.Errorf("answer about %s: %s (%s), want %s", name, kerr.ErrorForCode(a.code), a.msg, want.Message)
			}
		}
		slices.SortFunc(as, func(x, y answer) int { return strings.Compare(x.name, y.name) })
		got[name] = as
	}
	if !slices.Equal(got[blueName], got[missing]) {
		t.Fatalf("red asking about %s: %+v\nabout %s, which nobody has: %+v", blueName, got[blueName], missing, got[missing])
	}
	t.Logf("%s answered as a missing one: %+v", blueName, got[blueName])
}

func (w *crossTenant) describeProducers(t *testing.T) {
	build := func(topic string, partitions ...int32) kmsg.Request {
		req := kmsg.NewPtrDescribeProducersRequest()
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = topic, partitions
		req.Topics = append(req.Topics, rt)
		return req
	}
	w.sameAsMissing(t, kerr.UnknownTopicOrPartition, "blue."+w.topic,
		func(name string) kmsg.Request { return build(name, 0, 1, 2) },
		func(r kmsg.Response) (as []answer) {
			for _, rt := range r.(*kmsg.DescribeProducersResponse).Topics {
				for _, p := range rt.Partitions {
					as = append(as, answer{fmt.Sprintf("%s/%d", rt.Topic, p.Partition), p.ErrorCode, deref(p.ErrorMessage)})
				}
			}
			return as
		})

	// Red's own topic of the same name shows red's producers, not blue's.
	own := map[int64]bool{}
	for _, rt := range w.ask(t, build(w.topic, 0, 1)).(*kmsg.DescribeProducersResponse).Topics {
		for _, p := range rt.Partitions {
			if rt.Topic != w.topic || p.ErrorCode != 0 {
				t.Fatalf("red's own %s/%d: %q %v", rt.Topic, p.Partition, rt.Topic, kerr.ErrorForCode(p.ErrorCode))
			}
			for _, ap := range p.ActiveProducers {
				own[ap.ProducerID] = true
			}
		}
	}
	physical := func(vc string, partitions ...int32) map[int64]bool {
		s := kadm.TopicsSet{}
		s.Add(vc+"."+w.topic, partitions...)
		d, err := w.direct.DescribeProducers(w.ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[int64]bool{}
		d.EachProducer(func(p kadm.DescribedProducer) { ids[p.ProducerID] = true })
		return ids
	}
	redIDs, blueIDs := physical("red", 0, 1), physical("blue", 0, 1, 2)
	if len(own) == 0 || !maps.Equal(own, redIDs) {
		t.Fatalf("red sees producers %v on its topic, the backing cluster has %v", own, redIDs)
	}
	for id := range blueIDs {
		if own[id] {
			t.Fatalf("red sees blue's producer %d", id)
		}
	}
}

func (w *crossTenant) deleteRecords(t *testing.T) {
	build := func(topic string, partitions ...int32) kmsg.Request {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.TimeoutMillis = 15000
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = topic
		for _, p := range partitions {
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Partition, rp.Offset = p, -1 // up to the high watermark
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		return req
	}
	w.sameAsMissing(t, kerr.UnknownTopicOrPartition, "blue."+w.topic,
		func(name string) kmsg.Request { return build(name, 0, 1, 2) },
		func(r kmsg.Response) (as []answer) {
			for _, rt := range r.(*kmsg.DeleteRecordsResponse).Topics {
				for _, p := range rt.Partitions {
					as = append(as, answer{fmt.Sprintf("%s/%d", rt.Topic, p.Partition), p.ErrorCode, ""})
				}
			}
			return as
		})

	// The same request on red's own topic does delete, there only.
	ends, err := w.direct.ListEndOffsets(w.ctx, "red."+w.topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup("red."+w.topic, 0)
	if end.Offset == 0 {
		t.Fatalf("red.%s/0 is empty; deleting its records would prove nothing", w.topic)
	}
	resp := w.ask(t, build(w.topic, 0)).(*kmsg.DeleteRecordsResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].Topic != w.topic || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("red deleting its own records: %+v", resp.Topics)
	}
	starts, err := w.direct.ListStartOffsets(w.ctx, "red."+w.topic)
	if err != nil {
		t.Fatal(err)
	}
	if start, _ := starts.Lookup("red."+w.topic, 0); start.Offset != end.Offset {
		t.Fatalf("red.%s/0 starts at %d after red deleted up to %d", w.topic, start.Offset, end.Offset)
	}
}

func (w *crossTenant) transactions(t *testing.T) {
	list := func(pattern *string) []string {
		req := kmsg.NewPtrListTransactionsRequest()
		req.TransactionalIDPattern = pattern
		resp := w.ask(t, req).(*kmsg.ListTransactionsResponse)
		if resp.ErrorCode != 0 {
			t.Fatalf("ListTransactions %v: %v", pattern, kerr.ErrorForCode(resp.ErrorCode))
		}
		var ids []string
		for _, s := range resp.TransactionStates {
			ids = append(ids, s.TransactionalID)
		}
		slices.Sort(ids)
		return ids
	}
	if ids := list(nil); !slices.Equal(ids, []string{sameTxn}) {
		t.Errorf("red lists transactional ids %v, want [%s]", ids, sameTxn)
	}
	for _, p := range []string{`blue\..*`, `.*blue.*`, `.*` + blueTxn} {
		if ids := list(&p); len(ids) > 0 {
			t.Errorf("red listing by pattern %s gets %v", p, ids)
		}
	}

	build := func(id string) kmsg.Request {
		req := kmsg.NewPtrDescribeTransactionsRequest()
		req.TransactionalIDs = []string{id}
		return req
	}
	read := func(r kmsg.Response) (as []answer) {
		for _, s := range r.(*kmsg.DescribeTransactionsResponse).TransactionStates {
			as = append(as, answer{s.TransactionalID, s.ErrorCode, ""})
		}
		return as
	}
	for _, id := range []string{"blue." + blueTxn, "blue." + sameTxn, blueTxn} {
		w.sameAsMissing(t, kerr.TransactionalIDNotFound, id, build, read)
	}

	// Red's own transactional id of the same name is red's.
	own := w.ask(t, build(sameTxn)).(*kmsg.DescribeTransactionsResponse).TransactionStates
	phys, err := w.direct.DescribeTransactions(w.ctx, "red."+sameTxn, "blue."+sameTxn)
	if err != nil {
		t.Fatal(err)
	}
	redTxn, blueTx := phys["red."+sameTxn], phys["blue."+sameTxn]
	if len(own) != 1 || own[0].ErrorCode != 0 || own[0].TransactionalID != sameTxn || own[0].ProducerID != redTxn.ProducerID || own[0].ProducerID == blueTx.ProducerID {
		t.Fatalf("red describes its %s as %+v; backing cluster: red's producer %d, blue's %d", sameTxn, own, redTxn.ProducerID, blueTx.ProducerID)
	}
}

func (w *crossTenant) offsetDelete(t *testing.T) {
	build := func(group, topic string, partitions ...int32) kmsg.Request {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = group
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = topic
		for _, p := range partitions {
			rp := kmsg.NewOffsetDeleteRequestTopicPartition()
			rp.Partition = p
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		return req
	}
	read := func(r kmsg.Response) []answer {
		resp := r.(*kmsg.OffsetDeleteResponse)
		as := []answer{{"", resp.ErrorCode, ""}}
		for _, rt := range resp.Topics {
			for _, p := range rt.Partitions {
				as = append(as, answer{fmt.Sprintf("%s/%d", rt.Topic, p.Partition), p.ErrorCode, ""})
			}
		}
		return as
	}
	// Blue's group by its physical name, then red's own group with blue's
	// topic in it.
	w.sameAsMissing(t, nil, "blue."+w.group, func(name string) kmsg.Request { return build(name, "blue."+w.topic, 0, 1, 2) },
		func(r kmsg.Response) []answer {
			as := read(r)
			if as[0].code != kerr.GroupIDNotFound.Code {
				t.Errorf("OffsetDelete of a group nobody has: %v, want GROUP_ID_NOT_FOUND", kerr.ErrorForCode(as[0].code))
			}
			return as
		})
	w.sameAsMissing(t, nil, "blue."+w.topic, func(name string) kmsg.Request { return build(w.group, name, 0, 1, 2) }, read)

	// The same request on red's own group and topic deletes red's offset.
	physical := "red." + w.topic
	before, err := w.direct.FetchOffsets(w.ctx, "red."+w.group)
	if err != nil {
		t.Fatal(err)
	}
	committed := before.Sorted()
	if len(committed) == 0 {
		t.Fatalf("red.%s has no offsets; deleting one would prove nothing", w.group)
	}
	p := committed[0].Partition
	resp := w.ask(t, build(w.group, w.topic, p)).(*kmsg.OffsetDeleteResponse)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Topic != w.topic ||
		len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("red deleting its own offset: %v %+v", kerr.ErrorForCode(resp.ErrorCode), resp.Topics)
	}
	after, err := w.direct.FetchOffsets(w.ctx, "red."+w.group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := after.Lookup(physical, p); ok && o.At >= 0 {
		t.Fatalf("red.%s still has offset %d for %s/%d", w.group, o.At, physical, p)
	}
}

func (w *crossTenant) groups(t *testing.T) {
	list := func(types ...string) []string {
		req := kmsg.NewPtrListGroupsRequest()
		req.TypesFilter = types
		resp := w.ask(t, req).(*kmsg.ListGroupsResponse)
		if resp.ErrorCode != 0 {
			t.Fatalf("ListGroups %v: %v", types, kerr.ErrorForCode(resp.ErrorCode))
		}
		var names []string
		for _, g := range resp.Groups {
			names = append(names, g.Group)
		}
		slices.Sort(names)
		return names
	}
	for _, c := range []struct {
		types []string
		want  []string
	}{{nil, []string{sameNext, w.group}}, {[]string{"consumer"}, []string{sameNext}}, {[]string{"classic"}, []string{w.group}}} {
		if got := list(c.types...); !slices.Equal(got, c.want) {
			t.Errorf("red lists groups of types %v: %v, want %v", c.types, got, c.want)
		}
	}

	describe := func(name string) kmsg.Request {
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = []string{name}
		return req
	}
	describeClassic := func(name string) kmsg.Request {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups = []string{name}
		return req
	}
	for _, g := range []string{"blue." + blueNext, "blue." + sameNext, blueNext} {
		w.sameAsMissing(t, kerr.GroupIDNotFound, g, describe, func(r kmsg.Response) (as []answer) {
			for _, d := range r.(*kmsg.ConsumerGroupDescribeResponse).Groups {
				as = append(as, answer{d.Group, d.ErrorCode, deref(d.ErrorMessage)})
			}
			return as
		})
		w.sameAsMissing(t, kerr.GroupIDNotFound, g, describeClassic, func(r kmsg.Response) (as []answer) {
			for _, d := range r.(*kmsg.DescribeGroupsResponse).Groups {
				as = append(as, answer{d.Group, d.ErrorCode, deref(d.ErrorMessage)})
			}
			return as
		})
	}

	// Red's own KIP-848 group of the same name holds red's member alone,
	// assigned red's two partitions under the logical name.
	phys, err := w.direct.DescribeConsumerGroups(w.ctx, "red."+sameNext)
	if err != nil || len(phys["red."+sameNext].Members) != 1 {
		t.Fatalf("backing cluster's red.%s: %v %+v", sameNext, err, phys)
	}
	redMember := phys["red."+sameNext].Members[0].MemberID
	own := w.ask(t, describe(sameNext)).(*kmsg.ConsumerGroupDescribeResponse).Groups
	if len(own) != 1 || own[0].ErrorCode != 0 || len(own[0].Members) != 1 {
		t.Fatalf("red describes its %s as %+v, want one group with one member", sameNext, own)
	}
	m := own[0].Members[0]
	var assigned []string
	for _, tp := range m.Assignment.TopicPartitions {
		for _, p := range tp.Partitions {
			assigned = append(assigned, fmt.Sprintf("%s/%d", tp.Topic, p))
		}
	}
	slices.Sort(assigned)
	want := []string{w.topic + "/0", w.topic + "/1"}
	if m.MemberID != redMember || !slices.Equal(assigned, want) || !slices.Equal(m.SubscribedTopics, []string{w.topic}) {
		t.Fatalf("red's member %s subscribed to %v assigned %v; want member %s subscribed to [%s] assigned %v",
			m.MemberID, m.SubscribedTopics, assigned, redMember, w.topic, want)
	}
	// Kafka describes KIP-848 groups through ConsumerGroupDescribe only;
	// the classic API says the group is not a classic one, in the names
	// red knows.
	classic := w.ask(t, describeClassic(sameNext)).(*kmsg.DescribeGroupsResponse).Groups
	if len(classic) != 1 {
		t.Fatalf("red's DescribeGroups of its %s: %+v, want one group", sameNext, classic)
	}
	if g, msg := classic[0], deref(classic[0].ErrorMessage); g.ErrorCode != kerr.GroupIDNotFound.Code || g.Group != sameNext ||
		!strings.Contains(msg, "Group "+sameNext+" is not a classic group") {
		t.Fatalf("red's DescribeGroups of its %s: %s %v %q, want GROUP_ID_NOT_FOUND: not a classic group", sameNext, g.Group, kerr.ErrorForCode(g.ErrorCode), msg)
	}
}

func (w *crossTenant) topicIDs(t *testing.T) {
	md, err := w.direct.Metadata(w.ctx, "blue."+w.topic)
	if err != nil {
		t.Fatal(err)
	}
	blueID := md.Topics["blue."+w.topic].ID
	if blueID == (kadm.TopicID{}) {
		t.Fatal("the backing cluster gives blue's topic no id")
	}
	w.sameAsMissing(t, kerr.UnknownTopicID, hex.EncodeToString(blueID[:]),
		func(name string) kmsg.Request {
			req := kmsg.NewPtrMetadataRequest()
			rt := kmsg.NewMetadataRequestTopic()
			id, err := hex.DecodeString(name)
			if err != nil || len(id) != 16 {
				id = make([]byte, 16)
				_, _ = rand.Read(id) // the name of a topic nobody has
			}
			copy(rt.TopicID[:], id)
			req.Topics = append(req.Topics, rt)
			return req
		},
		func(r kmsg.Response) (as []answer) {
			for _, rt := range r.(*kmsg.MetadataResponse).Topics {
				as = append(as, answer{"", rt.ErrorCode, fmt.Sprintf("topic %q, %d partitions", deref(rt.Topic), len(rt.Partitions))})
			}
			return as
		})

	// Tenants are offered DeleteTopics only up to v5, which names topics;
	// a client that sends v6 by id anyway loses its connection, whatever
	// the id. The same path answers a v5 request by name.
	vs, err := kadm.NewClient(w.red).ApiVersions(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if maxV, ok := v.KeyMaxVersion(20); !ok || maxV > 5 {
			t.Fatalf("broker %d offers red DeleteTopics up to v%d (%v), want v5", v.NodeID, maxV, ok)
		}
	}
	byName := kmsg.NewPtrDeleteTopicsRequest()
	byName.SetVersion(5)
	byName.TimeoutMillis = 15000
	byName.TopicNames = []string{fmt.Sprintf("nobody-%d", time.Now().UnixNano()%1e9)}
	resp, err := rawRoundTrip(rawLogin(t, w.addr, w.redUser, w.redTok), byName, 3)
	if err != nil {
		t.Fatalf("DeleteTopics v5 by name: %v", err)
	}
	if ts := resp.(*kmsg.DeleteTopicsResponse).Topics; len(ts) != 1 || ts[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("DeleteTopics v5 of a missing topic: %+v, want UNKNOWN_TOPIC_OR_PARTITION", ts)
	}
	var random kadm.TopicID
	_, _ = rand.Read(random[:])
	for _, id := range []kadm.TopicID{blueID, random} {
		byID := kmsg.NewPtrDeleteTopicsRequest()
		byID.SetVersion(6)
		byID.TimeoutMillis = 15000
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.TopicID = id
		byID.Topics = append(byID.Topics, rt)
		resp, err := rawRoundTrip(rawLogin(t, w.addr, w.redUser, w.redTok), byID, 3)
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("DeleteTopics v6 by id %s: answered %+v (%v), want the connection closed", id, resp, err)
		}
	}
}

// rawLogin opens a connection to the gateway and logs in with PLAIN by
// hand, for requests a client library would not send.
func rawLogin(t *testing.T, addr, user, password string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = "PLAIN"
	resp, err := rawRoundTrip(c, hs, 1)
	if err != nil || resp.(*kmsg.SASLHandshakeResponse).ErrorCode != 0 {
		t.Fatalf("SaslHandshake: %v %+v", err, resp)
	}
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.SetVersion(2)
	au.SASLAuthBytes = []byte("\x00" + user + "\x00" + password)
	resp, err = rawRoundTrip(c, au, 2)
	if err != nil || resp.(*kmsg.SASLAuthenticateResponse).ErrorCode != 0 {
		t.Fatalf("SaslAuthenticate: %v %+v", err, resp)
	}
	return c
}

// rawRoundTrip writes one request and reads its response.
func rawRoundTrip(c net.Conn, req kmsg.Request, corr int32) (kmsg.Response, error) {
	if _, err := c.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("e2e-raw")).AppendRequest(nil, req, corr)); err != nil {
		return nil, err
	}
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return nil, err
	}
	r := kbin.Reader{Src: head[:]}
	size, got := r.Int32(), r.Int32()
	if size < 4 {
		return nil, fmt.Errorf("response size %d", size)
	}
	body := make([]byte, size-4)
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	if got != corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != 18 { // header tags; brokers send none
		if len(body) == 0 || body[0] != 0 {
			return nil, errors.New("unexpected response header tags")
		}
		body = body[1:]
	}
	return resp, resp.ReadFrom(body)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
