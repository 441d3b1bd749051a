package vcluster

import "github.com/twmb/franz-go/pkg/kmsg"

// The transactional producer's APIs. TxnOffsetCommit names topics by id
// from version 6, which tenants cannot use.

func init() {
	register(22, rule{ // InitProducerId: a nil id asks for an idempotent producer.
		maxVersion: 5,
		request: gRequest(func(x *Exchange, r *kmsg.InitProducerIDRequest) {
			if r.TransactionalID != nil {
				id := x.Space.TransactionalID(*r.TransactionalID)
				r.TransactionalID = &id
			}
		}),
	})
	register(24, rule{ // AddPartitionsToTxn: one transaction before version 4, a batch after.
		maxVersion: 5,
		request: gRequest(func(x *Exchange, r *kmsg.AddPartitionsToTxnRequest) {
			if r.Version < 4 {
				r.TransactionalID = x.Space.TransactionalID(r.TransactionalID)
			}
			for i := range r.Topics {
				t := &r.Topics[i]
				t.Topic = x.topic(t.Topic)
			}
			for i := range r.Transactions {
				t := &r.Transactions[i]
				t.TransactionalID = x.Space.TransactionalID(t.TransactionalID)
				for j := range t.Topics {
					tt := &t.Topics[j]
					tt.Topic = x.topic(tt.Topic)
				}
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.AddPartitionsToTxnResponse) {
			r.Topics = retain(r.Topics, func(t *kmsg.AddPartitionsToTxnResponseTopic) bool {
				return gRename(&t.Topic, x.logicalTopic)
			})
			r.Transactions = retain(r.Transactions, func(t *kmsg.AddPartitionsToTxnResponseTransaction) bool {
				t.Topics = retain(t.Topics, func(tt *kmsg.AddPartitionsToTxnResponseTransactionTopic) bool {
					return gRename(&tt.Topic, x.logicalTopic)
				})
				return gRename(&t.TransactionalID, x.Space.gEcho)
			})
		}),
	})
	register(25, rule{ // AddOffsetsToTxn
		maxVersion: 4,
		request: gRequest(func(x *Exchange, r *kmsg.AddOffsetsToTxnRequest) {
			r.TransactionalID = x.Space.TransactionalID(r.TransactionalID)
			r.Group = x.Space.Group(r.Group)
		}),
	})
	register(26, rule{ // EndTxn
		maxVersion: 5,
		request: gRequest(func(x *Exchange, r *kmsg.EndTxnRequest) {
			r.TransactionalID = x.Space.TransactionalID(r.TransactionalID)
		}),
	})
	register(28, rule{ // TxnOffsetCommit
		maxVersion: 5,
		request: gRequest(func(x *Exchange, r *kmsg.TxnOffsetCommitRequest) {
			r.TransactionalID = x.Space.TransactionalID(r.TransactionalID)
			r.Group = x.Space.Group(r.Group)
			for i := range r.Topics {
				t := &r.Topics[i]
				t.Topic = x.topic(t.Topic)
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.TxnOffsetCommitResponse) {
			r.Topics = retain(r.Topics, func(t *kmsg.TxnOffsetCommitResponseTopic) bool {
				return gRename(&t.Topic, x.logicalTopic)
			})
		}),
	})
}
