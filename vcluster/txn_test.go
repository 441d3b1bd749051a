package vcluster

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTxn(t *testing.T) { groupsTestRun(t, groupsTestTxnCases()) }

func TestTxnAdmin(t *testing.T) { groupsTestRun(t, groupsTestTxnAdminCases()) }

func groupsTestTxnCases() []groupsTestCase {
	ptr := kmsg.StringPtr
	initID := func(id *string) *kmsg.InitProducerIDRequest {
		return &kmsg.InitProducerIDRequest{Version: 5, TransactionalID: id, TransactionTimeoutMillis: 60000, ProducerID: 7, ProducerEpoch: 1}
	}
	addOne := func(id string, topics ...string) *kmsg.AddPartitionsToTxnRequest {
		r := &kmsg.AddPartitionsToTxnRequest{Version: 3, TransactionalID: id, ProducerID: 7, ProducerEpoch: 1}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.AddPartitionsToTxnRequestTopic{Topic: t, Partitions: []int32{0, 1}})
		}
		return r
	}
	addedOne := func(topics ...string) *kmsg.AddPartitionsToTxnResponse {
		r := &kmsg.AddPartitionsToTxnResponse{Version: 3, ThrottleMillis: 1}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.AddPartitionsToTxnResponseTopic{Topic: t, Partitions: []kmsg.AddPartitionsToTxnResponseTopicPartition{{Partition: 1}}})
		}
		return r
	}
	txn := func(id string, topics ...string) kmsg.AddPartitionsToTxnRequestTransaction {
		x := kmsg.AddPartitionsToTxnRequestTransaction{TransactionalID: id, ProducerID: 7, ProducerEpoch: 1, VerifyOnly: true}
		for _, t := range topics {
			x.Topics = append(x.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: t, Partitions: []int32{0}})
		}
		return x
	}
	txnResult := func(id string, topics ...string) kmsg.AddPartitionsToTxnResponseTransaction {
		x := kmsg.AddPartitionsToTxnResponseTransaction{TransactionalID: id}
		for _, t := range topics {
			x.Topics = append(x.Topics, kmsg.AddPartitionsToTxnResponseTransactionTopic{Topic: t,
				Partitions: []kmsg.AddPartitionsToTxnResponseTransactionTopicPartition{{Partition: 0, ErrorCode: 48}}})
		}
		return x
	}
	addMany := func(txns ...kmsg.AddPartitionsToTxnRequestTransaction) *kmsg.AddPartitionsToTxnRequest {
		return &kmsg.AddPartitionsToTxnRequest{Version: 5, Transactions: txns}
	}
	addedMany := func(results ...kmsg.AddPartitionsToTxnResponseTransaction) *kmsg.AddPartitionsToTxnResponse {
		return &kmsg.AddPartitionsToTxnResponse{Version: 5, ThrottleMillis: 1, Transactions: results}
	}
	addOffsets := func(id, group string) *kmsg.AddOffsetsToTxnRequest {
		return &kmsg.AddOffsetsToTxnRequest{Version: 4, TransactionalID: id, ProducerID: 7, ProducerEpoch: 1, Group: group}
	}
	end := func(id string) *kmsg.EndTxnRequest {
		return &kmsg.EndTxnRequest{Version: 5, TransactionalID: id, ProducerID: 7, ProducerEpoch: 1, Commit: true}
	}
	commit := func(id, group string, topics ...string) *kmsg.TxnOffsetCommitRequest {
		r := &kmsg.TxnOffsetCommitRequest{Version: 5, TransactionalID: id, Group: group, ProducerID: 7, ProducerEpoch: 1,
			Generation: 4, MemberID: "m-0", InstanceID: ptr("i-0")}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.TxnOffsetCommitRequestTopic{Topic: t, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{
				{Partition: 0, Offset: 42, LeaderEpoch: 3, Metadata: ptr("meta")}}})
		}
		return r
	}
	committed := func(topics ...string) *kmsg.TxnOffsetCommitResponse {
		r := &kmsg.TxnOffsetCommitResponse{Version: 5, ThrottleMillis: 1}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.TxnOffsetCommitResponseTopic{Topic: t, Partitions: []kmsg.TxnOffsetCommitResponseTopicPartition{{Partition: 0}}})
		}
		return r
	}
	return []groupsTestCase{{
		name:    "init producer id: transactional",
		req:     initID(ptr("tx")),
		wantReq: initID(ptr("team-a.tx")),
	}, {
		name:    "init producer id: idempotent only",
		req:     initID(nil),
		wantReq: initID(nil),
	}, {
		name:     "add partitions: one transaction",
		req:      addOne("tx", "orders", "billing"),
		wantReq:  addOne("team-a.tx", "team-a.orders", "team-a.billing"),
		resp:     addedOne("team-a.orders", "team-b.secret", "team-a.billing"),
		wantResp: addedOne("orders", "billing"),
	}, {
		name:     "add partitions: a batch of transactions",
		req:      addMany(txn("tx", "orders"), txn("ty")),
		wantReq:  addMany(txn("team-a.tx", "team-a.orders"), txn("team-a.ty")),
		resp:     addedMany(txnResult("team-a.tx", "team-a.orders", "plain"), txnResult("team-b.tx", "team-b.secret"), txnResult("team-a.ty")),
		wantResp: addedMany(txnResult("tx", "orders"), txnResult("ty")),
	}, {
		name:    "add offsets",
		req:     addOffsets("tx", "g"),
		wantReq: addOffsets("team-a.tx", "team-a.g"),
	}, {
		name:    "end",
		req:     end("tx"),
		wantReq: end("team-a.tx"),
	}, {
		name:     "commit offsets",
		req:      commit("tx", "g", "orders"),
		wantReq:  commit("team-a.tx", "team-a.g", "team-a.orders"),
		resp:     committed("team-a.orders", "team-b.secret"),
		wantResp: committed("orders"),
	}}
}

