package storesync_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/storesync"
)

// benchStore makes a store of n items of 16384 float32 (64 KiB) each, in
// chunks of 32 items (~2 MiB raw), and returns its size on disk.
func benchStore(b *testing.B, dir string, n int) int64 {
	spec := store.Spec{Model: "bench", WeightsDigest: sha("w"), Arch: "bench", Tap: "x", DType: "f32", FeatureShape: []int{16384}}
	its := items(n, nil)
	w, plan, err := store.Prepare(context.Background(), dir, spec, []string{"a", "b"}, its, store.WithChunkRows(32))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range plan.Todo {
		if err := w.Put([]int{p}, features(its[p].Key, 16384)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	var size int64
	for _, v := range storeFilesB(b, dir) {
		size += int64(len(v))
	}
	return size
}

func storeFilesB(b *testing.B, dir string) map[string][]byte { return storeFiles(b, dir) }

// BenchmarkPushPull: stores of 256 and 1024 items (16 and 64 MiB of raw
// float32 features, chunks of 32 items) to and from a local directory and
// versitygw on loopback; MB/s of store bytes moved (compressed size).
func BenchmarkPushPull(b *testing.B) {
	for _, n := range []int{256, 1024} {
		src := filepath.Join(b.TempDir(), "src")
		size := benchStore(b, src, n)
		for _, bk := range []struct {
			name string
			open func(b *testing.B) objstore.Bucket
		}{
			{"dir", func(b *testing.B) objstore.Bucket { return objstore.NewDir(b.TempDir()) }},
			{"s3", func(b *testing.B) objstore.Bucket { return s3test.NewBucket(b) }},
		} {
			b.Run(fmt.Sprintf("%s/items%d/push", bk.name, n), func(b *testing.B) {
				bucket := bk.open(b)
				b.SetBytes(size)
				for i := 0; i < b.N; i++ {
					if _, err := storesync.Push(context.Background(), src, bucket, fmt.Sprintf("p%d", i)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/items%d/pull", bk.name, n), func(b *testing.B) {
				bucket := bk.open(b)
				if _, err := storesync.Push(context.Background(), src, bucket, "s"); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(size)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					dst, cache := b.TempDir(), b.TempDir()
					if _, err := storesync.Pull(context.Background(), bucket, "s", dst, cache); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
