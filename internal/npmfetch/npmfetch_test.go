package npmfetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type entry struct {
	name string
	body string
	typ  byte
}

// tgzBytes builds a gzipped tarball of entries.
func tgzBytes(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if e.typ == tar.TypeSymlink {
			h.Linkname, h.Size = e.body, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tgz writes tgzBytes(entries) to path.
func tgz(t *testing.T, path string, entries []entry) {
	t.Helper()
	b, err := tgzBytes(entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExtract(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pkg.tgz")
	tgz(t, p, []entry{
		{name: "package/package.json", body: "{}"},
		{name: "package/dist/models/a/model.json", body: "model"},
		{name: "package/dist/models/a/group1-shard1of1", body: "weights"},
		{name: "package/dist/models/link", body: "../../../../etc/passwd", typ: tar.TypeSymlink},
		{name: "package/dist/other.js", body: "js"},
	})
	dest := filepath.Join(dir, "out")
	if err := Extract(p, "package/dist/models/", dest, 0); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"package/dist/models/a/model.json":       "model",
		"package/dist/models/a/group1-shard1of1": "weights",
	} {
		b, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(name)))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	for _, name := range []string{"package/package.json", "package/dist/other.js", "package/dist/models/link"} {
		if _, err := os.Lstat(filepath.Join(dest, filepath.FromSlash(name))); err == nil {
			t.Errorf("%s extracted (outside the prefix, or not a regular file)", name)
		}
	}
	// No temp files left behind.
	filepath.Walk(dest, func(path string, info os.FileInfo, err error) error {
		if strings.HasSuffix(path, ".tmp") {
			t.Errorf("left %s", path)
		}
		return nil
	})
}

func TestExtractRefuses(t *testing.T) {
	cases := []struct {
		name    string
		entries []entry
		prefix  string
		max     int64
		want    string
	}{
		{"dotdot", []entry{{name: "package/../../evil.txt", body: "x"}}, "package/", 0, "escapes"},
		{"dotdot-deep", []entry{{name: "package/dist/../../../evil.txt", body: "x"}}, "package/dist/", 0, "escapes"},
		{"bare-dotdot", []entry{{name: "../evil.txt", body: "x"}}, "", 0, "escapes"},
		{"absolute", []entry{{name: "/tmp/evil.txt", body: "x"}}, "", 0, "escapes"},
		{"oversized", []entry{{name: "package/big.bin", body: strings.Repeat("z", 100)}}, "package/", 99, "limit 99"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "evil.tgz")
			tgz(t, p, c.entries)
			dest := filepath.Join(dir, "a", "b", "out")
			err := Extract(p, c.prefix, dest, c.max)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "evil.tgz") {
				t.Errorf("%v: want an error naming the tarball and %q", err, c.want)
			}
			for _, q := range []string{filepath.Join(dir, "evil.txt"), filepath.Join(dir, "a", "evil.txt"), "/tmp/evil.txt"} {
				if _, err := os.Stat(q); err == nil && c.name != "absolute" {
					t.Errorf("%s written", q)
				}
			}
		})
	}
	// Exactly at the limit is fine.
	dir := t.TempDir()
	p := filepath.Join(dir, "ok.tgz")
	tgz(t, p, []entry{{name: "package/f", body: strings.Repeat("z", 99)}})
	if err := Extract(p, "package/", filepath.Join(dir, "out"), 99); err != nil {
		t.Errorf("99 bytes with limit 99: %v", err)
	}
	// Not a gzip file, and a missing file.
	bad := filepath.Join(dir, "bad.tgz")
	os.WriteFile(bad, []byte("plain text"), 0o644)
	if err := Extract(bad, "", filepath.Join(dir, "o2"), 0); err == nil || !strings.Contains(err.Error(), "bad.tgz") {
		t.Errorf("not gzip: %v", err)
	}
	if err := Extract(filepath.Join(dir, "missing.tgz"), "", filepath.Join(dir, "o3"), 0); err == nil {
		t.Error("missing tarball accepted")
	}
	// A truncated tarball.
	raw, _ := os.ReadFile(p)
	trunc := filepath.Join(dir, "trunc.tgz")
	os.WriteFile(trunc, raw[:len(raw)/2], 0o644)
	if err := Extract(trunc, "package/", filepath.Join(dir, "o4"), 0); err == nil {
		t.Error("truncated tarball accepted")
	}
}

