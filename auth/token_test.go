package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Test secrets: 32 bytes each, in different base64 spellings.
var (
	secretA = strings.Repeat("a", 32)
	secretB = strings.Repeat("b", 40)
	specA   = base64.StdEncoding.EncodeToString([]byte(secretA))
	specB   = base64.RawURLEncoding.EncodeToString([]byte(secretB))
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustKeys(t testing.TB, spec string) *Keys {
	t.Helper()
	k, err := ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKeys(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("only-sixteen-byt"))
	binary := []byte{0xfb, 0xff, 0xfe, 0xfa}
	binary = append(binary, make([]byte, 30)...)
	tests := []struct {
		name string
		spec string
		keys int
		err  string
	}{
		{"std padded", specA, 1, ""},
		{"url raw", specB, 1, ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(binary), 1, ""},
		{"url padded", base64.URLEncoding.EncodeToString(binary), 1, ""},
		{"two with spaces", " " + specA + " , " + specB + " ", 2, ""},
		{"empty spec", "  ", 0, "auth: no token signing keys"},
		{"empty entry", specA + ",", 0, "auth: token signing key 2: empty"},
		{"not base64", specA + ",!!!!", 0, "auth: token signing key 2: not base64"},
		{"too short", short, 0, "auth: token signing key 1: 16 bytes, want at least 32"},
		{"repeated", specA + "," + base64.RawURLEncoding.EncodeToString([]byte(secretA)), 0, "auth: token signing key 2 repeats key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeys(tt.spec)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(k.keys) != tt.keys {
				t.Fatalf("got %d keys, want %d", len(k.keys), tt.keys)
			}
		})
	}
}

func TestKeysNeverPrintSecrets(t *testing.T) {
	k := mustKeys(t, specA+","+specB)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %s", k, k, k)} {
		if strings.Contains(s, secretA) || strings.Contains(s, secretB) || strings.Contains(s, "97 97") {
			t.Fatalf("printed secret: %s", s)
		}
	}
	sum := sha256.Sum256([]byte(secretA))
	if want := fmt.Sprintf("%x", sum[:4]); !strings.Contains(k.String(), want) {
		t.Fatalf("String() = %s, want kid %s", k, want)
	}
}

func TestIssueVerify(t *testing.T) {
	k := mustKeys(t, specA)
	token, id, err := k.Issue("team-a", "alice", time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 32 {
		t.Fatalf("id %q is not 16 bytes of hex", id)
	}
	c, err := k.Verify(token, testNow.Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{VCluster: "team-a", Username: "alice", ID: id, IssuedAt: testNow, Expires: testNow.Add(time.Hour)}
	if !c.IssuedAt.Equal(want.IssuedAt) || !c.Expires.Equal(want.Expires) {
		t.Fatalf("times = %v, %v; want %v, %v", c.IssuedAt, c.Expires, want.IssuedAt, want.Expires)
	}
	c.IssuedAt, c.Expires, want.IssuedAt, want.Expires = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if c != want {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}

	_, other, _ := k.Issue("team-a", "alice", time.Hour, testNow)
	if other == id {
		t.Fatal("two tokens got the same id")
	}
}

func TestIssueRefuses(t *testing.T) {
	k := mustKeys(t, specA)
	if _, _, err := k.Issue("v", "", time.Hour, testNow); err == nil {
		t.Fatal("issued a token without username")
	}
	if _, _, err := k.Issue("v", "alice", time.Millisecond, testNow); err == nil {
		t.Fatal("issued a token with a sub-second lifetime")
	}
}

func TestExpiry(t *testing.T) {
	k := mustKeys(t, specA)
	token, _, err := k.Issue("", "alice", time.Minute, testNow)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at      time.Duration
		expired bool
	}{
		{0, false},
		{time.Minute - time.Nanosecond, false},
		{time.Minute, true},
		{time.Hour, true},
	}
	for _, tt := range tests {
		_, err := k.Verify(token, testNow.Add(tt.at))
		if got := errors.Is(err, ErrExpired); got != tt.expired {
			t.Errorf("at +%v: err = %v, want expired %v", tt.at, err, tt.expired)
		}
	}
}

// TestRotation follows the documented procedure: deploy "new,old", and
// tokens of both verify; drop old, and only new ones do.
func TestRotation(t *testing.T) {
	old := mustKeys(t, specA)
	both := mustKeys(t, specB+","+specA)
	fresh := mustKeys(t, specB)

	oldToken, _, _ := old.Issue("", "alice", time.Hour, testNow)
	newToken, _, _ := both.Issue("", "bob", time.Hour, testNow)

	for _, tt := range []struct {
		keys  *Keys
		token string
		ok    bool
	}{
		{both, oldToken, true},
		{both, newToken, true},
		{old, newToken, false},
		{fresh, newToken, true},
		{fresh, oldToken, false},
	} {
		_, err := tt.keys.Verify(tt.token, testNow)
		if (err == nil) != tt.ok {
			t.Errorf("%v verifying: err = %v, want ok %v", tt.keys, err, tt.ok)
		}
	}
}

// forge builds a token from raw header and claims JSON, signed with secret
// (no signature when secret is "").
func forge(header, claims, secret string) string {
	signed := encodeSegment([]byte(header)) + "." + encodeSegment([]byte(claims))
	if secret == "" {
		return signed + "."
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signed))
	return signed + "." + encodeSegment(mac.Sum(nil))
}

