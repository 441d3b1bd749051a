package admin

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
)

// User is an admin API account, as listed in GATEWAY_ADMIN_API_USERS.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Admin users may change resources; others may only read them.
	Admin bool `json:"admin"`
}

// ParseUsers reads GATEWAY_ADMIN_API_USERS, a JSON list of users.
func ParseUsers(s string) ([]User, error) {
	var users []User
	if err := json.Unmarshal([]byte(s), &users); err != nil {
		return nil, fmt.Errorf("admin: GATEWAY_ADMIN_API_USERS: expect a JSON list of {username, password, admin}: %w", err)
	}
	seen := map[string]bool{}
	for i, u := range users {
		switch {
		case u.Username == "":
			return nil, fmt.Errorf("admin: GATEWAY_ADMIN_API_USERS[%d]: username is empty", i)
		case len(u.Password) < 8:
			return nil, fmt.Errorf("admin: GATEWAY_ADMIN_API_USERS[%d] (%s): password shorter than 8 characters", i, u.Username)
		case seen[u.Username]:
			return nil, fmt.Errorf("admin: GATEWAY_ADMIN_API_USERS[%d]: username %s listed twice", i, u.Username)
		}
		seen[u.Username] = true
	}
	return users, nil
}

// authenticate returns the user whose Basic credentials the request carries.
func (a *API) authenticate(r *http.Request) (User, bool) {
	name, pass, ok := r.BasicAuth()
	if !ok {
		return User{}, false
	}
	var found User
	match := 0
	for _, u := range a.users {
		// Compare every entry in constant time so timing does not reveal
		// which usernames exist.
		n := subtle.ConstantTimeCompare([]byte(u.Username), []byte(name))
		p := subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass))
		if n&p == 1 {
			found, match = u, 1
		}
	}
	return found, match == 1
}
