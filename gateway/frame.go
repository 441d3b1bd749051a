package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
)

// A Kafka request frame is a big-endian int32 size followed by that many
// bytes: the request header (api key int16, api version int16, correlation
// id int32, client id nullable string, and tagged fields from header v2 on)
// and then the body. A response frame is a size, the correlation id, tagged
// fields for flexible versions other than ApiVersions, and the body.

const (
	// requestPeekLen is the size field plus the fixed header fields that
	// every request starts with: key, version and correlation id.
	requestPeekLen = 4 + 2 + 2 + 4
	// responsePeekLen is the size field plus the correlation id.
	responsePeekLen = 4 + 4
	// minRequestSize is the smallest legal request after the size field:
	// key, version, correlation id and an (empty or null) client id.
	minRequestSize = 2 + 2 + 4 + 2
	// minResponseSize is the smallest legal response after the size field.
	minResponseSize = 4
)

// Errors describing why a frame was refused. A refused frame closes only the
// connection it arrived on.
var (
	errFrameTooSmall = errors.New("frame smaller than a kafka header")
	errFrameTooLarge = errors.New("frame larger than the configured maximum")
	errTruncated     = errors.New("frame truncated")
)

// requestHeader is the part of a request header the gateway peeks at.
type requestHeader struct {
	size          int32
	key           int16
	version       int16
	correlationID int32
}

// parseRequestPeek decodes the first requestPeekLen bytes of a request frame
// and checks the size against the limit.
func parseRequestPeek(b []byte, maxSize int32) (requestHeader, error) {
	h := requestHeader{
		size:          int32(binary.BigEndian.Uint32(b[0:4])),
		key:           int16(binary.BigEndian.Uint16(b[4:6])),
		version:       int16(binary.BigEndian.Uint16(b[6:8])),
		correlationID: int32(binary.BigEndian.Uint32(b[8:12])),
	}
	return h, checkSize(h.size, minRequestSize, maxSize)
}

// parseResponsePeek decodes the size and correlation id of a response frame.
func parseResponsePeek(b []byte, maxSize int32) (size, correlationID int32, err error) {
	size = int32(binary.BigEndian.Uint32(b[0:4]))
	correlationID = int32(binary.BigEndian.Uint32(b[4:8]))
	return size, correlationID, checkSize(size, minResponseSize, maxSize)
}

func checkSize(size, minSize, maxSize int32) error {
	switch {
	case size < minSize:
		return fmt.Errorf("%w: size %d", errFrameTooSmall, size)
	case size > maxSize:
		return fmt.Errorf("%w: size %d, limit %d", errFrameTooLarge, size, maxSize)
	}
	return nil
}

// skipRequestHeaderRest returns the offset of the request body within b,
// which starts right after the correlation id: the client id and, for
// flexible versions, the header's tagged fields.
func skipRequestHeaderRest(b []byte, key, version int16) (int, error) {
	r := kbin.Reader{Src: b}
	if n := r.Int16(); n > 0 {
		r.Span(int(n))
	}
	if flexibleRequestHeader(key, version) {
		skipTags(&r)
	}
	if !r.Ok() {
		return 0, errTruncated
	}
	return len(b) - len(r.Src), nil
}

// produceAcks reads the acks field of a Produce request from the bytes that
// follow the correlation id. ok is false when b is too short to tell.
func produceAcks(b []byte, version int16) (acks int16, ok bool) {
	off, err := skipRequestHeaderRest(b, keyProduce, version)
	if err != nil {
		return 0, false
	}
	r := kbin.Reader{Src: b[off:]}
	if version >= 3 { // transactional id
		if flexibleRequestHeader(keyProduce, version) {
			if n := int(r.Uvarint()) - 1; n > 0 {
				r.Span(n)
			}
		} else if n := r.Int16(); n > 0 {
			r.Span(int(n))
		}
	}
	acks = r.Int16()
	return acks, r.Ok()
}

// skipResponseHeaderTags returns the length of the tagged fields that
// follow the correlation id in a flexible response header.
func skipResponseHeaderTags(body []byte, key, version int16) (int, error) {
	if !flexibleResponseHeader(key, version) {
		return 0, nil
	}
	r := kbin.Reader{Src: body}
	skipTags(&r)
	if !r.Ok() {
		return 0, errTruncated
	}
	return len(body) - len(r.Src), nil
}

// skipTags skips a tagged-field section. It takes the concrete reader type so
// that peeking at a header does not allocate.
func skipTags(r *kbin.Reader) {
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		r.Uvarint() // tag
		r.Span(int(r.Uvarint()))
	}
}
