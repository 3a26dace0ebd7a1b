package extract_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/store"
)

func readAll(t *testing.T, s *store.Store) []float32 {
	t.Helper()
	n := 1
	for _, d := range s.FeatureShape() {
		n *= d
	}
	idx := make([]int, s.Len())
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, len(idx)*n)
	if err := s.Read(idx, x); err != nil {
		t.Fatal(err)
	}
	return x
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestViews: K views per training image, one per validation image; view 0
// equals the plain extraction; K→K' computes only the new views; a failed
// image fails all its views.
func TestViews(t *testing.T) {
	root := folder(t, 6)
	b := open(t, "pixels", backbone.Options{})
	plainDir := filepath.Join(t.TempDir(), "plain")
	run(t, extract.Config{Data: root, Out: plainDir, Size: 8, ValidFraction: 0.25, Workers: 2, Threads: 1}, b)
	plain := openStore(t, plainDir)

	out := filepath.Join(t.TempDir(), "views")
	cfg := extract.Config{Data: root, Out: out, Size: 8, ValidFraction: 0.25, Workers: 2, Threads: 1, Augment: "flip,crop", Views: 3}
	r := run(t, cfg, b)
	s := openStore(t, out)
	nValid := plain.Split("valid").Len()
	nTrain := plain.Len() - nValid
	if nValid == 0 || nTrain == 0 {
		t.Fatalf("split: %d train %d valid", nTrain, nValid)
	}
	if r.Views != 3 || r.Items != 13 || s.Len() != 3*nTrain+nValid || r.Computed != s.Len() {
		t.Fatalf("result %+v, store %d rows; want %d", r, s.Len(), 3*nTrain+nValid)
	}
	if r.Failed != 3 && r.Failed != 1 { // bad.png: 3 views in train, 1 in valid
		t.Errorf("failed %d", r.Failed)
	}
	for _, e := range r.Errors {
		if !strings.Contains(e, "bad.png") {
			t.Errorf("error %q does not name bad.png", e)
		}
	}
	if s.Split("valid").Len() != nValid || s.View0().Len() != plain.Len() {
		t.Errorf("valid rows %d, view-0 rows %d; want %d and %d", s.Split("valid").Len(), s.View0().Len(), nValid, plain.Len())
	}
	if string(s.Spec().Augment) == "" {
		t.Error("spec does not record the augmentation")
	}
	// View 0 rows are the plain extraction's features, image by image.
	v0, p := readAll(t, s.View0()), readAll(t, plain)
	for i := range p {
		if v0[i] != p[i] {
			t.Fatalf("view 0 differs from the plain extraction at %d", i)
		}
	}
	// Augmented views differ from view 0.
	g := s.ViewGroups()
	x := make([]float32, 2*3*8*8)
	if err := s.Read([]int{g[0][0], g[0][1]}, x); err != nil {
		t.Fatal(err)
	}
	same := true
	for i := 0; i < 192; i++ {
		same = same && x[i] == x[192+i]
	}
	if same {
		t.Error("view 1 equals view 0")
	}

	// More views: only the new rows are computed.
	cfg.Views = 5
	r = run(t, cfg, b)
	// (the failed bad.png views are retried and fail again)
	if want := 2 * nTrain; r.Computed != want || r.Reused+r.Kept != s.Len() {
		t.Errorf("K 3→5: computed %d reused %d, want %d new rows, %d reused (reasons %s)", r.Computed, r.Reused+r.Kept, want, s.Len(), reasons(r))
	}
	// Rerun: nothing.
	r = run(t, cfg, b)
	if r.Computed != 0 {
		t.Errorf("rerun computed %d", r.Computed)
	}
}

// TestViewsInvalidation: changing the augmentation is a spec change,
// reported by the plan, and every row is recomputed.
func TestViewsInvalidation(t *testing.T) {
	root := folder(t, 3)
	b := open(t, "pixels", backbone.Options{})
	out := filepath.Join(t.TempDir(), "views")
	cfg := extract.Config{Data: root, Out: out, Size: 8, Workers: 1, Threads: 1, Augment: "flip,crop", Views: 2}
	first := run(t, cfg, b)
	cfg.Augment = `{"ops":[{"op":"flip"},{"op":"crop","scale":[0.5,1]}]}`
	r := run(t, cfg, b)
	if !strings.Contains(reasons(r), "augment") || !strings.Contains(reasons(r), "scale") {
		t.Errorf("reasons %q do not report the augmentation change", reasons(r))
	}
	if r.Computed != first.Computed || r.SpecDigest == first.SpecDigest {
		t.Errorf("computed %d (want %d), digest changed: %v", r.Computed, first.Computed, r.SpecDigest != first.SpecDigest)
	}
	t.Logf("plan: %s", reasons(r))
}

// TestViewsDeterministic: the same (image, view) gives bitwise-identical
// features across runs, worker counts (1 vs 2), threads and batch sizes (1
// vs 8), with a real convolutional backbone (model/tfjs small).
func TestViewsDeterministic(t *testing.T) {
	root := folder(t, 4)
	var ref []float32
	var keys []string
	for _, c := range []struct{ workers, threads, batch int }{{1, 1, 1}, {2, 2, 8}, {2, 1, 3}} {
		b := open(t, tfjsSmall, backbone.Options{Tap: "c_same_s2"})
		out := filepath.Join(t.TempDir(), "views")
		run(t, extract.Config{Data: root, Out: out, Workers: c.workers, Threads: c.threads, Batch: c.batch,
			Augment: "flip,crop,rotate,jitter", Views: 4}, b)
		s := openStore(t, out)
		x := readAll(t, s)
		var k []string
		for i := 0; i < s.Len(); i++ {
			k = append(k, s.Record(i).Key)
		}
		if ref == nil {
			ref, keys = x, k
			continue
		}
		if strings.Join(k, ",") != strings.Join(keys, ",") || len(x) != len(ref) {
			t.Fatalf("%+v: rows differ", c)
		}
		for i := range x {
			if x[i] != ref[i] {
				t.Fatalf("workers %d threads %d batch %d: value %d differs (%g vs %g)", c.workers, c.threads, c.batch, i, x[i], ref[i])
			}
		}
	}
}

func TestViewsErrors(t *testing.T) {
	root := folder(t, 2)
	b := open(t, "pixels", backbone.Options{})
	for _, cfg := range []extract.Config{
		{Views: 4},
		{Augment: "flip", Views: 1},
		{Augment: "flip", Views: extract.MaxViews + 1},
		{Augment: "flip", Views: 2, Shard: extract.Shard{Index: 0, Of: 2}},
	} {
		cfg.Data, cfg.Out, cfg.Size = root, filepath.Join(t.TempDir(), "s"), 8
		ds, err := extract.LoadDataset(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := extract.Run(ctx, cfg, b, ds); !errors.Is(err, extract.ErrViews) {
			t.Errorf("%+v: err %v, want ErrViews", cfg, err)
		}
	}
}
