// Package objstoretest is the conformance suite every objstore.Bucket
// implementation runs (one line per implementation in its tests).
package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/preconv/preconv/objstore"
)

// Run checks b, which must be empty, against the Bucket contract. Subtests
// use disjoint key prefixes.
func Run(t *testing.T, b objstore.Bucket) {
	t.Run("PutGetStatDelete", func(t *testing.T) { testBasic(t, b) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, b) })
	t.Run("List", func(t *testing.T) { testList(t, b) })
	t.Run("BadKeys", func(t *testing.T) { testBadKeys(t, b) })
	t.Run("Short", func(t *testing.T) { testShort(t, b) })
	t.Run("Large", func(t *testing.T) { testLarge(t, b) })
	t.Run("ConcurrentPut", func(t *testing.T) { testConcurrent(t, b) })
	t.Run("Canceled", func(t *testing.T) { testCanceled(t, b) })
	t.Run("Seek", func(t *testing.T) { testSeek(t, b) })
}

// testSeek: Get's reader seeks (io.SeekStart, io.SeekCurrent, io.SeekEnd)
// and reads from the new offset, more than once.
func testSeek(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	put(t, b, "seek/obj", data)
	rc, err := b.Get(ctx, "seek/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sk, ok := rc.(io.Seeker)
	if !ok {
		t.Fatalf("Get returned %T, not an io.Seeker", rc)
	}
	for _, c := range []struct {
		off    int64
		whence int
		want   int64
	}{{2 << 20, io.SeekStart, 2 << 20}, {100, io.SeekStart, 100}, {-10, io.SeekEnd, 3<<20 - 10}, {-1000, io.SeekCurrent, 3<<20 - 1000}} {
		pos, err := sk.Seek(c.off, c.whence)
		if err != nil || pos != c.want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, pos, err, c.want)
		}
		buf := make([]byte, 10)
		if _, err := io.ReadFull(rc, buf); err != nil {
			t.Fatalf("read at %d: %v", pos, err)
		}
		if !bytes.Equal(buf, data[pos:pos+10]) {
			t.Fatalf("read at %d: %v, want %v", pos, buf, data[pos:pos+10])
		}
	}
}

func put(t *testing.T, b objstore.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
}

func get(t *testing.T, b objstore.Bucket, key string) []byte {
	t.Helper()
	data, err := objstore.ReadAll(context.Background(), b, key, 64<<20)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	return data
}

func testBasic(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	put(t, b, "basic/a.txt", []byte("hello"))
	if got := get(t, b, "basic/a.txt"); string(got) != "hello" {
		t.Fatalf("Get = %q, want hello", got)
	}
	info, err := b.Stat(ctx, "basic/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "basic/a.txt" || info.Size != 5 || info.ETag == "" || info.Modified.IsZero() {
		t.Fatalf("Stat = %+v", info)
	}
	// Overwrite: new content, new ETag.
	put(t, b, "basic/a.txt", []byte("hello, world"))
	if got := get(t, b, "basic/a.txt"); string(got) != "hello, world" {
		t.Fatalf("Get after overwrite = %q", got)
	}
	info2, err := b.Stat(ctx, "basic/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if info2.Size != 12 || info2.ETag == info.ETag {
		t.Fatalf("Stat after overwrite = %+v (before %+v)", info2, info)
	}
	// Empty object and unknown size.
	if err := b.Put(ctx, "basic/empty", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	if got := get(t, b, "basic/empty"); len(got) != 0 {
		t.Fatalf("empty object has %d bytes", len(got))
	}
	if err := b.Put(ctx, "basic/unsized", strings.NewReader("streamed"), -1); err != nil {
		t.Fatal(err)
	}
	if got := get(t, b, "basic/unsized"); string(got) != "streamed" {
		t.Fatalf("unsized Put stored %q", got)
	}
	// Delete, twice.
	for i := 0; i < 2; i++ {
		if err := b.Delete(ctx, "basic/a.txt"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if _, err := b.Stat(ctx, "basic/a.txt"); !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("Stat after Delete: %v, want ErrNotExist", err)
	}
	// ReadAll bounds.
	if _, err := objstore.ReadAll(ctx, b, "basic/unsized", 3); !errors.Is(err, objstore.ErrTooLarge) {
		t.Fatalf("ReadAll over limit: %v, want ErrTooLarge", err)
	}
}

func testNotFound(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	_, err := b.Get(ctx, "nf/absent")
	if !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("Get absent: %v, want ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "nf/absent") {
		t.Errorf("error %q does not name the key", err)
	}
	if _, err := b.Stat(ctx, "nf/absent"); !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("Stat absent: %v, want ErrNotExist", err)
	}
	put(t, b, "nf/file", []byte("x"))
	// A "folder" is not an object, and nothing lies below a file.
	if _, err := b.Get(ctx, "nf"); !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("Get of a folder: %v, want ErrNotExist", err)
	}
	if _, err := b.Stat(ctx, "nf/file/below"); !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("Stat below a file: %v, want ErrNotExist", err)
	}
	if err := b.Delete(ctx, "nf/never"); err != nil {
		t.Fatalf("Delete absent: %v", err)
	}
	if l, err := b.List(ctx, "nothing-here/"); err != nil || len(l) != 0 {
		t.Fatalf("List of empty prefix = %v, %v", l, err)
	}
}

