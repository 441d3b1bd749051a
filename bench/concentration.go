// The concentration benchmark: what topic concentration costs a consumer,
// what the offset index costs in memory, and how long a fresh node takes
// to rebuild it. A measured logical topic shares one physical topic with
// three other logical topics that together hold as many records as it
// does; a plain topic holds the same records alone, and so does a logical
// topic alone on a physical topic of its own, which tells the cost of
// filtering out other topics' records from the cost of translating. All
// three are read through the same strait process in alternating rounds.
// Then a second, fresh
// process of the same gateway cluster is started and timed until
// ListOffsets through it answers the measured topic's true end.

package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/concentration/offsetmap"
	"github.com/strait-gateway/strait/server"
)

// The concentration run's strait processes (the first node, then the fresh
// node of the rebuild run) take their Kafka ports from these and HTTP on
// the port 99 above, clear of the other parts' ports.
const (
	concPort      = 25300
	concFreshPort = 25400
)

const (
	// concPartitions is the partition count of every topic of the run.
	concPartitions = 3
	// concOthers is how many other logical topics share the physical one.
	concOthers = 3
	// valuePool is how many distinct random values each topic cycles
	// through: more than one batch holds, so no batch compresses a value
	// against a copy of itself.
	valuePool = 1024
	// concBatchBytes caps the producer's batches, of every topic alike.
	concBatchBytes = 512 << 10
)

// concSetup names the topics of one concentration run.
type concSetup struct {
	id, physical, measured, plain string
	others                        []string
	// solo is a logical topic alone on soloPhysical.
	solo, soloPhysical string
}

// fetchResult is one topic's read in one round: its rates and the
// gateway's CPU time per GB it delivered.
type fetchResult struct{ mbps, recordsPerS, cpuPerGB float64 }

// concentrationBench runs the three concentration measurements.
func concentrationBench(binary, bootstrap string, rounds, records, size int) error {
	if records < concOthers || size < 1 {
		return fmt.Errorf("concentration: need at least %d records of at least 1 byte", concOthers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return fmt.Errorf("concentration: client: %w", err)
	}
	defer cl.Close()
	s := concSetup{id: clusterID("conc")}
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	s.physical, s.measured, s.plain = "bench_conc_physical_"+suffix, "bench-conc-measured-"+suffix, "bench-plain-"+suffix
	s.solo, s.soloPhysical = "bench-solo-"+suffix, "bench_solo_physical_"+suffix
	for i := range concOthers {
		s.others = append(s.others, fmt.Sprintf("bench-conc-other%d-%s", i, suffix))
	}
	defer func() {
		deleteTopics(cl, s.id)
		cfg := server.Config{ClusterID: s.id}
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(dctx, cfg.TopicsTopic(), cfg.OffsetsTopic(), cfg.CommitsTopic(), s.physical, s.plain, s.soloPhysical)
	}()

	gw, err := startGateway(binary, bootstrap, concPort, concPort+99, "GATEWAY_CLUSTER_ID="+s.id)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			gw.stop()
		}
	}()
	if err := s.create(ctx, cl, gw); err != nil {
		return err
	}
	fmt.Printf("\nconcentration: %s (%d partitions) shares %s with %d other logical topics holding as many records again;\n"+
		"%s and %s (alone on %s) hold the same %d records of %d random bytes alone\n"+
		"(batches up to %d KiB); all read from the start through one strait process\n",
		s.measured, concPartitions, s.physical, concOthers, s.plain, s.solo, s.soloPhysical, records, size, concBatchBytes>>10)
	start := time.Now()
	if err := s.fill(ctx, gw.addr, records, size); err != nil {
		return err
	}
	fmt.Printf("written through the gateway: %d records in %.1f s\n", 4*records, time.Since(start).Seconds())
	if _, err := check(ctx, gw.addr, s.solo, records); err != nil {
		return err
	}
	ends, err := check(ctx, gw.addr, s.measured, records)
	if err != nil {
		return err
	}
	if err := s.fetchRounds(ctx, gw, rounds, records, size); err != nil {
		return err
	}
	if err := s.latencyRounds(ctx, gw.addr); err != nil {
		return err
	}
	physEnds, err := s.waitCheckpoints(ctx, cl)
	if err != nil {
		return err
	}
	gw.stop()
	stopped = true
	if err := s.anchorRead(ctx, bootstrap, physEnds); err != nil {
		return err
	}
	return s.rebuild(ctx, binary, bootstrap, ends, physEnds)
}

