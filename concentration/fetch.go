package concentration

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/concentration/offsetmap"
)

// want is one logical partition a Fetch asks for.
type want struct {
	topic     *Topic
	partition int32
	offset    int64 // the logical offset asked for
	from      int64 // physical offset its records start at
	// beyond is set when the offset was past the end of the index: the
	// index may only be behind the log (a node just started), so whether
	// the offset is out of range is decided when the answer comes.
	beyond bool
	result kmsg.FetchResponseTopicPartition
	local  bool // answered without the broker (result holds an error)
}

// fetch asks for the physical partitions behind the concentrated ones.
// Logical partitions sharing a physical one are served by one read from
// the lowest offset any of them needs. Fetch sessions are turned off for
// such requests: the broker's session would track physical partitions.
func (x *Exchange) fetch(r *kmsg.FetchRequest) {
	v := r.GetVersion() >= 13 // topics by id
	var wants []*want
	own := map[ptKey]bool{} // partitions the client reads itself
	kept := make([]kmsg.FetchRequestTopic, 0, len(r.Topics))
	for _, t := range r.Topics {
		ct := x.view.topic(&t.Topic, t.TopicID)
		if ct == nil {
			for _, p := range t.Partitions {
				own[keyOf(v, t.Topic, t.TopicID, p.Partition)] = true
			}
			kept = append(kept, t)
			continue
		}
		for _, p := range t.Partitions {
			w := &want{topic: ct, partition: p.Partition, offset: p.FetchOffset}
			w.result = kmsg.NewFetchResponseTopicPartition()
			w.result.Partition = p.Partition
			wants = append(wants, w)
			ix, code := x.c.follower.index(ct, p.Partition)
			if code == 0 {
				w.from, w.beyond, code = seek(ix, ct, p.Partition, p.FetchOffset)
			}
			if code != 0 {
				w.result.ErrorCode, w.local = code, true
				continue
			}
			addFetch(&kept, v, ct, ct.Partitions[p.Partition], w.from, p)
		}
	}
	if wants == nil {
		return
	}
	r.Topics = kept
	r.SessionID, r.SessionEpoch, r.ForgottenTopics = 0, -1, nil
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		x.fetched(resp.(*kmsg.FetchResponse), wants, own)
		return nil
	}
}

// seek returns the physical offset a logical partition's fetch starts at;
// beyond when the offset is past the index's end for now.
func seek(ix *offsetmap.Index, ct *Topic, p int32, offset int64) (from int64, beyond bool, code int16) {
	if !ct.Dense {
		return offset, false, 0
	}
	phys, err := ix.Seek(ct.Tag(p), offset)
	switch {
	case err == nil:
		return phys, false, 0
	case offset > ix.End(ct.Tag(p)):
		return ix.Watermark(), true, 0
	}
	return 0, false, kerr.OffsetOutOfRange.Code
}

// addFetch asks for a physical partition from offset from, or lowers the
// offset of an entry already asking for it.
func addFetch(topics *[]kmsg.FetchRequestTopic, v bool, ct *Topic, q int32, from int64, p kmsg.FetchRequestTopicPartition) {
	k := keyOf(v, ct.Physical, ct.PhysicalID, q)
	for i := range *topics {
		t := &(*topics)[i]
		for j := range t.Partitions {
			e := &t.Partitions[j]
			if keyOf(v, t.Topic, t.TopicID, e.Partition) == k {
				e.FetchOffset = min(e.FetchOffset, from)
				e.PartitionMaxBytes = max(e.PartitionMaxBytes, p.PartitionMaxBytes)
				return
			}
		}
	}
	p.Partition, p.FetchOffset, p.LogStartOffset = q, from, -1
	for i := range *topics {
		if t := &(*topics)[i]; keyOf(v, t.Topic, t.TopicID, 0) == keyOf(v, ct.Physical, ct.PhysicalID, 0) {
			t.Partitions = append(t.Partitions, p)
			return
		}
	}
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID = ct.Physical, ct.PhysicalID
	t.Partitions = []kmsg.FetchRequestTopicPartition{p}
	*topics = append(*topics, t)
}

// fetched answers each logical partition from its physical partition's
// records: only its own batches, renumbered when the topic is dense.
func (x *Exchange) fetched(resp *kmsg.FetchResponse, wants []*want, own map[ptKey]bool) {
	v := resp.GetVersion() >= 13
	physical := map[ptKey]*kmsg.FetchResponseTopicPartition{}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		for j := range t.Partitions {
			physical[keyOf(v, t.Topic, t.TopicID, t.Partitions[j].Partition)] = &t.Partitions[j]
		}
	}
	added := map[ptKey]int{} // how many logical partitions read each physical one
	for _, w := range wants {
		if !w.local {
			added[keyOf(v, w.topic.Physical, w.topic.PhysicalID, w.topic.Partitions[w.partition])]++
		}
	}
	for _, w := range wants {
		if w.local {
			continue
		}
		k := keyOf(v, w.topic.Physical, w.topic.PhysicalID, w.topic.Partitions[w.partition])
		src := physical[k]
		if src == nil {
			w.result.ErrorCode = kerr.UnknownServerError.Code
			continue
		}
		// Alone on its physical partition, a logical one is filtered in
		// place; shared, each gets a copy of its batches.
		x.c.follower.answer(w, src, added[k] == 1 && !own[k])
	}
	drop := map[ptKey]bool{}
	for k := range added {
		drop[k] = !own[k]
	}
	sh := fetchShape(v)
	resp.Topics = sh.drop(resp.Topics, drop)
	for _, w := range wants {
		ct := w.topic
		sh.add(&resp.Topics, func(t *kmsg.FetchResponseTopic) bool { return t.Topic == ct.Name && t.TopicID == ct.ID },
			func() kmsg.FetchResponseTopic {
				t := kmsg.NewFetchResponseTopic()
				t.Topic, t.TopicID = ct.Name, ct.ID
				return t
			}, w.result)
	}
}

// filter appends to dst the batches of data that belong to tag and start
// at or after from, renumbered to logical offsets when dense, and returns
// it. It stops at the first batch the index has not reached yet. dst may
// be data[:0]: batches only ever move towards the start, so the partition's
// records are filtered in place, without a copy of the whole response.
func filter(ix *offsetmap.Index, tag offsetmap.Tag, dense bool, from int64, data, dst []byte) []byte {
	for len(data) >= 61 {
		n := int(int32(binary.BigEndian.Uint32(data[8:]))) + 12
		if n < 61 || n > len(data) {
			break // a batch cut short at the end of the response
		}
		raw := data[:n]
		data = data[n:]
		base := int64(binary.BigEndian.Uint64(raw))
		last := base + int64(int32(binary.BigEndian.Uint32(raw[23:])))
		if raw[16] != 2 || binary.BigEndian.Uint16(raw[21:])&0x20 != 0 || last < from {
			continue // control batches and old formats are not the gateway's
		}
		logical, verdict := ix.Batch(tag, base, last)
		if verdict == offsetmap.Unknown {
			break
		}
		if verdict != offsetmap.Mine {
			continue
		}
		at := len(dst)
		dst = append(dst, raw...)
		if dense {
			binary.BigEndian.PutUint64(dst[at:], uint64(logical))
		}
	}
	return dst
}
