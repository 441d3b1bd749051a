package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/strait-gateway/strait/resource"
)

// defaultURL is the admin API of a node on this machine with the default
// GATEWAY_HTTP_PORT.
const defaultURL = "http://localhost:8888"

// conn holds the connection flags every command takes. Empty flags fall
// back to the environment after parsing, so that -h never prints a
// password taken from it.
type conn struct {
	url, user, password string
	timeout             time.Duration
}

func (c *conn) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", "", "admin API `URL` (default $STRAIT_URL, else "+defaultURL+")")
	fs.StringVar(&c.user, "user", "", "admin API user (default $STRAIT_USER)")
	fs.StringVar(&c.password, "password", "", "admin API password (default $STRAIT_PASSWORD, the safer place for it)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long each request may take")
}

// client calls one node's admin API.
type client struct {
	base    string // the API's URL, without a trailing slash
	shown   string // base with any password redacted, for messages
	user    string
	pass    string
	userSrc string // where user and pass came from, for messages
	passSrc string
	http    *http.Client
}

// client builds the client from the flags and, where they are empty, the
// environment.
func (s *session) client(cmd string, c conn) (*client, error) {
	setting := func(flagValue, flagName, envName string) (string, string) {
		if flagValue != "" {
			return flagValue, "--" + flagName
		}
		v, _ := s.env(envName)
		return v, envName
	}
	base, _ := setting(c.url, "url", "STRAIT_URL")
	if base == "" {
		base = defaultURL
	}
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef(cmd, "admin API URL %q: expect http://HOST:PORT or https://HOST:PORT", base)
	}
	cl := &client{base: strings.TrimRight(u.String(), "/"), shown: strings.TrimRight(u.Redacted(), "/"),
		http: &http.Client{Timeout: c.timeout}}
	cl.user, cl.userSrc = setting(c.user, "user", "STRAIT_USER")
	cl.pass, cl.passSrc = setting(c.password, "password", "STRAIT_PASSWORD")
	return cl, nil
}

// apiError is an error answer of the admin API.
type apiError struct {
	Status int    `json:"-"`
	Title  string `json:"title"`
	Msg    string `json:"msg"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("the admin API answered %d %s: %s", e.Status, e.Title, e.Msg)
}

// statusOf returns the HTTP status of an apiError in err's chain, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// call sends one request to the endpoint of kind (and name, if not empty)
// and decodes the JSON answer into out, unless out is nil.
func (c *client) call(method, kind, name string, query url.Values, body []byte, out any) error {
	target := c.base + "/gateway/v2/" + resource.PathForKind(kind)
	if name != "" {
		target += "/" + url.PathEscape(name)
	}
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return fmt.Errorf("cannot reach the admin API at %s (set --url or STRAIT_URL): %w", c.shown, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of the admin API at %s: %w", c.shown, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && c.user == "":
		return fmt.Errorf("the admin API at %s requires credentials (401 Unauthorized): set --user and --password, or STRAIT_USER and STRAIT_PASSWORD", c.shown)
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("the admin API at %s refused user %q (from %s) with the password from %s (401 Unauthorized): check both",
			c.shown, c.user, c.userSrc, c.passSrc)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("user %q may only read (403 Forbidden): apply and delete need an admin user, one with \"admin\": true in the node's GATEWAY_ADMIN_API_USERS", c.user)
	case resp.StatusCode >= 300:
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Msg == "" {
			e.Title, e.Msg = http.StatusText(resp.StatusCode), strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the answer of %s is not the admin API's JSON; is --url a Strait node? %w", c.shown, err)
	}
	return nil
}
