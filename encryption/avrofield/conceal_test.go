package avrofield

import (
	"bytes"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

const ciphertext = "AAECAwQFBgcICQ=="

func TestConceal(t *testing.T) {
	s := mustSchema(t, orderSchema)
	ct := ciphertext
	for _, c := range []struct {
		path     string
		inHeader bool
		mutate   func(o *Order)
	}{
		{"id", false, func(o *Order) { o.ID = ct }},
		{"uid", false, func(o *Order) { o.UID = ct }},
		{"note", false, func(o *Order) { o.Note = &ct }},
		{"tags.secret", false, func(o *Order) { o.Tags["secret"] = ct }},
		{"items[*].card", false, func(o *Order) {
			for i := range o.Items {
				o.Items[i].Card = ct
			}
		}},
		{"n", true, func(o *Order) { o.N = math.MinInt32 }},
		{"big", true, func(o *Order) { o.Big = math.MinInt64 }},
		{"f", true, func(o *Order) { o.F = math.SmallestNonzeroFloat32 }},
		{"d", true, func(o *Order) { o.D = math.SmallestNonzeroFloat64 }},
		{"ok", true, func(o *Order) { o.OK = false }},
		{"blob", true, func(o *Order) { o.Blob = []byte{} }},
		{"nothing", true, func(o *Order) {}},
		{"amount", true, func(o *Order) { o.Amount = new(big.Rat) }},
		{"at", true, func(o *Order) { o.At = time.UnixMilli(math.MinInt64).UTC() }},
		{"color", true, func(o *Order) { o.Color = "RED" }},
		{"hash", true, func(o *Order) { o.Hash = [4]byte{} }},
		{"addr", true, func(o *Order) { o.Addr = Addr{Zip: math.MinInt32} }},
		{"home", true, func(o *Order) { o.Home = &Addr{Zip: math.MinInt32} }},
		{"items", true, func(o *Order) { o.Items = []Item{} }},
		{"items[*].qty", true, func(o *Order) {
			for i := range o.Items {
				o.Items[i].Qty = math.MinInt32
			}
		}},
		{"tags", true, func(o *Order) { o.Tags = map[string]string{} }},
		{"code", true, func(o *Order) { v := math.MinInt32; o.Code = &v }},
		{"next", true, func(o *Order) {
			o.Next = &Order{N: math.MinInt32, Big: math.MinInt64, F: math.SmallestNonzeroFloat32,
				D: math.SmallestNonzeroFloat64, Blob: []byte{}, Amount: new(big.Rat),
				At: time.UnixMilli(math.MinInt64).UTC(), Color: "RED", Addr: Addr{Zip: math.MinInt32},
				Items: []Item{}, Tags: map[string]string{}}
		}},
	} {
		for name, api := range configs {
			body := mustMarshal(t, api, s, sampleOrder())
			var want, got Order
			if err := avro.Unmarshal(s, body, &want); err != nil {
				t.Fatal(err)
			}
			c.mutate(&want)
			var originals [][]byte
			concealed, err := Replace(body, s, mustPath(t, c.path), func(at string, vs avro.Schema, raw []byte) ([]byte, error) {
				originals = append(originals, raw)
				repl, inHeader, err := Conceal(vs, raw, ct)
				if err != nil {
					return nil, err
				}
				if inHeader != c.inHeader {
					t.Errorf("%s %s: inHeader %v", name, at, inHeader)
				}
				if text, ok := Text(vs, repl); ok == inHeader || (ok && text != ct) {
					t.Errorf("%s %s: Text = %q, %v", name, at, text, ok)
				}
				return repl, nil
			})
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.path, err)
			}
			if err := avro.Unmarshal(s, concealed, &got); err != nil {
				t.Fatalf("%s %s: concealed record does not decode: %v", name, c.path, err)
			}
			if !sameOrder(got, want) {
				t.Errorf("%s %s: got %+v\nwant %+v", name, c.path, got, want)
			}
			restored, err := Replace(concealed, s, mustPath(t, c.path), func(string, avro.Schema, []byte) ([]byte, error) {
				raw := originals[0]
				originals = originals[1:]
				return raw, nil
			})
			if err != nil || !bytes.Equal(restored, body) {
				t.Errorf("%s %s: restoring gave %x, %v; want %x", name, c.path, restored, err, body)
			}
		}
	}
}

func TestConcealUnionBranches(t *testing.T) {
	s := mustSchema(t, `["null","int",{"type":"record","name":"R","fields":[{"name":"x","type":"long"}]}]`)
	for _, c := range []struct {
		raw, want []byte
	}{
		{[]byte{0}, []byte{0}},
		{[]byte{2, 0x54}, append([]byte{2}, 0xff, 0xff, 0xff, 0xff, 0x0f)},
		{[]byte{4, 0x02}, append([]byte{4}, Minimum(avro.NewPrimitiveSchema(avro.Long, nil))...)},
	} {
		got, inHeader, err := Conceal(s, c.raw, ciphertext)
		if err != nil || !inHeader || !bytes.Equal(got, c.want) {
			t.Errorf("Conceal(%x) = %x, %v, %v; want %x", c.raw, got, inHeader, err, c.want)
		}
		if _, ok := Text(s, got); ok {
			t.Errorf("Text found a string in %x", got)
		}
	}
	if _, _, err := Conceal(s, []byte{6}, ciphertext); err == nil {
		t.Error("union branch 3 of 3 accepted")
	}
	withString := mustSchema(t, `["null","int","string"]`)
	got, inHeader, err := Conceal(withString, []byte{0}, ciphertext)
	if text, ok := Text(withString, got); err != nil || inHeader || !ok || text != ciphertext {
		t.Errorf("null in [null,int,string] concealed as %x (%q, %v), %v, %v", got, text, ok, inHeader, err)
	}
	for _, bad := range [][]byte{{}, {4}, {4, 10, 'a'}, {4, 2, 'a', 'b'}, {2, 2}} {
		if text, ok := Text(withString, bad); ok {
			t.Errorf("Text(%x) = %q", bad, text)
		}
	}
}

func TestMinimum(t *testing.T) {
	for _, c := range []struct {
		schema string
		want   any
	}{
		{`"int"`, int(math.MinInt32)},
		{`"long"`, int64(math.MinInt64)},
		{`"float"`, float32(math.SmallestNonzeroFloat32)},
		{`"double"`, math.SmallestNonzeroFloat64},
		{`"boolean"`, false},
		{`"string"`, ""},
		{`"bytes"`, []byte{}},
		{`"null"`, nil},
		{`{"type":"int","logicalType":"date"}`, time.Unix(0, 0).UTC().AddDate(0, 0, math.MinInt32)},
		{`{"type":"fixed","name":"F","size":3}`, [3]byte{}},
		{`{"type":"enum","name":"E","symbols":["B","A"]}`, "B"},
		{`{"type":"array","items":"int"}`, []any{}},
		{`{"type":"map","values":"int"}`, map[string]any{}},
		{`["string","null"]`, ""},
		{`{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["L","null"]}]}`,
			map[string]any{"v": int(math.MinInt32), "next": nil}},
	} {
		s := mustSchema(t, c.schema)
		var got any
		if err := avro.Unmarshal(s, Minimum(s), &got); err != nil {
			t.Errorf("%s: %x does not decode: %v", c.schema, Minimum(s), err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: minimum decodes to %#v, want %#v", c.schema, got, c.want)
		}
	}
}
