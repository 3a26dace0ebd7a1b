package store

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// TestBoundedMemory writes and reads a store much larger than the chunk
// cache budget and checks the Go heap stays bounded (features are streamed,
// never loaded whole). 120 VGG16-sized items by default (12 MB of float32),
// 2000 (200 MB) with PRECONV_HEAVY=1.
func TestBoundedMemory(t *testing.T) {
	n := 120
	if os.Getenv("PRECONV_HEAVY") == "1" {
		n = 2000
	}
	const e = 512 * 7 * 7
	items := make([]ItemRef, n)
	for i := range items {
		items[i] = ItemRef{Key: sha(fmt.Sprintf("mem-%d", i)), Path: fmt.Sprintf("%d.jpg", i), Label: i % 2, Split: "train"}
	}
	dir := t.TempDir()
	spec := testSpec("f16", 512, 7, 7)
	w, plan, err := Prepare(t.Context(), dir, spec, []string{"a", "b"}, items, WithChunkRows(16), WithLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	runtime.GC()
	for _, p := range plan.Todo {
		if err := w.Put([]int{p}, featuresFor(items[p].Key, e)); err != nil {
			t.Fatal(err)
		}
		if p%16 == 0 {
			sample()
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	writePeak := peak
	peak = 0
	runtime.GC()
	chunk := int64(16 * e * 2)
	s, err := Open(dir, WithCacheBytes(3*chunk), WithReadahead(1))
	if err != nil {
		t.Fatal(err)
	}
	order := s.EpochOrder(3, 0)
	s.Prefetch(order)
	dst := make([]float32, 32*e)
	for lo := 0; lo < len(order); lo += 32 {
		hi := min(lo+32, len(order))
		if err := s.Read(order[lo:hi], dst[:(hi-lo)*e]); err != nil {
			t.Fatal(err)
		}
		for k, i := range order[lo:hi] {
			if k == 0 {
				want := featuresFor(s.Record(i).Key, e)
				if got := dst[k*e+100]; got != float32FromF16(want[100]) {
					t.Fatalf("item %d value differs", i)
				}
			}
		}
		sample()
	}
	total := uint64(n) * e * 4
	t.Logf("store %d MB of float32; heap peak writing %d MB, reading %d MB", total>>20, writePeak>>20, peak>>20)
	// Budget: a few chunks of float32 in flight + batch buffer + slack; far
	// below the store size in the heavy tier.
	limit := uint64(48 << 20)
	if writePeak > limit || peak > limit {
		t.Errorf("heap peak %d MB (write) / %d MB (read), want ≤ %d MB", writePeak>>20, peak>>20, limit>>20)
	}
}

func float32FromF16(v float32) float32 { return expectF16(v) }
