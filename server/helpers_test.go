package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/preconv/preconv/store"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func testSpec(weights, tap string) store.Spec {
	return store.Spec{Model: "tiny", WeightsDigest: sha(weights), Arch: "tinynet", Tap: tap,
		Preprocess: json.RawMessage(`{"resize":32}`), DType: "f32", FeatureShape: []int{4, 2, 2}}
}

// makeStore writes a committed store of n items at dir with deterministic
// features (item i, element j = float32(i*100+j)) and chunkRows rows per chunk.
func makeStore(t testing.TB, dir string, spec store.Spec, n, chunkRows int) {
	t.Helper()
	items := make([]store.ItemRef, n)
	for i := range items {
		split := "train"
		if i%4 == 3 {
			split = "valid"
		}
		items[i] = store.ItemRef{Key: sha(fmt.Sprintf("img-%d", i)), Path: fmt.Sprintf("c%d/%d.jpg", i%2, i), Label: i % 2, Split: split}
	}
	w, plan, err := store.Prepare(context.Background(), dir, spec, []string{"cat", "dog"}, items, store.WithChunkRows(chunkRows))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	defer w.Close()
	e := 1
	for _, d := range spec.FeatureShape {
		e *= d
	}
	feats := make([]float32, 0, len(plan.Todo)*e)
	for _, p := range plan.Todo {
		for j := 0; j < e; j++ {
			feats = append(feats, float32(p*100+j))
		}
	}
	if err := w.Put(plan.Todo, feats); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// newTestServer starts an httptest server over root.
func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

const readTok = "read-token-aaaa"

// get does a GET with an optional bearer token and returns status and body.
// Redirects are not followed.
func get(t testing.TB, ts *httptest.Server, rawPath, token string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+rawPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Send the path bytes exactly as written (no client-side cleaning or
	// re-encoding), as an attacker would.
	p, q, _ := strings.Cut(rawPath, "?")
	req.URL.Opaque = p
	req.URL.RawQuery = q
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawPath, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("bad JSON %q: %v", strings.TrimSpace(string(b)), err)
	}
}
