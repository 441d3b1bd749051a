package avrofield

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/strait-gateway/strait/fieldpath"
)

func mustPath(t testing.TB, s string) fieldpath.Path {
	t.Helper()
	p, err := fieldpath.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReplaceIdentity(t *testing.T) {
	s := mustSchema(t, orderSchema)
	for _, c := range []struct {
		path string
		want []string
	}{
		{"id", []string{"id"}},
		{"nothing", []string{"nothing"}},
		{"amount", []string{"amount"}},
		{"hash", []string{"hash"}},
		{"addr", []string{"addr"}},
		{"addr.city", []string{"addr.city"}},
		{"home", []string{"home"}},
		{"home.zip", []string{"home.zip"}},
		{"items", []string{"items"}},
		{"items[*]", []string{"items[0]", "items[1]", "items[2]"}},
		{"items[*].card", []string{"items[0].card", "items[1].card", "items[2].card"}},
		{"items[2].qty", []string{"items[2].qty"}},
		{"items[3].qty", nil},
		{"items.card", nil},
		{"tags", []string{"tags"}},
		{"tags.secret", []string{"tags.secret"}},
		{"tags.missing", nil},
		{"note", []string{"note"}},
		{"next", []string{"next"}},
		{"next.items[*].card", []string{"next.items[0].card"}},
		{"next.next", []string{"next.next"}},
		{"next.next.id", nil},
		{"id.x", nil},
		{"nope", nil},
		{"[0]", nil},
	} {
		for name, api := range configs {
			body := mustMarshal(t, api, s, sampleOrder())
			orig := slices.Clone(body)
			var got []string
			out, err := Replace(body, s, mustPath(t, c.path), func(at string, _ avro.Schema, raw []byte) ([]byte, error) {
				got = append(got, at)
				return raw, nil
			})
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.path, err)
			}
			if !bytes.Equal(out, orig) || !bytes.Equal(body, orig) {
				t.Errorf("%s %s: identity replacement changed the bytes", name, c.path)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s %s: called at %q, want %q", name, c.path, got, c.want)
			}
			if got == nil && &out[0] != &body[0] {
				t.Errorf("%s %s: fn never called but body was copied", name, c.path)
			}
		}
	}
}

func str(v string) []byte { return appendString(nil, v) }

func TestReplaceValues(t *testing.T) {
	s := mustSchema(t, orderSchema)
	for _, c := range []struct {
		path   string
		repl   []byte
		mutate func(o *Order)
	}{
		{"id", str("a much longer id than before"), func(o *Order) { o.ID = "a much longer id than before" }},
		{"n", appendLong(nil, -3), func(o *Order) { o.N = -3 }},
		{"items[*].card", str("XXXXXXXXXXXXXXXXXXX"), func(o *Order) {
			for i := range o.Items {
				o.Items[i].Card = "XXXXXXXXXXXXXXXXXXX"
			}
		}},
		{"items[1]", append(str(""), 0), func(o *Order) { o.Items[1] = Item{} }},
		{"tags.secret", str("a far longer secret value"), func(o *Order) { o.Tags["secret"] = "a far longer secret value" }},
		{"home.city", str("Rome"), func(o *Order) { o.Home.City = "Rome" }},
		{"home", []byte{0}, func(o *Order) { o.Home = nil }},
		{"note", append([]byte{2}, str("n2")...), func(o *Order) { v := "n2"; o.Note = &v }},
		{"next.items[0].card", str("inner card, longer"), func(o *Order) { o.Next.Items[0].Card = "inner card, longer" }},
		{"next.id", str(""), func(o *Order) { o.Next.ID = "" }},
	} {
		for name, api := range configs {
			body := mustMarshal(t, api, s, sampleOrder())
			var want, got Order
			if err := avro.Unmarshal(s, body, &want); err != nil {
				t.Fatal(err)
			}
			c.mutate(&want)
			out, err := Replace(body, s, mustPath(t, c.path), func(string, avro.Schema, []byte) ([]byte, error) {
				return c.repl, nil
			})
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.path, err)
			}
			if err := avro.Unmarshal(s, out, &got); err != nil {
				t.Fatalf("%s %s: result does not decode: %v", name, c.path, err)
			}
			if !sameOrder(got, want) {
				t.Errorf("%s %s: got %+v\nwant %+v", name, c.path, got, want)
			}
		}
	}
}

