package storesync_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/storesync"
)

func TestRoundTrip(t *testing.T) {
	backends(t, func(t *testing.T, b objstore.Bucket) {
		ctx := context.Background()
		src := filepath.Join(t.TempDir(), "src")
		makeStore(t, src, items(30, nil)) // 8 chunks
		st, err := storesync.Push(ctx, src, b, "stores/x")
		if err != nil {
			t.Fatal(err)
		}
		want := storeFiles(t, src)
		if st.Files != len(want) || st.Transferred != len(want) || st.Skipped != 0 || st.Bytes <= 0 {
			t.Fatalf("first push: %+v, want all %d files sent", st, len(want))
		}
		cache := t.TempDir()
		dst := filepath.Join(t.TempDir(), "dst")
		pst, err := storesync.Pull(ctx, b, "stores/x", dst, cache)
		if err != nil {
			t.Fatal(err)
		}
		if pst.Transferred != len(want) || pst.Version != st.Version {
			t.Fatalf("pull: %+v (push %+v)", pst, st)
		}
		sameFiles(t, storeFiles(t, dst), want)
		verifyOK(t, dst)

		// Nothing changed: nothing moves either way.
		var rec recorder
		st2, err := storesync.PushWith(ctx, src, b, "stores/x", storesync.Options{OnTransfer: rec.add})
		if err != nil {
			t.Fatal(err)
		}
		if st2.Transferred != 0 || st2.Skipped != len(want) || len(rec.paths) != 0 {
			t.Fatalf("second push: %+v, sent %v", st2, rec.paths)
		}
		pst2, err := storesync.Pull(ctx, b, "stores/x", dst, cache)
		if err != nil || pst2.Transferred != 0 {
			t.Fatalf("second pull: %+v, %v", pst2, err)
		}
		// A fresh directory with a warm cache downloads no chunks.
		var prec recorder
		dst2 := filepath.Join(t.TempDir(), "dst2")
		if _, err := storesync.PullWith(ctx, b, "stores/x", dst2, storesync.Options{CacheDir: cache, OnTransfer: prec.add}); err != nil {
			t.Fatal(err)
		}
		if c := prec.chunks(); len(c) != 0 {
			t.Fatalf("pull with a warm cache fetched chunks %v", c)
		}
		sameFiles(t, storeFiles(t, dst2), want)
	})
}

func TestPushChanged(t *testing.T) {
	backends(t, func(t *testing.T, b objstore.Bucket) {
		ctx := context.Background()
		src := filepath.Join(t.TempDir(), "src")
		makeStore(t, src, items(30, nil))
		if _, err := storesync.Push(ctx, src, b, "s"); err != nil {
			t.Fatal(err)
		}
		before := storeFiles(t, src)
		// Items 5 and 6 (chunk 1) and 21 (chunk 5) change content.
		makeStore(t, src, items(30, map[int]string{5: "v2", 6: "v2", 21: "v2"}))
		after := storeFiles(t, src)
		var changed []string
		for k, v := range after {
			if strings.HasPrefix(k, "features/") && k != "features/.zarray" && string(before[k]) != string(v) {
				changed = append(changed, k)
			}
		}
		if fmt.Sprint(sortStrings(changed)) != "[features/1.0 features/5.0]" {
			t.Fatalf("test setup: changed chunks %v", changed)
		}
		var rec recorder
		if _, err := storesync.PushWith(ctx, src, b, "s", storesync.Options{OnTransfer: rec.add}); err != nil {
			t.Fatal(err)
		}
		if got := rec.chunks(); !reflect.DeepEqual(got, sortStrings(changed)) {
			t.Fatalf("push sent chunks %v, want only the changed %v", got, changed)
		}
		dst := filepath.Join(t.TempDir(), "dst")
		if _, err := storesync.Pull(ctx, b, "s", dst, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, storeFiles(t, dst), after)
		verifyOK(t, dst)

		// The store shrinks: remote chunks past the end are deleted after the
		// commit, and a pull into the old copy removes them locally too.
		makeStore(t, src, items(9, nil))
		if _, err := storesync.Push(ctx, src, b, "s"); err != nil {
			t.Fatal(err)
		}
		l, err := b.List(ctx, "s/features/")
		if err != nil {
			t.Fatal(err)
		}
		if len(l) != 4 { // .zarray + 3 chunks
			t.Fatalf("remote features after shrinking: %d objects, want 4: %v", len(l), l)
		}
		if _, err := storesync.Pull(ctx, b, "s", dst, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, storeFiles(t, dst), storeFiles(t, src))
		verifyOK(t, dst)
	})
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// pushUntil pushes and cancels the push after k transfers.
func pushUntil(t *testing.T, src string, b objstore.Bucket, prefix string, k int) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, err := storesync.PushWith(ctx, src, b, prefix, storesync.Options{Workers: 1, OnTransfer: func(string) {
		if n++; n == k {
			cancel()
		}
	}})
	return err
}

