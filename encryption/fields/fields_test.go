package fields

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/schemaregistry"
)

func paths(t *testing.T, ps ...string) []fieldpath.Path {
	t.Helper()
	var out []fieldpath.Path
	for _, p := range ps {
		pth, err := fieldpath.Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pth)
	}
	return out
}

// upper replaces every text field found by path i with "<i>:<text>".
func upper(i int, _ string, f Field) ([]byte, error) {
	text, ok := f.Text()
	if !ok {
		return nil, errors.New("not text")
	}
	repl, _, err := f.Conceal(fmt.Sprintf("%d:%s", i, text))
	return repl, err
}

func TestReplaceAllJSON(t *testing.T) {
	c := &Codec{}
	doc := []byte(`{"a":"x", "b":{"c":"y"}, "n":1}`)
	out, err := c.ReplaceAll(context.Background(), doc, paths(t, "a", "b.c", "missing"), upper)
	if err != nil || string(out) != `{"a":"0:x", "b":{"c":"1:y"}, "n":1}` {
		t.Fatalf("got %s, %v", out, err)
	}
	same, err := c.ReplaceAll(context.Background(), doc, paths(t, "missing"), upper)
	if err != nil || &same[0] != &doc[0] {
		t.Error("nothing found, but the value was copied")
	}
}

func TestReplaceAllFramedAvro(t *testing.T) {
	const schema = `{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"n","type":"int"},{"name":"b","type":"string"}]}`
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("r-value", 1, 6, sr.Schema{Schema: schema, Type: sr.TypeAvro})
	r, err := schemaregistry.Open("schemaRegistryConfig", &schemaregistry.Config{Host: reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s := avro.MustParse(schema)
	body, _ := avro.Marshal(s, map[string]any{"a": "x", "n": 3, "b": "y"})
	var h sr.ConfluentHeader
	value, _ := h.AppendEncode(nil, 6, nil)
	value = append(value, body...)
	c := &Codec{Registry: r}
	out, err := c.ReplaceAll(context.Background(), value, paths(t, "b", "a"), upper)
	if err != nil || !bytes.Equal(out[:5], value[:5]) {
		t.Fatalf("header lost or error: %v", err)
	}
	var got map[string]any
	if err := avro.Unmarshal(s, out[5:], &got); err != nil || got["a"] != "1:x" || got["b"] != "0:y" || got["n"] != 3 {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := (&Codec{}).ReplaceAll(context.Background(), value, paths(t, "a"), upper); !errors.Is(err, ErrNoRegistry) {
		t.Errorf("framed without a registry: %v", err)
	}
}
