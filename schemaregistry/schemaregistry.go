// Package schemaregistry looks up the schemas of Confluent-framed record
// values (magic byte 0, a 4-byte schema id, the payload) in a
// Confluent-compatible schema registry, parses them — Avro, Protobuf or
// JSON Schema — and keeps the parsed schemas in a bounded cache. It is
// the schemaRegistryConfig of the interceptors that read structured
// record values.
package schemaregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/strait-gateway/strait/interceptor"
)

// Config locates a Confluent-compatible schema registry.
type Config struct {
	Type              string            `json:"type" doc:"CONFLUENT (the default and only supported type)"`
	Host              string            `json:"host" doc:"base URL of the registry, http or https"`
	CacheSize         *int              `json:"cacheSize" doc:"schemas kept in memory (default 50)"`
	AdditionalConfigs map[string]string `json:"additionalConfigs" doc:"basic.auth.credentials.source=USER_INFO and basic.auth.user.info=user:password"`
}

// JSON is the parsed form of a JSON Schema: the payload is JSON text.
type JSON struct {
	// Schema is the schema's text, as the registry gave it.
	Schema string
}

// Registry returns parsed schemas by id. It is safe for concurrent use.
type Registry struct {
	opts   []sr.ClientOpt
	once   sync.Once
	client *sr.Client
	err    error
	cache  *Cache[any] // parsed schemas; failed look-ups are not kept, so an outage heals
}

// Open checks a schemaRegistryConfig (at names it in errors, which are
// *interceptor.ConfigError) and returns its registry. It does no I/O: the
// client is made on first use.
func Open(at string, c *Config) (*Registry, error) {
	opts, err := options(at, c)
	if err != nil {
		return nil, err
	}
	size := 50
	if c.CacheSize != nil {
		size = *c.CacheSize
	}
	return &Registry{opts: opts, cache: NewCache[any](size)}, nil
}

// options checks the config and returns the client's options.
func options(at string, c *Config) ([]sr.ClientOpt, error) {
	if t := strings.ToUpper(c.Type); t != "" && t != "CONFLUENT" {
		return nil, interceptor.Invalid(at+".type", "%q is not supported; only CONFLUENT registries are (AWS Glue is not)", c.Type)
	}
	u, err := url.Parse(c.Host)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, interceptor.Invalid(at+".host", "%q is not an http or https URL", c.Host)
	}
	if c.CacheSize != nil && *c.CacheSize <= 0 {
		return nil, interceptor.Invalid(at+".cacheSize", "must be positive")
	}
	opts := []sr.ClientOpt{sr.URLs(c.Host)}
	var source, info string
	for k, v := range c.AdditionalConfigs {
		switch k {
		case "basic.auth.credentials.source":
			source = v
		case "basic.auth.user.info":
			info = v
		default:
			return nil, interceptor.Invalid(at+".additionalConfigs."+k, "unsupported; expect basic.auth.credentials.source and basic.auth.user.info")
		}
	}
	switch {
	case source == "" && info == "":
	case !strings.EqualFold(source, "USER_INFO"):
		return nil, interceptor.Invalid(at+".additionalConfigs.basic.auth.credentials.source", "%q is not supported; expect USER_INFO", source)
	default:
		user, pass, ok := strings.Cut(info, ":")
		if !ok {
			return nil, interceptor.Invalid(at+".additionalConfigs.basic.auth.user.info", "expect user:password")
		}
		opts = append(opts, sr.BasicAuth(user, pass))
	}
	return opts, nil
}

// Schema returns the parsed schema of an id: an avro.Schema, a
// protoreflect.FileDescriptor or a JSON.
func (r *Registry) Schema(ctx context.Context, id int) (any, error) {
	if s, ok := r.cache.Get(id); ok {
		return s, nil
	}
	r.once.Do(func() { r.client, r.err = sr.NewClient(r.opts...) })
	if r.err != nil {
		return nil, &LookupError{fmt.Errorf("schemaregistry: client: %w", r.err)}
	}
	raw, err := r.client.SchemaByID(ctx, id)
	if re := (*sr.ResponseError)(nil); errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("schemaregistry: schema %d is unknown to the registry: %w", id, err)
	}
	if err != nil {
		return nil, &LookupError{fmt.Errorf("schemaregistry: schema %d: %w", id, err)}
	}
	var s any
	switch raw.Type {
	case sr.TypeAvro:
		s, err = parseAvro(ctx, r.client, raw)
	case sr.TypeProtobuf:
		s, err = compileProto(ctx, r.client, id, raw)
	case sr.TypeJSON:
		s = JSON{Schema: raw.Schema}
	default:
		err = fmt.Errorf("unsupported schema type %v", raw.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("schemaregistry: schema %d: %w", id, err)
	}
	r.cache.Put(id, s)
	return s, nil
}

// LookupError is a failure to reach the registry or get an answer from it,
// as opposed to an unknown schema id or a schema that does not parse. The
// record is not at fault: a producer may try again.
type LookupError struct{ Err error }

func (e *LookupError) Error() string { return e.Err.Error() }

// Unwrap returns the registry's error.
func (e *LookupError) Unwrap() error { return e.Err }

// parseAvro parses an Avro schema after its references, which define the
// named types it uses.
func parseAvro(ctx context.Context, cl *sr.Client, s sr.Schema) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	var parseRefs func(refs []sr.SchemaReference, depth int) error
	parseRefs = func(refs []sr.SchemaReference, depth int) error {
		if depth > 16 {
			return errors.New("references nested too deep")
		}
		for _, r := range refs {
			ref, err := cl.SchemaByVersion(ctx, r.Subject, r.Version)
			if err != nil {
				return fmt.Errorf("reference %s: %w", r.Name, err)
			}
			if err := parseRefs(ref.References, depth+1); err != nil {
				return err
			}
			if _, err := avro.ParseWithCache(ref.Schema.Schema, "", cache); err != nil {
				return fmt.Errorf("reference %s: %w", r.Name, err)
			}
		}
		return nil
	}
	if err := parseRefs(s.References, 0); err != nil {
		return nil, err
	}
	return avro.ParseWithCache(s.Schema, "", cache)
}

// Cache keeps what was derived from up to size schema ids, dropping the
// oldest when full. It is safe for concurrent use.
type Cache[V any] struct {
	mu    sync.Mutex
	size  int
	byID  map[int]V
	order []int
}

// NewCache returns a cache of size entries.
func NewCache[V any](size int) *Cache[V] { return &Cache[V]{size: size, byID: map[int]V{}} }

// Get returns the value kept for id.
func (c *Cache[V]) Get(id int) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byID[id]
	return v, ok
}

// Put keeps v for id, unless id already has a value.
func (c *Cache[V]) Put(id int, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[id]; ok {
		return
	}
	if len(c.order) >= c.size {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
	c.byID[id] = v
	c.order = append(c.order, id)
}
