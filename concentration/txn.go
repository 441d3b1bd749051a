package concentration

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// addPartitionsToTxn refuses concentrated partitions in a transaction at
// once, with an error a producer does not retry: the broker would answer
// that it does not know the topic, which producers retry until they time
// out.
func (x *Exchange) addPartitionsToTxn(r *kmsg.AddPartitionsToTxnRequest) {
	refuse := func(t *kmsg.AddPartitionsToTxnRequestTopic) (kmsg.AddPartitionsToTxnResponseTopic, bool) {
		if x.view.byName[t.Topic] == nil {
			return kmsg.AddPartitionsToTxnResponseTopic{}, false
		}
		a := kmsg.NewAddPartitionsToTxnResponseTopic()
		a.Topic = t.Topic
		for _, p := range t.Partitions {
			ap := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			ap.Partition, ap.ErrorCode = p, kerr.InvalidTxnState.Code
			a.Partitions = append(a.Partitions, ap)
		}
		return a, true
	}
	var refused []kmsg.AddPartitionsToTxnResponseTopic
	r.Topics = slices.DeleteFunc(r.Topics, func(t kmsg.AddPartitionsToTxnRequestTopic) bool {
		a, no := refuse(&t)
		if no {
			refused = append(refused, a)
		}
		return no
	})
	byTxn := map[string][]kmsg.AddPartitionsToTxnResponseTopic{}
	for i := range r.Transactions {
		tx := &r.Transactions[i]
		tx.Topics = slices.DeleteFunc(tx.Topics, func(t kmsg.AddPartitionsToTxnRequestTransactionTopic) bool {
			a, no := refuse(&kmsg.AddPartitionsToTxnRequestTopic{Topic: t.Topic, Partitions: t.Partitions})
			if no {
				byTxn[tx.TransactionalID] = append(byTxn[tx.TransactionalID], a)
			}
			return no
		})
	}
	if refused == nil && len(byTxn) == 0 {
		return
	}
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		a := resp.(*kmsg.AddPartitionsToTxnResponse)
		a.Topics = append(a.Topics, refused...)
		for i := range a.Transactions {
			tx := &a.Transactions[i]
			for _, t := range byTxn[tx.TransactionalID] {
				tt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
				tt.Topic = t.Topic
				for _, p := range t.Partitions {
					tp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
					tp.Partition, tp.ErrorCode = p.Partition, p.ErrorCode
					tt.Partitions = append(tt.Partitions, tp)
				}
				tx.Topics = append(tx.Topics, tt)
			}
		}
		return nil
	}
}