func groupsTestTxnAdminCases() []groupsTestCase {
	ptr := kmsg.StringPtr
	state := func(id string, topics ...string) kmsg.DescribeTransactionsResponseTransactionState {
		s := kmsg.DescribeTransactionsResponseTransactionState{TransactionalID: id, State: "Ongoing", TimeoutMillis: 60000,
			StartTimestamp: 1700000000000, ProducerID: 7, ProducerEpoch: 1}
		for _, t := range topics {
			s.Topics = append(s.Topics, kmsg.DescribeTransactionsResponseTransactionStateTopic{Topic: t, Partitions: []int32{0, 1}})
		}
		return s
	}
	described := func(states ...kmsg.DescribeTransactionsResponseTransactionState) *kmsg.DescribeTransactionsResponse {
		return &kmsg.DescribeTransactionsResponse{ThrottleMillis: 1, TransactionStates: states}
	}
	list := func(version int16, pattern *string) *kmsg.ListTransactionsRequest {
		return &kmsg.ListTransactionsRequest{Version: version, StateFilters: []string{"Ongoing"}, ProducerIDFilters: []int64{7},
			DurationFilterMillis: 1000, TransactionalIDPattern: pattern}
	}
	listed := func(version int16, ids ...string) *kmsg.ListTransactionsResponse {
		r := &kmsg.ListTransactionsResponse{Version: version, ThrottleMillis: 1, UnknownStateFilters: []string{"Bogus"}}
		for _, id := range ids {
			r.TransactionStates = append(r.TransactionStates, kmsg.ListTransactionsResponseTransactionState{TransactionalID: id, ProducerID: 7, TransactionState: "Ongoing"})
		}
		return r
	}
	everyone := []string{"team-a.tx-1", "team-b.tx-1", "tx-1", "team-a.", "team-a.team-b.tx", "team-a.tx-2"}
	return []groupsTestCase{{
		name:    "describe",
		req:     &kmsg.DescribeTransactionsRequest{TransactionalIDs: []string{"tx", "ty"}},
		wantReq: &kmsg.DescribeTransactionsRequest{TransactionalIDs: []string{"team-a.tx", "team-a.ty"}},
		resp: described(state("team-a.tx", "team-a.orders", "team-b.secret"), state("team-b.tx", "team-b.secret"),
			state("team-a.ty")),
		wantResp: described(state("tx", "orders"), state("ty")),
	}, {
		name:     "list: a pattern is anchored",
		req:      list(2, ptr("tx-.*")),
		wantReq:  list(2, ptr(`team-a\.(?:tx-.*)`)),
		resp:     listed(2, everyone...),
		wantResp: listed(2, "tx-1", "team-b.tx", "tx-2"),
	}, {
		name:    "list: no pattern lists the space",
		req:     list(2, nil),
		wantReq: list(2, ptr(`team-a\.(?:.*)`)),
	}, {
		name:    "list: an empty pattern lists the space",
		req:     list(2, ptr("")),
		wantReq: list(2, ptr(`team-a\.(?:.*)`)),
	}, {
		name:      "list: a pattern that does not parse is answered locally",
		req:       list(2, ptr("tx-(")),
		wantReq:   list(2, ptr("tx-(")),
		wantLocal: &kmsg.ListTransactionsResponse{Version: 2, ErrorCode: kerr.InvalidRegularExpression.Code},
	}, {
		name:     "list: before version 2 only the response is filtered",
		req:      list(1, nil),
		wantReq:  list(1, nil),
		resp:     listed(1, everyone...),
		wantResp: listed(1, "tx-1", "team-b.tx", "tx-2"),
	}}
}
