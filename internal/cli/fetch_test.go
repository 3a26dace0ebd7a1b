package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFetchCLI(t *testing.T) {
	// The server returns bytes whose hash cannot match vgg16-397923af.
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/vgg16-397923af.pth" {
			w.Write([]byte("not the real checkpoint"))
			return
		}
		http.NotFound(w, r)
	}))
	defer s.Close()
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"fetch", "vgg16", "--json", "--cache", t.TempDir(), "--base-url", s.URL}, nil, &out, &errb)
	if err == nil || ExitCode(err) != ExitFailure {
		t.Fatalf("tampered download: err %v, exit %d", err, ExitCode(err))
	}
	for _, bad := range [][]string{{}, {"alexnet"}, {"--nope"}} {
		err := Run(context.Background(), append([]string{"fetch"}, bad...), nil, &out, &errb)
		if ExitCode(err) != ExitUsage {
			t.Errorf("fetch %v: exit %d (%v), want %d", bad, ExitCode(err), err, ExitUsage)
		}
	}
}
