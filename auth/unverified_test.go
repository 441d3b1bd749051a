package auth

import (
	"encoding/base64"
	"testing"
)

func TestUnverifiedReaders(t *testing.T) {
	for _, tc := range []struct {
		msg, want string
	}{
		{"n,,n=billing/bob,r=abc", "billing/bob"},
		{"n,,n=a=2Cb,r=abc", "a,b"},
		{"p=tls,n=x,r=abc", ""},
		{"garbage", ""},
	} {
		if got := ScramUsername([]byte(tc.msg)); got != tc.want {
			t.Errorf("ScramUsername(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	token := seg(`{"alg":"RS256"}`) + "." + seg(`{"sub":"svc-1","azp":"client-9"}`) + "." + seg("sig")
	for _, tc := range []struct {
		token, claim, want string
	}{
		{token, "sub", "svc-1"},
		{token, "azp", "client-9"},
		{token, "missing", ""},
		{"not.a.jwt!", "sub", ""},
	} {
		if got := UnverifiedClaim(tc.token, tc.claim); got != tc.want {
			t.Errorf("UnverifiedClaim(%q) = %q, want %q", tc.claim, got, tc.want)
		}
	}
}