// create makes the physical topic, declares the rule and creates the
// logical topics and the plain one through the gateway.
func (s concSetup) create(ctx context.Context, cl *kgo.Client, gw *gateway) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	for prefix, physical := range map[string]string{"bench-conc": s.physical, "bench-solo": s.soloPhysical} {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, concPartitions, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("delete")}, physical); err != nil {
			return fmt.Errorf("concentration: create %s: %w", physical, err)
		}
		rule := fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":{"name":%q},`+
			`"spec":{"pattern":"%s-.*","physicalTopics":{"delete":%q},"offsetCorrectness":true}}`, prefix, prefix, physical)
		if code, body, err := call(ctx, hc, http.MethodPut, gw.url+"/gateway/v2/concentration-rule", []byte(rule)); err != nil || code != http.StatusOK {
			return fmt.Errorf("concentration: apply rule: %d %s %v", code, body, err)
		}
	}
	gcl, err := kgo.NewClient(kgo.SeedBrokers(gw.addr))
	if err != nil {
		return fmt.Errorf("concentration: client: %w", err)
	}
	defer gcl.Close()
	created, err := kadm.NewClient(gcl).CreateTopics(ctx, concPartitions, 1, nil, append([]string{s.measured, s.plain, s.solo}, s.others...)...)
	if err == nil {
		err = created.Error()
	}
	if err != nil {
		return fmt.Errorf("concentration: create topics: %w", err)
	}
	// The logical topics must not be backing topics a rule failed to catch.
	d, err := kadm.NewClient(cl).ListTopics(ctx, s.measured, s.solo)
	if err != nil {
		return fmt.Errorf("concentration: list topics directly: %w", err)
	}
	for _, t := range []string{s.measured, s.solo} {
		if d.Has(t) && d[t].Err == nil {
			return fmt.Errorf("concentration: %s was created in the backing cluster, not concentrated", t)
		}
	}
	return nil
}

