package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// testUsers returns a lookup over users with the given passwords, their
// credentials derived for mechanism.
func testUsers(t testing.TB, mechanism string, passwords map[string]string) func(string) (Credential, bool) {
	t.Helper()
	creds := map[string]Credential{}
	for user, password := range passwords {
		c, err := NewCredential(mechanism, password, MinIterations)
		if err != nil {
			t.Fatal(err)
		}
		creds[user] = c
	}
	return func(user string) (Credential, bool) {
		c, ok := creds[user]
		return c, ok
	}
}

// converse runs a whole exchange between franz-go's SCRAM client and a
// ScramServer, and returns the server's error. The client must accept
// every server message, including the final signature.
func converse(t *testing.T, mechanism string, client scram.Auth, server *ScramServer) error {
	t.Helper()
	var m sasl.Mechanism
	if mechanism == ScramSHA256 {
		m = client.AsSha256Mechanism()
	} else {
		m = client.AsSha512Mechanism()
	}
	session, msg, err := m.Authenticate(context.Background(), "gateway:9092")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		out, done, err := server.Step(msg)
		if err != nil {
			return err
		}
		clientDone, reply, err := session.Challenge(out)
		if err != nil {
			t.Fatalf("client refused the server's message: %v", err)
		}
		if done {
			if !clientDone {
				t.Fatal("server finished, client did not")
			}
			return nil
		}
		msg = reply
	}
	t.Fatal("conversation did not end")
	return nil
}

func TestScramWithFranzGo(t *testing.T) {
	users := map[string]string{"alice": "wonderland", "odd,name=x": "p,w=d", "zoë": "pässwörd"}
	tests := []struct {
		name     string
		user     string
		password string
		zid      string
		token    bool
		err      string // "" means success
	}{
		{"right password", "alice", "wonderland", "", false, ""},
		{"escaped name", "odd,name=x", "p,w=d", "", false, ""},
		{"utf-8", "zoë", "pässwörd", "", false, ""},
		{"authzid equal to user", "alice", "wonderland", "alice", false, ""},
		{"wrong password", "alice", "looking-glass", "", false, "auth: authentication failed: invalid credentials"},
		{"unknown user", "mallory", "wonderland", "", false, "auth: authentication failed: invalid credentials"},
		{"other authzid", "alice", "wonderland", "admin", false, "authorization id must equal the username"},
		{"delegation token", "alice", "wonderland", "", true, "delegation tokens are not supported"},
	}
	for _, mechanism := range []string{ScramSHA256, ScramSHA512} {
		lookup := testUsers(t, mechanism, users)
		for _, tt := range tests {
			t.Run(mechanism+"/"+tt.name, func(t *testing.T) {
				server, err := NewScramServer(mechanism, lookup)
				if err != nil {
					t.Fatal(err)
				}
				err = converse(t, mechanism, scram.Auth{User: tt.user, Pass: tt.password, Zid: tt.zid, IsToken: tt.token}, server)
				if tt.err == "" {
					if err != nil {
						t.Fatal(err)
					}
					if server.Username() != tt.user {
						t.Fatalf("Username() = %q, want %q", server.Username(), tt.user)
					}
					return
				}
				if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrAuthFailed mentioning %q", err, tt.err)
				}
				if strings.Contains(err.Error(), tt.password) {
					t.Fatalf("err %q shows the password", err)
				}
			})
		}
	}
}

