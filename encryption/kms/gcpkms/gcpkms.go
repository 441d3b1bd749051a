// Package gcpkms wraps data keys with symmetric keys kept in Google Cloud
// KMS (keySecretIds gcp-kms://projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>),
// over the REST API. Wrapped data keys are bound to the key id as
// additional authenticated data, and every call is checked end to end
// with the CRC32C checksums Cloud KMS offers.
package gcpkms

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"

	kmsapi "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// KMS is a Cloud KMS client. It is safe for concurrent use.
type KMS struct {
	opts []option.ClientOption

	mu     sync.Mutex
	client *kmsapi.KeyManagementClient
}

// New returns a KMS for a checked configuration. It does no I/O:
// credentials are found and the client made on first use.
func New(c *Config) (*KMS, error) {
	k := &KMS{}
	if c == nil {
		return k, nil
	}
	if c.ServiceAccountCredentialsFilePath != "" {
		k.opts = append(k.opts, option.WithAuthCredentialsFile(option.ServiceAccount, c.ServiceAccountCredentialsFilePath))
	}
	if c.Endpoint != "" {
		k.opts = append(k.opts, option.WithEndpoint(strings.TrimSuffix(c.Endpoint, "/")))
	}
	return k, nil
}

// connect returns the client, making it on first use. A failure is not
// kept, so the next call tries again.
func (k *KMS) connect(ctx context.Context) (*kmsapi.KeyManagementClient, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.client != nil {
		return k.client, nil
	}
	// The client outlives this call, so it must not inherit its
	// cancellation.
	c, err := kmsapi.NewKeyManagementRESTClient(context.WithoutCancel(ctx), k.opts...)
	if err != nil {
		return nil, fmt.Errorf("gcpkms: client: %w", err)
	}
	k.client = c
	return c, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) *wrapperspb.Int64Value {
	return wrapperspb.Int64(int64(crc32.Checksum(b, castagnoli)))
}

// Wrap encrypts dek with the key's primary version.
func (k *KMS) Wrap(ctx context.Context, keyID string, dek []byte) ([]byte, error) {
	if err := CheckKeyID(keyID); err != nil {
		return nil, err
	}
	c, err := k.connect(ctx)
	if err != nil {
		return nil, err
	}
	aad := []byte(keyID)
	resp, err := c.Encrypt(ctx, &kmspb.EncryptRequest{
		Name: keyID, Plaintext: dek, PlaintextCrc32C: crc(dek),
		AdditionalAuthenticatedData: aad, AdditionalAuthenticatedDataCrc32C: crc(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("gcpkms: encrypt with %s: %w", keyID, err)
	}
	if !resp.GetVerifiedPlaintextCrc32C() || !resp.GetVerifiedAdditionalAuthenticatedDataCrc32C() ||
		resp.GetCiphertextCrc32C().GetValue() != crc(resp.GetCiphertext()).GetValue() {
		return nil, fmt.Errorf("gcpkms: encrypt with %s: checksums do not match: corrupted in transit", keyID)
	}
	return resp.GetCiphertext(), nil
}

// Unwrap decrypts a data key wrapped by Wrap, with whichever version of
// the key wrapped it.
func (k *KMS) Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	if err := CheckKeyID(keyID); err != nil {
		return nil, err
	}
	c, err := k.connect(ctx)
	if err != nil {
		return nil, err
	}
	aad := []byte(keyID)
	resp, err := c.Decrypt(ctx, &kmspb.DecryptRequest{
		Name: keyID, Ciphertext: wrapped, CiphertextCrc32C: crc(wrapped),
		AdditionalAuthenticatedData: aad, AdditionalAuthenticatedDataCrc32C: crc(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("gcpkms: decrypt with %s: %w", keyID, err)
	}
	if resp.GetPlaintextCrc32C().GetValue() != crc(resp.GetPlaintext()).GetValue() {
		return nil, fmt.Errorf("gcpkms: decrypt with %s: checksums do not match: corrupted in transit", keyID)
	}
	return resp.GetPlaintext(), nil
}
