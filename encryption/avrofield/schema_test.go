package avrofield

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// orderSchema covers every Avro type, logical types, named references and
// recursion.
const orderSchema = `{"type":"record","name":"Order","namespace":"t","fields":[
 {"name":"id","type":"string"},
 {"name":"n","type":"int"},
 {"name":"big","type":"long"},
 {"name":"f","type":"float"},
 {"name":"d","type":"double"},
 {"name":"ok","type":"boolean"},
 {"name":"blob","type":"bytes"},
 {"name":"nothing","type":"null"},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"uid","type":{"type":"string","logicalType":"uuid"}},
 {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
 {"name":"hash","type":{"type":"fixed","name":"Hash","size":4}},
 {"name":"addr","type":{"type":"record","name":"Addr","fields":[{"name":"city","type":"string"},{"name":"zip","type":"int"}]}},
 {"name":"home","type":["null","Addr"]},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"card","type":"string"},{"name":"qty","type":"int"}]}}},
 {"name":"tags","type":{"type":"map","values":"string"}},
 {"name":"note","type":["null","string"]},
 {"name":"code","type":["null","int"]},
 {"name":"next","type":["null","Order"]}
]}`

// Addr, Item and Order mirror orderSchema.
type Addr struct {
	City string `avro:"city"`
	Zip  int    `avro:"zip"`
}

type Item struct {
	Card string `avro:"card"`
	Qty  int    `avro:"qty"`
}

type Order struct {
	ID      string            `avro:"id"`
	N       int32             `avro:"n"`
	Big     int64             `avro:"big"`
	F       float32           `avro:"f"`
	D       float64           `avro:"d"`
	OK      bool              `avro:"ok"`
	Blob    []byte            `avro:"blob"`
	Nothing any               `avro:"nothing"`
	Amount  *big.Rat          `avro:"amount"`
	At      time.Time         `avro:"at"`
	UID     string            `avro:"uid"`
	Color   string            `avro:"color"`
	Hash    [4]byte           `avro:"hash"`
	Addr    Addr              `avro:"addr"`
	Home    *Addr             `avro:"home"`
	Items   []Item            `avro:"items"`
	Tags    map[string]string `avro:"tags"`
	Note    *string           `avro:"note"`
	Code    *int              `avro:"code"`
	Next    *Order            `avro:"next"`
}

func sampleOrder() Order {
	note, code := "fragile", 7
	inner := Order{ID: "inner", Amount: big.NewRat(1, 4), At: time.UnixMilli(5).UTC(), Color: "RED",
		Addr: Addr{City: "Lyon", Zip: 69001}, Items: []Item{{Card: "9999", Qty: 9}}, Tags: map[string]string{}}
	return Order{
		ID: "o-1", N: 42, Big: -1 << 40, F: 1.5, D: -2.25, OK: true, Blob: []byte{1, 2, 3},
		Amount: big.NewRat(12345, 100), At: time.UnixMilli(1700000000123).UTC(),
		UID: "0b3c2c2e-7f4e-4b43-9d1c-8a7f4a4f2f10", Color: "GREEN", Hash: [4]byte{9, 8, 7, 6},
		Addr: Addr{City: "Paris", Zip: 75001}, Home: &Addr{City: "Nice", Zip: 6000},
		Items: []Item{{Card: "4111", Qty: 1}, {Card: "5500", Qty: 2}, {Card: "3400", Qty: 3}},
		Tags:  map[string]string{"a": "x", "secret": "s3", "z": "zz"},
		Note:  &note, Code: &code, Next: &inner,
	}
}

// configs encode with sized blocks (hamba's default), and with plain
// counts in blocks of two.
var configs = map[string]avro.API{
	"sized":  avro.DefaultConfig,
	"counts": avro.Config{BlockLength: 2, DisableBlockSizeHeader: true}.Freeze(),
}

func mustSchema(t testing.TB, js string) avro.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(js, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustMarshal(t testing.TB, api avro.API, s avro.Schema, v any) []byte {
	t.Helper()
	b, err := api.Marshal(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSampleRoundTrip(t *testing.T) {
	s := mustSchema(t, orderSchema)
	for name, api := range configs {
		b := mustMarshal(t, api, s, sampleOrder())
		var got Order
		if err := avro.Unmarshal(s, b, &got); err != nil {
			t.Fatal(name, err)
		}
		if got.Items[2].Card != "3400" || got.Next.ID != "inner" {
			t.Fatalf("%s: %+v", name, got)
		}
	}
}

// sameOrder compares orders, decimals by value.
func sameOrder(a, b Order) bool {
	for pa, pb := &a, &b; pa != nil || pb != nil; pa, pb = pa.Next, pb.Next {
		if pa == nil || pb == nil || (pa.Amount == nil) != (pb.Amount == nil) ||
			(pa.Amount != nil && pa.Amount.Cmp(pb.Amount) != 0) {
			return false
		}
		if pa.Next != nil && pb.Next != nil {
			na, nb := *pa.Next, *pb.Next
			pa.Next, pb.Next = &na, &nb // copy before clearing decimals
		}
		pa.Amount, pb.Amount = nil, nil
	}
	return reflect.DeepEqual(a, b)
}
