package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Delivery latency of the concentration run: records written at a steady
// rate to a topic that a consumer tails, both through the gateway; the
// time from send to acknowledgement, and from send to delivery.
const (
	latencyRate     = 200             // records per second
	latencyDuration = 3 * time.Second // per topic and round
	latencyTurns    = 3
)

// latencyMagic starts the values of the latency run, so the tailing
// consumer tells them from anything else on the topic.
var latencyMagic = []byte("strait-latency")

// latencies are one run's acknowledgement and delivery times.
type latencies struct{ ack, delivery []time.Duration }

// latencyRounds compares the plain topic and a concentrated one, in
// alternating order. The concentrated one is the solo topic, so the
// measured topic keeps the records the rebuild run counts.
func (s concSetup) latencyRounds(ctx context.Context, addr string) error {
	all := map[string]*latencies{"plain": {}, "concentrated": {}}
	names := map[string]string{"plain": s.plain, "concentrated": s.solo}
	for r := range latencyTurns {
		order := []string{"plain", "concentrated"}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, p := range order {
			l, err := deliveryLatency(ctx, addr, names[p])
			if err != nil {
				return fmt.Errorf("concentration: latency of %s: %w", names[p], err)
			}
			all[p].ack = append(all[p].ack, l.ack...)
			all[p].delivery = append(all[p].delivery, l.delivery...)
		}
	}
	fmt.Printf("\nlatency at %d records/s, %d rounds of %s per topic (send → acknowledged, send → delivered to a tailing consumer):\n",
		latencyRate, latencyTurns, latencyDuration)
	for _, p := range []string{"plain", "concentrated"} {
		l := all[p]
		fmt.Printf("  %-12s ack p50 %6.2f ms p99 %6.2f ms   delivery p50 %6.2f ms p99 %6.2f ms\n", p,
			ms(pct(l.ack, 50)), ms(pct(l.ack, 99)), ms(pct(l.delivery, 50)), ms(pct(l.delivery, 99)))
	}
	return nil
}

// deliveryLatency writes latencyRate records a second for latencyDuration
// to topic while a consumer started at its end reads them.
func deliveryLatency(ctx context.Context, addr, topic string) (latencies, error) {
	var l latencies
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return l, err
	}
	defer consumer.Close()
	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	if err != nil {
		return l, err
	}
	defer producer.Close()
	n := int(latencyDuration.Seconds() * latencyRate)
	got := make(chan time.Duration, n)
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for cctx.Err() == nil {
			consumer.PollFetches(cctx).EachRecord(func(r *kgo.Record) {
				if len(r.Value) == len(latencyMagic)+8 && string(r.Value[:len(latencyMagic)]) == string(latencyMagic) {
					sent := int64(binary.BigEndian.Uint64(r.Value[len(latencyMagic):]))
					got <- time.Since(time.Unix(0, sent))
				}
			})
		}
	}()
	// The consumer must sit at the end before the clock starts: poll once.
	if err := consumer.Ping(ctx); err != nil {
		return l, err
	}
	time.Sleep(time.Second)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var first error
	interval := time.Second / latencyRate
	begin := time.Now()
	for i := range n {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		sent := time.Now()
		v := binary.BigEndian.AppendUint64(append([]byte(nil), latencyMagic...), uint64(sent.UnixNano()))
		wg.Add(1)
		producer.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			l.ack = append(l.ack, time.Since(sent))
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	if first != nil {
		return l, first
	}
	deadline := time.After(30 * time.Second)
	for len(l.delivery) < n {
		select {
		case d := <-got:
			l.delivery = append(l.delivery, d)
		case <-deadline:
			return l, fmt.Errorf("%d of %d records delivered", len(l.delivery), n)
		}
	}
	return l, nil
}

// pct returns the p-th percentile of ds (sorted in place).
func pct(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)]
}
