package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/server"
	_ "github.com/preconv/preconv/server/client" // registers http:// and https://
	"github.com/preconv/preconv/store"
)

// Example pushes a store to a preconv server, then pulls it into another
// directory: the second push sends nothing, the pull fetches every file.
func Example() {
	tmp, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(tmp)
	ctx := context.Background()

	// A tiny committed store (normally the output of `preconv extract`).
	k1, k2 := sha256.Sum256([]byte("a.jpg bytes")), sha256.Sum256([]byte("b.jpg bytes"))
	spec := store.Spec{Model: "tiny", WeightsDigest: hex.EncodeToString(k1[:]), Tap: "features", Preprocess: json.RawMessage(`{}`), DType: "f32", FeatureShape: []int{2}}
	items := []store.ItemRef{{Key: hex.EncodeToString(k1[:]), Path: "a.jpg", Label: 0, Split: "train"},
		{Key: hex.EncodeToString(k2[:]), Path: "b.jpg", Label: 1, Split: "train"}}
	w, plan, err := store.Prepare(ctx, filepath.Join(tmp, "mine"), spec, []string{"cat", "dog"}, items)
	if err != nil {
		log.Fatal(err)
	}
	w.Put(plan.Todo, []float32{1, 2, 3, 4})
	w.Commit()
	w.Close()

	srv, err := server.New(server.Config{Root: filepath.Join(tmp), Tokens: map[string]server.Scope{"team-a-secret": server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	loc, err := remote.Open(ts.URL+"/stores/shared", remote.Config{Token: "team-a-secret", CacheDir: filepath.Join(tmp, ".cache"), Who: "team-a"})
	if err != nil {
		log.Fatal(err)
	}
	st, err := loc.Push(ctx, filepath.Join(tmp, "mine"))
	fmt.Println("push 1:", st.Transferred == st.Files, err)
	st, err = loc.Push(ctx, filepath.Join(tmp, "mine"))
	fmt.Println("push 2 sent:", st.Transferred, err)
	st, err = loc.Pull(ctx, filepath.Join(tmp, ".pulled"))
	fmt.Println("pull fetched all:", st.Transferred == st.Files, err)
	// Output:
	// push 1: true <nil>
	// push 2 sent: 0 <nil>
	// pull fetched all: true <nil>
}
