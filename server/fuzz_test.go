package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCleanKey: any accepted key is relative, has no "."/".."/empty
// segments, and never reaches .preconv or temp files.
func FuzzCleanKey(f *testing.F) {
	for _, s := range []string{".zgroup", "features/c.0.0.0", "../x", "a/../../b", "/etc/passwd", ".preconv/lock",
		"a//b", "a\\b", "features/.tmp-x", "%2e%2e", "x/./y", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		rel, err := cleanKey(key)
		if err != nil {
			if !errors.Is(err, ErrBadPath) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("%q: unexpected error %v", key, err)
			}
			return
		}
		if filepath.IsAbs(rel) || filepath.Clean(rel) != rel || rel == ".." || strings.HasPrefix(rel, "..") && (len(rel) == 2 || rel[2] == filepath.Separator) {
			t.Fatalf("%q accepted as %q", key, rel)
		}
		for _, seg := range strings.Split(rel, string(filepath.Separator)) {
			if seg == ".preconv" || strings.HasPrefix(seg, ".tmp-") || seg == ".." {
				t.Fatalf("%q accepted as %q", key, rel)
			}
		}
	})
}

// FuzzLoadTokens: arbitrary token files give a map or an ErrConfig error
// naming the file, never a panic.
func FuzzLoadTokens(f *testing.F) {
	for _, s := range []string{`{"tokens":[{"token":"aaaaaaaaaa","scopes":["read"],"name":"a"}]}`, `{"tokens":[]}`,
		`{"tokens":[{"token":"aaaaaaaaaa","scopes":["write","read"]}]}`, `{"tokens":null}`, `[]`, ``, `{"tokens":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "tokens.json")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := LoadTokens(p)
		if err != nil {
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v: want ErrConfig naming %s", err, p)
			}
			return
		}
		for tok, sc := range m {
			if len(tok) < minTokenLen || sc&^(ScopeRead|ScopeWrite) != 0 {
				t.Fatalf("accepted token %q scope %d", tok, sc)
			}
		}
	})
}
