package auth

import (
	"strings"
	"testing"
)

func TestParsePlain(t *testing.T) {
	long := strings.Repeat("n", maxPlainName)
	longPass := strings.Repeat("p", maxPlainPassword)
	tests := []struct {
		name                        string
		msg                         string
		authzid, username, password string
		err                         string
	}{
		{"no authzid", "\x00alice\x00s3cret", "", "alice", "s3cret", ""},
		{"authzid", "admin\x00alice\x00s3cret", "admin", "alice", "s3cret", ""},
		{"utf-8", "\x00zoë\x00pässwörd", "", "zoë", "pässwörd", ""},
		{"longest", long + "\x00" + long + "\x00" + longPass, long, long, longPass, ""},
		{"empty", "", "", "", "", "separated by NUL"},
		{"one NUL", "alice\x00s3cret", "", "", "", "separated by NUL"},
		{"three NULs", "\x00alice\x00s3c\x00ret", "", "", "", "separated by NUL"},
		{"empty username", "\x00\x00s3cret", "", "", "", "empty username"},
		{"empty password", "\x00alice\x00", "", "", "", "empty password"},
		{"long authzid", long + "n\x00alice\x00s3cret", "", "", "", "authzid longer than 255"},
		{"long username", "\x00" + long + "n\x00s3cret", "", "", "", "username longer than 255"},
		{"long password", "\x00alice\x00" + longPass + "p", "", "", "", "password longer than 16384"},
		{"way too long", strings.Repeat("x", 1<<20), "", "", "", "too long"},
		{"bad utf-8 username", "\x00al\xffice\x00s3cret", "", "", "", "username is not UTF-8"},
		{"bad utf-8 password", "\x00alice\x00s3\xc3", "", "", "", "password is not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authzid, username, password, err := ParsePlain([]byte(tt.msg))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "s3") {
					t.Fatalf("err %q shows the password", err)
				}
				if authzid != "" || username != "" || password != "" {
					t.Fatal("returned fields with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if authzid != tt.authzid || username != tt.username || password != tt.password {
				t.Fatalf("got %q %q %q", authzid, username, password)
			}
		})
	}
}

// FuzzParsePlain checks that ParsePlain never panics and that whatever it
// accepts is well formed and joins back into the message.
func FuzzParsePlain(f *testing.F) {
	f.Add([]byte("\x00alice\x00s3cret"))
	f.Add([]byte("admin\x00alice\x00s3cret"))
	f.Add([]byte("\x00\x00"))
	f.Add([]byte("\x00a\x00\xff"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		authzid, username, password, err := ParsePlain(msg)
		if err != nil {
			return
		}
		if username == "" || password == "" || len(authzid) > maxPlainName || len(username) > maxPlainName || len(password) > maxPlainPassword {
			t.Fatalf("accepted %q %q %q", authzid, username, password)
		}
		if got := authzid + "\x00" + username + "\x00" + password; got != string(msg) {
			t.Fatalf("round trip: %q != %q", got, msg)
		}
	})
}
