package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Scope is a set of permissions granted to a token.
type Scope uint8

const (
	// ScopeRead allows every GET route.
	ScopeRead Scope = 1 << iota
	// ScopeWrite is reserved for the push API.
	ScopeWrite
)

// Has reports whether s includes all of want.
func (s Scope) Has(want Scope) bool { return s&want == want }

// maxTokenFile bounds the token file read by LoadTokens.
const maxTokenFile = 1 << 20

// minTokenLen is the shortest token LoadTokens accepts.
const minTokenLen = 8

type tokenFile struct {
	Tokens []struct {
		Token  string   `json:"token"`
		Scopes []string `json:"scopes"`
		Name   string   `json:"name"`
	} `json:"tokens"`
}

// LoadTokens reads a token file
//
//	{"tokens":[{"token":"…","scopes":["read","write"],"name":"team-a"}]}
//
// and returns token → scopes. Unknown fields or scopes, empty, short (< 8
// bytes) or duplicate tokens, and files over 1 MiB are ErrConfig errors
// naming the file.
func LoadTokens(path string) (map[string]Scope, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: tokens %s: %v", ErrConfig, path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: tokens %s: %v", ErrConfig, path, err)
	}
	if len(data) > maxTokenFile {
		return nil, fmt.Errorf("%w: tokens %s: larger than %d bytes", ErrConfig, path, maxTokenFile)
	}
	var tf tokenFile
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&tf); err != nil {
		return nil, fmt.Errorf("%w: tokens %s: %v", ErrConfig, path, err)
	}
	out := make(map[string]Scope, len(tf.Tokens))
	for i, t := range tf.Tokens {
		if len(t.Token) < minTokenLen || strings.ContainsAny(t.Token, " \t\r\n") {
			return nil, fmt.Errorf("%w: tokens %s: entry %d (%q): token must be at least %d bytes without whitespace", ErrConfig, path, i, t.Name, minTokenLen)
		}
		if _, dup := out[t.Token]; dup {
			return nil, fmt.Errorf("%w: tokens %s: entry %d (%q): duplicate token", ErrConfig, path, i, t.Name)
		}
		var sc Scope
		for _, s := range t.Scopes {
			switch s {
			case "read":
				sc |= ScopeRead
			case "write":
				sc |= ScopeWrite
			default:
				return nil, fmt.Errorf("%w: tokens %s: entry %d (%q): unknown scope %q (want read or write)", ErrConfig, path, i, t.Name, s)
			}
		}
		out[t.Token] = sc
	}
	return out, nil
}

// tokenEntry is a token stored by hash for constant-time comparison.
type tokenEntry struct {
	hash  [sha256.Size]byte
	scope Scope
}

// authorize checks r's bearer token for want.
func (s *Server) authorize(r *http.Request, want Scope) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		if want == ScopeRead && s.cfg.AnonymousRead {
			return nil
		}
		return fmt.Errorf("%w: bearer token required", ErrUnauthorized)
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return fmt.Errorf("%w: Authorization must be \"Bearer TOKEN\"", ErrUnauthorized)
	}
	sum := sha256.Sum256([]byte(tok))
	found := false
	var sc Scope
	for _, e := range s.tokens { // no early exit: constant time in the token
		if subtle.ConstantTimeCompare(sum[:], e.hash[:]) == 1 {
			found, sc = true, e.scope
		}
	}
	if !found {
		return fmt.Errorf("%w: unknown token", ErrUnauthorized)
	}
	if !sc.Has(want) {
		return fmt.Errorf("%w: token lacks the %s scope", ErrForbidden, scopeName(want))
	}
	return nil
}

func scopeName(s Scope) string {
	if s == ScopeWrite {
		return "write"
	}
	return "read"
}
