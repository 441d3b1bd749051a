package vaulttest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// call sends one request to the fake and returns the status and the
// decoded answer.
func call(t *testing.T, s *Server, method, path, token, namespace, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/v1/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	if namespace != "" {
		req.Header.Set("X-Vault-Namespace", namespace)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer %q is not JSON", method, path, b)
	}
	return resp.StatusCode, out
}

// field returns answer[section][name] as a string.
func field(answer map[string]any, section, name string) string {
	m, _ := answer[section].(map[string]any)
	v, _ := m[name].(string)
	return v
}

func TestTransitAPI(t *testing.T) {
	s := Start(t)
	tok := s.Token
	b64 := func(p string) string { return base64.StdEncoding.EncodeToString([]byte(p)) }

	code, a := call(t, s, "POST", "transit/keys/k", tok, "", "")
	if code != 200 || a["data"].(map[string]any)["latest_version"] != 1.0 {
		t.Fatalf("create: %d %v", code, a)
	}
	_, a = call(t, s, "PUT", "transit/encrypt/k", tok, "", `{"plaintext":"`+b64("hello")+`"}`)
	v1 := field(a, "data", "ciphertext")
	if !strings.HasPrefix(v1, "vault:v1:") || strings.Contains(v1, b64("hello")) {
		t.Fatalf("encrypt v1: %v", a)
	}
	code, a = call(t, s, "POST", "transit/keys/k/rotate", tok, "", "")
	if code != 200 || a["data"].(map[string]any)["latest_version"] != 2.0 {
		t.Fatalf("rotate: %d %v", code, a)
	}
	_, a = call(t, s, "POST", "transit/encrypt/k", tok, "", `{"plaintext":"`+b64("world")+`"}`)
	v2 := field(a, "data", "ciphertext")
	if !strings.HasPrefix(v2, "vault:v2:") || a["data"].(map[string]any)["key_version"] != 2.0 {
		t.Fatalf("encrypt v2: %v", a)
	}
	for ct, want := range map[string]string{v1: "hello", v2: "world"} {
		code, a = call(t, s, "POST", "transit/decrypt/k", tok, "", `{"ciphertext":"`+ct+`"}`)
		if code != 200 || field(a, "data", "plaintext") != b64(want) {
			t.Fatalf("decrypt %s: %d %v", ct, code, a)
		}
	}
	// Encrypting with a missing key creates it.
	_, a = call(t, s, "POST", "transit/encrypt/fresh", tok, "", `{"plaintext":""}`)
	if !strings.HasPrefix(field(a, "data", "ciphertext"), "vault:v1:") {
		t.Fatalf("upsert: %v", a)
	}

	for _, tc := range []struct {
		name, method, path, token, namespace, body string
		code                                       int
		msg                                        string
	}{
		{"no token", "POST", "transit/encrypt/k", "", "", `{"plaintext":""}`, 403, "permission denied"},
		{"wrong token", "POST", "transit/encrypt/k", "nope", "", `{"plaintext":""}`, 403, "permission denied"},
		{"not base64", "POST", "transit/encrypt/k", tok, "", `{"plaintext":"***"}`, 400, "failed to base64-decode plaintext"},
		{"no plaintext", "POST", "transit/encrypt/k", tok, "", `{}`, 400, "missing plaintext"},
		{"bad JSON", "POST", "transit/encrypt/k", tok, "", `{`, 400, "failed to parse JSON"},
		{"missing key", "POST", "transit/decrypt/none", tok, "", `{"ciphertext":"` + v1 + `"}`, 400, "encryption key not found"},
		{"other namespace", "POST", "transit/decrypt/k", tok, "ns1", `{"ciphertext":"` + v1 + `"}`, 400, "encryption key not found"},
		{"no prefix", "POST", "transit/decrypt/k", tok, "", `{"ciphertext":"abc"}`, 400, "invalid ciphertext: no prefix"},
		{"future version", "POST", "transit/decrypt/k", tok, "", `{"ciphertext":"vault:v9:` + v1[9:] + `"}`, 400, "invalid key version"},
		{"wrong version", "POST", "transit/decrypt/k", tok, "", `{"ciphertext":"` + "vault:v2:" + v1[9:] + `"}`, 400, "message authentication failed"},
		{"bad base64", "POST", "transit/decrypt/k", tok, "", `{"ciphertext":"vault:v1:***"}`, 400, "invalid ciphertext"},
		{"rotate missing", "POST", "transit/keys/none/rotate", tok, "", ``, 400, "encryption key not found"},
		{"other key type", "POST", "transit/keys/r", tok, "", `{"type":"rsa-2048"}`, 400, "aes256-gcm96"},
		{"unknown mount", "POST", "kv/encrypt/k", tok, "", `{}`, 404, "no handler for route"},
		{"unknown op", "POST", "transit/sign/k", tok, "", `{}`, 404, "unsupported path"},
		{"read", "GET", "transit/keys/k", tok, "", ``, 405, "unsupported operation"},
		{"no role", "POST", "auth/approle/login", "", "", `{"role_id":"x","secret_id":"y"}`, 400, "invalid role ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, a := call(t, s, tc.method, tc.path, tc.token, tc.namespace, tc.body)
			errs, _ := a["errors"].([]any)
			if code != tc.code || len(errs) != 1 || !strings.Contains(errs[0].(string), tc.msg) {
				t.Fatalf("got %d %v, want %d with %q", code, a, tc.code, tc.msg)
			}
		})
	}
}

