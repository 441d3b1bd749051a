// Package awskms wraps and unwraps data keys with AWS KMS: the
// aws-kms:// keySecretIds of an encryption interceptor. A data key is
// encrypted under a KMS key named by its key or alias ARN, with the
// encryption context {"strait": "dek"}, which KMS authenticates: a
// wrapped key decrypts only with the same context and under the same key.
package awskms

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// encryptionContext is the KMS encryption context of every wrapped data
// key. It is part of the stored data: changing it makes every data key
// wrapped before unreadable.
var encryptionContext = map[string]string{"strait": "dek"}

// KMS is an AWS KMS client for data keys. It is safe for concurrent use.
type KMS struct {
	cfg Config

	mu      sync.Mutex
	clients map[string]*kms.Client // by region
}

// New returns a KMS of a checked config. It does no I/O: the AWS
// configuration is loaded and the clients made on first use, one per
// region.
func New(c *Config) (*KMS, error) {
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("awskms: %w", err)
	}
	k := &KMS{clients: map[string]*kms.Client{}}
	if c != nil {
		k.cfg = *c
	}
	return k, nil
}

// Wrap encrypts dek under the KMS key keyID.
func (k *KMS) Wrap(ctx context.Context, keyID string, dek []byte) ([]byte, error) {
	c, err := k.client(ctx, keyID)
	if err != nil {
		return nil, err
	}
	out, err := c.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(keyID),
		Plaintext:         dek,
		EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, fmt.Errorf("awskms: wrap a data key with %s: %w", keyID, err)
	}
	return out.CiphertextBlob, nil
}

// Unwrap decrypts a data key that Wrap encrypted under keyID. KMS refuses
// one encrypted under another key.
func (k *KMS) Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	c, err := k.client(ctx, keyID)
	if err != nil {
		return nil, err
	}
	out, err := c.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(keyID),
		CiphertextBlob:    wrapped,
		EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, fmt.Errorf("awskms: unwrap a data key with %s: %w", keyID, err)
	}
	return out.Plaintext, nil
}

// client returns the client of keyID's region, making it on first use.
func (k *KMS) client(ctx context.Context, keyID string) (*kms.Client, error) {
	region, err := keyRegion(keyID)
	if err != nil {
		return nil, fmt.Errorf("awskms: %w", err)
	}
	if k.cfg.Region != "" {
		region = k.cfg.Region
	}
	k.mu.Lock()
	c := k.clients[region]
	k.mu.Unlock()
	if c != nil {
		return c, nil
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if b := k.cfg.BasicCredentials; b != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(b.AccessKey, b.SecretKey, "")))
	}
	if s := k.cfg.SessionCredentials; s != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, s.SessionToken)))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("awskms: load the AWS configuration for %s: %w", keyID, err)
	}
	c = kms.NewFromConfig(ac, func(o *kms.Options) {
		if k.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(k.cfg.Endpoint)
		}
	})
	k.mu.Lock()
	defer k.mu.Unlock()
	if prev := k.clients[region]; prev != nil {
		return prev, nil // another caller made one meanwhile
	}
	k.clients[region] = c
	return c, nil
}
