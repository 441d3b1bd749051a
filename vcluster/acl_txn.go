package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Guards of the producer and transaction APIs. A transactional producer
// needs WRITE on its transactional id (DESCRIBE to find its coordinator);
// an idempotent one IDEMPOTENT_WRITE on the cluster or WRITE on some
// topic, as since Kafka 3.0.

func init() {
	guardKey(22, aWhole(func(x *Exchange, r *kmsg.InitProducerIDRequest) kmsg.Response {
		code := int16(0)
		switch {
		case r.TransactionalID != nil:
			if !x.canTxn(*r.TransactionalID, kmsg.ACLOperationWrite) {
				code = kerr.TransactionalIDAuthorizationFailed.Code
			}
		case !x.canCluster(kmsg.ACLOperationIdempotentWrite) && !x.access.AllowedAny(kmsg.ACLResourceTypeTopic, kmsg.ACLOperationWrite):
			code = kerr.ClusterAuthorizationFailed.Code
		}
		if code == 0 {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = code, -1, -1
		return resp
	}))
	guardKey(24, guard{request: aAddPartitionsToTxnRequest})
	guardKey(25, aWhole(func(x *Exchange, r *kmsg.AddOffsetsToTxnRequest) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
		switch {
		case !x.canTxn(r.TransactionalID, kmsg.ACLOperationWrite):
			resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		case !x.canGroup(r.Group, kmsg.ACLOperationRead):
			resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		default:
			return nil
		}
		return resp
	}))
	guardKey(26, aWhole(func(x *Exchange, r *kmsg.EndTxnRequest) kmsg.Response {
		if x.canTxn(r.TransactionalID, kmsg.ACLOperationWrite) {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp
	}))

	txnCommit := aTopicGuard(kmsg.ACLOperationRead,
		func(r *kmsg.TxnOffsetCommitRequest) *[]kmsg.TxnOffsetCommitRequestTopic { return &r.Topics },
		func(t *kmsg.TxnOffsetCommitRequestTopic) string { return t.Topic },
		func(t *kmsg.TxnOffsetCommitRequestTopic, code int16) kmsg.TxnOffsetCommitResponseTopic {
			a := kmsg.NewTxnOffsetCommitResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				ap.Partition, ap.ErrorCode = p.Partition, code
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.TxnOffsetCommitResponse) *[]kmsg.TxnOffsetCommitResponseTopic { return &r.Topics })
	guardKey(28, guard{
		request: func(x *Exchange, req kmsg.Request) bool {
			r := req.(*kmsg.TxnOffsetCommitRequest)
			switch {
			case !x.canTxn(r.TransactionalID, kmsg.ACLOperationWrite):
				return txnCommit.refuseAll(x, req, kerr.TransactionalIDAuthorizationFailed.Code)
			case !x.canGroup(r.Group, kmsg.ACLOperationRead):
				return txnCommit.refuseAll(x, req, kerr.GroupAuthorizationFailed.Code)
			}
			return txnCommit.request(x, req)
		},
		response: txnCommit.response,
	})

	guardKey(65, aEntries[*kmsg.DescribeTransactionsRequest, *kmsg.DescribeTransactionsResponse, string, kmsg.DescribeTransactionsResponseTransactionState]{
		entries: func(r *kmsg.DescribeTransactionsRequest) *[]string { return &r.TransactionalIDs },
		check: func(x *Exchange, id *string) int16 {
			if x.canTxn(*id, kmsg.ACLOperationDescribe) {
				return 0
			}
			return kerr.TransactionalIDAuthorizationFailed.Code
		},
		answer: func(id *string, code int16) kmsg.DescribeTransactionsResponseTransactionState {
			a := kmsg.NewDescribeTransactionsResponseTransactionState()
			a.TransactionalID, a.ErrorCode, a.ProducerID, a.ProducerEpoch = *id, code, -1, -1
			return a
		},
		answers: func(r *kmsg.DescribeTransactionsResponse) *[]kmsg.DescribeTransactionsResponseTransactionState {
			return &r.TransactionStates
		},
	}.guard())
	guardKey(66, guard{
		request: func(*Exchange, kmsg.Request) bool { return true },
		response: func(x *Exchange, resp kmsg.Response) {
			r := resp.(*kmsg.ListTransactionsResponse)
			r.TransactionStates = retain(r.TransactionStates, func(t *kmsg.ListTransactionsResponseTransactionState) bool {
				return x.canTxn(t.TransactionalID, kmsg.ACLOperationDescribe)
			})
		},
	})
}

// aAddPartitionsToTxnRequest requires WRITE on the transactional id and on
// every topic. As in Kafka, one refused topic fails the whole request: the
// refused topics answer TOPIC_AUTHORIZATION_FAILED and the others
// OPERATION_NOT_ATTEMPTED. The batched form (version 4 on) is only for
// brokers, which need CLUSTER_ACTION.
func aAddPartitionsToTxnRequest(x *Exchange, req kmsg.Request) bool {
	r := req.(*kmsg.AddPartitionsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if r.Version >= 4 {
		if x.canCluster(kmsg.ACLOperationClusterAction) {
			return true
		}
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		x.Local = resp
		return false
	}
	txnDenied := !x.canTxn(r.TransactionalID, kmsg.ACLOperationWrite)
	anyDenied := txnDenied
	codes := make([]int16, len(r.Topics))
	for i, t := range r.Topics {
		switch {
		case txnDenied:
			codes[i] = kerr.TransactionalIDAuthorizationFailed.Code
		case !x.canTopic(t.Topic, kmsg.ACLOperationWrite):
			codes[i], anyDenied = kerr.TopicAuthorizationFailed.Code, true
		default:
			codes[i] = kerr.OperationNotAttempted.Code
		}
	}
	if !anyDenied {
		return true
	}
	for i, t := range r.Topics {
		a := kmsg.NewAddPartitionsToTxnResponseTopic()
		a.Topic = t.Topic
		for _, p := range t.Partitions {
			ap := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			ap.Partition, ap.ErrorCode = p, codes[i]
			a.Partitions = append(a.Partitions, ap)
		}
		resp.Topics = append(resp.Topics, a)
	}
	x.Local = resp
	return false
}