func TestAppRoleAndFailures(t *testing.T) {
	s := Start(t)
	s.AddAppRole("approle", "r", "sec", time.Second)
	code, a := call(t, s, "POST", "auth/approle/login", "", "", `{"role_id":"r","secret_id":"sec"}`)
	tok := field(a, "auth", "client_token")
	if code != 200 || tok == "" || a["auth"].(map[string]any)["lease_duration"] != 1.0 || s.Logins() != 1 {
		t.Fatalf("login: %d %v", code, a)
	}
	if code, _ := call(t, s, "POST", "transit/encrypt/k", tok, "", `{"plaintext":""}`); code != 200 {
		t.Fatalf("with the issued token: %d", code)
	}
	if code, _ := call(t, s, "POST", "auth/approle/login", "", "", `{"role_id":"r","secret_id":"bad"}`); code != 400 {
		t.Fatalf("bad secret: %d", code)
	}
	s.RevokeTokens()
	if code, _ := call(t, s, "POST", "transit/encrypt/k", tok, "", `{"plaintext":""}`); code != 403 || s.Denied() != 1 {
		t.Fatalf("revoked token: %d, %d denied", code, s.Denied())
	}
	_, a = call(t, s, "POST", "auth/approle/login", "", "", `{"role_id":"r","secret_id":"sec"}`)
	tok = field(a, "auth", "client_token")
	time.Sleep(1100 * time.Millisecond)
	if code, _ := call(t, s, "POST", "transit/encrypt/k", tok, "", `{"plaintext":""}`); code != 403 {
		t.Fatalf("expired token: %d", code)
	}

	s.SetUnavailable(true)
	if code, a := call(t, s, "POST", "transit/encrypt/k", s.Token, "", `{"plaintext":""}`); code != 503 || a["errors"] == nil {
		t.Fatalf("unavailable: %d %v", code, a)
	}
	s.SetUnavailable(false)
	s.SetStalled(true)
	c := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := c.Post(s.URL+"/v1/transit/encrypt/k", "application/json", strings.NewReader(`{}`)); err == nil {
		t.Fatal("stalled server answered")
	}
	s.Close()
	if _, err := http.Post(s.URL+"/v1/transit/encrypt/k", "application/json", strings.NewReader(`{}`)); err == nil {
		t.Fatal("closed server answered")
	}
}

func FuzzDecrypt(f *testing.F) {
	k := newKey()
	ct, _ := k.encrypt([]byte("seed"))
	f.Add(ct)
	f.Add("vault:v1:")
	f.Add("vault:v-1:AAAA")
	f.Fuzz(func(t *testing.T, ct string) {
		if pt, err := k.decrypt(ct); err == nil {
			again, _ := k.encrypt(pt)
			if back, err := k.decrypt(again); err != nil || string(back) != string(pt) {
				t.Fatalf("re-encrypting %q does not round-trip", pt)
			}
		}
	})
}
