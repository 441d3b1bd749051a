package encryption

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// MaxUses is how many items one DEK encrypts before it is retired. AES-GCM
// with random 96-bit nonces stays safe for 2^32 messages per key; a DEK
// stops far inside that.
const MaxUses = 1 << 24

// failureTTL is how long a failed KMS call is remembered, so a KMS outage
// costs one call per key and second, not one per record.
const failureTTL = time.Second

// maxOpeners bounds the unwrapped DEKs kept for decryption.
const maxOpeners = 100_000

// Resolver finds the KMS of a keySecretId and the key id within it.
type Resolver func(keySecretID string) (kms KMS, keyID string, err error)

// Keys makes, wraps, caches and retires DEKs. It is safe for concurrent
// use.
type Keys struct {
	resolve Resolver
	ttl     time.Duration // 0: a DEK per item, unwrapped per item
	maxUses int64
	now     func() time.Time

	mu      sync.Mutex
	sealers map[sealerKey]*sealer
	openers map[string]*opener // by wrapped DEK
	flight  singleflight.Group
}

// NewKeys returns Keys that keep DEKs for ttl; 0 keeps none.
func NewKeys(resolve Resolver, ttl time.Duration) *Keys {
	return &Keys{
		resolve: resolve, ttl: ttl, maxUses: MaxUses, now: time.Now,
		sealers: map[sealerKey]*sealer{}, openers: map[string]*opener{},
	}
}

type sealerKey struct {
	keySecretID string
	alg         Algorithm
}

// sealer is the current DEK of a key id and algorithm.
type sealer struct {
	head    []byte // envelope header: algorithm, key id, wrapped DEK
	aead    cipher.AEAD
	revoked func() bool // the KMS withdrew the DEK
	uses    atomic.Int64
	expires time.Time
	err     error // a failed KMS call, remembered until expires
}

// opener is an unwrapped DEK, kept by its wrapped form.
type opener struct {
	keyID   string
	aead    cipher.AEAD
	revoked func() bool
	expires time.Time
	err     error
}

// Seal encrypts plaintext under the current DEK of keySecretID and
// returns the envelope. context is authenticated, not stored: Open must
// be given the same.
func (k *Keys) Seal(ctx context.Context, keySecretID string, alg Algorithm, plaintext, context []byte) ([]byte, error) {
	s, err := k.sealer(ctx, sealerKey{keySecretID, alg})
	if err != nil {
		return nil, err
	}
	n := s.aead.NonceSize()
	out := make([]byte, len(s.head)+n, len(s.head)+n+len(plaintext)+s.aead.Overhead())
	copy(out, s.head)
	nonce := out[len(s.head):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encryption: make a nonce: %w", err)
	}
	ad := aadPool.Get().(*[]byte)
	*ad = aad((*ad)[:0], s.head, context)
	out = s.aead.Seal(out, nonce, plaintext, *ad)
	aadPool.Put(ad)
	return out, nil
}

// aadPool holds buffers for associated data, which would otherwise be
// allocated per item (the AEAD interface makes a stack buffer escape).
var aadPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// sealer returns a DEK with a use left, making and wrapping a new one
// when the current one is spent or expired.
func (k *Keys) sealer(ctx context.Context, key sealerKey) (*sealer, error) {
	if k.ttl <= 0 {
		return k.newSealer(ctx, key)
	}
	for {
		k.mu.Lock()
		s := k.sealers[key]
		k.mu.Unlock()
		if s != nil && k.now().Before(s.expires) && !s.revoked() {
			if s.err != nil {
				return nil, s.err
			}
			if s.uses.Add(1) <= k.maxUses {
				return s, nil
			}
		}
		// One caller per key makes the next DEK; the others wait for it.
		_, _, _ = k.flight.Do("seal\x00"+key.keySecretID+"\x00"+key.alg.String(), func() (any, error) {
			k.mu.Lock()
			cur := k.sealers[key]
			k.mu.Unlock()
			if cur != s {
				return nil, nil // another caller replaced it already
			}
			next, err := k.newSealer(ctx, key)
			if err != nil {
				next = &sealer{err: err, expires: k.now().Add(failureTTL), revoked: never}
			}
			k.mu.Lock()
			k.sealers[key] = next
			k.mu.Unlock()
			return nil, nil
		})
	}
}

