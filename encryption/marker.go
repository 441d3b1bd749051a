package encryption

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Header is the record header that lists what of a record is encrypted:
// a JSON array of locations. A location is "value" or "key" (the whole
// value or key is an envelope), "header:<name>" (that header's values
// are envelopes), or "value:<path>" / "key:<path>" (the field at that
// concrete path holds an envelope, as base64 text).
const Header = "strait.encryption"

// FieldHeader prefixes the header that carries the envelope of a field
// whose type cannot hold text (an Avro int, say, kept valid by setting it
// to its type's minimum): FieldHeader + location.
const FieldHeader = "strait.encryption."

// Locations returns the encrypted locations a record's marker header
// lists; nil when the record has none. The slice is shared: callers must
// not change it.
func Locations(headers []kmsg.Header) ([]string, error) {
	i := slices.IndexFunc(headers, func(h kmsg.Header) bool { return h.Key == Header })
	if i < 0 {
		return nil, nil
	}
	v := headers[i].Value
	if locs, ok := parsed.get(string(v)); ok {
		return locs.([]string), nil
	}
	var locs []string
	if err := json.Unmarshal(v, &locs); err != nil {
		return nil, fmt.Errorf("encryption: header %s is not a JSON array of strings: %w", Header, err)
	}
	parsed.put(string(v), locs)
	return locs, nil
}

// Mark sets the marker header of a record to locs, replacing any marker
// it had; with no locations the marker is removed.
func Mark(headers []kmsg.Header, locs []string) []kmsg.Header {
	headers = slices.DeleteFunc(headers, func(h kmsg.Header) bool { return h.Key == Header })
	if len(locs) == 0 {
		return headers
	}
	key := strings.Join(locs, "\x00")
	v, ok := encoded.get(key)
	if !ok {
		b, _ := json.Marshal(locs) // a []string always marshals
		encoded.put(key, b)
		v = b
	}
	return append(headers, kmsg.Header{Key: Header, Value: v.([]byte)})
}

// Records of one config carry the same few markers, so their encoded and
// parsed forms are kept rather than made per record.
var parsed, encoded memo

// memo is a concurrent map that stops growing at memoSize entries (field
// locations with indexes could make markers without end).
type memo struct {
	m sync.Map
	n atomic.Int32
}

const memoSize = 4096

func (c *memo) get(k string) (any, bool) { return c.m.Load(k) }

func (c *memo) put(k string, v any) {
	if len(k) <= 1024 && c.n.Load() < memoSize {
		if _, loaded := c.m.LoadOrStore(k, v); !loaded {
			c.n.Add(1)
		}
	}
}

// IsOwn reports whether a header is one of the encryption headers: never
// encrypted itself, and removed when what it describes is decrypted.
func IsOwn(name string) bool {
	return name == Header || len(name) > len(FieldHeader) && name[:len(FieldHeader)] == FieldHeader
}
