package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/preconv/preconv/server"
)

// FuzzManifestResponse: whatever a (hostile) server answers to the manifest
// request, Manifest returns entries with valid paths and hashes or an
// error, never a panic.
func FuzzManifestResponse(f *testing.F) {
	h := strings.Repeat("ab", 32)
	for _, s := range []string{`{"version":"x","files":[{"path":".zattrs","sha256":"` + h + `","size":3}]}`,
		`{"files":[{"path":"../../etc/passwd","sha256":"` + h + `","size":3}]}`, `{"files":[{"path":".preconv/lock","sha256":"x","size":-1}]}`,
		`{"files":[{"path":"a","sha256":"../../../../../../../../../../../../../../../../../../../../../x","size":1}]}`, `null`, `[]`, ``, `{"files":null}`} {
		f.Add([]byte(s))
	}
	var body []byte
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer ts.Close()
	loc := open(f, ts.URL+"/stores/s", "tok-tok-tok", f.TempDir())
	f.Fuzz(func(t *testing.T, data []byte) {
		body = data
		m, err := loc.Manifest(context.Background())
		if err != nil {
			return
		}
		for _, e := range m.Files {
			if !server.ValidStorePath(e.Path) || !isSHA256(e.SHA256) || e.Size < 0 {
				t.Fatalf("accepted %+v", e)
			}
		}
	})
}