func TestPushInterrupted(t *testing.T) {
	backends(t, func(t *testing.T, b objstore.Bucket) {
		ctx := context.Background()
		src := filepath.Join(t.TempDir(), "src")
		makeStore(t, src, items(30, nil))
		// First push killed: no committed store.
		if err := pushUntil(t, src, b, "s", 5); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted push: %v, want context.Canceled", err)
		}
		if _, err := storesync.Pull(ctx, b, "s", filepath.Join(t.TempDir(), "d"), t.TempDir()); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("pull after an interrupted first push: %v, want ErrNotFound", err)
		}
		var rec recorder
		st, err := storesync.PushWith(ctx, src, b, "s", storesync.Options{OnTransfer: rec.add})
		if err != nil {
			t.Fatal(err)
		}
		if st.Transferred >= st.Files || len(rec.chunks()) >= 8 {
			t.Fatalf("rerun resent everything: %+v, chunks %v", st, rec.chunks())
		}
		v1 := storeFiles(t, src)

		// v2 grows (new chunks: uploaded first, v1 stays readable) and
		// changes chunk 0 (replaced after .zattrs is removed).
		makeStore(t, src, items(50, map[int]string{0: "v2"}))
		v2 := storeFiles(t, src)
		if err := pushUntil(t, src, b, "s", 3); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted push: %v", err)
		}
		dst := filepath.Join(t.TempDir(), "d")
		cache := t.TempDir()
		if _, err := storesync.Pull(ctx, b, "s", dst, cache); err != nil {
			t.Fatalf("pull while only new keys were sent: %v (want v1)", err)
		}
		sameFiles(t, storeFiles(t, dst), v1)

		// Killed while replacing: nothing committed, never a mixture.
		if err := pushUntil(t, src, b, "s", 13); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted push: %v", err)
		}
		if _, err := storesync.Pull(ctx, b, "s", dst, cache); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("pull during replacement: %v, want ErrNotFound", err)
		}
		// The failed pull left the local copy as it was.
		sameFiles(t, storeFiles(t, dst), v1)
		rec = recorder{}
		if _, err := storesync.PushWith(ctx, src, b, "s", storesync.Options{OnTransfer: rec.add}); err != nil {
			t.Fatal(err)
		}
		if got := rec.chunks(); len(got) > 2 {
			t.Fatalf("rerun sent chunks %v; the interrupted pushes had sent all but at most chunk 0", got)
		}
		if _, err := storesync.Pull(ctx, b, "s", dst, cache); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, storeFiles(t, dst), v2)
		verifyOK(t, dst)
	})
}

func TestPullCorrupt(t *testing.T) {
	backends(t, func(t *testing.T, b objstore.Bucket) {
		ctx := context.Background()
		src := filepath.Join(t.TempDir(), "src")
		makeStore(t, src, items(12, nil))
		if _, err := storesync.Push(ctx, src, b, "s"); err != nil {
			t.Fatal(err)
		}
		data, err := objstore.ReadAll(ctx, b, "s/features/1.0", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x55
		if err := b.Put(ctx, "s/features/1.0", strings.NewReader(string(data)), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "d")
		cache := t.TempDir()
		_, err = storesync.Pull(ctx, b, "s", dst, cache)
		if !errors.Is(err, remote.ErrCorrupt) || !strings.Contains(err.Error(), "features/1.0") {
			t.Fatalf("pull of a corrupted chunk: %v, want ErrCorrupt naming features/1.0", err)
		}
		if _, err := store.Open(dst); err == nil {
			t.Fatal("a failed pull left a committed store")
		}
		// Nothing bad entered the cache: repair the remote and pull again.
		if _, err := storesync.Push(ctx, src, b, "s"); err != nil {
			t.Fatal(err)
		}
		// The push trusted the committed manifest (same sha): the object is
		// still bad, so the pull still fails; the fix is to delete it.
		b.Delete(ctx, "s/features/1.0")
		b.Delete(ctx, "s/.preconv/files.json")
		if _, err := storesync.Push(ctx, src, b, "s"); err != nil {
			t.Fatal(err)
		}
		if _, err := storesync.Pull(ctx, b, "s", dst, cache); err != nil {
			t.Fatal(err)
		}
		verifyOK(t, dst)
	})
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	b := objstore.NewDir(t.TempDir())
	if _, err := storesync.Push(ctx, t.TempDir(), b, "x"); !errors.Is(err, store.ErrIncomplete) {
		t.Fatalf("push of a directory without .zattrs: %v, want store.ErrIncomplete", err)
	}
	if _, err := storesync.Pull(ctx, b, "nothing", t.TempDir(), t.TempDir()); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("pull of nothing: %v, want remote.ErrNotFound", err)
	}
	if _, err := storesync.Push(ctx, t.TempDir(), b, "../up"); !errors.Is(err, objstore.ErrBadKey) {
		t.Fatalf("push to a bad prefix: %v, want ErrBadKey", err)
	}
	// A manifest naming a file outside the store layout is refused.
	src := filepath.Join(t.TempDir(), "src")
	makeStore(t, src, items(4, nil))
	if _, err := storesync.Push(ctx, src, b, "m"); err != nil {
		t.Fatal(err)
	}
	bad := `{".zattrs":{"size":1,"sha256":"` + strings.Repeat("0", 64) + `"},"../../etc/x":{"size":1,"sha256":"` + strings.Repeat("0", 64) + `"}}`
	b.Put(ctx, "m/.preconv/files.json", strings.NewReader(bad), int64(len(bad)))
	if _, err := storesync.Pull(ctx, b, "m", t.TempDir(), t.TempDir()); !errors.Is(err, remote.ErrCorrupt) {
		t.Fatalf("pull with a hostile manifest: %v, want ErrCorrupt", err)
	}
}