// TestScramRFC7677 replays the example exchange of RFC 7677 section 3.
func TestScramRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	cred, err := deriveCredential(ScramSHA256, "pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := NewScramServer(ScramSHA256, func(user string) (Credential, bool) { return cred, user == "user" })
	if _, _, err := server.Step([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")); err != nil {
		t.Fatal(err)
	}
	// Put the RFC's server nonce in place of the random one.
	server.nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	server.serverFirst = "r=" + server.nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	out, done, err := server.Step([]byte("c=biws,r=" + server.nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; string(out) != want || !done {
		t.Fatalf("server-final = %q done %v, want %q", out, done, want)
	}
}

// TestScramUnknownUser checks that an unknown user gets a server-first
// message of the same shape as a real one, with a salt that is stable
// for the name and different between names.
func TestScramUnknownUser(t *testing.T) {
	lookup := testUsers(t, ScramSHA256, map[string]string{"alice": "wonderland"})
	first := func(user string) []string {
		server, _ := NewScramServer(ScramSHA256, lookup)
		out, _, err := server.Step([]byte("n,,n=" + user + ",r=abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(out), ",")
	}
	real, ghost, ghostAgain, other := first("alice"), first("mallory"), first("mallory"), first("trudy")
	if len(ghost) != len(real) || len(ghost[0]) != len(real[0]) || len(ghost[1]) != len(real[1]) || ghost[2] != real[2] {
		t.Fatalf("unknown user's reply %q differs in shape from %q", ghost, real)
	}
	if ghost[1] != ghostAgain[1] {
		t.Fatal("unknown user's salt changes between conversations")
	}
	if ghost[1] == other[1] {
		t.Fatal("two unknown users share a salt")
	}
}

// TestScramMismatchedCredential treats a credential stored for the other
// mechanism, or a damaged one, like an unknown user.
func TestScramMismatchedCredential(t *testing.T) {
	sha512 := testUsers(t, ScramSHA512, map[string]string{"alice": "wonderland"})
	damaged := func(user string) (Credential, bool) {
		c, ok := testUsers(t, ScramSHA256, map[string]string{"alice": "wonderland"})(user)
		c.StoredKey = c.StoredKey[:4]
		return c, ok
	}
	for name, lookup := range map[string]func(string) (Credential, bool){"other mechanism": sha512, "damaged": damaged} {
		t.Run(name, func(t *testing.T) {
			server, _ := NewScramServer(ScramSHA256, lookup)
			err := converse(t, ScramSHA256, scram.Auth{User: "alice", Pass: "wonderland"}, server)
			if !errors.Is(err, errInvalidCredentials) {
				t.Fatalf("err = %v, want invalid credentials", err)
			}
		})
	}
}

func TestScramClientFirstMessages(t *testing.T) {
	tests := []struct {
		msg string
		err string // "" means accepted
	}{
		{"n,,n=alice,r=abc", ""},
		{"y,,n=alice,r=abc", ""},
		{"n,a=alice,n=alice,r=abc", ""},
		{"n,,n=alice,r=abc,foo=bar", ""},
		{"n,,n=al=2Cice=3D,r=abc", ""},
		{"", "bad gs2 header"},
		{"n", "bad gs2 header"},
		{"n,", "bad gs2 header"},
		{"x,,n=alice,r=abc", "bad gs2 header"},
		{"p=tls-unique,,n=alice,r=abc", "channel binding is not supported"},
		{"n,b=alice,n=alice,r=abc", "bad gs2 header"},
		{"n,a=bob,n=alice,r=abc", "authorization id must equal the username"},
		{"n,a=al=ice,n=alice,r=abc", "authorization id must equal the username"},
		{"n,,m=ext,n=alice,r=abc", "mandatory extensions are not supported"},
		{"n,,n=alice", "want username and nonce"},
		{"n,,r=abc,n=alice", "want username and nonce"},
		{"n,,n=,r=abc", "bad username"},
		{"n,,n=al=ice,r=abc", "bad username"},
		{"n,,n=alice=2,r=abc", "bad username"},
		{"n,,n=" + strings.Repeat("a", 256) + ",r=abc", "bad username"},
		{"n,,n=alice,r=", "bad nonce"},
		{"n,,n=alice,r=a b", "bad nonce"},
		{"n,,n=alice,r=abc,tokenauth=true", "delegation tokens are not supported"},
		{"n,,n=alice,r=abc,tokenauth=TRUE", "delegation tokens are not supported"},
		{"n,,n=alice,r=abc,1x=y", "bad extension"},
		{"n,,n=alice,r=abc,", "bad extension"},
		{"n,,n=\xff,r=abc", "not UTF-8"},
		{"n,,n=alice,r=" + strings.Repeat("a", maxScramMessage), "too long"},
	}
	lookup := testUsers(t, ScramSHA256, map[string]string{"alice": "wonderland"})
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			server, _ := NewScramServer(ScramSHA256, lookup)
			out, done, err := server.Step([]byte(tt.msg))
			if tt.err == "" {
				if err != nil || done || !strings.HasPrefix(string(out), "r=abc") {
					t.Fatalf("got %q, %v, %v; want a server-first message", out, done, err)
				}
				return
			}
			if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want ErrAuthFailed mentioning %q", err, tt.err)
			}
			if _, _, err := server.Step([]byte("c=biws,r=abc,p=AAAA")); err == nil || !strings.Contains(err.Error(), "conversation is over") {
				t.Fatalf("step after failure: err = %v", err)
			}
		})
	}
}

func TestScramClientFinalMessages(t *testing.T) {
	lookup := testUsers(t, ScramSHA256, map[string]string{"alice": "wonderland"})
	zeros := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		first string
		final string // "NONCE" stands for the server's full nonce
		err   string
	}{
		{"n,,n=alice,r=abc", "c=biws,r=NONCE,p=" + zeros, "invalid credentials"},
		{"y,,n=alice,r=abc", "c=eSws,r=NONCE,p=" + zeros, "invalid credentials"},
		{"n,a=alice,n=alice,r=abc", "c=bixhPWFsaWNlLA==,r=NONCE,p=" + zeros, "invalid credentials"},
		{"n,,n=alice,r=abc", "c=biws,r=NONCE,x=1,p=" + zeros, "invalid credentials"},
		{"n,,n=alice,r=abc", "c=eSws,r=NONCE,p=" + zeros, "channel binding does not match"},
		{"y,,n=alice,r=abc", "c=biws,r=NONCE,p=" + zeros, "channel binding does not match"},
		{"n,,n=alice,r=abc", "c=biws,r=abc,p=" + zeros, "nonce does not match"},
		{"n,,n=alice,r=abc", "c=biws,r=NONCEx,p=" + zeros, "nonce does not match"},
		{"n,,n=alice,r=abc", "c=biws,r=NONCE,p=AAAA", "proof has the wrong length"},
		{"n,,n=alice,r=abc", "c=biws,r=NONCE,p=!!!!", "proof is not base64"},
		{"n,,n=alice,r=abc", "c=b!ws,r=NONCE,p=" + zeros, "channel binding is not base64"},
		{"n,,n=alice,r=abc", "c=biws,r=NONCE", "want channel binding, nonce and proof"},
		{"n,,n=alice,r=abc", "r=NONCE,c=biws,p=" + zeros, "want channel binding, nonce and proof"},
		{"n,,n=alice,r=abc", "c=biws,r=NONCE,9=1,p=" + zeros, "bad extension"},
		{"n,,n=alice,r=abc", "", "want channel binding, nonce and proof"},
		{"n,,n=alice,r=abc", strings.Repeat("c", maxScramMessage+1), "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.final, func(t *testing.T) {
			server, _ := NewScramServer(ScramSHA256, lookup)
			if _, _, err := server.Step([]byte(tt.first)); err != nil {
				t.Fatal(err)
			}
			final := strings.Replace(tt.final, "NONCE", server.nonce, 1)
			_, _, err := server.Step([]byte(final))
			if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want ErrAuthFailed mentioning %q", err, tt.err)
			}
		})
	}
}

