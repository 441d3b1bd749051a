package encryption

import (
	"encoding/json"
	"fmt"
	"slices"

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
// lists; nil when the record has none.
func Locations(headers []kmsg.Header) ([]string, error) {
	i := slices.IndexFunc(headers, func(h kmsg.Header) bool { return h.Key == Header })
	if i < 0 {
		return nil, nil
	}
	var locs []string
	if err := json.Unmarshal(headers[i].Value, &locs); err != nil {
		return nil, fmt.Errorf("encryption: header %s is not a JSON array of strings: %w", Header, err)
	}
	return locs, nil
}

// Mark sets the marker header of a record to locs, replacing any marker
// it had; with no locations the marker is removed.
func Mark(headers []kmsg.Header, locs []string) []kmsg.Header {
	headers = slices.DeleteFunc(headers, func(h kmsg.Header) bool { return h.Key == Header })
	if len(locs) == 0 {
		return headers
	}
	v, _ := json.Marshal(locs) // a []string always marshals
	return append(headers, kmsg.Header{Key: Header, Value: v})
}

// IsOwn reports whether a header is one of the encryption headers: never
// encrypted itself, and removed when what it describes is decrypted.
func IsOwn(name string) bool {
	return name == Header || len(name) > len(FieldHeader) && name[:len(FieldHeader)] == FieldHeader
}
