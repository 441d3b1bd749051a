package vcluster

import "github.com/twmb/franz-go/pkg/kmsg"

// Rules for the APIs that read, write and trim a topic's records. None of
// them lists topics: each names topics both ways and drops whatever comes
// back outside the space.

func init() {
	// Produce and Fetch name topics by id from v13 on.
	register(0, rule{maxVersion: 12, request: tProduceRequest, response: tProduceResponse})
	register(1, rule{maxVersion: 12, request: tFetchRequest, response: tFetchResponse})
	register(2, rule{maxVersion: 11, request: tListOffsetsRequest, response: tListOffsetsResponse})
	register(21, rule{maxVersion: 2, request: tDeleteRecordsRequest, response: tDeleteRecordsResponse})
	register(23, rule{maxVersion: 4, request: tOffsetForLeaderEpochRequest, response: tOffsetForLeaderEpochResponse})
	register(61, rule{maxVersion: 0, request: tDescribeProducersRequest, response: tDescribeProducersResponse})
}

func tProduceRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.ProduceRequest)
	if r.TransactionID != nil {
		r.TransactionID = kmsg.StringPtr(x.Space.TransactionalID(*r.TransactionID))
	}
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return nil
}

func tProduceResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.ProduceResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.ProduceResponseTopic) bool {
		for i := range t.Partitions {
			p := &t.Partitions[i]
			x.Space.Scrub(p.ErrorMessage)
			for j := range p.ErrorRecords {
				x.Space.Scrub(p.ErrorRecords[j].ErrorMessage)
			}
		}
		return tRename(x, &t.Topic)
	})
	return nil
}

func tFetchRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.FetchRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	for i := range r.ForgottenTopics {
		t := &r.ForgottenTopics[i]
		t.Topic = x.topic(t.Topic)
	}
	return nil
}

func tFetchResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.FetchResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.FetchResponseTopic) bool { return tRename(x, &t.Topic) })
	return nil
}

func tListOffsetsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.ListOffsetsRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return nil
}

func tListOffsetsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.ListOffsetsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.ListOffsetsResponseTopic) bool { return tRename(x, &t.Topic) })
	return nil
}

func tDeleteRecordsRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.DeleteRecordsRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return nil
}

func tDeleteRecordsResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.DeleteRecordsResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.DeleteRecordsResponseTopic) bool { return tRename(x, &t.Topic) })
	return nil
}

func tOffsetForLeaderEpochRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.OffsetForLeaderEpochRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return nil
}

func tOffsetForLeaderEpochResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.OffsetForLeaderEpochResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.OffsetForLeaderEpochResponseTopic) bool { return tRename(x, &t.Topic) })
	return nil
}

func tDescribeProducersRequest(x *Exchange, req kmsg.Request) error {
	r := req.(*kmsg.DescribeProducersRequest)
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Topic = x.topic(t.Topic)
	}
	return nil
}

func tDescribeProducersResponse(x *Exchange, resp kmsg.Response) error {
	r := resp.(*kmsg.DescribeProducersResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.DescribeProducersResponseTopic) bool {
		for i := range t.Partitions {
			x.Space.Scrub(t.Partitions[i].ErrorMessage)
		}
		return tRename(x, &t.Topic)
	})
	return nil
}
