package objstore_test

import (
	"path"
	"strings"
	"testing"

	"github.com/preconv/preconv/objstore"
)

// FuzzValidKey: an accepted key is a clean relative path that cannot escape
// the bucket root.
func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"features/0.0", ".preconv/chunks/3.json", "../x", "a//b", "/abs", "a/./b", `a\b`, "a\x00", "ok", "é/ü", ".zattrs", "x/.objstore-tmp-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if objstore.ValidKey(key) != nil {
			return
		}
		if path.Clean(key) != key || path.IsAbs(key) || strings.HasPrefix(key, "../") || key == ".." || strings.ContainsAny(key, "\\\x00") {
			t.Fatalf("ValidKey accepted %q", key)
		}
	})
}
