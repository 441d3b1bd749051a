package awskms

import (
	"context"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	basic := &BasicCredentials{AccessKey: "AKIA", SecretKey: "s3cret"}
	session := &SessionCredentials{AccessKey: "ASIA", SecretKey: "s3cret", SessionToken: "tok"}
	for _, tc := range []struct {
		name string
		cfg  *Config
		want string // error substring; "" for valid
	}{
		{"nil", nil, ""},
		{"default chain", &Config{}, ""},
		{"basic", &Config{BasicCredentials: basic}, ""},
		{"session", &Config{SessionCredentials: session}, ""},
		{"endpoint and region", &Config{Endpoint: "https://vpce-1.kms.eu-west-1.vpce.amazonaws.com", Region: "eu-west-1"}, ""},
		{"http endpoint", &Config{Endpoint: "http://127.0.0.1:4599"}, ""},
		{"gov region", &Config{Region: "us-gov-west-1"}, ""},
		{"both credentials", &Config{BasicCredentials: basic, SessionCredentials: session}, "basicCredentials, sessionCredentials: set at most one"},
		{"basic no access key", &Config{BasicCredentials: &BasicCredentials{SecretKey: "s"}}, "basicCredentials.accessKey: required"},
		{"basic no secret key", &Config{BasicCredentials: &BasicCredentials{AccessKey: "a"}}, "basicCredentials.secretKey: required"},
		{"session no access key", &Config{SessionCredentials: &SessionCredentials{SecretKey: "s", SessionToken: "t"}}, "sessionCredentials.accessKey: required"},
		{"session no secret key", &Config{SessionCredentials: &SessionCredentials{AccessKey: "a", SessionToken: "t"}}, "sessionCredentials.secretKey: required"},
		{"session no token", &Config{SessionCredentials: &SessionCredentials{AccessKey: "a", SecretKey: "s"}}, "sessionCredentials.sessionToken: required"},
		{"endpoint scheme", &Config{Endpoint: "ftp://kms.example"}, "endpoint: "},
		{"endpoint no host", &Config{Endpoint: "https://"}, "endpoint: "},
		{"endpoint bare host", &Config{Endpoint: "kms.eu-west-1.amazonaws.com"}, "endpoint: "},
		{"endpoint bad URL", &Config{Endpoint: "http://[::1"}, "endpoint: "},
		{"region upper case", &Config{Region: "EU-WEST-1"}, "region: "},
		{"region one word", &Config{Region: "europe"}, "region: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Fatalf("error %q holds a secret", err)
			}
			if _, nerr := New(tc.cfg); (nerr == nil) != (err == nil) {
				t.Fatalf("New: %v, Check: %v", nerr, err)
			}
		})
	}
}

func TestCheckKeyID(t *testing.T) {
	for _, tc := range []struct {
		id, region string // region "" when id is invalid
	}{
		{"arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-2"},
		{"arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", "us-east-1"},
		{"arn:aws:kms:us-east-1:123456789012:alias/orders", "us-east-1"},
		{"arn:aws:kms:us-east-1:123456789012:alias/team/orders_key-1", "us-east-1"},
		{"arn:aws-cn:kms:cn-north-1:123456789012:alias/orders", "cn-north-1"},
		{"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc", "us-gov-west-1"},
		{"", ""},
		{"1234abcd-12ab-34cd-56ef-1234567890ab", ""},
		{"alias/orders", ""},
		{"aws-kms://arn:aws:kms:us-east-1:123456789012:alias/orders", ""},
		{"arn:aws:s3:us-east-1:123456789012:key/abc", ""},
		{"arn:aws:kms::123456789012:key/abc", ""},
		{"arn:aws:kms:us-east-1:12345:key/abc", ""},
		{"arn:aws:kms:us-east-1:123456789012:key/", ""},
		{"arn:aws:kms:us-east-1:123456789012:alias/", ""},
		{"arn:aws:kms:us-east-1:123456789012:grant/abc", ""},
		{"arn:aws:kms:us-east-1:123456789012:key/abc def", ""},
		{"arn:aws:kms:us-east-1:123456789012:key/abc\n", ""},
		{"arn:gcp:kms:us-east-1:123456789012:key/abc", ""},
	} {
		err := CheckKeyID(tc.id)
		if (err == nil) != (tc.region != "") {
			t.Errorf("CheckKeyID(%q) = %v", tc.id, err)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "not a KMS key ARN") {
			t.Errorf("CheckKeyID(%q) = %v, want a message saying what is expected", tc.id, err)
		}
		if region, _ := keyRegion(tc.id); region != tc.region {
			t.Errorf("keyRegion(%q) = %q, want %q", tc.id, region, tc.region)
		}
	}
}

// FuzzCheckKeyID checks that every accepted id is a KMS ARN with a region
// in it.
func FuzzCheckKeyID(f *testing.F) {
	f.Add("arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
	f.Add("arn:aws:kms:us-east-1:123456789012:alias/orders")
	f.Add("alias/orders")
	f.Fuzz(func(t *testing.T, id string) {
		region, err := keyRegion(id)
		if (err == nil) != (CheckKeyID(id) == nil) {
			t.Fatalf("keyRegion and CheckKeyID disagree on %q", id)
		}
		if err != nil {
			return
		}
		parts := strings.SplitN(id, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[3] != region || region == "" {
			t.Fatalf("accepted %q with region %q", id, region)
		}
	})
}

func TestClientPerRegion(t *testing.T) {
	ctx := context.Background()
	k, err := New(&Config{BasicCredentials: &BasicCredentials{AccessKey: "a", SecretKey: "b"}, Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	west1, err := k.client(ctx, "arn:aws:kms:eu-west-1:123456789012:key/a")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := k.client(ctx, "arn:aws:kms:eu-west-1:123456789012:alias/b")
	east, _ := k.client(ctx, "arn:aws:kms:us-east-1:123456789012:key/a")
	if west1 != again || west1 == east {
		t.Fatal("want one client per region")
	}
	if got := west1.Options().Region; got != "eu-west-1" {
		t.Fatalf("client region %q, want eu-west-1", got)
	}
	if got := *west1.Options().BaseEndpoint; got != "http://127.0.0.1:1" {
		t.Fatalf("client endpoint %q", got)
	}

	k, _ = New(&Config{BasicCredentials: &BasicCredentials{AccessKey: "a", SecretKey: "b"}, Region: "eu-central-1"})
	fixed, _ := k.client(ctx, "arn:aws:kms:us-east-1:123456789012:key/a")
	if got := fixed.Options().Region; got != "eu-central-1" {
		t.Fatalf("client region %q, want the configured eu-central-1", got)
	}
	if _, err := k.client(ctx, "alias/x"); err == nil || !strings.HasPrefix(err.Error(), "awskms: ") {
		t.Fatalf("client of a bad key id: %v", err)
	}
}
