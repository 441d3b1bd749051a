// Package awstest runs real AWS KMS API servers for tests, on 127.0.0.1
// only: local-kms inside the test process, and moto as a child process.
package awstest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	lkms "github.com/nsmithuk/local-kms/src"
	lkmsconfig "github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"

	"github.com/strait-gateway/strait/encryption/kms/awskms"
)

// MotoInstall is how moto_server is installed: `make deps` puts it in
// the repository's Python virtualenv, which Moto looks in after PATH.
const MotoInstall = "make deps (or pip install 'moto[server]')"

// Test credentials: the servers accept any.
const (
	accessKey = "strait-test"
	secretKey = "strait-test-secret"
)

// Server is a running KMS API server.
type Server struct {
	Endpoint string      // base URL, http://127.0.0.1:<port>
	Region   string      // the region its keys are made in
	Client   *kms.Client // an SDK client of it, for setting up keys
}

// Config returns an awskms config that reaches the server.
func (s *Server) Config() *awskms.Config {
	return &awskms.Config{
		BasicCredentials: &awskms.BasicCredentials{AccessKey: accessKey, SecretKey: secretKey},
		Endpoint:         s.Endpoint,
	}
}

// CreateKey makes a symmetric encryption key and returns its ARN.
func (s *Server) CreateKey(t testing.TB) string {
	t.Helper()
	out, err := s.Client.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("awstest: create a key at %s: %v", s.Endpoint, err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// CreateAlias names keyARN alias/<name> and returns the alias ARN.
func (s *Server) CreateAlias(t testing.TB, keyARN, name string) string {
	t.Helper()
	_, err := s.Client.CreateAlias(context.Background(), &kms.CreateAliasInput{
		AliasName: aws.String("alias/" + name), TargetKeyId: aws.String(keyARN),
	})
	if err != nil {
		t.Fatalf("awstest: create alias %s at %s: %v", name, s.Endpoint, err)
	}
	prefix, _, ok := strings.Cut(keyARN, ":key/")
	if !ok {
		t.Fatalf("awstest: %q is not a key ARN", keyARN)
	}
	return prefix + ":alias/" + name
}

func newServer(endpoint, region string) *Server {
	return &Server{Endpoint: endpoint, Region: region, Client: kms.New(kms.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})}
}

// local-kms keeps its region and account in package variables, so every
// server of a process shares them.
var localKMSOnce sync.Once

// LocalKMS runs local-kms in the test process behind an httptest server
// and stops it when the test ends. Its keys are in region eu-west-2 and
// account 111122223333.
func LocalKMS(t testing.TB) *Server {
	t.Helper()
	localKMSOnce.Do(func() {
		lkmsconfig.AWSRegion, lkmsconfig.AWSAccountId = "eu-west-2", "111122223333"
	})
	db := data.NewDatabase(t.TempDir())
	t.Cleanup(db.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lkms.HandleRequest(w, r, db)
	}))
	t.Cleanup(srv.Close)
	return newServer(srv.URL, lkmsconfig.AWSRegion)
}

// Moto starts moto_server on a free port of 127.0.0.1 and stops it when
// the test ends. The test fails if moto_server is not installed.
func Moto(t testing.TB) *Server {
	t.Helper()
	bin, err := motoServer()
	if err != nil {
		t.Fatalf("awstest: moto_server is neither on PATH nor in the repository's .cache/venv; install it with: %s", MotoInstall)
	}
	port := freePort(t)
	var out bytes.Buffer
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("awstest: start moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	s := newServer("http://127.0.0.1:"+strconv.Itoa(port), "us-east-1")
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.Client.ListKeys(ctx, &kms.ListKeysInput{})
		cancel()
		if err == nil {
			return s
		}
		select {
		case werr := <-exited:
			exited <- werr // for the cleanup
			t.Fatalf("awstest: moto_server exited (%v):\n%s", werr, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("awstest: moto_server did not answer on port %d: %v", port, err)
		}
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("awstest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// motoServer finds moto_server on PATH or in the virtualenv at
// .cache/venv of the module the test runs in.
func motoServer() (string, error) {
	if bin, err := exec.LookPath("moto_server"); err == nil {
		return bin, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return exec.LookPath(filepath.Join(dir, ".cache", "venv", "bin", "moto_server"))
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", os.ErrNotExist
		}
		dir = up
	}
}
