package auth

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// rfc2253Keywords are the attribute types Java's RFC 2253 output names by
// keyword; it writes any other type as its dotted OID.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
}

// attributeTypeAndValue is one element of an RDN, its value kept raw.
type attributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// relativeNameSET is one RDN; encoding/asn1 decodes a slice type whose
// name ends in SET as a SET OF.
type relativeNameSET []attributeTypeAndValue

// SubjectDN formats a certificate's subject the way Java's
// X500Principal.getName() does (RFC 2253), which is what Kafka's mapping
// rules see: RDNs most specific first (the reverse of the certificate's
// order), e.g. "CN=alice,OU=eng,O=Acme,C=US"; the values of a multi-valued
// RDN joined by '+'; types other than CN, C, L, ST, STREET, O, OU, UID and
// DC as dotted OIDs; values that are not strings, and all values of those
// other types, as '#' and the hex of their DER encoding; ",=+<>#;\"\\"
// escaped with a backslash, like leading and trailing spaces, and NUL as
// "\00". A subject encoding/asn1 cannot decode falls back to Go's
// rendering, pkix.Name.String.
func SubjectDN(cert *x509.Certificate) string {
	var rdns []relativeNameSET
	if rest, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil || len(rest) > 0 {
		return cert.Subject.String()
	}
	out := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		avas := make([]string, len(rdns[i]))
		for j, ava := range rdns[i] {
			avas[j] = formatAVA(ava)
		}
		out = append(out, strings.Join(avas, "+"))
	}
	return strings.Join(out, ",")
}

// formatAVA formats one type=value pair.
func formatAVA(ava attributeTypeAndValue) string {
	keyword, ok := rfc2253Keywords[ava.Type.String()]
	if !ok {
		return ava.Type.String() + "=#" + hex.EncodeToString(ava.Value.FullBytes)
	}
	value, ok := derString(ava.Value)
	if !ok {
		return keyword + "=#" + hex.EncodeToString(ava.Value.FullBytes)
	}
	return keyword + "=" + escapeDNValue(value)
}

// derString decodes the ASN.1 string types Java's RFC 2253 output shows as
// text; ok is false for other values.
func derString(v asn1.RawValue) (s string, ok bool) {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String:
		return strings.ToValidUTF8(string(v.Bytes), "\uFFFD"), true
	case asn1.TagPrintableString, asn1.TagT61String, asn1.TagIA5String, asn1.TagGeneralString:
		r := make([]rune, len(v.Bytes)) // ISO-8859-1, as Java reads them
		for i, b := range v.Bytes {
			r[i] = rune(b)
		}
		return string(r), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		units := make([]uint16, len(v.Bytes)/2)
		for i := range units {
			units[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(units)), true
	}
	return "", false
}

// escapeDNValue escapes an attribute value as Java's RFC 2253 output does.
func escapeDNValue(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case strings.ContainsRune(`,=+<>#;"\`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	isSpace := func(c byte) bool { return c == ' ' || c == '\r' }
	lead, trail := 0, len(s)
	for lead < len(s) && isSpace(s[lead]) {
		lead++
	}
	for trail > lead && isSpace(s[trail-1]) {
		trail--
	}
	if lead == 0 && trail == len(s) {
		return s
	}
	b.Reset()
	for i := 0; i < len(s); i++ {
		if i < lead || i >= trail {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// commonName returns the first CN of an RFC 2253 DN, unescaped.
func commonName(dn string) (string, error) {
	for rest := dn; rest != ""; {
		var ava string
		ava, rest = cutAVA(rest)
		typ, value, _ := strings.Cut(ava, "=")
		typ = strings.TrimSpace(typ)
		if strings.EqualFold(typ, "CN") || typ == "2.5.4.3" {
			return unescapeDNValue(value)
		}
	}
	return "", errors.New("auth: certificate subject has no CN")
}

// cutAVA cuts a DN after its first type=value pair, at the first ',' or '+'
// not escaped by a backslash.
func cutAVA(dn string) (ava, rest string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',', '+':
			return dn[:i], dn[i+1:]
		}
	}
	return dn, ""
}

// unescapeDNValue undoes RFC 2253 escaping: a backslash and two hex digits
// is that byte, a backslash and any other character is the character. A
// '#' value (hex DER) is refused: it is not a string.
func unescapeDNValue(v string) (string, error) {
	if strings.HasPrefix(v, "#") {
		return "", errors.New("auth: certificate CN is not a string")
	}
	var b []byte
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b = append(b, v[i])
			continue
		}
		if i+1 == len(v) {
			return "", errors.New("auth: certificate CN ends with a lone backslash")
		}
		if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			n, _ := hex.DecodeString(v[i+1 : i+3])
			b = append(b, n[0])
			i += 2
			continue
		}
		b = append(b, v[i+1])
		i++
	}
	if !utf8.Valid(b) {
		return "", errors.New("auth: certificate CN is not UTF-8")
	}
	return string(b), nil
}

// isHex reports whether c is a hex digit.
func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