// fill writes records records to the measured topic interleaved with as
// many spread over the others, then the same records to the plain and
// the solo topic.
// A value's first byte tells its topic: 0 for the measured, plain and
// solo topics, 1 and up for the others.
func (s concSetup) fill(ctx context.Context, addr string, records, size int) error {
	pools := make([][][]byte, concOthers+1)
	for t := range pools {
		for range valuePool {
			v := make([]byte, size)
			if _, err := rand.Read(v); err != nil {
				return fmt.Errorf("concentration: %w", err)
			}
			v[0] = byte(t)
			pools[t] = append(pools[t], v)
		}
	}
	// Batches stay well under the broker's 1 MB message limit: the tag
	// headers the gateway adds (about 50 bytes a record) push a batch
	// franz-go fills to its 1 MB default over it.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(concBatchBytes))
	if err != nil {
		return fmt.Errorf("concentration: producer: %w", err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for i := range records {
		o := i % concOthers
		rs = append(rs,
			&kgo.Record{Topic: s.measured, Value: pools[0][i%valuePool]},
			&kgo.Record{Topic: s.others[o], Value: pools[o+1][i%valuePool]})
	}
	if err := produceRecords(ctx, cl, rs); err != nil {
		return fmt.Errorf("concentration: produce: %w", err)
	}
	rs = rs[:0]
	for i := range records {
		rs = append(rs, &kgo.Record{Topic: s.plain, Value: pools[0][i%valuePool]},
			&kgo.Record{Topic: s.solo, Value: pools[0][i%valuePool]})
	}
	if err := produceRecords(ctx, cl, rs); err != nil {
		return fmt.Errorf("concentration: produce: %w", err)
	}
	return nil
}

// produceRecords produces rs and waits for every acknowledgement.
func produceRecords(ctx context.Context, cl *kgo.Client, rs []*kgo.Record) error {
	errs := make(chan error, 1)
	done := make(chan struct{}, len(rs))
	for _, r := range rs {
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
			done <- struct{}{}
		})
	}
	for range rs {
		<-done
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// check reads a logical topic once through the gateway and fails unless
// it returns exactly its own records records, numbered densely from 0 in
// every partition; it returns the topic's end offsets as the gateway lists
// them.
func check(ctx context.Context, addr, topic string, records int) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(50<<20))
	if err != nil {
		return nil, fmt.Errorf("concentration: check: %w", err)
	}
	defer cl.Close()
	next := map[int32]int64{}
	for got := 0; got < records; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("concentration: check: read %d of %d: %w", got, records, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("concentration: check: %w", errs[0].Err)
		}
		for _, r := range fs.Records() {
			if r.Value[0] != 0 || r.Offset != next[r.Partition] {
				return nil, fmt.Errorf("concentration: check: record of topic %d at %d/%d, expected topic 0 at offset %d",
					r.Value[0], r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
			got++
		}
	}
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("concentration: check: list offsets: %w", err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	for p, n := range next {
		if ends[p] != n {
			return nil, fmt.Errorf("concentration: check: partition %d lists end %d, read %d records", p, ends[p], n)
		}
	}
	return ends, nil
}

// fetchRounds reads the plain, the solo and the measured topic from the
// start through gw, consumePasses times each, in alternating order.
func (s concSetup) fetchRounds(ctx context.Context, gw *gateway, rounds, records, size int) error {
	read := func(topic string) (fetchResult, error) {
		cpu0, start := gw.cpu(), time.Now()
		for range consumePasses {
			if err := consumeAll(ctx, gw.addr, topic, records); err != nil {
				return fetchResult{}, fmt.Errorf("concentration: read %s: %w", topic, err)
			}
		}
		secs := time.Since(start).Seconds()
		n := float64(consumePasses * records)
		gb := n * float64(size) / 1e9
		return fetchResult{mbps: gb * 1e3 / secs, recordsPerS: n / secs, cpuPerGB: (gw.cpu() - cpu0).Seconds() / gb}, nil
	}
	paths := []string{"plain", "solo", "concentrated"}
	names := map[string]string{"plain": s.plain, "solo": s.solo, "concentrated": s.measured}
	for _, p := range paths { // one discarded warm-up round
		if _, err := read(names[p]); err != nil {
			return err
		}
	}
	fmt.Printf("%d alternating rounds, each reading each topic %d times with fresh consumers (fetch.max.bytes 50 MB);\n"+
		"plain: %s, solo: %s, concentrated: %s\n\n", rounds, consumePasses, s.plain, s.solo, s.measured)
	results := map[string][]fetchResult{}
	for r := range rounds {
		order := paths
		if r%2 == 1 {
			order = []string{paths[2], paths[1], paths[0]}
		}
		for _, name := range order {
			res, err := read(names[name])
			if err != nil {
				return err
			}
			results[name] = append(results[name], res)
			fmt.Printf("round %d %-12s %7.1f MB/s %10.0f records/s  gateway %5.2f CPU-s/GB\n", r+1, name, res.mbps, res.recordsPerS, res.cpuPerGB)
		}
	}
	printPaired(results, paths, [][2]string{{"concentrated", "plain"}, {"solo", "plain"}, {"concentrated", "solo"}}, []figure[fetchResult]{
		{"fetch MB/s", func(r fetchResult) float64 { return r.mbps }, true},
		{"fetch records/s", func(r fetchResult) float64 { return r.recordsPerS }, true},
		{"gateway CPU-s/GB", func(r fetchResult) float64 { return r.cpuPerGB }, true},
	})
	return nil
}

// waitCheckpoints waits until the gateway has stored a checkpoint of every
// sealed chunk of the physical topic, so the fresh node of the rebuild run
// has them, and returns the physical topic's end offsets.
func (s concSetup) waitCheckpoints(ctx context.Context, cl *kgo.Client) (map[int32]int64, error) {
	adm := kadm.NewClient(cl)
	listed, err := adm.ListEndOffsets(ctx, s.physical)
	if err != nil {
		return nil, fmt.Errorf("concentration: list %s: %w", s.physical, err)
	}
	ends := map[int32]int64{}
	var chunks, tail int64
	listed.Each(func(o kadm.ListedOffset) {
		ends[o.Partition] = o.Offset
		chunks += o.Offset / offsetmap.ChunkSize
		tail += o.Offset % offsetmap.ChunkSize
	})
	topic := server.Config{ClusterID: s.id}.OffsetsTopic()
	deadline := time.Now().Add(time.Minute)
	for {
		stored, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return nil, fmt.Errorf("concentration: list %s: %w", topic, err)
		}
		var n int64
		stored.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n >= chunks {
			fmt.Printf("\n%s: %d records, %d sealed chunks of %d offsets (%d records in the checkpoint topic), %d records after them\n",
				s.physical, chunks*offsetmap.ChunkSize+tail, chunks, offsetmap.ChunkSize, n, tail)
			return ends, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("concentration: %d of %d checkpoints stored after 1m", n, chunks)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// indexed is one record of the physical topic as the offset index sees it.
type indexed struct {
	offset int64
	tag    offsetmap.Tag
	tagged bool
}

// anchorRead reads the whole physical topic directly, building an offset
// index of every partition as it goes, as a node without checkpoints
// would; then it reports what such indexes hold in memory.
func (s concSetup) anchorRead(ctx context.Context, bootstrap string, ends map[int32]int64) error {
	from := map[int32]kgo.Offset{}
	var total int64
	for p, end := range ends {
		from[p] = kgo.NewOffset().AtStart()
		total += end
	}
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.FetchMaxBytes(50<<20),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.physical: from}))
	if err != nil {
		return fmt.Errorf("concentration: direct read: %w", err)
	}
	logs := map[int32][]indexed{}
	indexes := map[int32]*offsetmap.Index{}
	for p := range ends {
		indexes[p] = offsetmap.New(true)
	}
	for read := int64(0); read < total; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			cl.Close()
			return fmt.Errorf("concentration: direct read: %d of %d records: %w", read, total, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			cl.Close()
			return fmt.Errorf("concentration: direct read: %w", errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			e := indexed{offset: r.Offset}
			e.tag, e.tagged = recordTag(r)
			if e.tagged {
				indexes[r.Partition].Append(r.Offset, e.tag)
			} else {
				indexes[r.Partition].Advance(r.Offset + 1)
			}
			logs[r.Partition] = append(logs[r.Partition], e)
			read++
		})
	}
	d := time.Since(start)
	cl.Close()
	fmt.Printf("direct read of the whole physical topic, indexing every record (a node with no checkpoints):\n"+
		"  %d records in %.0f ms, %.0f records/s\n", total, ms(d), perSecond(int(total), d))

	logged := heapOf(func() any {
		var ixs []*offsetmap.Index
		for _, log := range logs {
			ix := offsetmap.New(true)
			for _, e := range log {
				if e.tagged {
					ix.Append(e.offset, e.tag)
				} else {
					ix.Advance(e.offset + 1)
				}
			}
			ixs = append(ixs, ix)
		}
		return ixs
	})
	runtime.KeepAlive(logs) // logs is no garbage of the build measured above
	const million = 1_000_000
	worst := heapOf(func() any {
		ix := offsetmap.New(true)
		for off := range int64(million) {
			ix.Append(off, offsetmap.Tag{Partition: int32(off % 1000)})
		}
		return ix
	})
	fmt.Printf("offset index memory (live heap after GC, in this process):\n"+
		"  this run's physical topic: %.2f MB per million records\n"+
		"  worst case, every record its own run (1000 tags in turn): %.2f MB per million records\n",
		float64(logged)/float64(total)*million/1e6, float64(worst)/1e6)
	return nil
}

