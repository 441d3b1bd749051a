package auth

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

const jwtLike = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"

func TestParseOAuthBearer(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		token string
		ext   map[string]string
		err   string
	}{
		{"plain", "n,,\x01auth=Bearer " + jwtLike + "\x01\x01", jwtLike, nil, ""},
		{"authzid", "n,a=alice,\x01auth=Bearer " + jwtLike + "\x01\x01", jwtLike, nil, ""},
		{"escaped authzid", "n,a=al=2Cice,\x01auth=Bearer " + jwtLike + "\x01\x01", jwtLike, nil, ""},
		{"scheme case, extra spaces", "n,,\x01auth=bearer   " + jwtLike + "\x01\x01", jwtLike, nil, ""},
		{"padded b64token", "n,,\x01auth=Bearer abc~+/==\x01\x01", "abc~+/==", nil, ""},
		{"extensions", "n,,\x01traceId=123 4\x01auth=Bearer t\x01logicalCluster=lkc-1\x01\x01", "t",
			map[string]string{"traceId": "123 4", "logicalCluster": "lkc-1"}, ""},
		{"empty extension value", "n,,\x01auth=Bearer t\x01x=\x01\x01", "t", map[string]string{"x": ""}, ""},

		{"empty", "", "", nil, "bad gs2 header"},
		{"only kvsep", "\x01", "", nil, "bad gs2 header"},
		{"channel binding", "y,,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"p flag", "p=tls-unique,,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"no second comma", "n,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"bad authzid", "n,b=x,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"empty authzid", "n,a=,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"comma in authzid", "n,a=x,y,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"bad escape in authzid", "n,a=x=41,\x01auth=Bearer t\x01\x01", "", nil, "bad gs2 header"},
		{"one final kvsep", "n,,\x01auth=Bearer t\x01", "", nil, "ending with"},
		{"no pairs", "n,,\x01\x01", "", nil, "ending with"},
		{"empty pair", "n,,\x01auth=Bearer t\x01\x01\x01", "", nil, "bad key"},
		{"no auth", "n,,\x01x=y\x01\x01", "", nil, "no auth"},
		{"auth twice", "n,,\x01auth=Bearer t\x01auth=Bearer u\x01\x01", "", nil, `repeated "auth"`},
		{"extension twice", "n,,\x01auth=Bearer t\x01x=1\x01x=2\x01\x01", "", nil, `repeated "x"`},
		{"key not letters", "n,,\x01auth=Bearer t\x01x1=y\x01\x01", "", nil, "bad key"},
		{"no equals", "n,,\x01auth=Bearer t\x01x\x01\x01", "", nil, "bad key"},
		{"value with control", "n,,\x01auth=Bearer t\x01x=\x00\x01\x01", "", nil, `bad value for "x"`},
		{"basic scheme", "n,,\x01auth=Basic dXNlcjpwYXNz\x01\x01", "", nil, "Bearer <token>"},
		{"no token", "n,,\x01auth=Bearer \x01\x01", "", nil, "Bearer <token>"},
		{"token with space", "n,,\x01auth=Bearer a b\x01\x01", "", nil, "Bearer <token>"},
		{"token with padding inside", "n,,\x01auth=Bearer a=b\x01\x01", "", nil, "Bearer <token>"},
		{"too long", "n,,\x01auth=Bearer " + strings.Repeat("a", maxOAuthMessage) + "\x01\x01", "", nil, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, ext, err := ParseOAuthBearer([]byte(tt.msg))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.err)
				}
				if token != "" || ext != nil {
					t.Fatal("returned values with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if token != tt.token || !maps.Equal(ext, tt.ext) {
				t.Fatalf("got %q %v, want %q %v", token, ext, tt.token, tt.ext)
			}
		})
	}
}

// TestParseOAuthBearerFranzGo reads what franz-go's OAUTHBEARER client
// sends, and checks that it accepts OAuthFailure as a server challenge.
func TestParseOAuthBearerFranzGo(t *testing.T) {
	ext := map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"}
	session, msg, err := oauth.Auth{Zid: "alice", Token: jwtLike, Extensions: ext}.AsMechanism().Authenticate(context.Background(), "gateway:9092")
	if err != nil {
		t.Fatal(err)
	}
	token, got, err := ParseOAuthBearer(msg)
	if err != nil || token != jwtLike || !maps.Equal(got, ext) {
		t.Fatalf("got %q %v %v", token, got, err)
	}
	done, reply, err := session.Challenge(OAuthFailure())
	if err != nil || done || string(reply) != "\x01" {
		t.Fatalf("client answered the failure with %q, %v, %v", reply, done, err)
	}
}

func TestOAuthFailure(t *testing.T) {
	if got := string(OAuthFailure()); got != `{"status":"invalid_token"}` {
		t.Fatalf("OAuthFailure() = %s", got)
	}
	b := OAuthFailure()
	b[0] = 'x'
	if OAuthFailure()[0] != '{' {
		t.Fatal("OAuthFailure shares its buffer")
	}
}

// FuzzParseOAuthBearer checks that ParseOAuthBearer never panics, and that
// what it accepts, written out again, parses to the same thing.
func FuzzParseOAuthBearer(f *testing.F) {
	f.Add([]byte("n,,\x01auth=Bearer " + jwtLike + "\x01\x01"))
	f.Add([]byte("n,a=x=2C,\x01auth=bearer t==\x01k=v\x01\x01"))
	f.Add([]byte("n,,\x01\x01"))
	f.Add([]byte("\x01"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		token, ext, err := ParseOAuthBearer(msg)
		if err != nil {
			return
		}
		if token == "" || strings.ContainsAny(token, " \x01") {
			t.Fatalf("accepted token %q", token)
		}
		again := "n,,\x01auth=Bearer " + token + "\x01"
		for _, k := range slices.Sorted(maps.Keys(ext)) {
			again += k + "=" + ext[k] + "\x01"
		}
		token2, ext2, err := ParseOAuthBearer([]byte(again + "\x01"))
		if err != nil || token2 != token || !maps.Equal(ext, ext2) {
			t.Fatalf("round trip of %q: %q %v %v", msg, token2, ext2, err)
		}
	})
}
