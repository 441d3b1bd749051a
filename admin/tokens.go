package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/identity"
)

// Credentials is what the token and SCRAM endpoints act on; the node's
// identity.Identity implements it.
type Credentials interface {
	IssueToken(vcluster, username string, lifetime time.Duration) (token, id string, expires time.Time, err error)
	RevokeToken(ctx context.Context, token, id string) error
	SetScram(ctx context.Context, vcluster, username, mechanism, password string, iterations int) error
	DeleteScram(ctx context.Context, vcluster, username, mechanism string) error
}

// WithCredentials enables the token and SCRAM credential endpoints.
func (a *API) WithCredentials(c Credentials) *API {
	a.creds = c
	return a
}

// credentialRoute serves the token and SCRAM endpoints; false when rest
// is not one of them.
func (a *API) credentialRoute(w http.ResponseWriter, r *http.Request, rest string) bool {
	var serve http.HandlerFunc
	switch {
	case rest == "token" && r.Method == http.MethodPost:
		serve = a.issueToken
	case rest == "token/revoke" && r.Method == http.MethodPost:
		serve = a.revokeToken
	case rest == "scram-credential" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		serve = a.scram
	case rest == "token" || rest == "token/revoke" || rest == "scram-credential":
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not supported on "+r.URL.Path)
		return true
	default:
		return false
	}
	if a.creds == nil {
		writeError(w, http.StatusConflict, "client authentication is not enabled on this gateway (GATEWAY_SECURITY_PROTOCOL)")
		return true
	}
	serve(w, r)
	return true
}

// tokenRequest is the body of POST /gateway/v2/token.
type tokenRequest struct {
	VCluster        string `json:"vCluster"`
	Username        string `json:"username"`
	LifeTimeSeconds int64  `json:"lifeTimeSeconds"`
}

// tokenResponse carries the token and its id, which revokes it.
type tokenResponse struct {
	Token     string    `json:"token"`
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (a *API) issueToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if !a.decode(w, r, &req) {
		return
	}
	token, id, expires, err := a.creds.IssueToken(req.VCluster, req.Username, time.Duration(req.LifeTimeSeconds)*time.Second)
	if err != nil {
		writeCredentialError(w, err)
		return
	}
	a.log.Info("token issued", zap.String("vcluster", req.VCluster), zap.String("username", req.Username),
		zap.String("tokenId", id), zap.Time("expires", expires), zap.String("by", caller(r)))
	a.changed(r, "ISSUED", audit.ResourceRef{Kind: "Token", Name: id}, nil, document(map[string]any{
		"vCluster": req.VCluster, "username": req.Username, "id": id, "expiresAt": expires,
	}))
	writeJSON(w, http.StatusOK, tokenResponse{Token: token, ID: id, ExpiresAt: expires})
}

// revokeRequest names a token by value or by id.
type revokeRequest struct {
	Token string `json:"token"`
	ID    string `json:"id"`
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	var req revokeRequest
	if !a.decode(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := a.creds.RevokeToken(ctx, req.Token, req.ID); err != nil {
		writeCredentialError(w, err)
		return
	}
	a.log.Info("token revoked", zap.String("tokenId", req.ID), zap.String("by", caller(r)))
	// A token revoked by its value is named by the redacted request.
	a.changed(r, "REVOKED", audit.ResourceRef{Kind: "Token", Name: req.ID}, document(req), nil)
	writeJSON(w, http.StatusOK, map[string]string{"result": "REVOKED"})
}

// scramRequest is the body of the SCRAM credential endpoints; the
// password only on PUT.
type scramRequest struct {
	VCluster   string `json:"vCluster"`
	Username   string `json:"username"`
	Mechanism  string `json:"mechanism"`
	Password   string `json:"password"`
	Iterations int    `json:"iterations"`
}

func (a *API) scram(w http.ResponseWriter, r *http.Request) {
	var req scramRequest
	if !a.decode(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	var err error
	result := "UPSERTED"
	if r.Method == http.MethodDelete {
		err, result = a.creds.DeleteScram(ctx, req.VCluster, req.Username, req.Mechanism), "DELETED"
	} else {
		err = a.creds.SetScram(ctx, req.VCluster, req.Username, req.Mechanism, req.Password, req.Iterations)
	}
	if err != nil {
		writeCredentialError(w, err)
		return
	}
	a.log.Info("scram credential changed", zap.String("vcluster", req.VCluster), zap.String("username", req.Username),
		zap.String("mechanism", req.Mechanism), zap.String("result", result), zap.String("by", caller(r)))
	ref := audit.ResourceRef{Kind: "ScramCredential", Name: req.VCluster + "/" + req.Username + "/" + req.Mechanism}
	if result == "DELETED" {
		a.changed(r, result, ref, nil, nil)
	} else {
		a.changed(r, result, ref, nil, document(req))
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": result})
}

// decode reads a JSON body strictly; it returns false when it wrote an
// error response.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := readBody(r)
	if err == nil {
		err = strictJSON(body, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid request body: "+err.Error())
		return false
	}
	return true
}

func writeCredentialError(w http.ResponseWriter, err error) {
	code := http.StatusServiceUnavailable
	switch {
	case errors.Is(err, identity.ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, identity.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, identity.ErrConflict):
		code = http.StatusConflict
	}
	writeError(w, code, err.Error())
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
