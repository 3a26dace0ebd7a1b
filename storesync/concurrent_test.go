package storesync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/storesync"
)

// TestPullDuringPush: while one writer alternates pushes of two versions,
// every pull that succeeds yields exactly one of them; the others fail with
// ErrNotFound (no committed store at that moment) or ErrConflict (the store
// changed under the pull), never with a mixture or ErrCorrupt.
// PRECONV_HEAVY=1 runs more rounds.
func TestPullDuringPush(t *testing.T) {
	rounds := 4
	if os.Getenv("PRECONV_HEAVY") != "" {
		rounds = 30
	}
	backends(t, func(t *testing.T, b objstore.Bucket) {
		ctx := context.Background()
		v1, v2 := filepath.Join(t.TempDir(), "v1"), filepath.Join(t.TempDir(), "v2")
		makeStore(t, v1, items(24, nil))
		makeStore(t, v2, items(32, map[int]string{0: "x", 9: "x", 17: "x"}))
		want := []map[string][]byte{storeFiles(t, v1), storeFiles(t, v2)}
		if _, err := storesync.Push(ctx, v1, b, "s"); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			for i := 0; i < rounds; i++ {
				if _, err := storesync.Push(ctx, []string{v2, v1}[i%2], b, "s"); err != nil {
					t.Errorf("push %d: %v", i, err)
					return
				}
			}
		}()
		ok, busy := 0, 0
		cache := t.TempDir()
		for i := 0; ; i++ {
			select {
			case <-done:
				wg.Wait()
				t.Logf("%d pulls got a whole version, %d found the store busy", ok, busy)
				return
			default:
			}
			dst := filepath.Join(t.TempDir(), "d")
			_, err := storesync.Pull(ctx, b, "s", dst, cache)
			switch {
			case err == nil:
				got := storeFiles(t, dst)
				if !equalFiles(got, want[0]) && !equalFiles(got, want[1]) {
					t.Fatalf("pull %d returned a store that is neither version", i)
				}
				verifyOK(t, dst)
				ok++
			case errors.Is(err, remote.ErrNotFound) || errors.Is(err, remote.ErrConflict):
				busy++
			default:
				t.Fatalf("pull %d: %v", i, err)
			}
		}
	})
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || string(w) != string(v) {
			return false
		}
	}
	return true
}
