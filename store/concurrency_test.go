package store

import (
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
)

// dataset mirrors train.Dataset and train.Orderer (train/data.go) without
// importing package train.
type dataset interface {
	Len() int
	FeatureShape() []int
	Classes() []string
	Label(i int) int
	Read(idx []int, dst []float32) error
	EpochOrder(seed int64, epoch int) []int
}

var _ dataset = (*Store)(nil)

// TestConcurrentReaders reads one store from many goroutines (and two
// independently opened handles) with a cache smaller than the store.
func TestConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	items := testItems(60)
	extract(t, dir, testSpec("f16", 32), items, nil, WithChunkRows(4))
	var handles []*Store
	for i := 0; i < 2; i++ {
		s, err := Open(dir, WithCacheBytes(3*4*32*2), WithWorkers(2), WithReadahead(3))
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, s)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := handles[g%2]
			var v dataset = s
			if g%3 == 0 {
				v = s.Split("train")
			}
			order := v.EpochOrder(int64(g), 0)
			if g%2 == 0 {
				s.Prefetch(order)
			}
			dst := make([]float32, 7*32)
			for lo := 0; lo < len(order); lo += 7 {
				hi := min(lo+7, len(order))
				if err := v.Read(order[lo:hi], dst[:(hi-lo)*32]); err != nil {
					errs <- err
					return
				}
				for k, i := range order[lo:hi] {
					var key string
					if sv, ok := v.(*Store); ok {
						key = sv.Record(i).Key
					}
					if !slices.Equal(dst[k*32:(k+1)*32], expectFor(key, 32, "f16")) {
						t.Errorf("goroutine %d: item %d differs", g, i)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestEmptyStore(t *testing.T) {
	dir := t.TempDir()
	plan := extract(t, dir, testSpec("f32", 3), nil, nil)
	if len(plan.Todo) != 0 {
		t.Fatalf("todo %v", plan.Todo)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || len(s.EpochOrder(1, 1)) != 0 {
		t.Errorf("empty store has %d items", s.Len())
	}
	if rep, err := Verify(dir); err != nil || !rep.OK() {
		t.Errorf("verify %+v %v", rep, err)
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	items := testItems(3)
	cls := []string{"a", "b", "c"}
	bad := testSpec("f64", 3)
	if _, _, err := Prepare(t.Context(), dir, bad, cls, items); err == nil {
		t.Error("dtype f64 accepted")
	}
	it := slices.Clone(items)
	it[1].Key = "ABC"
	if _, _, err := Prepare(t.Context(), dir, testSpec("f32", 3), cls, it); err == nil {
		t.Error("bad key accepted")
	}
	w, plan, err := Prepare(t.Context(), dir, testSpec("f32", 3), cls, items)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Put([]int{0}, make([]float32, 2)); err == nil {
		t.Error("short features accepted")
	}
	if err := w.Put([]int{0}, []float32{1, float32(math.NaN()), 2}); !errors.Is(err, ErrBadInput) {
		t.Errorf("NaN feature: %v", err)
	}
	if err := w.Put([]int{7}, make([]float32, 3)); err == nil {
		t.Error("position out of range accepted")
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit with missing items succeeded")
	}
	for _, p := range plan.Todo {
		if err := w.Put([]int{p}, featuresFor(items[p].Key, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Put([]int{0}, make([]float32, 3)); err == nil {
		t.Error("Put into a written chunk accepted")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}
