package e2e

import (
	"testing"
)

// TestClientMatrix has every client produce with acks=all through the
// gateway and consume in a group through the gateway; every record must
// arrive exactly once and in order within its partition.
func TestClientMatrix(t *testing.T) {
	clients := []client{franzGo{}, saramaClient{}}
	if !testing.Short() {
		// The other ecosystems run as processes installed by `make deps`.
		clients = append(clients, javaClient, kafkajsClient, kafkaPython, librdkafkaPy, kcatClient)
	}
	for _, b := range backends(t) {
		for _, c := range clients {
			t.Run(b.name+"/"+c.name(), func(t *testing.T) {
				const n = 1000
				topic := newTopic(t, b, "matrix-"+c.name(), 3)
				c.produce(t, b.gatewayAddr(), topic, c.name(), n)
				rs := c.consume(t, b.gatewayAddr(), topic, "group-"+topic, n)
				checkRecords(t, rs, c.name(), n)
			})
		}
	}
}

// TestJavaProducerFeatures covers the Java client's idempotent and
// transactional producers (read back with read_committed), every
// compression codec, and the KIP-848 consumer group protocol.
func TestJavaProducerFeatures(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Java harness is installed by `make deps` and runs in `make test`")
	}
	for _, b := range backends(t) {
		t.Run(b.name+"/compression", func(t *testing.T) {
			for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
				topic := newTopic(t, b, "codec-"+codec, 3)
				javaClient.produce(t, b.gatewayAddr(), topic, codec, 500, "--compression", codec)
				checkRecords(t, consumeGo(t, b.gatewayAddr(), topic, "g-"+topic, 500), codec, 500)
			}
		})
		t.Run(b.name+"/idempotent", func(t *testing.T) {
			topic := newTopic(t, b, "idem", 3)
			javaClient.produce(t, b.gatewayAddr(), topic, "idem", 1000, "--idempotent")
			checkRecords(t, javaClient.consume(t, b.gatewayAddr(), topic, "g-"+topic, 1000), "idem", 1000)
		})
		t.Run(b.name+"/transactional-read-committed", func(t *testing.T) {
			topic := newTopic(t, b, "txn", 3)
			javaClient.produce(t, b.gatewayAddr(), topic, "txn", 1000, "--transactional-id", "txn-"+topic)
			rs := javaClient.consume(t, b.gatewayAddr(), topic, "g-"+topic, 1000, "--isolation", "read_committed")
			checkRecords(t, rs, "txn", 1000)
		})
		t.Run(b.name+"/kip848-consumer-protocol", func(t *testing.T) {
			topic := newTopic(t, b, "kip848", 3)
			javaClient.produce(t, b.gatewayAddr(), topic, "k848", 1000)
			rs := javaClient.consume(t, b.gatewayAddr(), topic, "g-"+topic, 1000, "--group-protocol", "consumer")
			checkRecords(t, rs, "k848", 1000)
		})
	}
}