func testList(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	keys := []string{"ls/b/2", "ls/a", "ls/b/1", "ls/.hidden/x.json", "ls/c.0.0", "ls/b/10", "lsx/other"}
	for i, k := range keys {
		put(t, b, k, bytes.Repeat([]byte{'x'}, i))
	}
	l, err := b.List(ctx, "ls/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range l {
		got = append(got, in.Key)
		if in.Size != int64(indexOf(keys, in.Key)) {
			t.Errorf("List %q size %d, want %d", in.Key, in.Size, indexOf(keys, in.Key))
		}
	}
	want := []string{"ls/.hidden/x.json", "ls/a", "ls/b/1", "ls/b/10", "ls/b/2", "ls/c.0.0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("List(ls/) = %v, want %v", got, want)
	}
	// A partial-name prefix.
	l, err = b.List(ctx, "ls/b/1")
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].Key != "ls/b/1" || l[1].Key != "ls/b/10" {
		t.Fatalf("List(ls/b/1) = %v", l)
	}
	l, err = b.List(ctx, "ls")
	if err != nil || len(l) != 7 {
		t.Fatalf("List(ls) = %d objects (%v), want 7", len(l), err)
	}
	// After deletes, folders that held only deleted keys vanish from List.
	for _, k := range []string{"ls/b/1", "ls/b/10", "ls/b/2"} {
		if err := b.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := b.List(ctx, "ls/b"); err != nil || len(l) != 0 {
		t.Fatalf("List after delete = %v, %v", l, err)
	}
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

func testBadKeys(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	bad := []string{"", "/abs", "a//b", "a/../b", "..", "../x", "a/.", "./a", "trail/", `back\slash`, "nul\x00", "ctl\n", "\xff", strings.Repeat("k", objstore.MaxKeyLen+1)}
	for _, k := range bad {
		if err := b.Put(ctx, k, strings.NewReader("x"), 1); !errors.Is(err, objstore.ErrBadKey) {
			t.Errorf("Put %q: %v, want ErrBadKey", k, err)
		}
		if _, err := b.Get(ctx, k); !errors.Is(err, objstore.ErrBadKey) {
			t.Errorf("Get %q: %v, want ErrBadKey", k, err)
		}
		if _, err := b.Stat(ctx, k); !errors.Is(err, objstore.ErrBadKey) {
			t.Errorf("Stat %q: %v, want ErrBadKey", k, err)
		}
		if err := b.Delete(ctx, k); !errors.Is(err, objstore.ErrBadKey) {
			t.Errorf("Delete %q: %v, want ErrBadKey", k, err)
		}
	}
	if _, err := b.List(ctx, "../"); !errors.Is(err, objstore.ErrBadKey) {
		t.Errorf("List ../: %v, want ErrBadKey", err)
	}
	if l, err := b.List(ctx, ""); err != nil {
		t.Fatal(err)
	} else {
		for _, in := range l {
			if objstore.ValidKey(in.Key) != nil {
				t.Errorf("List returned invalid key %q", in.Key)
			}
		}
	}
}

func testShort(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	put(t, b, "short/k", []byte("old"))
	err := b.Put(ctx, "short/k", strings.NewReader("abc"), 10)
	if !errors.Is(err, objstore.ErrShort) {
		t.Fatalf("Put with a reader shorter than size: %v, want ErrShort", err)
	}
	if got := get(t, b, "short/k"); string(got) != "old" {
		t.Fatalf("after a failed Put the object is %q, want the old one", got)
	}
	if err := b.Put(ctx, "short/new", strings.NewReader("abc"), 10); err == nil {
		t.Fatal("short Put succeeded")
	}
	if _, err := b.Stat(ctx, "short/new"); !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("failed Put left an object: %v", err)
	}
}

func testLarge(t *testing.T, b objstore.Bucket) {
	// Above one 16 MiB part: S3 uploads it in parts.
	data := make([]byte, 17<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	put(t, b, "large/blob", data)
	got := get(t, b, "large/blob")
	if !bytes.Equal(got, data) {
		t.Fatalf("large object: got %d bytes, differing from the %d put", len(got), len(data))
	}
	info, err := b.Stat(context.Background(), "large/blob")
	if err != nil || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

func testConcurrent(t *testing.T, b objstore.Bucket) {
	const n, size = 6, 1 << 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := bytes.Repeat([]byte{byte('a' + i)}, size)
			errs[i] = b.Put(context.Background(), "conc/key", bytes.NewReader(data), size)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put #%d: %v", i, err)
		}
	}
	got := get(t, b, "conc/key")
	if len(got) != size || !bytes.Equal(got, bytes.Repeat(got[:1], size)) {
		t.Fatalf("concurrent puts left a mixed or partial object (%d bytes)", len(got))
	}
	if l, err := b.List(context.Background(), "conc/"); err != nil || len(l) != 1 {
		t.Fatalf("List after concurrent puts = %v, %v; want the one key", l, err)
	}
}

func testCanceled(t *testing.T, b objstore.Bucket) {
	ctx, cancel := context.WithCancel(context.Background())
	// The reader cancels after the first bytes. The Put fails; the object is
	// then absent or, where the server committed just before the client
	// gave up (S3), complete: never partial.
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	r := &cancelReader{r: bytes.NewReader(data), after: 64 << 10, cancel: cancel}
	err := b.Put(ctx, "cancel/k", r, int64(len(data)))
	if err == nil {
		t.Fatal("Put succeeded after its context was canceled")
	}
	got, err := objstore.ReadAll(context.Background(), b, "cancel/k", 8<<20)
	if err == nil && !bytes.Equal(got, data) {
		t.Fatalf("canceled Put left a partial object (%d of %d bytes)", len(got), len(data))
	}
	if err != nil && !errors.Is(err, objstore.ErrNotExist) {
		t.Fatal(err)
	}
}

type cancelReader struct {
	r      io.Reader
	n      int
	after  int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
	}
	if len(p) > 16<<10 {
		p = p[:16<<10]
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
