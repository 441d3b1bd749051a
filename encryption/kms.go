package encryption

import "context"

// KMS wraps and unwraps data keys with key-encryption keys it keeps. The
// key id is the keySecretId with its KMS prefix removed
// ("arn:aws:kms:..." for aws-kms://arn:aws:kms:...). Both methods honour
// the context's deadline and are safe for concurrent use.
type KMS interface {
	Wrap(ctx context.Context, keyID string, dek []byte) ([]byte, error)
	Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error)
}

// Revoker is a KMS that can withdraw data keys after handing them out
// (gateway-kms: tombstoning a key id crypto-shreds its records). Keys
// asks it before using a cached DEK, so a withdrawn key stops working at
// once rather than when the cache expires.
type Revoker interface {
	Revoked(keyID string, wrapped []byte) bool
}

// KeyStore keeps wrapped data keys on behalf of gateway-kms://, in the
// gateway cluster's compacted keys topic. Put stores a wrapped DEK under a
// key id and returns a short reference to it; Get returns what a
// reference names, or an error when the key id has been tombstoned
// (crypto-shredded) or never existed. Revoked is Get's answer without I/O.
type KeyStore interface {
	Put(ctx context.Context, keyID string, wrapped []byte) (ref []byte, err error)
	Get(ctx context.Context, keyID string, ref []byte) (wrapped []byte, err error)
	Revoked(keyID string, ref []byte) bool
}
