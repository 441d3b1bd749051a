package concentration

import "github.com/twmb/franz-go/pkg/kmsg"

// ptKey names a partition the way a request names it: by topic id in
// the versions that have ids (byID), by name otherwise.
type ptKey struct {
	topic     string
	partition int32
}

func keyOf(byID bool, name string, id [16]byte, partition int32) ptKey {
	if byID {
		return ptKey{string(id[:]), partition}
	}
	return ptKey{name, partition}
}

// placement spreads the entries of a request over it and extra requests
// of the same kind, so that no request names a partition twice.
type placement []map[ptKey]bool

// take returns the first request (0: the original) not naming k yet,
// and marks k taken in it.
func (pl *placement) take(k ptKey) int {
	i := 0
	for i < len(*pl) && (*pl)[i][k] {
		i++
	}
	if i == len(*pl) {
		*pl = append(*pl, map[ptKey]bool{})
	}
	(*pl)[i][k] = true
	return i
}

// shape tells the helpers below how one response type holds its
// partitions: topics, each with a list of partitions.
type shape[T, P any] struct {
	parts func(*T) *[]P
	// key names a partition the way the request's version does.
	key func(*T, *P) ptKey
}

// drop removes, in place, the partitions named in added (those the
// gateway asked for in the client's place) and the topics left empty.
func (s shape[T, P]) drop(topics []T, added map[ptKey]bool) []T {
	for i := range topics {
		t := &topics[i]
		*s.parts(t) = deleteFunc(*s.parts(t), func(p *P) bool { return added[s.key(t, p)] })
	}
	return deleteFunc(topics, func(t *T) bool { return len(*s.parts(t)) == 0 })
}

// find returns the partition named k; nil when the answer lacks it.
func (s shape[T, P]) find(topics []T, k ptKey) *P {
	for i := range topics {
		t := &topics[i]
		ps := *s.parts(t)
		for j := range ps {
			if s.key(t, &ps[j]) == k {
				return &ps[j]
			}
		}
	}
	return nil
}

// add appends a partition to the topic entry match accepts, creating the
// entry with fresh when there is none.
func (s shape[T, P]) add(topics *[]T, match func(*T) bool, fresh func() T, p P) {
	for i := range *topics {
		if t := &(*topics)[i]; match(t) {
			*s.parts(t) = append(*s.parts(t), p)
			return
		}
	}
	t := fresh()
	*s.parts(&t) = append(*s.parts(&t), p)
	*topics = append(*topics, t)
}

// deleteFunc removes, in place, the elements drop accepts.
func deleteFunc[E any](s []E, drop func(*E) bool) []E {
	kept := s[:0]
	for i := range s {
		if !drop(&s[i]) {
			kept = append(kept, s[i])
		}
	}
	clear(s[len(kept):])
	return kept
}

// The shapes of the responses the gateway merges.

func produceShape(byID bool) shape[kmsg.ProduceResponseTopic, kmsg.ProduceResponseTopicPartition] {
	return shape[kmsg.ProduceResponseTopic, kmsg.ProduceResponseTopicPartition]{
		parts: func(t *kmsg.ProduceResponseTopic) *[]kmsg.ProduceResponseTopicPartition { return &t.Partitions },
		key: func(t *kmsg.ProduceResponseTopic, p *kmsg.ProduceResponseTopicPartition) ptKey {
			return keyOf(byID, t.Topic, t.TopicID, p.Partition)
		},
	}
}

func fetchShape(byID bool) shape[kmsg.FetchResponseTopic, kmsg.FetchResponseTopicPartition] {
	return shape[kmsg.FetchResponseTopic, kmsg.FetchResponseTopicPartition]{
		parts: func(t *kmsg.FetchResponseTopic) *[]kmsg.FetchResponseTopicPartition { return &t.Partitions },
		key: func(t *kmsg.FetchResponseTopic, p *kmsg.FetchResponseTopicPartition) ptKey {
			return keyOf(byID, t.Topic, t.TopicID, p.Partition)
		},
	}
}

var listedShape = shape[kmsg.ListOffsetsResponseTopic, kmsg.ListOffsetsResponseTopicPartition]{
	parts: func(t *kmsg.ListOffsetsResponseTopic) *[]kmsg.ListOffsetsResponseTopicPartition { return &t.Partitions },
	key: func(t *kmsg.ListOffsetsResponseTopic, p *kmsg.ListOffsetsResponseTopicPartition) ptKey {
		return ptKey{t.Topic, p.Partition}
	},
}

var epochShape = shape[kmsg.OffsetForLeaderEpochResponseTopic, kmsg.OffsetForLeaderEpochResponseTopicPartition]{
	parts: func(t *kmsg.OffsetForLeaderEpochResponseTopic) *[]kmsg.OffsetForLeaderEpochResponseTopicPartition {
		return &t.Partitions
	},
	key: func(t *kmsg.OffsetForLeaderEpochResponseTopic, p *kmsg.OffsetForLeaderEpochResponseTopicPartition) ptKey {
		return ptKey{t.Topic, p.Partition}
	},
}
