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

// FuzzValidStorePath: an accepted pushed-file path stays inside the store
// (relative, clean, no "..") and, under .preconv, is a chunk index entry.
func FuzzValidStorePath(f *testing.F) {
	for _, s := range []string{".zattrs", "features/0.0.0.0", ".preconv/chunks/3.json", ".preconv/chunks/03.json", ".preconv/lock",
		".preconv/old/ab.json", "../x", "a/../b", "/abs", "C:/x", "a\\b", "features/.tmp-1", "x/.preconv/chunks/1.json", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !ValidStorePath(p) {
			return
		}
		rel := filepath.FromSlash(p)
		if filepath.IsAbs(rel) || filepath.Clean(rel) != rel || strings.HasPrefix(p, "../") || p == ".." {
			t.Fatalf("%q accepted", p)
		}
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if s == ".." || s == "." || s == "" || strings.HasPrefix(s, ".tmp-") || (s == ".preconv" && i != 0) {
				t.Fatalf("%q accepted", p)
			}
		}
		if segs[0] == ".preconv" && (len(segs) != 3 || segs[1] != "chunks" || !strings.HasSuffix(segs[2], ".json")) {
			t.Fatalf("%q accepted inside .preconv", p)
		}
	})
}

// FuzzCommitBody: any commit body decodes and validates to a Manifest of
// valid paths and hashes, or gives a 4xx error; never a panic.
func FuzzCommitBody(f *testing.F) {
	h := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{"files":[{"path":".zattrs","sha256":"` + h + `","size":3},{"path":".zgroup","sha256":"` + h + `","size":3}],"pushed_by":"a"}`,
		`{"files":[{"path":"../x","sha256":"` + h + `","size":3}]}`, `{"files":[]}`, `{"files":null,"parent":"x"}`,
		`{"files":[{"path":".zattrs","sha256":"` + h + `","size":-1}]}`, `{}`, `[]`, `{"files":[{"path":".zattrs"}]} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Manifest
		err := decodeJSON(strings.NewReader(string(data)), &m)
		if err == nil {
			err = checkManifest(&m)
		}
		if err != nil {
			if c := statusOf(err); c < 400 || c >= 500 {
				t.Fatalf("%q: status %d for %v", data, c, err)
			}
			return
		}
		for _, e := range m.Files {
			if !ValidStorePath(e.Path) || !validSHA(e.SHA256) || e.Size < 0 {
				t.Fatalf("accepted entry %+v", e)
			}
		}
	})
}

// FuzzFilesJSON: storesync's files.json of a store under a bucket root
// parses into a sorted Manifest of valid store paths that describes the
// given .zattrs, or fails with an error; never a panic.
func FuzzFilesJSON(f *testing.F) {
	z := `{"preconv":{}}`
	zs := sha(z)
	h := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{".zattrs":{"size":14,"sha256":"` + zs + `"},"features/0.0.0.0":{"size":3,"sha256":"` + h + `"}}`,
		`{".zattrs":{"size":14,"sha256":"` + h + `"}}`, `{".zattrs":{"size":-1,"sha256":"` + zs + `"}}`,
		`{".zattrs":{"size":14,"sha256":"` + zs + `"},"../x":{"size":3,"sha256":"` + h + `"}}`,
		`{".zattrs":{"size":14,"sha256":"` + zs + `"},".preconv/files.json":{"size":3,"sha256":"` + h + `"}}`,
		`{}`, `[]`, `null`, `{".zattrs":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseFilesJSON("s", []byte(z), data)
		if err != nil {
			return
		}
		seenZattrs := false
		for i, e := range m.Files {
			if !ValidStorePath(e.Path) || !validSHA(e.SHA256) || e.Size < 0 || i > 0 && m.Files[i-1].Path >= e.Path {
				t.Fatalf("accepted entry %+v", e)
			}
			seenZattrs = seenZattrs || e.Path == ".zattrs" && e.SHA256 == zs
		}
		if !seenZattrs || m.Version != VersionOf(m.Files) {
			t.Fatalf("manifest %+v does not describe the .zattrs", m)
		}
	})
}
