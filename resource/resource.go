// Package resource defines Strait's declarative resources — Interceptor,
// GatewayServiceAccount, GatewayGroup, VirtualCluster, ConcentrationRule and
// AliasTopic — in the gateway/v2 shape (apiVersion, kind, metadata, spec):
// how each is validated, and the canonical key that identifies it in the
// config topic.
package resource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// APIVersion is the only apiVersion accepted.
const APIVersion = "gateway/v2"

// Resource is one validated resource document. Raw holds the document as it
// was accepted (compacted JSON); it is what the config topic stores and what
// the API returns.
type Resource struct {
	Kind string
	// Name is metadata.name.
	Name string
	// Identity holds the metadata fields that identify the resource,
	// including name.
	Identity map[string]any
	// Raw is the whole document.
	Raw json.RawMessage
}

// Key returns the canonical config-topic key: JSON of kind and identity
// with sorted keys and no spaces, so every writer produces the same bytes.
func (r *Resource) Key() []byte {
	b, _ := json.Marshal(map[string]any{"kind": r.Kind, "metadata": r.Identity})
	return b // encoding/json sorts map keys and writes no spaces
}

// Error is a validation failure naming the field at fault.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// document is the envelope every resource shares.
type document struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   json.RawMessage `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
}

// Parse validates a resource document. wantKind, when not empty, is the
// kind the caller expects (the API path's kind).
func Parse(data []byte, wantKind string) (*Resource, error) {
	var doc document
	if err := strictUnmarshal(data, &doc); err != nil {
		return nil, &Error{Msg: "invalid resource document: " + err.Error()}
	}
	if doc.APIVersion != APIVersion {
		return nil, fieldErr("apiVersion", "expect %q, got %q", APIVersion, doc.APIVersion)
	}
	k, ok := kinds[doc.Kind]
	if !ok {
		return nil, fieldErr("kind", "unknown kind %q; expect one of %s", doc.Kind, strings.Join(KindNames(), ", "))
	}
	if wantKind != "" && doc.Kind != wantKind {
		return nil, fieldErr("kind", "expect %q on this endpoint, got %q", wantKind, doc.Kind)
	}
	if len(doc.Metadata) == 0 || bytes.Equal(doc.Metadata, []byte("null")) {
		return nil, fieldErr("metadata", "is required")
	}
	identity, err := k.metadata(doc.Metadata)
	if err != nil {
		return nil, err
	}
	name, _ := identity["name"].(string)
	if err := k.spec(doc.Spec); err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, &Error{Msg: "invalid JSON: " + err.Error()}
	}
	return &Resource{Kind: doc.Kind, Name: name, Identity: identity, Raw: compact.Bytes()}, nil
}

// strictUnmarshal decodes JSON and rejects unknown fields and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the document")
	}
	return nil
}

// names are resource names: letters, digits, '-', '_' and '.', as topic
// prefixes and service account names allow.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func checkName(field, name string) error {
	if !nameRE.MatchString(name) {
		return fieldErr(field, "%q is not a valid name (1–249 letters, digits, '.', '_' or '-')", name)
	}
	return nil
}

// topicRE is Kafka's rule for topic names.
var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func checkTopic(field, topic string) error {
	if !topicRE.MatchString(topic) || topic == "." || topic == ".." {
		return fieldErr(field, "%q is not a valid topic name", topic)
	}
	return nil
}

// kind is how one kind validates its metadata and spec.
type kind struct {
	// path is the admin API path segment.
	path string
	// order is the apply order for `strait apply` (dependencies first).
	order    int
	metadata func(json.RawMessage) (map[string]any, error)
	spec     func(json.RawMessage) error
}

var kinds = map[string]kind{}

func register(name string, k kind) { kinds[name] = k }

// KindNames lists the kinds in apply order.
func KindNames() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return kinds[names[i]].order < kinds[names[j]].order })
	return names
}

// KindForPath returns the kind served at an admin API path segment.
func KindForPath(path string) (string, bool) {
	for n, k := range kinds {
		if k.path == path {
			return n, true
		}
	}
	return "", false
}

// PathForKind returns the admin API path segment of a kind.
func PathForKind(kind string) string { return kinds[kind].path }

// ApplyOrder returns the position of kind in dependency order.
func ApplyOrder(kind string) int { return kinds[kind].order }

// Decode validates a config-topic record: the value must be a valid
// resource whose canonical key is exactly the record's key, so that every
// writer addresses a resource with the same bytes and tombstones find it.
func Decode(key, value []byte) (*Resource, error) {
	r, err := Parse(value, "")
	if err != nil {
		return nil, err
	}
	if want := r.Key(); !bytes.Equal(key, want) {
		return nil, &Error{Field: "key", Msg: fmt.Sprintf("record key %s does not match the document; expect %s", key, want)}
	}
	return r, nil
}

// IdentityKey returns the canonical key of the resource of kind that
// metadata identifies, validating only the metadata (a DELETE needs no spec).
func IdentityKey(kindName string, metadata json.RawMessage) ([]byte, error) {
	k, ok := kinds[kindName]
	if !ok {
		return nil, fieldErr("kind", "unknown kind %q", kindName)
	}
	identity, err := k.metadata(metadata)
	if err != nil {
		return nil, err
	}
	r := Resource{Kind: kindName, Identity: identity}
	return r.Key(), nil
}
