package backing

import (
	"maps"
	"testing"
)

func TestParseJAAS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{
			name: "plain",
			in:   `org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";`,
			want: map[string]string{"username": "alice", "password": "s3cret"},
		},
		{
			name: "scram with escapes and bare words",
			in:   `org.apache.kafka.common.security.scram.ScramLoginModule required username=bob password="a \"quoted\" pass" tokenauth=false;`,
			want: map[string]string{"username": "bob", "password": `a "quoted" pass`, "tokenauth": "false"},
		},
		{
			name: "no trailing semicolon, newlines",
			in:   "M required\n  username=\"u\"\n  password=\"p\"",
			want: map[string]string{"username": "u", "password": "p"},
		},
		{name: "empty", in: "", wantErr: true},
		{name: "missing flag", in: `M username="u"`, wantErr: true},
		{name: "unterminated quote", in: `M required username="u password="p";`, wantErr: true},
		{name: "not key value", in: `M required username;`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJAAS(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseJAASErrorsNeverEchoSecrets(t *testing.T) {
	_, err := ParseJAAS(`M required username="u" password="hunter2-very-secret`)
	if err == nil {
		t.Fatal("unterminated quote accepted")
	}
	for _, secret := range []string{"hunter2", "very-secret"} {
		if contains(err.Error(), secret) {
			t.Fatalf("error %q echoes the password", err)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
