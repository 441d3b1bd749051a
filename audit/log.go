package audit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// Config describes the audit topic and its producer.
type Config struct {
	// Topic is the audit topic's name.
	Topic string
	// Partitions and ReplicationFactor are used to create the topic; -1
	// takes the broker's default.
	Partitions        int32
	ReplicationFactor int16
	// Retention is the topic's retention.ms when it is created.
	Retention time.Duration
	// Buffer is how many events may wait for the backing cluster; events
	// past it are dropped and counted.
	Buffer int
	// Source is every event's CloudEvents source: the gateway cluster and
	// node.
	Source string
	// Log receives the log's own messages (dropped events).
	Log *zap.Logger
	// Registry receives the metrics; nil leaves them unregistered.
	Registry prometheus.Registerer
}

// Log is the audit topic's producer. Emit is safe for concurrent use.
type Log struct {
	cfg    Config
	client *kgo.Client
	// stopCtx ends with Close, and with it a background topic creation.
	stopCtx context.Context
	stop    context.CancelFunc
	// pending counts events handed to the client and not yet written or
	// failed: the buffer the bound applies to.
	pending atomic.Int64
	drops   dropReport

	written prometheus.Counter
	dropped *prometheus.CounterVec
}

// Reasons an event is dropped, the label of the dropped metric.
const (
	dropFull   = "buffer_full"
	dropFailed = "delivery_failed"
	dropEncode = "encode_failed"
)

// Open starts the producer. It does no I/O: events emitted before the
// backing cluster answers, or before the topic exists, wait in the buffer.
// Call CreateTopic once the backing cluster is known to be reachable.
func Open(clientOpts []kgo.Opt, cfg Config) (*Log, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Buffer <= 0 {
		return nil, fmt.Errorf("audit: buffer of %d events: expect at least 1", cfg.Buffer)
	}
	l := &Log{
		cfg:   cfg,
		drops: dropReport{log: cfg.Log},
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_audit_events_written_total",
			Help: "Audit events acknowledged by the backing cluster.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_audit_events_dropped_total",
			Help: "Audit events lost, by reason: buffer_full (the backing cluster did not take events fast enough), delivery_failed, encode_failed.",
		}, []string{"reason"}),
	}
	for _, r := range []string{dropFull, dropFailed, dropEncode} {
		l.dropped.WithLabelValues(r) // present at zero
	}
	client, err := kgo.NewClient(append(clientOpts,
		kgo.ClientID("strait-audit"),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(20*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
		// The bound is enforced by pending before the client sees an
		// event; the client's own limit only has to stay out of the way.
		kgo.MaxBufferedRecords(2*cfg.Buffer+1024),
		// Events wait out an unreachable or restarting cluster: no
		// retry limit, and a topic that is briefly unknown (a cluster
		// still loading) does not fail them.
		kgo.UnknownTopicRetries(-1),
	)...)
	if err != nil {
		return nil, fmt.Errorf("audit: producer: %w", err)
	}
	l.client = client
	l.stopCtx, l.stop = context.WithCancel(context.Background())
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(l.written, l.dropped, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "strait_audit_events_buffered",
			Help: "Audit events waiting for the backing cluster.",
		}, func() float64 { return float64(l.pending.Load()) }))
	}
	return l, nil
}

// cloudEvent is the structured-mode CloudEvents 1.0 JSON document.
type cloudEvent struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            Type   `json:"type"`
	Time            string `json:"time"`
	Subject         string `json:"subject,omitempty"`
	DataContentType string `json:"datacontenttype"`
	// PartitionKey is the partitioning extension: the record key.
	PartitionKey string `json:"partitionkey,omitempty"`
	Data         any    `json:"data"`
}

// contentType marks the record value as a structured-mode CloudEvent, as
// the CloudEvents Kafka binding defines.
var contentType = []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/cloudevents+json; charset=UTF-8")}}

// Emit queues an event for the audit topic without waiting. When the
// buffer is full the event is dropped and counted.
func (l *Log) Emit(e Event) {
	now := time.Now()
	value, err := json.Marshal(cloudEvent{
		SpecVersion:     "1.0",
		ID:              rand.Text(),
		Source:          l.cfg.Source,
		Type:            e.Type,
		Time:            now.UTC().Format(time.RFC3339Nano),
		Subject:         e.Subject,
		DataContentType: "application/json",
		PartitionKey:    e.Subject,
		Data:            e.Data,
	})
	if err != nil {
		l.drop(dropEncode, err)
		return
	}
	if l.pending.Add(1) > int64(l.cfg.Buffer) {
		l.pending.Add(-1)
		l.drop(dropFull, nil)
		return
	}
	r := &kgo.Record{Key: []byte(e.Subject), Value: value, Headers: contentType, Timestamp: now}
	l.client.TryProduce(context.Background(), r, l.done)
}

// done is the producer's promise for every event.
func (l *Log) done(_ *kgo.Record, err error) {
	l.pending.Add(-1)
	switch {
	case err == nil:
		l.written.Inc()
	case errors.Is(err, kgo.ErrMaxBuffered):
		l.drop(dropFull, nil)
	default:
		l.drop(dropFailed, err)
	}
}

func (l *Log) drop(reason string, err error) {
	l.dropped.WithLabelValues(reason).Inc()
	l.drops.add(reason, err)
}

// Close waits until ctx ends for the buffered events to be written, then
// stops the producer; what is still buffered is counted as dropped.
func (l *Log) Close(ctx context.Context) {
	l.stop()
	if err := l.client.Flush(ctx); err != nil {
		l.cfg.Log.Warn("audit events still buffered at shutdown are lost", zap.Int64("events", l.pending.Load()), zap.Error(err))
	}
	l.client.Close()
}
