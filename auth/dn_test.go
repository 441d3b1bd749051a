package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Attribute types used in the tests.
var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidSerial = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidUID    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidDC     = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidEmail  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// raw is an attribute value with an explicit ASN.1 string type.
func raw(tag int, b []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: b}
}

// certWithSubject returns a certificate whose subject is rdns, in
// certificate order (least specific first).
func certWithSubject(t *testing.T, rdns pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	der, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{RawSubject: der}
}

func TestSubjectDNOfIssuedCertificate(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject: pkix.Name{
			Country: []string{"US"}, Province: []string{"CA"}, Locality: []string{"SF"},
			Organization: []string{"Acme"}, OrganizationalUnit: []string{"eng"}, CommonName: "alice",
		},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := SubjectDN(cert), "CN=alice,OU=eng,O=Acme,L=SF,ST=CA,C=US"; got != want {
		t.Fatalf("SubjectDN = %q, want %q", got, want)
	}
	rules, _ := ParseMappingRules("")
	if name, err := rules.Apply(SubjectDN(cert)); err != nil || name != "alice" {
		t.Fatalf("default mapping = %q, %v; want alice", name, err)
	}
}

func TestSubjectDN(t *testing.T) {
	atv := func(oid asn1.ObjectIdentifier, v any) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	rdn := func(atvs ...pkix.AttributeTypeAndValue) pkix.RelativeDistinguishedNameSET { return atvs }
	tests := []struct {
		name string
		rdns pkix.RDNSequence
		want string
	}{
		{"empty", nil, ""},
		{"reversed", pkix.RDNSequence{rdn(atv(oidO, "Acme")), rdn(atv(oidCN, "alice"))}, "CN=alice,O=Acme"},
		{"special characters", pkix.RDNSequence{rdn(atv(oidCN, `a,b+c=d<e>f#g;h"i\j`))}, `CN=a\,b\+c\=d\<e\>f\#g\;h\"i\\j`},
		{"leading and trailing spaces", pkix.RDNSequence{rdn(atv(oidCN, "  bob x "))}, `CN=\ \ bob x\ `},
		{"only spaces", pkix.RDNSequence{rdn(atv(oidCN, "  "))}, `CN=\ \ `},
		{"carriage returns at the ends", pkix.RDNSequence{rdn(atv(oidCN, "\rbob\r"))}, "CN=\\\rbob\\\r"},
		{"NUL", pkix.RDNSequence{rdn(atv(oidCN, raw(asn1.TagUTF8String, []byte("a\x00b"))))}, `CN=a\00b`},
		{"multi-valued RDN", pkix.RDNSequence{rdn(atv(oidCN, "alice"), atv(oidUID, "42"))}, "CN=alice+UID=42"},
		{"domain components", pkix.RDNSequence{rdn(atv(oidDC, raw(asn1.TagIA5String, []byte("com")))), rdn(atv(oidDC, raw(asn1.TagIA5String, []byte("example"))))}, "DC=example,DC=com"},
		{"email as OID and hex", pkix.RDNSequence{rdn(atv(oidEmail, raw(asn1.TagIA5String, []byte("a@b.c"))))}, "1.2.840.113549.1.9.1=#16056140622e63"},
		{"serial number as OID and hex", pkix.RDNSequence{rdn(atv(oidSerial, "123"))}, "2.5.4.5=#1303313233"},
		{"UTF-8", pkix.RDNSequence{rdn(atv(oidCN, "zoë"))}, "CN=zoë"},
		{"BMPString", pkix.RDNSequence{rdn(atv(oidCN, raw(asn1.TagBMPString, []byte{0, 'z', 0, 'o', 0, 0xeb})))}, "CN=zoë"},
		{"odd BMPString", pkix.RDNSequence{rdn(atv(oidCN, raw(asn1.TagBMPString, []byte{0, 'z', 0})))}, "CN=#1e03007a00"},
		{"T61String as Latin-1", pkix.RDNSequence{rdn(atv(oidCN, raw(asn1.TagT61String, []byte{'z', 'o', 0xeb})))}, "CN=zoë"},
		{"UniversalString as hex", pkix.RDNSequence{rdn(atv(oidCN, raw(28, []byte{0, 0, 0, 'a'})))}, "CN=#1c0400000061"},
		{"integer as hex", pkix.RDNSequence{rdn(atv(oidCN, 7))}, "CN=#020107"},
		{"bad UTF-8 replaced", pkix.RDNSequence{rdn(atv(oidCN, raw(asn1.TagUTF8String, []byte{'a', 0xff})))}, "CN=a\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SubjectDN(certWithSubject(t, tt.rdns)); got != tt.want {
				t.Fatalf("SubjectDN = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubjectDNFallback(t *testing.T) {
	cert := &x509.Certificate{RawSubject: []byte{0x30, 0x03, 0x01}, Subject: pkix.Name{CommonName: "alice"}}
	if got := SubjectDN(cert); got != "CN=alice" {
		t.Fatalf("SubjectDN = %q, want Go's rendering", got)
	}
}

func TestCommonName(t *testing.T) {
	tests := []struct {
		dn   string
		want string
		err  string
	}{
		{"CN=alice,OU=eng", "alice", ""},
		{"OU=eng,CN=alice", "alice", ""},
		{"UID=1+CN=bob,O=x", "bob", ""},
		{"cn=carol", "carol", ""},
		{"2.5.4.3=dave", "dave", ""},
		{`CN=a\,b\+c\=d\\,O=x`, `a,b+c=d\`, ""},
		{`CN=\ bob\ `, " bob ", ""},
		{`CN=caf\C3\A9`, "café", ""},
		{`CN=a\00b`, "a\x00b", ""},
		{`O=a\,CN=b`, "", "no CN"},
		{"CN=#0c05616c696365", "", "not a string"},
		{`CN=a\`, "", "lone backslash"},
		{`CN=\FF`, "", "not UTF-8"},
		{"", "", "no CN"},
	}
	for _, tt := range tests {
		t.Run(tt.dn, func(t *testing.T) {
			got, err := commonName(tt.dn)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzCommonName checks that reading a CN never panics, and that any
// value SubjectDN's escaping writes reads back unchanged.
func FuzzCommonName(f *testing.F) {
	f.Add(`CN=a\,b`, "a,b")
	f.Add(`CN=\ `, " #x ")
	f.Add(`CN=\F`, "\x00\\00")
	f.Add("CN=#00", "\r")
	f.Fuzz(func(t *testing.T, dn, value string) {
		if cn, err := commonName(dn); err == nil && !utf8.ValidString(cn) {
			t.Fatalf("CN %q is not UTF-8", cn)
		}
		if !utf8.ValidString(value) {
			return
		}
		escaped := escapeDNValue(value)
		got, err := commonName("UID=1+CN=" + escaped + ",O=x")
		if err != nil || got != value {
			t.Fatalf("value %q escaped as %q read back as %q, %v", value, escaped, got, err)
		}
	})
}
