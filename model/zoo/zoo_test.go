package zoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestFetchGoodBadCached serves a body whose digest matches its name, a
// tampered body under a real checkpoint name, and a 404, from httptest.
func TestFetchGoodBadCached(t *testing.T) {
	good := []byte("pretend checkpoint bytes")
	sum := sha256.Sum256(good)
	prefix := hex.EncodeToString(sum[:])[:8]
	file := "vgg16-" + prefix + ".pth"

	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/models/" + file:
			w.Write(good)
		case "/models/resnet18-f37072fd.pth":
			w.Write([]byte("tampered"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer s.Close()
	cache := t.TempDir()
	f := &Fetcher{BaseURL: s.URL + "/models", CacheDir: cache, Client: s.Client()}

	res, err := f.fetchFile(context.Background(), "vgg16", file)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached || res.Bytes != int64(len(good)) {
		t.Errorf("first fetch: %+v", res)
	}
	b, err := os.ReadFile(res.Path)
	if err != nil || string(b) != string(good) {
		t.Fatalf("cached file: %q %v", b, err)
	}
	res2, err := f.fetchFile(context.Background(), "vgg16", file)
	if err != nil || !res2.Cached || res2.Path != res.Path {
		t.Errorf("second fetch: %+v %v", res2, err)
	}
	if hits.Load() != 1 {
		t.Errorf("server hit %d times, want 1", hits.Load())
	}

	_, err = f.Fetch(context.Background(), "resnet18")
	if !errors.Is(err, ErrHash) {
		t.Fatalf("tampered file: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "torchvision"))
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries after a bad download, want 1 (the good one)", len(entries))
	}

	_, err = f.Fetch(context.Background(), "resnet34") // 404
	if !errors.Is(err, ErrDownload) {
		t.Errorf("404: %v", err)
	}
	if _, err := f.Fetch(context.Background(), "alexnet"); !errors.Is(err, ErrUnknownArch) {
		t.Errorf("unknown arch: %v", err)
	}
}

func TestHashPrefix(t *testing.T) {
	for file, want := range map[string]string{"vgg16-397923af.pth": "397923af", "vgg16_bn-6c64b313.pth": "6c64b313"} {
		if got, err := HashPrefix(file); err != nil || got != want {
			t.Errorf("%s: %q %v", file, got, err)
		}
	}
	for _, bad := range []string{"vgg16.pth", "vgg16-xyz12345.pth", "a-12.pth"} {
		if _, err := HashPrefix(bad); !errors.Is(err, ErrHash) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for _, a := range Archs() {
		f, _ := FileName(a)
		if _, err := HashPrefix(f); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}
