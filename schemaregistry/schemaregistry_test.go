package schemaregistry

import (
	"context"
	"errors"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func TestCacheDropsTheOldest(t *testing.T) {
	c := NewCache[string](2)
	c.Put(1, "a")
	c.Put(2, "b")
	c.Put(1, "again") // kept values are not replaced
	c.Put(3, "c")
	if _, ok := c.Get(1); ok {
		t.Error("the oldest entry was kept past the size")
	}
	if v, _ := c.Get(2); v != "b" {
		t.Errorf("entry 2 = %q", v)
	}
	if v, _ := c.Get(3); v != "c" {
		t.Errorf("entry 3 = %q", v)
	}
}

func TestSchemaLookups(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("s-value", 1, 4, sr.Schema{Schema: `{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`, Type: sr.TypeAvro})
	jsonSchema := `{"type":"object","properties":{"a":{"type":"string"}}}`
	reg.SeedSchema("j-value", 1, 6, sr.Schema{Schema: jsonSchema, Type: sr.TypeJSON})
	r, err := Open("schemaRegistryConfig", &Config{Host: reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if s, err := r.Schema(ctx, 4); err != nil || s.(avro.Schema).Type() != avro.Record {
		t.Fatalf("schema 4: %v, %v", s, err)
	}
	if s, err := r.Schema(ctx, 6); err != nil || s != (JSON{Schema: jsonSchema}) {
		t.Fatalf("schema 6: %#v, %v; want its text", s, err)
	}
	if _, err := r.Schema(ctx, 99); err == nil || errors.As(err, new(*LookupError)) {
		t.Errorf("unknown id: %v, want an error that is not a LookupError", err)
	}
	reg.Close()
	if _, err := r.Schema(ctx, 4); err != nil {
		t.Errorf("a cached schema needs the registry: %v", err)
	}
	if _, err := r.Schema(ctx, 5); !errors.As(err, new(*LookupError)) {
		t.Errorf("registry down: %v, want a LookupError", err)
	}
}

func TestConfigErrors(t *testing.T) {
	zero := 0
	for _, c := range []Config{
		{Host: "registry:8081"},
		{Type: "GLUE", Host: "http://r"},
		{Host: "http://r", CacheSize: &zero},
		{Host: "http://r", AdditionalConfigs: map[string]string{"ssl.x": "1"}},
	} {
		if _, err := Open("schemaRegistryConfig", &c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
