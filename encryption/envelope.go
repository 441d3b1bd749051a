// Package encryption is Strait's envelope encryption of record data.
//
// A data encryption key (DEK) is made by the gateway and wrapped by a
// key-encryption key (KEK) that never leaves its key management service
// (KMS). Every encrypted item — a whole value, key or header, or one field
// of a value — becomes an envelope: a small versioned header naming the
// algorithm, the key id and the wrapped DEK, followed by the ciphertext.
// The ciphertext is authenticated together with the envelope header and
// the item's context (its topic and where in the record it sits), so an
// envelope copied to another topic or field does not decrypt.
//
// Keys caches DEKs per key id, retires them after a bounded number of
// uses or a time to live, and caches unwrapped DEKs for decryption.
package encryption

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Envelope layout, version 1 (all lengths unsigned varints):
//
//	magic      3 bytes  0xFF 'S' 'E'
//	version    1 byte   1
//	algorithm  1 byte   an Algorithm
//	key id     length, bytes   the resolved keySecretId, KMS prefix included
//	wrapped    length, bytes   the DEK wrapped by the KMS
//	ciphertext the rest: nonce, encrypted data, tag
//
// 0xFF never starts UTF-8 text, JSON, or a Confluent-framed value (0x00).
var magic = [3]byte{0xFF, 'S', 'E'}

// Version is the envelope version this package writes.
const Version = 1

// maxKeyID bounds the key id and maxWrapped the wrapped DEK of an
// envelope, so a corrupt length cannot ask for huge allocations.
const (
	maxKeyID   = 4096
	maxWrapped = 8192
)

// Envelope is one encrypted item. Parse returns one whose byte slices
// point into the parsed data.
type Envelope struct {
	Algorithm Algorithm
	KeyID     string
	Wrapped   []byte
	// Ciphertext holds the nonce, the encrypted data and the tag.
	Ciphertext []byte
	// head is the encoded header, authenticated with the ciphertext.
	head []byte
}

// ErrNotEnvelope is returned by Parse for data that does not start like
// an envelope.
var ErrNotEnvelope = errors.New("encryption: not an envelope")

// IsEnvelope reports whether b starts like an envelope of any version.
func IsEnvelope(b []byte) bool {
	return len(b) > len(magic) && [3]byte(b[:3]) == magic
}

// appendHead appends the envelope header (everything before the
// ciphertext) to dst.
func appendHead(dst []byte, alg Algorithm, keyID string, wrapped []byte) []byte {
	dst = append(dst, magic[:]...)
	dst = append(dst, Version, byte(alg))
	dst = binary.AppendUvarint(dst, uint64(len(keyID)))
	dst = append(dst, keyID...)
	dst = binary.AppendUvarint(dst, uint64(len(wrapped)))
	return append(dst, wrapped...)
}

// Parse decodes an envelope without copying.
func Parse(b []byte) (Envelope, error) {
	if !IsEnvelope(b) {
		return Envelope{}, ErrNotEnvelope
	}
	rest := b[len(magic):]
	if rest[0] != Version {
		return Envelope{}, fmt.Errorf("encryption: envelope version %d is not supported (this gateway reads version %d)", rest[0], Version)
	}
	if len(rest) < 2 {
		return Envelope{}, errors.New("encryption: envelope cut short after its version")
	}
	e := Envelope{Algorithm: Algorithm(rest[1])}
	if !e.Algorithm.valid() {
		return Envelope{}, fmt.Errorf("encryption: envelope names unknown algorithm %d", rest[1])
	}
	rest = rest[2:]
	keyID, rest, err := field(rest, maxKeyID, "key id")
	if err != nil {
		return Envelope{}, err
	}
	e.KeyID = string(keyID)
	if e.Wrapped, rest, err = field(rest, maxWrapped, "wrapped key"); err != nil {
		return Envelope{}, err
	}
	if len(e.Wrapped) == 0 {
		return Envelope{}, errors.New("encryption: envelope has an empty wrapped key")
	}
	if len(rest) < e.Algorithm.overhead() {
		return Envelope{}, fmt.Errorf("encryption: envelope ciphertext of %d bytes is shorter than %s's nonce and tag", len(rest), e.Algorithm)
	}
	e.head = b[:len(b)-len(rest)]
	e.Ciphertext = rest
	return e, nil
}

// field reads one length-prefixed field.
func field(b []byte, limit int, what string) (val, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || (k > 1 && b[k-1] == 0) { // malformed, or not written in the fewest bytes
		return nil, nil, fmt.Errorf("encryption: envelope %s length is malformed", what)
	}
	if n > uint64(limit) || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("encryption: envelope %s length %d exceeds the data", what, n)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// aad is the data authenticated with a ciphertext: the envelope header
// and the item's context.
func aad(dst, head, context []byte) []byte {
	dst = append(dst, head...)
	return append(dst, context...)
}

// Context names where an encrypted item sits: its topic and its location
// in the record ("value", "key", "header:<name>", "value:<field path>").
// It is authenticated with the ciphertext and never stored.
func Context(topic, location string) []byte {
	b := make([]byte, 0, len(topic)+len(location)+1)
	b = append(b, topic...)
	b = append(b, 0)
	return append(b, location...)
}
