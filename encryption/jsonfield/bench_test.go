package jsonfield

import (
	"testing"

	"github.com/strait-gateway/strait/fieldpath"
)

// benchDoc is a ~1 KB order record with nested objects and an array.
const benchDoc = `{
  "orderId": "ord-20261125-000184",
  "createdAt": "2026-11-25T00:17:01.123Z",
  "status": "PAID",
  "customer": {
    "id": 99812,
    "name": "Jeanne Dupont-Martin",
    "email": "jeanne.dupont@example.com",
    "phone": "+33 6 12 34 56 78",
    "address": {"street": "12 rue de la Paix", "city": "Paris", "zip": "75002", "country": "FR"},
    "loyalty": {"tier": "gold", "points": 12840, "since": "2019-03-02"}
  },
  "payment": {"method": "card", "card": {"number": "4111111111111111", "expiry": "12/29", "holder": "J DUPONT"}, "amount": 249.90, "currency": "EUR"},
  "items": [
    {"sku": "SKU-0001", "name": "Wireless headphones", "qty": 1, "price": 149.00, "tags": ["audio", "bluetooth"]},
    {"sku": "SKU-0042", "name": "USB-C cable \u00e9dition 2m", "qty": 2, "price": 19.95, "tags": ["cable"]},
    {"sku": "SKU-0107", "name": "Protective case", "qty": 1, "price": 61.00, "tags": []}
  ],
  "shipping": {"carrier": "colissimo", "tracking": "6A12345678901", "cost": 0, "express": false},
  "notes": null,
  "metadata": {"source": "web", "campaign": "black-friday", "ab": [0.25, 1e-3, -7]}
}`

func BenchmarkReplace(b *testing.B) {
	doc := []byte(benchDoc)
	var paths []fieldpath.Path
	for _, s := range []string{"customer.email", "payment.card.number", "items[*].name"} {
		p, err := fieldpath.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	rep := String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	fn := func(string, []byte) ([]byte, error) { return rep, nil }
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		out := doc
		for _, p := range paths {
			var err error
			if out, err = Replace(out, p, fn); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkReplaceNotFound(b *testing.B) {
	doc := []byte(benchDoc)
	p := fieldpath.Path{{Name: "customer"}, {Name: "ssn"}}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Replace(doc, p, nil); err != nil {
			b.Fatal(err)
		}
	}
}
