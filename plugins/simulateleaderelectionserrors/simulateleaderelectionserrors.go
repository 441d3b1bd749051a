// Package simulateleaderelectionserrors is the SimulateLeaderElectionsErrors
// chaos interceptor: a share of the partitions of Produce and Fetch
// requests is answered with the errors a client meets while a partition
// changes leader (LEADER_NOT_AVAILABLE or NOT_LEADER_OR_FOLLOWER for
// Produce, NOT_LEADER_OR_FOLLOWER for Fetch). Clients are expected to
// refresh their metadata, retry and carry on without losing or duplicating
// records.
//
// BROKER_NOT_AVAILABLE, which other gateways also inject, is left out:
// Kafka never answers Produce or Fetch with it, the Java producer gives up
// on it and the Java consumer throws on it (as on LEADER_NOT_AVAILABLE in a
// fetch), so it tests no recovery.
//
// A produced partition picked for an error is taken out of the request
// before Kafka sees it, as a broker that is not the leader refuses it, so
// the client's retry writes it once. As in a real election, the refusal
// lasts: the later batches of the same idempotent producer for that
// partition, already on their way, are refused too until the refused batch
// comes back. Letting them through would leave a gap in the producer's
// sequence numbers, which Kafka answers with OUT_OF_ORDER_SEQUENCE_NUMBER
// and the Java producer does not recover from. A fetched partition is
// fetched and its answer replaced by the error, without its records: the
// consumer asks again from the same offset.
package simulateleaderelectionserrors

import (
	_ "embed"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("SimulateLeaderElectionsErrors",
		"Chaos: answers a share of produced and fetched partitions with leader election errors",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.SimulateLeaderElectionsErrorsPlugin"))
}

// Config is the plugin's config.
type Config struct {
	RateInPercent *int `json:"rateInPercent" doc:"share of produced and fetched partitions to fail, 0 to 100"`
}

// produceErrors and fetchErrors are the errors Kafka answers a partition
// changing leader with.
var (
	produceErrors = []*kerr.Error{kerr.LeaderNotAvailable, kerr.NotLeaderForPartition}
	fetchErrors   = []*kerr.Error{kerr.NotLeaderForPartition}
)

const reason = "simulated leader election"

// holdFor is how long a refused idempotent batch holds back the
// producer's later batches for its partition, at most: a producer that
// never retries does not hold them forever.
const holdFor = time.Minute

type chaos struct {
	rate int
	roll func(n int) int // random number in [0, n)

	mu   sync.Mutex
	held map[batchKey]hold // refused idempotent batches awaiting their retry
}

// batchKey names one idempotent producer's batches for one partition.
type batchKey struct {
	topic     string
	partition int32
	producer  int64
	epoch     int16
}

// hold is the first refused batch of a producer for a partition.
type hold struct {
	seq   int32
	since time.Time
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.RateInPercent == nil {
		return nil, interceptor.Invalid("rateInPercent", "is required")
	}
	if r := *cfg.RateInPercent; r < 0 || r > 100 {
		return nil, interceptor.Invalid("rateInPercent", "%d is not between 0 and 100", r)
	}
	return &chaos{rate: *cfg.RateInPercent, roll: rand.IntN, held: map[batchKey]hold{}}, nil
}

func (c *chaos) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{
		Requests:  []int16{kmsg.Produce.Int16()},
		Responses: []int16{kmsg.Produce.Int16(), kmsg.Fetch.Int16()},
	}
}

// pick returns one of errs for a partition, nil when it goes through.
func (c *chaos) pick(errs []*kerr.Error) *kerr.Error {
	if c.roll(100) >= c.rate {
		return nil
	}
	return errs[c.roll(len(errs))]
}