func TestReplaceErrors(t *testing.T) {
	s := mustSchema(t, orderSchema)
	body := mustMarshal(t, avro.DefaultConfig, s, sampleOrder())
	identity := func(_ string, _ avro.Schema, raw []byte) ([]byte, error) { return raw, nil }
	for i := range body {
		if _, err := Replace(body[:i], s, mustPath(t, "items[*].card"), identity); err == nil {
			t.Errorf("body cut to %d of %d bytes accepted", i, len(body))
		}
	}
	if _, err := Replace(append(slices.Clone(body), 0), s, mustPath(t, "id"), identity); err == nil {
		t.Error("trailing byte accepted")
	}
	boom := errors.New("boom")
	_, err := Replace(body, s, mustPath(t, "id"), func(string, avro.Schema, []byte) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("fn error = %v", err)
	}
	_, err = Replace(body, s, mustPath(t, "n"), func(string, avro.Schema, []byte) ([]byte, error) { return []byte{0x80}, nil })
	if err == nil {
		t.Error("invalid replacement accepted")
	}

	small := mustSchema(t, `{"type":"record","name":"S","fields":[
		{"name":"u","type":["null","string"]},{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}},
		{"name":"b","type":"boolean"},{"name":"a","type":{"type":"array","items":"int"}}]}`)
	for name, bad := range map[string][]byte{
		"union index":    {4, 2, 0, 0},
		"negative len":   {2, 1, 0, 0, 0},
		"enum index":     {0, 2, 0, 0},
		"boolean":        {0, 0, 2, 0},
		"long varint":    {0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge count":     {0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f},
		"min count":      {0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0},
		"size past end":  {0, 0, 0, 1, 40, 2},
		"string too big": {2, 40, 'a', 0, 0, 0},
	} {
		for _, p := range []string{"a[*]", "u", "b"} {
			if _, err := Replace(bad, small, mustPath(t, p), identity); err == nil {
				t.Errorf("%s (%s) accepted", name, p)
			}
		}
	}
	// A sized block is only checked where it is walked into.
	wrongSize := []byte{0, 0, 0, 3, 6, 2, 2, 0, 0}
	if _, err := Replace(wrongSize, small, mustPath(t, "a[*]"), identity); err == nil {
		t.Error("block whose size disagrees with its items accepted")
	}
}

func TestReplaceZeroWidthArray(t *testing.T) {
	s := mustSchema(t, `{"type":"array","items":"null"}`)
	identity := func(_ string, _ avro.Schema, raw []byte) ([]byte, error) { return raw, nil }
	n := 0
	out, err := Replace([]byte{6, 0}, s, mustPath(t, "[*]"), func(_ string, _ avro.Schema, raw []byte) ([]byte, error) {
		n++
		return raw, nil
	})
	if err != nil || n != 3 || !bytes.Equal(out, []byte{6, 0}) {
		t.Errorf("3 nulls: %v, %d calls, %x", err, n, out)
	}
	huge := appendLong(nil, 1<<40)
	if _, err := Replace(append(huge, 0), s, mustPath(t, "[*]"), identity); err == nil {
		t.Error("2^40 nulls walked")
	}
	if _, err := Replace(append(huge, 0), s, mustPath(t, "x"), identity); err != nil {
		t.Errorf("skipping 2^40 nulls: %v", err)
	}
}

func TestReplaceRecursionLimit(t *testing.T) {
	s := mustSchema(t, `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`)
	deep := append(bytes.Repeat([]byte{2}, 5000), 0)
	identity := func(_ string, _ avro.Schema, raw []byte) ([]byte, error) { return raw, nil }
	if _, err := Replace(deep, s, mustPath(t, "next"), identity); err == nil {
		t.Error("5000 levels of nesting accepted")
	}
	shallow := []byte{2, 2, 0}
	if out, err := Replace(shallow, s, mustPath(t, "next.next.next"), identity); err != nil || !bytes.Equal(out, shallow) {
		t.Errorf("3 levels: %x, %v", out, err)
	}
}

func TestReplaceNestedBlocks(t *testing.T) {
	s := mustSchema(t, `{"type":"map","values":{"type":"array","items":{"type":"array","items":["null","string"]}}}`)
	value := map[string]any{
		"k": []any{[]any{"a", nil, "b"}, []any{}, []any{"c"}},
		"l": []any{[]any{"d"}},
	}
	for name, api := range configs {
		body := mustMarshal(t, api, s, value)
		if count, _, _ := readLong(body, 0); (count < 0) != (name == "sized") {
			t.Fatalf("%s: first block count %d", name, count)
		}
		out, err := Replace(body, s, mustPath(t, "k[*][*]"), func(at string, _ avro.Schema, raw []byte) ([]byte, error) {
			return append([]byte{2}, str("replaced at "+at)...), nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got map[string][][]*string
		if err := avro.Unmarshal(s, out, &got); err != nil {
			t.Fatalf("%s: result does not decode: %v", name, err)
		}
		var texts []string
		for _, inner := range got["k"] {
			for _, v := range inner {
				texts = append(texts, *v)
			}
		}
		want := []string{"replaced at k[0][0]", "replaced at k[0][1]", "replaced at k[0][2]", "replaced at k[2][0]"}
		if !slices.Equal(texts, want) || len(got["l"]) != 1 || *got["l"][0][0] != "d" {
			t.Errorf("%s: got %q and %v", name, texts, got["l"])
		}
	}
}
