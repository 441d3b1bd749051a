package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The transaction administration APIs of KIP-664.

func init() {
	register(65, rule{ // DescribeTransactions
		maxVersion: 0,
		request: gRequest(func(x *Exchange, r *kmsg.DescribeTransactionsRequest) {
			for i, id := range r.TransactionalIDs {
				r.TransactionalIDs[i] = x.Space.TransactionalID(id)
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.DescribeTransactionsResponse) {
			r.TransactionStates = retain(r.TransactionStates, func(t *kmsg.DescribeTransactionsResponseTransactionState) bool {
				t.Topics = retain(t.Topics, func(tt *kmsg.DescribeTransactionsResponseTransactionStateTopic) bool {
					return gRename(&tt.Topic, x.logicalTopic)
				})
				return gRename(&t.TransactionalID, x.Space.gEcho)
			})
		}),
	})
	register(66, rule{ // ListTransactions
		maxVersion: 2,
		// From version 2 the broker can filter by pattern; an absent or
		// empty pattern, which lists everything, becomes one that lists
		// the space.
		request: gRequest(func(x *Exchange, r *kmsg.ListTransactionsRequest) {
			if r.Version < 2 {
				return
			}
			pattern := ".*"
			if p := r.TransactionalIDPattern; p != nil && *p != "" {
				pattern = *p
			}
			anchored, ok := gAnchor(x.Space, pattern)
			if !ok {
				resp := r.ResponseKind().(*kmsg.ListTransactionsResponse)
				resp.ErrorCode = kerr.InvalidRegularExpression.Code
				x.Local = resp
				return
			}
			r.TransactionalIDPattern = &anchored
		}),
		response: gResponse(func(x *Exchange, r *kmsg.ListTransactionsResponse) {
			r.TransactionStates = retain(r.TransactionStates, func(t *kmsg.ListTransactionsResponseTransactionState) bool {
				return gRename(&t.TransactionalID, x.Space.LogicalTransactionalID)
			})
		}),
	})
}