// pickBatch returns the error for a produced partition, nil when it goes
// through, holding back an idempotent producer's later batches while an
// earlier one awaits its retry.
func (c *chaos) pickBatch(topic string, partition int32, records []byte, now time.Time) *kerr.Error {
	k, seq, ok := idempotent(topic, partition, records)
	if !ok {
		return c.pick(produceErrors)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, held := c.held[k]; held && now.Sub(h.since) < holdFor {
		switch {
		case seq > h.seq:
			return kerr.NotLeaderForPartition // the leader is still away
		case seq < h.seq:
			return nil
		}
	}
	e := c.pick(produceErrors)
	if e == nil {
		delete(c.held, k)
	} else {
		c.held[k] = hold{seq: seq, since: now}
		c.forget(now)
	}
	return e
}

// forget drops the holds of producers that never retried, once there
// are many.
func (c *chaos) forget(now time.Time) {
	if len(c.held) < 1024 {
		return
	}
	for k, h := range c.held {
		if now.Sub(h.since) >= holdFor {
			delete(c.held, k)
		}
	}
}

// idempotent reads the producer id, epoch and first sequence number of
// the first record batch of a produced partition; ok is false for a
// producer that is not idempotent.
func idempotent(topic string, partition int32, records []byte) (k batchKey, seq int32, ok bool) {
	const magicAt, producerAt, epochAt, seqAt, headerLen = 16, 43, 51, 53, 61
	if len(records) < headerLen || records[magicAt] != 2 {
		return k, 0, false
	}
	producer := int64(binary.BigEndian.Uint64(records[producerAt:]))
	if producer < 0 {
		return k, 0, false
	}
	k = batchKey{topic: topic, partition: partition, producer: producer, epoch: int16(binary.BigEndian.Uint16(records[epochAt:]))}
	return k, int32(binary.BigEndian.Uint32(records[seqAt:])), true
}

// Request takes the failing partitions out of a Produce request and keeps
// their answers for the response.
func (c *chaos) Request(call *interceptor.Call, req kmsg.Request) {
	r := req.(*kmsg.ProduceRequest)
	now := time.Now()
	var answers []kmsg.ProduceResponseTopic
	topics := r.Topics[:0]
	for _, t := range r.Topics {
		name := call.Conn.TopicName(t.Topic, t.TopicID)
		var failed []kmsg.ProduceResponseTopicPartition
		kept := t.Partitions[:0]
		for _, p := range t.Partitions {
			e := c.pickBatch(name, p.Partition, p.Records, now)
			if e == nil {
				kept = append(kept, p)
				continue
			}
			a := kmsg.NewProduceResponseTopicPartition()
			a.Partition, a.ErrorCode, a.BaseOffset = p.Partition, e.Code, -1
			a.ErrorMessage = kmsg.StringPtr(interceptor.Refused(call, reason))
			failed = append(failed, a)
		}
		if failed != nil {
			call.Report(interceptor.Block, name, reason)
			a := kmsg.NewProduceResponseTopic()
			a.Topic, a.TopicID, a.Partitions = t.Topic, t.TopicID, failed
			answers = append(answers, a)
		}
		if len(kept) > 0 {
			t.Partitions = kept
			topics = append(topics, t)
		}
	}
	r.Topics = topics
	if answers != nil {
		call.Keep(answers)
	}
}

// Response adds the answers of the refused produced partitions, or fails
// a share of the fetched partitions. A fetch Kafka failed as a whole is
// left alone.
func (c *chaos) Response(call *interceptor.Call, resp kmsg.Response) {
	switch r := resp.(type) {
	case *kmsg.ProduceResponse:
		if answers, ok := call.Kept().([]kmsg.ProduceResponseTopic); ok {
			mergeProduce(r, answers)
		}
	case *kmsg.FetchResponse:
		if r.ErrorCode != 0 {
			return
		}
		for i := range r.Topics {
			t := &r.Topics[i]
			if c.failFetch(t.Partitions) {
				call.Report(interceptor.Block, call.Conn.TopicName(t.Topic, t.TopicID), reason)
			}
		}
	}
}

// mergeProduce adds answers to a Produce response, each partition under
// its topic's entry: clients expect one entry per topic.
func mergeProduce(r *kmsg.ProduceResponse, answers []kmsg.ProduceResponseTopic) {
	for _, a := range answers {
		i := slices.IndexFunc(r.Topics, func(t kmsg.ProduceResponseTopic) bool {
			return t.Topic == a.Topic && t.TopicID == a.TopicID
		})
		if i < 0 {
			r.Topics = append(r.Topics, a)
			continue
		}
		r.Topics[i].Partitions = append(r.Topics[i].Partitions, a.Partitions...)
	}
}

// failFetch replaces the answers of a share of fetched partitions by an
// election error, without records, and reports whether it failed any.
func (c *chaos) failFetch(ps []kmsg.FetchResponseTopicPartition) bool {
	failed := false
	for i := range ps {
		p := &ps[i]
		if p.ErrorCode != 0 {
			continue
		}
		e := c.pick(fetchErrors)
		if e == nil {
			continue
		}
		failed = true
		fresh := kmsg.NewFetchResponseTopicPartition()
		fresh.Partition, fresh.ErrorCode = p.Partition, e.Code
		// As Kafka answers a partition in error: offsets unknown.
		fresh.HighWatermark, fresh.LastStableOffset, fresh.LogStartOffset = -1, -1, -1
		*p = fresh
	}
	return failed
}
