package storesync

import (
	"strings"
	"testing"
)

// FuzzManifest: parseManifest never panics, and what it accepts names only
// store files with sane sizes and hashes.
func FuzzManifest(f *testing.F) {
	h := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{".zattrs":{"size":10,"sha256":"` + h + `"},"features/0.0":{"size":5,"sha256":"` + h + `"}}`,
		`{".zattrs":{"size":-1,"sha256":"` + h + `"}}`,
		`{"../x":{"size":1,"sha256":"` + h + `"}}`,
		`{".zattrs":{"size":1,"sha256":"XYZ"}}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data, "fuzz")
		if err != nil {
			return
		}
		if _, ok := m[zattrsKey]; !ok {
			t.Fatal("accepted a manifest without .zattrs")
		}
		for k, e := range m {
			if !isStoreFile(k) || e.Size < 0 || e.Size > maxFileBytes || !validSHA(e.SHA256) {
				t.Fatalf("accepted entry %q %+v", k, e)
			}
		}
	})
}

func TestIsStoreFile(t *testing.T) {
	for rel, want := range map[string]bool{
		".zattrs": true, ".zgroup": true, "records.jsonl": true, "features/0.0": true, "features/.zarray": true,
		"labels/0": true, "keys/.zarray": true, ".preconv/chunks/12.json": true,
		".preconv/lock": false, ".preconv/old/ab.json": false, ".preconv/files.json": false,
		"features/.tmp-0.0-123": false, "README": false, "features": false, "../features/0": false,
		".preconv/chunks/x/1.json": false, ".preconv/shards/0-of-2/.zattrs": false,
	} {
		if got := isStoreFile(rel); got != want {
			t.Errorf("isStoreFile(%q) = %v, want %v", rel, got, want)
		}
	}
}
