package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strait-gateway/strait/acl"
	"github.com/strait-gateway/strait/auth"
)

// The secrets topic holds the security state that is not configuration,
// three kinds of record, each keyed by canonical JSON so that any writer
// produces the same key:
//
//	{"kind":"ScramCredential","mechanism":"SCRAM-SHA-256","username":"u","vCluster":"vc"}
//	  → the salted credential (never the password)
//	{"id":"<token id>","kind":"RevokedToken"}
//	  → {"expires": <unix seconds>}: the token's own expiry, after which
//	    the record may be deleted
//	{"acl":{"resourcePattern":{…},"principal":…},"kind":"Acl","vCluster":"vc"}
//	  → {}: an ACL a tenant created through the Kafka API (aclMode
//	    KAFKA_API); the tombstone deletes it
const (
	kindScram   = "ScramCredential"
	kindRevoked = "RevokedToken"
	kindACL     = "Acl"
)

// secret is one decoded record of the secrets topic.
type secret struct {
	scram   *scramEntry
	revoked *revokedEntry
	acl     *aclEntry
}

// aclEntry is one Kafka-API-managed ACL of a virtual cluster.
type aclEntry struct {
	VCluster string
	Binding  acl.Binding
}

type scramEntry struct {
	VCluster   string          `json:"vCluster"`
	Username   string          `json:"username"`
	Credential auth.Credential `json:"credential"`
}

type revokedEntry struct {
	ID      string `json:"-"`
	Expires int64  `json:"expires"`
}

type secretKey struct {
	ACL       *acl.Binding `json:"acl,omitempty"`
	ID        string       `json:"id,omitempty"`
	Kind      string       `json:"kind"`
	Mechanism string       `json:"mechanism,omitempty"`
	Username  string       `json:"username,omitempty"`
	VCluster  string       `json:"vCluster,omitempty"`
}

func (k secretKey) bytes() []byte {
	b, _ := json.Marshal(k) // fields in declaration order, which is sorted
	return b
}

// scramKey is the record key of a SCRAM credential.
func scramKey(vc, username, mechanism string) []byte {
	return secretKey{Kind: kindScram, Mechanism: mechanism, Username: username, VCluster: vc}.bytes()
}

// aclKey is the record key of a virtual cluster's ACL.
func aclKey(vc string, b acl.Binding) []byte {
	return secretKey{ACL: &b, Kind: kindACL, VCluster: vc}.bytes()
}

// revokedKey is the record key of a revoked token.
func revokedKey(id string) []byte {
	return secretKey{Kind: kindRevoked, ID: id}.bytes()
}

// decodeSecret validates a record of the secrets topic; a record that is
// not exactly what Strait writes is rejected, never half-applied.
func decodeSecret(key, value []byte) (secret, error) {
	var k secretKey
	dec := json.NewDecoder(bytes.NewReader(key))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		return secret{}, fmt.Errorf("identity: secrets record key: %w", err)
	}
	if !bytes.Equal(key, k.bytes()) {
		return secret{}, fmt.Errorf("identity: secrets record key is not canonical; expect %s", k.bytes())
	}
	switch k.Kind {
	case kindScram:
		var e scramEntry
		if err := json.Unmarshal(value, &e); err != nil {
			return secret{}, fmt.Errorf("identity: scram credential: %w", err)
		}
		if e.VCluster != k.VCluster || e.Username != k.Username || e.Credential.Mechanism != k.Mechanism {
			return secret{}, errors.New("identity: scram credential does not match its key")
		}
		if len(e.Credential.Salt) == 0 || len(e.Credential.StoredKey) == 0 || len(e.Credential.ServerKey) == 0 || e.Credential.Iterations < 4096 {
			return secret{}, errors.New("identity: scram credential incomplete (salt, storedKey, serverKey, iterations ≥ 4096)")
		}
		return secret{scram: &e}, nil
	case kindRevoked:
		if k.ID == "" {
			return secret{}, errors.New("identity: revoked token without id")
		}
		var e revokedEntry
		if err := json.Unmarshal(value, &e); err != nil {
			return secret{}, fmt.Errorf("identity: revoked token: %w", err)
		}
		e.ID = k.ID
		return secret{revoked: &e}, nil
	case kindACL:
		// The binding was validated when the key was decoded.
		if k.ACL == nil || k.VCluster == "" {
			return secret{}, errors.New("identity: ACL record without acl or vCluster")
		}
		var v map[string]any
		if err := json.Unmarshal(value, &v); err != nil {
			return secret{}, fmt.Errorf("identity: ACL record value: %w", err)
		}
		return secret{acl: &aclEntry{VCluster: k.VCluster, Binding: *k.ACL}}, nil
	}
	return secret{}, fmt.Errorf("identity: unknown secrets record kind %q", k.Kind)
}

// until returns when a revocation record may be forgotten.
func (e *revokedEntry) until() time.Time { return time.Unix(e.Expires, 0) }
