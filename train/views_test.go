package train

import (
	"context"
	"errors"
	"testing"
)

// viewData: 10 images × 4 views; row r = 4*i + v holds the value 100*i + v.
func viewData() (*MemDataset, [][]int) {
	m := &MemDataset{Shape: []int{1}, ClassNames: []string{"a", "b"}}
	var groups [][]int
	for i := 0; i < 10; i++ {
		var g []int
		for v := 0; v < 4; v++ {
			g = append(g, len(m.Labels))
			m.X = append(m.X, float32(100*i+v))
			m.Labels = append(m.Labels, i%2)
		}
		groups = append(groups, g)
	}
	return m, groups
}

func TestViewSetPolicies(t *testing.T) {
	m, groups := viewData()
	for _, policy := range []string{ViewUniform, ViewRoundRobin} {
		vs, err := NewViewSet(m, groups, policy)
		if err != nil {
			t.Fatal(err)
		}
		if vs.Len() != 10 || vs.Label(3) != 1 {
			t.Fatalf("Len %d Label(3) %d", vs.Len(), vs.Label(3))
		}
		counts := map[int]int{}
		for epoch := 0; epoch < 8; epoch++ {
			order := vs.EpochOrder(7, epoch)
			if len(order) != 10 {
				t.Fatalf("order %v", order)
			}
			x := make([]float32, 10)
			idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
			if err := vs.Read(idx, x); err != nil {
				t.Fatal(err)
			}
			seen := map[int]bool{}
			for i, v := range x {
				view := int(v) - 100*i
				if view < 0 || view >= 4 || view != vs.View(7, epoch, i) {
					t.Fatalf("%s epoch %d image %d: read %v, policy says view %d", policy, epoch, i, v, vs.View(7, epoch, i))
				}
				counts[view]++
				seen[view] = true
			}
			if len(seen) < 2 {
				t.Errorf("%s epoch %d: every image got the same view", policy, epoch)
			}
			// The same (seed, epoch) picks the same views.
			if again := vs.View(7, epoch, 3); again != vs.View(7, epoch, 3) {
				t.Error("view choice is not deterministic")
			}
		}
		if policy == ViewRoundRobin {
			for i := 0; i < 10; i++ {
				got := map[int]bool{}
				for e := 0; e < 4; e++ {
					got[vs.View(7, e, i)] = true
				}
				if len(got) != 4 {
					t.Errorf("round-robin: image %d saw views %v in 4 epochs", i, got)
				}
			}
		}
		for v := 0; v < 4; v++ { // 80 draws: each view 20 ± noise
			if counts[v] < 8 {
				t.Errorf("%s: view %d drawn %d times of 80", policy, v, counts[v])
			}
		}
	}
	if _, err := NewViewSet(m, groups, "sometimes"); !errors.Is(err, ErrConfig) {
		t.Errorf("bad policy: %v", err)
	}
	groups[2] = []int{8, 4} // image 2 (label 0) with a row of image 1 (label 1)
	if _, err := NewViewSet(m, groups, ""); !errors.Is(err, ErrData) {
		t.Errorf("mixed labels: %v", err)
	}
}

// TestViewSetRun: Run trains over a ViewSet (counting images, not rows) and
// reads a different view mix each epoch.
func TestViewSetRun(t *testing.T) {
	m, groups := viewData()
	vs, err := NewViewSet(m, groups, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{Epochs: 3, BatchSize: 4, Seed: 1, Threads: 1}, vs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 3 {
		t.Fatalf("history %d epochs", len(res.History))
	}
	if vs.View(1, 0, 0) == vs.View(1, 1, 0) && vs.View(1, 1, 0) == vs.View(1, 2, 0) &&
		vs.View(1, 0, 5) == vs.View(1, 1, 5) && vs.View(1, 1, 5) == vs.View(1, 2, 5) {
		t.Error("views did not change across epochs")
	}
}