func TestVerifyRejects(t *testing.T) {
	k := mustKeys(t, specA+","+specB)
	kidA := k.keys[0].id
	exp := testNow.Add(time.Hour).Unix()
	good := fmt.Sprintf(`{"username":"alice","vcluster":"v","exp":%d,"iat":%d,"jti":"x"}`, exp, testNow.Unix())
	valid, _, _ := k.Issue("v", "alice", time.Hour, testNow)
	parts := strings.Split(valid, ".")

	tests := []struct {
		name  string
		token string
		err   string // "" means valid
	}{
		{"forged valid", forge(`{"alg":"HS256","kid":"`+kidA+`"}`, good, secretA), ""},
		{"no kid tries every key", forge(`{"alg":"HS256"}`, good, secretB), ""},
		{"alg none", forge(`{"alg":"none"}`, good, ""), "unsupported token algorithm"},
		{"alg None with signature", forge(`{"alg":"None"}`, good, secretA), "unsupported token algorithm"},
		{"alg HS512", forge(`{"alg":"HS512"}`, good, secretA), "unsupported token algorithm"},
		{"alg RS256", forge(`{"alg":"RS256"}`, good, secretA), "unsupported token algorithm"},
		{"alg missing", forge(`{}`, good, secretA), "unsupported token algorithm"},
		{"kid of the other key", forge(`{"alg":"HS256","kid":"`+k.keys[1].id+`"}`, good, secretA), "bad signature"},
		{"unknown kid", forge(`{"alg":"HS256","kid":"00000000"}`, good, secretA), "unknown key"},
		{"wrong secret", forge(`{"alg":"HS256"}`, good, strings.Repeat("c", 32)), "bad signature"},
		{"tampered claims", parts[0] + "." + encodeSegment([]byte(strings.Replace(good, "alice", "admin", 1))) + "." + parts[2], "bad signature"},
		{"crit header", forge(`{"alg":"HS256","crit":["x"]}`, good, secretA), "critical"},
		{"two parts", parts[0] + "." + parts[1], "malformed token"},
		{"four parts", valid + ".x", "malformed token"},
		{"padded signature", valid + "=", "malformed token"},
		{"header not json", encodeSegment([]byte("hello")) + "." + parts[1] + "." + parts[2], "malformed token"},
		{"header array", forge(`["HS256"]`, good, secretA), "malformed token"},
		{"claims not json", forge(`{"alg":"HS256"}`, "[1]", secretA), "malformed token"},
		{"no username", forge(`{"alg":"HS256"}`, fmt.Sprintf(`{"exp":%d,"iat":1,"jti":"x"}`, exp), secretA), "missing or invalid username"},
		{"username not a string", forge(`{"alg":"HS256"}`, fmt.Sprintf(`{"username":7,"exp":%d,"iat":1,"jti":"x"}`, exp), secretA), "missing or invalid username"},
		{"no jti", forge(`{"alg":"HS256"}`, fmt.Sprintf(`{"username":"a","exp":%d,"iat":1}`, exp), secretA), "missing or invalid jti"},
		{"no exp", forge(`{"alg":"HS256"}`, `{"username":"a","iat":1,"jti":"x"}`, secretA), "exp"},
		{"no iat", forge(`{"alg":"HS256"}`, fmt.Sprintf(`{"username":"a","exp":%d,"jti":"x"}`, exp), secretA), "iat"},
		{"exp a string", forge(`{"alg":"HS256"}`, `{"username":"a","exp":"soon","iat":1,"jti":"x"}`, secretA), "exp"},
		{"vcluster a number", forge(`{"alg":"HS256"}`, fmt.Sprintf(`{"username":"a","vcluster":1,"exp":%d,"iat":1,"jti":"x"}`, exp), secretA), "vcluster"},
		{"too long", strings.Repeat("a", maxTokenLen+1), "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.Verify(tt.token, testNow)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("err %q lacks the component prefix", err)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[:20]) {
				t.Errorf("err %q quotes the token", err)
			}
		})
	}
}

func TestTokenHeader(t *testing.T) {
	k := mustKeys(t, specB+","+specA)
	token, _, _ := k.Issue("", "alice", time.Hour, testNow)
	header, _ := decodeSegment(strings.Split(token, ".")[0])
	var h tokenHeader
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	if h.Alg != "HS256" || h.Kid != k.keys[0].id || h.Typ != "JWT" {
		t.Fatalf("header = %+v, want HS256 signed by the first key %s", h, k.keys[0].id)
	}
}

// FuzzVerify checks that Verify never panics, and that whatever it
// accepts has the required claims and is unexpired.
func FuzzVerify(f *testing.F) {
	k := mustKeys(f, specA)
	valid, _, _ := k.Issue("v", "alice", time.Hour, testNow)
	f.Add(valid)
	f.Add(forge(`{"alg":"HS256"}`, `{"username":"a","exp":1e300,"iat":-1,"jti":"x"}`, secretA))
	f.Add(forge(`{"alg":"HS256"}`, `{"username":"a","exp":9999999999.5,"iat":0,"jti":"x"}`, secretA))
	f.Add(forge(`{"alg":"none"}`, `{}`, ""))
	f.Add("..")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := k.Verify(token, testNow)
		if err != nil {
			return
		}
		if c.Username == "" || c.ID == "" || !testNow.Before(c.Expires) {
			t.Fatalf("accepted incomplete or expired claims %+v", c)
		}
	})
}

// FuzzParseKeys checks that ParseKeys never panics and that the keys it
// accepts are long enough and sign tokens they verify.
func FuzzParseKeys(f *testing.F) {
	f.Add(specA)
	f.Add(specA + "," + specB)
	f.Add(specA + "==,")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, spec string) {
		k, err := ParseKeys(spec)
		if err != nil {
			return
		}
		for _, key := range k.keys {
			if len(key.secret) < minKeyLen {
				t.Fatalf("accepted a %d-byte key", len(key.secret))
			}
		}
		token, _, err := k.Issue("", "u", time.Minute, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Verify(token, testNow); err != nil {
			t.Fatal(err)
		}
	})
}