// fakeNPM puts an `npm` shell script first on PATH that appends a line to
// a counter file and copies src into the working directory as the packed
// tarball (or, with src "", fails). It returns the counter file.
func fakeNPM(t *testing.T, src string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell script npm")
	}
	bin := t.TempDir()
	counter := filepath.Join(bin, "calls")
	script := "#!/bin/sh\necho \"$@\" >> '" + counter + "'\n"
	if src == "" {
		script += "echo 'npm ERR! 404 Not Found' >&2\nexit 1\n"
	} else {
		script += "cp '" + src + "' ./pkg-from-npm.tgz\n"
	}
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+"/usr/bin"+string(os.PathListSeparator)+"/bin")
	return counter
}

func calls(t *testing.T, counter string) []string {
	b, err := os.ReadFile(counter)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestPack(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.tgz")
	tgz(t, src, []entry{{name: "package/x", body: "x"}})
	counter := fakeNPM(t, src)
	cache := t.TempDir()
	ctx := context.Background()

	p, err := Pack(ctx, "@scope/thing@1.2.3", cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "npm", "scope-thing-1.2.3.tgz"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	got, _ := os.ReadFile(p)
	want, _ := os.ReadFile(src)
	if !bytes.Equal(got, want) {
		t.Error("cached tarball differs from what npm produced")
	}
	c := calls(t, counter)
	if len(c) != 1 || !strings.Contains(c[0], "pack") || !strings.Contains(c[0], "@scope/thing@1.2.3") {
		t.Errorf("npm calls %q", c)
	}
	// Second time: from the cache, npm not run.
	p2, err := Pack(ctx, "@scope/thing@1.2.3", cache)
	if err != nil || p2 != p {
		t.Errorf("second Pack: %s %v", p2, err)
	}
	if c := calls(t, counter); len(c) != 1 {
		t.Errorf("npm ran again: %q", c)
	}
	// No leftover .pack-* temp dirs.
	if m, _ := filepath.Glob(filepath.Join(cache, "npm", ".pack-*")); len(m) != 0 {
		t.Errorf("temp dirs left: %v", m)
	}
	// Unscoped names.
	p3, err := Pack(ctx, "other@0.1.0", cache)
	if err != nil || filepath.Base(p3) != "other-0.1.0.tgz" {
		t.Errorf("unscoped: %s %v", p3, err)
	}
	// Unpinned specs are refused before npm runs.
	for _, spec := range []string{"thing", "thing@", "@scope/thing"} {
		if _, err := Pack(ctx, spec, cache); err == nil || !strings.Contains(err.Error(), "pin a version") {
			t.Errorf("Pack(%q): %v", spec, err)
		}
	}
	if c := calls(t, counter); len(c) != 2 {
		t.Errorf("npm calls %q, want 2", c)
	}
}

func TestPackFailures(t *testing.T) {
	ctx := context.Background()
	fakeNPM(t, "")
	_, err := Pack(ctx, "missing@9.9.9", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "missing@9.9.9") {
		t.Errorf("failing npm: %v", err)
	}
	// No npm at all.
	t.Setenv("PATH", t.TempDir())
	if _, err := Pack(ctx, "x@1.0.0", t.TempDir()); !errors.Is(err, ErrNoNPM) {
		t.Errorf("no npm: %v", err)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("PRECONV_CACHE", "/some/where")
	if d := CacheDir(); d != "/some/where" {
		t.Errorf("PRECONV_CACHE: %s", d)
	}
	t.Setenv("PRECONV_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d := CacheDir(); runtime.GOOS == "linux" && d != "/xdg/preconv" {
		t.Errorf("XDG_CACHE_HOME: %s", d)
	}
}

// FuzzExtract: any bytes as a tarball: no panic, and nothing is written
// outside dest. Seeds: a good package, an escaping entry, an oversized one.
func FuzzExtract(f *testing.F) {
	for i, es := range [][]entry{
		{{name: "package/dist/models/a/model.json", body: "{}"}},
		{{name: "package/../evil", body: "x"}},
		{{name: "package/big", body: strings.Repeat("y", 2000)}},
	} {
		b, err := tgzBytes(es)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte("package/")[:8-i%2])
	}
	f.Fuzz(func(t *testing.T, data, prefix []byte) {
		root := t.TempDir()
		p := filepath.Join(root, "in.tgz")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(root, "d", "out")
		_ = Extract(p, string(prefix), dest, 1024)
		filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && path != p && !strings.HasPrefix(path, dest+string(filepath.Separator)) {
				t.Errorf("wrote %s outside %s", path, dest)
			}
			return nil
		})
	})
}
