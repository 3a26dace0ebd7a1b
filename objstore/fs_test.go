package objstore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/objstore/s3test"
)

func fill(t *testing.T, b objstore.Bucket) map[string]string {
	files := map[string]string{
		".zattrs": `{"a":1}`, "features/.zarray": "{}", "features/0.0": strings.Repeat("x", 1000),
		"features/1.0": "yy", "keys/0": "k", "deep/a/b/c.txt": "c",
	}
	for k, v := range files {
		if err := b.Put(context.Background(), k, strings.NewReader(v), int64(len(v))); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func testFS(t *testing.T, b objstore.Bucket) {
	files := fill(t, b)
	fsys := objstore.FS(context.Background(), b)
	var names []string
	for k := range files {
		names = append(names, k)
	}
	if err := fstest.TestFS(fsys, names...); err != nil {
		t.Fatal(err)
	}
	// Through net/http: Range requests seek.
	srv := httptest.NewServer(http.FileServer(http.FS(fsys)))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/features/0.0", nil)
	req.Header.Set("Range", "bytes=990-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(body) != strings.Repeat("x", 10) {
		t.Fatalf("range GET: %d %q", resp.StatusCode, body)
	}
}

func TestFSDir(t *testing.T) { testFS(t, objstore.NewDir(t.TempDir())) }
func TestFSS3(t *testing.T)  { testFS(t, s3test.NewBucket(t)) }