// recordTag reads a record's tag headers the way the gateway writes them.
func recordTag(r *kgo.Record) (offsetmap.Tag, bool) {
	var tag offsetmap.Tag
	var topic, partition bool
	for _, h := range r.Headers {
		switch h.Key {
		case concentration.TopicHeader:
			var id concentration.ID
			topic = id.UnmarshalText(h.Value) == nil
			tag.Topic = id
		case concentration.PartitionHeader:
			p, err := strconv.ParseInt(string(h.Value), 10, 32)
			partition = err == nil && p >= 0
			tag.Partition = int32(p)
		}
	}
	return tag, topic && partition
}

// heapOf returns the live heap bytes that what build returns holds.
func heapOf(build func() any) uint64 {
	var before, after runtime.MemStats
	// Two collections: the first only moves sync.Pool contents aside.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return after.HeapAlloc - before.HeapAlloc
}

// rebuild starts a fresh strait process of the same gateway cluster and
// times it until ListOffsets (latest) through it answers ends for the
// measured topic: the checkpoints restored and the records after them read.
func (s concSetup) rebuild(ctx context.Context, binary, bootstrap string, ends, physEnds map[int32]int64) error {
	var logical, physical int64
	for _, e := range ends {
		logical += e
	}
	for _, e := range physEnds {
		physical += e
	}
	start := time.Now()
	g, err := spawnGateway(binary, bootstrap, concFreshPort, concFreshPort+99, "GATEWAY_CLUSTER_ID="+s.id)
	if err != nil {
		return err
	}
	defer g.stop()
	hc := &http.Client{Timeout: time.Second}
	var ready time.Duration
	for ready == 0 {
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("concentration: fresh node not ready after 2m")
		}
		if resp, err := hc.Get(g.url + "/health/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = time.Since(start)
			}
		}
		time.Sleep(time.Millisecond)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(g.addr))
	if err != nil {
		return fmt.Errorf("concentration: client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var last kadm.ListedOffsets
	for !sameEnds(last, ends) {
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("concentration: fresh node lists %v after 2m, want %v", last, ends)
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last, _ = adm.ListEndOffsets(lctx, s.measured)
		cancel()
		if !sameEnds(last, ends) {
			time.Sleep(time.Millisecond)
		}
	}
	d := time.Since(start)
	fmt.Printf("fresh strait node (checkpoints restored, then the records after them read):\n"+
		"  /health/ready after %.0f ms; ListOffsets latest of %s right (%d records) after %.0f ms,\n"+
		"  %.0f physical records/s (%d records in the physical topic), polled every 1 ms\n",
		ms(ready), s.measured, logical, ms(d), perSecond(int(physical), d), physical)
	return nil
}

// sameEnds reports whether listed holds exactly the end offsets want.
func sameEnds(listed kadm.ListedOffsets, want map[int32]int64) bool {
	n := 0
	ok := true
	listed.Each(func(o kadm.ListedOffset) {
		n++
		ok = ok && o.Err == nil && want[o.Partition] == o.Offset
	})
	return ok && n == len(want)
}
