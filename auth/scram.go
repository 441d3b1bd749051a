package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrAuthFailed is wrapped by every error a ScramServer returns. The text
// after it is safe to show the client: it never says whether the user
// exists, and never quotes a secret.
var ErrAuthFailed = errors.New("auth: authentication failed")

// errInvalidCredentials is the one answer for an unknown user and for a
// wrong password alike.
var errInvalidCredentials = fmt.Errorf("%w: invalid credentials", ErrAuthFailed)

// ScramServer is the server side of one SCRAM-SHA-256 or SCRAM-SHA-512
// conversation (RFC 5802, RFC 7677) as Kafka runs it: no channel binding,
// two client messages. It is not safe for concurrent use.
type ScramServer struct {
	mechanism string
	lookup    func(username string) (Credential, bool)
	step      int // 0: want client-first, 1: want client-final, 2: over

	first       clientFirst
	serverFirst string
	nonce       string // client nonce + server nonce
	cred        Credential
	known       bool // false: cred is a stand-in and the proof must fail
}

// NewScramServer starts a conversation for mechanism (ScramSHA256 or
// ScramSHA512). lookup returns the stored credential of a user; it must be
// safe to call from the goroutine that calls Step.
func NewScramServer(mechanism string, lookup func(username string) (Credential, bool)) (*ScramServer, error) {
	if scramHash(mechanism) == nil {
		return nil, fmt.Errorf("auth: unknown SCRAM mechanism %q", mechanism)
	}
	if lookup == nil {
		return nil, errors.New("auth: SCRAM server needs a credential lookup")
	}
	return &ScramServer{mechanism: mechanism, lookup: lookup}, nil
}

// Step consumes one client message and returns the server's reply. done is
// true once the client has proved its password; the reply then carries the
// server signature, which the client checks. Any error (wrapping
// ErrAuthFailed) ends the conversation.
func (s *ScramServer) Step(in []byte) (out []byte, done bool, err error) {
	switch s.step {
	case 0:
		out, err = s.clientFirst(string(in))
	case 1:
		out, err = s.clientFinal(string(in))
	default:
		return nil, false, fmt.Errorf("%w: conversation is over", ErrAuthFailed)
	}
	if err != nil {
		s.step = 2
		return nil, false, err
	}
	s.step++
	return out, s.step == 2, nil
}

// Username returns the user the client named in its first message; "" before
// it. The user is authenticated only once Step reports done.
func (s *ScramServer) Username() string {
	return s.first.username
}

// clientFirst answers the client-first-message with the server-first-message.
// An unknown user gets a stand-in credential, so that the reply and the work
// done look the same as for a real one.
func (s *ScramServer) clientFirst(msg string) ([]byte, error) {
	first, err := parseClientFirst(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed client-first message: %w", ErrAuthFailed, err)
	}
	s.first = first
	s.cred, s.known = s.lookup(first.username)
	if !s.known || !s.cred.usableFor(s.mechanism) {
		s.cred, s.known = standInCredential(s.mechanism, first.username), false
	}
	s.nonce = first.nonce + rand.Text()
	s.serverFirst = "r=" + s.nonce +
		",s=" + base64.StdEncoding.EncodeToString(s.cred.Salt) +
		",i=" + strconv.Itoa(s.cred.Iterations)
	return []byte(s.serverFirst), nil
}

// clientFinal checks the client-final-message's proof and answers with the
// server signature.
func (s *ScramServer) clientFinal(msg string) ([]byte, error) {
	final, err := parseClientFinal(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed client-final message: %w", ErrAuthFailed, err)
	}
	if string(final.channelBinding) != s.first.gs2Header {
		return nil, fmt.Errorf("%w: channel binding does not match the gs2 header", ErrAuthFailed)
	}
	// Kafka's broker only checks that the client's nonce ends with the
	// server's, and librdkafka depends on it: it sends its own nonce again
	// in front of the combined one. The server's random part still proves
	// the message is fresh.
	if !strings.HasSuffix(final.nonce, s.nonce) {
		return nil, fmt.Errorf("%w: nonce does not match", ErrAuthFailed)
	}
	h := scramHash(s.mechanism)
	authMessage := s.first.bare + "," + s.serverFirst + "," + final.withoutProof
	clientSignature := hmacSum(h, s.cred.StoredKey, authMessage)
	if len(final.proof) != len(clientSignature) {
		return nil, fmt.Errorf("%w: malformed client-final message: proof has the wrong length", ErrAuthFailed)
	}
	clientKey := make([]byte, len(clientSignature))
	subtle.XORBytes(clientKey, final.proof, clientSignature)
	storedKey := h()
	storedKey.Write(clientKey)
	match := subtle.ConstantTimeCompare(storedKey.Sum(nil), s.cred.StoredKey)
	if match != 1 || !s.known {
		return nil, errInvalidCredentials
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSum(h, s.cred.ServerKey, authMessage))), nil
}