func TestScramConversationEnds(t *testing.T) {
	server, _ := NewScramServer(ScramSHA256, testUsers(t, ScramSHA256, map[string]string{"alice": "wonderland"}))
	if err := converse(t, ScramSHA256, scram.Auth{User: "alice", Pass: "wonderland"}, server); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.Step([]byte("n,,n=alice,r=abc")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("step after success: err = %v", err)
	}
}

func TestNewScramServer(t *testing.T) {
	lookup := func(string) (Credential, bool) { return Credential{}, false }
	if _, err := NewScramServer("SCRAM-SHA-1", lookup); err == nil {
		t.Fatal("accepted SCRAM-SHA-1")
	}
	if _, err := NewScramServer(ScramSHA256, nil); err == nil {
		t.Fatal("accepted a nil lookup")
	}
}

func TestNewCredential(t *testing.T) {
	tests := []struct {
		mechanism  string
		password   string
		iterations int
		ok         bool
	}{
		{ScramSHA256, "pw", MinIterations, true},
		{ScramSHA512, "pw", MaxIterations, true},
		{"SCRAM-SHA-1", "pw", MinIterations, false},
		{ScramSHA256, "", MinIterations, false},
		{ScramSHA256, "pw", MinIterations - 1, false},
		{ScramSHA256, "pw", MaxIterations + 1, false},
	}
	for _, tt := range tests {
		c, err := NewCredential(tt.mechanism, tt.password, tt.iterations)
		if (err == nil) != tt.ok {
			t.Errorf("NewCredential(%q, %d): err = %v, want ok %v", tt.mechanism, tt.iterations, err, tt.ok)
			continue
		}
		if tt.ok && (!c.usableFor(tt.mechanism) || len(c.Salt) != saltLen) {
			t.Errorf("NewCredential(%q, %d) = unusable %+v", tt.mechanism, tt.iterations, c)
		}
	}
	a, _ := NewCredential(ScramSHA256, "pw", MinIterations)
	b, _ := NewCredential(ScramSHA256, "pw", MinIterations)
	if string(a.Salt) == string(b.Salt) || string(a.StoredKey) == string(b.StoredKey) {
		t.Fatal("two credentials for one password share a salt")
	}
}

func TestCredentialJSON(t *testing.T) {
	c, err := NewCredential(ScramSHA512, "pw", 8192)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["salt"] != base64.StdEncoding.EncodeToString(c.Salt) || fields["mechanism"] != ScramSHA512 || fields["iterations"] != 8192.0 {
		t.Fatalf("JSON = %s", data)
	}
	var back Credential
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip: %+v != %+v", back, c)
	}
}

// FuzzScramServer feeds arbitrary client messages to a server: it must
// never panic, and must never succeed without the password.
func FuzzScramServer(f *testing.F) {
	lookup := testUsers(f, ScramSHA256, map[string]string{"alice": "wonderland"})
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abc,p=AAAA"))
	f.Add([]byte("y,,n=al=2Cice,r=abc,ext=1"), []byte("c=eSws,r=abc,x=y,p="))
	f.Add([]byte("n,a=alice,n=alice,r=abc"), []byte("c=bixhPWFsaWNlLA==,r=abc,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	f.Add([]byte("p=x,,n=a,r=b"), []byte(""))
	f.Fuzz(func(t *testing.T, first, final []byte) {
		server, _ := NewScramServer(ScramSHA256, lookup)
		out, done, err := server.Step(first)
		if err != nil {
			return
		}
		if done || !strings.HasPrefix(string(out), "r=") {
			t.Fatalf("first step gave %q, done %v", out, done)
		}
		// Let the client know the server nonce, as a real one would.
		final = []byte(strings.ReplaceAll(string(final), "r=abc", "r="+server.nonce))
		if _, done, err := server.Step(final); err == nil || done {
			t.Fatalf("authenticated without the password: %q %q", first, final)
		}
	})
}
