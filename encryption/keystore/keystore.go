// Package keystore keeps the wrapped data keys of gateway-kms:// in the
// gateway cluster's compacted keys topic, _strait_<cluster id>_keys.
//
// Each record holds one data key, wrapped by the master key:
//
//	key:   {"keyId":"customer-a","uuid":"0f6c...-..."}
//	value: {"wrapped":"<base64>","createdAt":1764028800000}
//
// Every node reads the topic from the start when it opens the store and
// then follows it live, so a data key made on one node can be read on all.
// Two nodes making a key for the same key id at once simply write two
// records with different uuids.
//
// Crypto-shredding a key id is writing a tombstone (a null value) for every
// record whose keyId matches, with the record key copied byte for byte
// (compaction matches keys by their bytes). Once a node has read the
// tombstone it refuses the key, cached or not, so the records encrypted
// with it can no longer be decrypted. Store.Shred does this without admin
// tools; with Kafka's own tools:
//
//	kcat -C -b $BOOTSTRAP -t _strait_<cluster>_keys -e -f '%k\n' | grep '"keyId":"customer-a"' |
//	  sed 's/$/|/' | kcat -P -b $BOOTSTRAP -t _strait_<cluster>_keys -K '|' -Z
//
// (-Z makes the empty value a null, that is a tombstone). Compaction later
// drops both the records and, after delete.retention.ms, the tombstones;
// a node that starts after that reports the key as unknown rather than
// shredded.
package keystore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/store"
)

// Store is the key store of one gateway node. It implements
// encryption.KeyStore and is safe for concurrent use.
type Store struct {
	topic string
	st    *store.Store[value]
	admin *kgo.Client

	mu       sync.Mutex
	keys     map[id]entry
	shredded map[id]bool
	read     int64         // offset after the last record read
	changed  chan struct{} // closed and replaced whenever read moves
}

// id names one data key: its key id and the uuid of its record.
type id struct {
	keyID string
	uuid  [16]byte
}

// entry is a live data key and the exact bytes of its record key, which a
// tombstone must repeat.
type entry struct {
	wrapped   []byte
	recordKey []byte
}

// recordKey is a record's key.
type recordKey struct {
	KeyID string `json:"keyId"`
	UUID  string `json:"uuid"`
}

// value is a record's value.
type value struct {
	Wrapped   []byte `json:"wrapped"`             // base64 in JSON
	CreatedAt int64  `json:"createdAt,omitempty"` // Unix ms
}

// Open creates the keys topic (compacted, one partition) when it is
// missing, reads it to its end and follows it until Close. cfg.Observe is
// set by the store.
func Open(ctx context.Context, clientOpts []kgo.Opt, cfg store.Config) (*Store, error) {
	s := &Store{topic: cfg.Topic, keys: map[id]entry{}, shredded: map[id]bool{}, changed: make(chan struct{})}
	cfg.Observe = s.observe
	cfg.Retention = 0 // data keys live until shredded
	admin, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("keystore: client: %w", err)
	}
	st, err := store.Open(ctx, clientOpts, cfg, decode)
	if err != nil {
		admin.Close()
		return nil, fmt.Errorf("keystore: %w", err)
	}
	s.st, s.admin = st, admin
	return s, nil
}

// Close stops following the topic.
func (s *Store) Close() {
	s.st.Close()
	s.admin.Close()
}

// decode validates a record for the underlying store.
func decode(k, v []byte) (value, error) {
	if _, err := parseKey(k); err != nil {
		return value{}, err
	}
	var val value
	if err := json.Unmarshal(v, &val); err != nil {
		return value{}, fmt.Errorf("keystore: record value: %w", err)
	}
	if len(val.Wrapped) == 0 {
		return value{}, errors.New("keystore: record value: no wrapped key")
	}
	return val, nil
}

// parseKey reads a record key.
func parseKey(k []byte) (id, error) {
	var rk recordKey
	if err := json.Unmarshal(k, &rk); err != nil {
		return id{}, fmt.Errorf("keystore: record key: %w", err)
	}
	if rk.KeyID == "" {
		return id{}, errors.New("keystore: record key: no keyId")
	}
	u, err := parseUUID(rk.UUID)
	if err != nil {
		return id{}, fmt.Errorf("keystore: record key: %w", err)
	}
	return id{rk.KeyID, u}, nil
}

// observe applies one record the underlying store read, in topic order.
func (s *Store) observe(o store.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, err := parseKey(o.Key); o.Err == nil && err == nil {
		if o.Value == nil {
			delete(s.keys, k)
			s.shredded[k] = true
		} else if v, err := decode(o.Key, o.Value); err == nil {
			s.keys[k] = entry{wrapped: v.Wrapped, recordKey: o.Key}
			delete(s.shredded, k)
		}
	}
	s.read = o.Offset + 1
	close(s.changed)
	s.changed = make(chan struct{})
}