// newSealer makes a DEK, wraps it and remembers it for decryption too.
func (k *Keys) newSealer(ctx context.Context, key sealerKey) (*sealer, error) {
	kms, keyID, err := k.resolve(key.keySecretID)
	if err != nil {
		return nil, err
	}
	dek := make([]byte, key.alg.keyLen())
	if _, err := rand.Read(dek); err != nil {
		return nil, fmt.Errorf("encryption: make a data key: %w", err)
	}
	wrapped, err := kms.Wrap(ctx, keyID, dek)
	if err != nil {
		return nil, fmt.Errorf("encryption: wrap a data key with %s: %w", key.keySecretID, err)
	}
	a, err := key.alg.aead(dek)
	if err != nil {
		return nil, err
	}
	s := &sealer{head: appendHead(nil, key.alg, key.keySecretID, wrapped), aead: a, expires: k.now().Add(k.ttl),
		revoked: revocation(kms, keyID, wrapped)}
	if k.ttl > 0 {
		k.keepOpener(key.keySecretID, wrapped, &opener{aead: a, expires: s.expires, revoked: s.revoked})
	}
	return s, nil
}

// Open decrypts an envelope made by Seal with the same context.
func (k *Keys) Open(ctx context.Context, envelope, context []byte) ([]byte, error) {
	e, err := Parse(envelope)
	if err != nil {
		return nil, err
	}
	a, err := k.opener(ctx, e)
	if err != nil {
		return nil, err
	}
	n := a.NonceSize()
	ad := aadPool.Get().(*[]byte)
	*ad = aad((*ad)[:0], e.head, context)
	pt, err := a.Open(nil, e.Ciphertext[:n], e.Ciphertext[n:], *ad)
	aadPool.Put(ad)
	if err != nil {
		return nil, fmt.Errorf("encryption: decrypt with %s: the data or its context (topic, location) differs from what was encrypted", e.KeyID)
	}
	return pt, nil
}

// opener returns the cipher of an envelope's DEK, unwrapping it once per
// time to live.
func (k *Keys) opener(ctx context.Context, e Envelope) (cipher.AEAD, error) {
	k.mu.Lock()
	o := k.openers[string(e.Wrapped)] // no allocation: the lookup converts in place
	k.mu.Unlock()
	if o != nil && o.keyID != e.KeyID {
		o = nil // the same wrapped bytes under another key id: not this DEK
	}
	if o != nil && o.err == nil && o.revoked() {
		return nil, fmt.Errorf("encryption: the data key of %s has been withdrawn (crypto-shredded)", e.KeyID)
	}
	if o == nil || !k.now().Before(o.expires) {
		v, _, _ := k.flight.Do("open\x00"+e.KeyID+"\x00"+string(e.Wrapped), func() (any, error) {
			o := k.unwrap(ctx, e)
			if k.ttl > 0 || o.err != nil {
				k.keepOpener(e.KeyID, e.Wrapped, o)
			}
			return o, nil
		})
		o = v.(*opener)
	}
	return o.aead, o.err
}

func never() bool { return false }

// revocation returns whether a DEK was withdrawn, for Revoker KMSs.
func revocation(kms KMS, keyID string, wrapped []byte) func() bool {
	if r, ok := kms.(Revoker); ok {
		return func() bool { return r.Revoked(keyID, wrapped) }
	}
	return never
}

// unwrap asks the KMS for an envelope's DEK.
func (k *Keys) unwrap(ctx context.Context, e Envelope) *opener {
	fail := func(err error) *opener { return &opener{err: err, expires: k.now().Add(failureTTL), revoked: never} }
	kms, keyID, err := k.resolve(e.KeyID)
	if err != nil {
		return fail(err)
	}
	dek, err := kms.Unwrap(ctx, keyID, e.Wrapped)
	if err != nil {
		return fail(fmt.Errorf("encryption: unwrap a data key with %s: %w", e.KeyID, err))
	}
	a, err := e.Algorithm.aead(dek)
	if err != nil {
		return fail(err)
	}
	return &opener{aead: a, expires: k.now().Add(k.ttl), revoked: revocation(kms, keyID, e.Wrapped)}
}

// keepOpener caches an unwrapped DEK, dropping expired ones, then any,
// when the cache is full.
func (k *Keys) keepOpener(keyID string, wrapped []byte, o *opener) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.openers) >= maxOpeners {
		now := k.now()
		for id, old := range k.openers {
			if !now.Before(old.expires) || len(k.openers) >= maxOpeners {
				delete(k.openers, id)
			}
		}
	}
	o.keyID = keyID
	k.openers[string(wrapped)] = o
}
