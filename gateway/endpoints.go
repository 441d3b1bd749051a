package gateway

import (
	"github.com/twmb/franz-go/pkg/kbin"
)

// Produce responses from v10 and Fetch responses from v16 may end with a
// top-level tagged field (tag 0) listing broker endpoints (KIP-951), so a
// client can reach a new partition leader without a metadata round trip.
// Those endpoints must be rewritten, but they are rare: brokers only send
// them with NOT_LEADER_OR_FOLLOWER-style errors. hasNodeEndpoints walks the
// response without allocating or decoding records to find out whether the
// tag is there, so the common case forwards the bytes untouched.

// hasNodeEndpoints reports whether a Produce or Fetch response body (after
// the response header) carries top-level tag 0.
func hasNodeEndpoints(key, version int16, body []byte) (bool, error) {
	r := kbin.Reader{Src: body}
	switch key {
	case keyProduce:
		skipProduceTopics(&r, version)
		r.Int32() // throttle
	case keyFetch:
		r.Span(4 + 2 + 4) // throttle, error code, session id
		skipFetchTopics(&r, version)
	default:
		return false, nil
	}
	found := false
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		if r.Uvarint() == 0 {
			found = true
		}
		r.Span(int(r.Uvarint()))
	}
	if !r.Ok() || len(r.Src) != 0 {
		return false, errTruncated
	}
	return found, nil
}

func skipProduceTopics(r *kbin.Reader, version int16) {
	for topics := compactLen(r); topics > 0 && r.Ok(); topics-- {
		skipTopicName(r, version, 13)
		for parts := compactLen(r); parts > 0 && r.Ok(); parts-- {
			// partition, error code, base offset, log append time, log start offset
			r.Span(4 + 2 + 8 + 8 + 8)
			for recs := compactLen(r); recs > 0 && r.Ok(); recs-- {
				r.Int32() // relative offset
				skipCompactBytes(r)
				skipTags(r)
			}
			skipCompactBytes(r) // error message
			skipTags(r)
		}
		skipTags(r)
	}
}

func skipFetchTopics(r *kbin.Reader, version int16) {
	for topics := compactLen(r); topics > 0 && r.Ok(); topics-- {
		skipTopicName(r, version, 13)
		for parts := compactLen(r); parts > 0 && r.Ok(); parts-- {
			// partition, error code, high watermark, last stable offset,
			// log start offset
			r.Span(4 + 2 + 8 + 8 + 8)
			for aborted := compactLen(r); aborted > 0 && r.Ok(); aborted-- {
				r.Span(8 + 8) // producer id, first offset
				skipTags(r)
			}
			r.Int32()           // preferred read replica
			skipCompactBytes(r) // records: skipped, never decoded
			skipTags(r)
		}
		skipTags(r)
	}
}

// skipTopicName skips a compact topic name, or from idFrom on a topic id.
func skipTopicName(r *kbin.Reader, version, idFrom int16) {
	if version >= idFrom {
		r.Span(16)
		return
	}
	skipCompactBytes(r)
}

// compactLen reads a compact array length; null (-1) reads as 0 elements.
func compactLen(r *kbin.Reader) int64 {
	return int64(r.Uvarint()) - 1
}

// skipCompactBytes skips a compact (nullable) string or byte array.
func skipCompactBytes(r *kbin.Reader) {
	if n := int64(r.Uvarint()) - 1; n > 0 {
		if n > int64(len(r.Src)) {
			r.Span(-1) // marks the reader bad
			return
		}
		r.Span(int(n))
	}
}
