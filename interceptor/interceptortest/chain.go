package interceptortest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

// Conn is the connection Produce and Fetch run as: alice, a passthrough
// client.
var Conn = &interceptor.Conn{VCluster: "passthrough", Username: "alice"}

// Chain makes a chain of one interceptor of a plugin (its name or a class
// name) with config, reporting to the returned Events.
func Chain(t testing.TB, class, config string) (*interceptor.Chain, *Events) {
	t.Helper()
	p, ok := interceptor.Lookup(class)
	if !ok {
		t.Fatalf("no plugin %s", class)
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "t", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

// Produce runs ch on a Produce request (v9, acks=all) holding data for
// partition 0 of topic. It returns the partition's records as sent on, or
// nil and the error code the partition was answered with.
func Produce(t testing.TB, ch *interceptor.Chain, topic string, data []byte) ([]byte, int16) {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	pt := kmsg.NewProduceRequestTopicPartition()
	pt.Records = data
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.Partitions = topic, []kmsg.ProduceRequestTopicPartition{pt}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	call := ch.Begin(Conn, req.Key(), 9, nil, time.Now())
	if !call.Request(req) {
		t.Fatal("the whole request was refused")
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(9)
	call.Response(resp)
	if len(req.Topics) == 1 {
		return req.Topics[0].Partitions[0].Records, 0
	}
	return nil, resp.Topics[0].Partitions[0].ErrorCode
}

// Fetch runs ch on a Fetch response (v12) holding data for partition 0
// of topic and returns the partition as the client gets it.
func Fetch(ch *interceptor.Chain, topic string, data []byte) kmsg.FetchResponseTopicPartition {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(12)
	pt := kmsg.NewFetchResponseTopicPartition()
	pt.RecordBatches = data
	rt := kmsg.NewFetchResponseTopic()
	rt.Topic, rt.Partitions = topic, []kmsg.FetchResponseTopicPartition{pt}
	resp.Topics = []kmsg.FetchResponseTopic{rt}
	call := ch.Begin(Conn, kmsg.Fetch.Int16(), 12, nil, time.Now())
	call.Response(resp)
	return resp.Topics[0].Partitions[0]
}
