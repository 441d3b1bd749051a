package backing

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka cluster (franz-go's kfake) that Strait
// starts when no backing cluster is configured, so that `go run .` works on
// a machine with nothing else installed. Its data lives in memory and is
// lost on exit; it is for development and demos, not production.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts an embedded cluster of n brokers on loopback ports.
func StartEmbedded(n int) (*Embedded, Config, error) {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(n),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	)
	if err != nil {
		return nil, Config{}, fmt.Errorf("backing: start embedded cluster: %w", err)
	}
	return &Embedded{cluster: c}, Config{Bootstrap: c.ListenAddrs(), SecurityProtocol: "PLAINTEXT"}, nil
}

// Cluster returns the underlying fake cluster, for tests that move
// partitions or add and remove brokers.
func (e *Embedded) Cluster() *kfake.Cluster { return e.cluster }

// Close stops the cluster.
func (e *Embedded) Close() { e.cluster.Close() }