// Put stores a wrapped data key under keyID and returns its reference,
// the 16 bytes of its record's uuid, once the record is written to every
// in-sync replica and read back by this node.
func (s *Store) Put(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	if keyID == "" {
		return nil, errors.New("keystore: empty key id")
	}
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return nil, fmt.Errorf("keystore: uuid: %w", err)
	}
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80 // version 4, RFC 4122 variant
	k, _ := json.Marshal(recordKey{KeyID: keyID, UUID: formatUUID(u)})
	v, _ := json.Marshal(value{Wrapped: wrapped, CreatedAt: time.Now().UnixMilli()})
	if err := s.st.Put(ctx, k, v); err != nil {
		return nil, fmt.Errorf("keystore: store data key of %s: %w", keyID, err)
	}
	return u[:], nil
}

// Get returns the wrapped data key a reference names. A key this node has
// not read yet may have just been written by another node: Get then waits,
// until ctx ends, for the node to read the topic up to its current end.
func (s *Store) Get(ctx context.Context, keyID string, ref []byte) ([]byte, error) {
	k, err := refID(keyID, ref)
	if err != nil {
		return nil, err
	}
	if w, ok, err := s.lookup(k); ok {
		return w, err
	}
	if err := s.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("keystore: data key %s/%s not found yet: %w", keyID, formatUUID(k.uuid), err)
	}
	if w, ok, err := s.lookup(k); ok {
		return w, err
	}
	return nil, fmt.Errorf("keystore: no data key %s/%s in %s", keyID, formatUUID(k.uuid), s.topic)
}

// Revoked reports whether the data key a reference names was
// crypto-shredded, as far as this node has read.
func (s *Store) Revoked(keyID string, ref []byte) bool {
	k, err := refID(keyID, ref)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shredded[k]
}

// Shred crypto-shreds keyID: it writes a tombstone for every data key of
// keyID in the topic and returns how many it wrote.
func (s *Store) Shred(ctx context.Context, keyID string) (int, error) {
	if err := s.catchUp(ctx); err != nil {
		return 0, fmt.Errorf("keystore: shred %s: %w", keyID, err)
	}
	var keys [][]byte
	s.mu.Lock()
	for k, e := range s.keys {
		if k.keyID == keyID {
			keys = append(keys, e.recordKey)
		}
	}
	s.mu.Unlock()
	for i, k := range keys {
		if err := s.st.Put(ctx, k, nil); err != nil {
			return i, fmt.Errorf("keystore: shred %s: %w", keyID, err)
		}
	}
	return len(keys), nil
}

// lookup answers from what this node has read; ok is false for a key it
// has not seen.
func (s *Store) lookup(k id) (wrapped []byte, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.keys[k]; ok {
		return e.wrapped, true, nil
	}
	if s.shredded[k] {
		return nil, true, fmt.Errorf("keystore: the data key %s/%s was crypto-shredded", k.keyID, formatUUID(k.uuid))
	}
	return nil, false, nil
}

// catchUp waits until this node has read the topic up to its end as of
// the call.
func (s *Store) catchUp(ctx context.Context) error {
	ends, err := kadm.NewClient(s.admin).ListCommittedOffsets(ctx, s.topic)
	if err != nil {
		return fmt.Errorf("end offset of %s: %w", s.topic, err)
	}
	o, ok := ends.Lookup(s.topic, 0)
	switch {
	case !ok:
		return fmt.Errorf("end offset of %s: no answer", s.topic)
	case o.Err != nil:
		return fmt.Errorf("end offset of %s: %w", s.topic, o.Err)
	}
	for {
		s.mu.Lock()
		read, changed := s.read, s.changed
		s.mu.Unlock()
		if read >= o.Offset {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("read %s up to offset %d: %w", s.topic, o.Offset, ctx.Err())
		case <-changed:
		}
	}
}

// refID checks a reference.
func refID(keyID string, ref []byte) (id, error) {
	if len(ref) != 16 {
		return id{}, fmt.Errorf("keystore: a data key reference of %d bytes, want 16", len(ref))
	}
	return id{keyID, [16]byte(ref)}, nil
}

// formatUUID writes u in the usual 8-4-4-4-12 hex form.
func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseUUID reads the 8-4-4-4-12 hex form.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("uuid %q: not in 8-4-4-4-12 form", s)
	}
	b, err := hex.DecodeString(s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if err != nil {
		return u, fmt.Errorf("uuid %q: %w", s, err)
	}
	return [16]byte(b), nil
}
