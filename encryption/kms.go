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
