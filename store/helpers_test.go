package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/x448/float16"
)

// testSpec is a small spec for tests.
func testSpec(dtype string, shape ...int) Spec {
	return Spec{Model: "tiny", WeightsDigest: sha("weights-v1"), Arch: "tinynet", Tap: "features",
		Pool: "", Preprocess: json.RawMessage(`{"resize":256,"crop":224,"mean":[0.485,0.456,0.406]}`),
		DType: dtype, FeatureShape: shape}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// testItems makes n items whose content is "img-<i>" (key = its sha256).
func testItems(n int) []ItemRef {
	items := make([]ItemRef, n)
	for i := range items {
		split := "train"
		if i%5 == 4 {
			split = "valid"
		}
		items[i] = ItemRef{Key: sha(fmt.Sprintf("img-%d", i)), Path: fmt.Sprintf("cls%d/img-%d.jpg", i%3, i), Label: i % 3, Split: split}
	}
	return items
}

// featuresFor is the deterministic "extractor": features are a function of
// the item key only (ReLU'd pseudo-random values, ~50% zeros).
func featuresFor(key string, n int) []float32 {
	b, _ := hex.DecodeString(key)
	seed := binary.LittleEndian.Uint64(b)
	out := make([]float32, n)
	x := seed | 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v := float32(int64(x%2001)-1000) / 100
		if v < 0 {
			v = 0
		}
		out[i] = v
	}
	return out
}

// expectFor is featuresFor rounded as stored with dtype.
func expectFor(key string, n int, dtype string) []float32 {
	f := featuresFor(key, n)
	if dtype == "f16" {
		for i, v := range f {
			f[i] = float16.Fromfloat32(v).Float32()
		}
	}
	return f
}

// extract runs a full Prepare/Put/Commit with deterministic features and
// returns the plan. failed names item positions to Fail instead of Put.
func extract(t testing.TB, dir string, spec Spec, items []ItemRef, failed map[int]bool, opts ...Option) *Plan {
	t.Helper()
	w, plan, err := Prepare(context.Background(), dir, spec, []string{"a", "b", "c"}, items, opts...)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	defer w.Close()
	e := 1
	for _, d := range spec.FeatureShape {
		e *= d
	}
	// Put in reverse order, in batches of 3, to exercise any-order writes.
	todo := plan.Todo
	for hi := len(todo); hi > 0; hi -= 3 {
		lo := max(0, hi-3)
		var pos []int
		var feats []float32
		for _, p := range todo[lo:hi] {
			if failed[p] {
				if err := w.Fail(p, "decode error: bad jpeg"); err != nil {
					t.Fatal(err)
				}
				continue
			}
			pos = append(pos, p)
			feats = append(feats, featuresFor(items[p].Key, e)...)
		}
		if err := w.Put(pos, feats); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return plan
}

// checkStore opens dir and checks every item against featuresFor.
func checkStore(t testing.TB, dir string, items []ItemRef, dtype string, failed map[int]bool) *Store {
	t.Helper()
	s, err := Open(dir, WithCacheBytes(1<<20))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got, want := s.Len(), len(items)-len(failed); got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
	e := 1
	for _, d := range s.FeatureShape() {
		e *= d
	}
	dst := make([]float32, e)
	j := 0
	for p, it := range items {
		if failed[p] {
			if r := s.Records()[p]; r.Failed == "" {
				t.Errorf("item %d should be recorded as failed", p)
			}
			continue
		}
		if s.Record(j).Key != it.Key || s.Label(j) != it.Label {
			t.Fatalf("item %d: record %+v, want key %s label %d", j, s.Record(j), it.Key, it.Label)
		}
		if err := s.Read([]int{j}, dst); err != nil {
			t.Fatalf("Read %d: %v", j, err)
		}
		want := expectFor(it.Key, e, dtype)
		for k := range dst {
			if dst[k] != want[k] && !(math.IsNaN(float64(dst[k])) && math.IsNaN(float64(want[k]))) {
				t.Fatalf("item %d (%s) value %d = %v, want %v", j, it.Path, k, dst[k], want[k])
			}
		}
		j++
	}
	return s
}

func expectF16(v float32) float32 { return float16.Fromfloat32(v).Float32() }
