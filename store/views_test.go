package store

import (
	"fmt"
	"testing"
)

// TestViews: view rows keep their view index and image key through Commit
// and Open; ViewGroups and View0 group and filter them; adding views reuses
// the rows already stored (by key).
func TestViews(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("f32", 4)
	base := testItems(6)
	mk := func(k int) []ItemRef {
		var items []ItemRef
		for _, it := range base {
			for v := 0; v < k; v++ {
				r := it
				r.View, r.Image = v, it.Key
				if v > 0 {
					r.Key = sha(fmt.Sprintf("%s-view-%d", it.Key, v))
					r.Path = fmt.Sprintf("%s#view=%d", it.Path, v)
				}
				items = append(items, r)
			}
		}
		return items
	}
	plan := extract(t, dir, spec, mk(2), nil)
	if len(plan.Todo) != 12 {
		t.Fatalf("first run computes %d rows, want 12", len(plan.Todo))
	}
	plan = extract(t, dir, spec, mk(4), nil)
	if len(plan.Todo) != 12 {
		t.Errorf("K 2→4 computes %d rows, want only the 12 new ones (reasons %q)", len(plan.Todo), plan.Reasons)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 24 || s.Views() != 4 {
		t.Fatalf("Len %d Views %d, want 24 and 4", s.Len(), s.Views())
	}
	g := s.ViewGroups()
	if len(g) != 6 {
		t.Fatalf("%d groups, want 6", len(g))
	}
	for gi, rows := range g {
		if len(rows) != 4 {
			t.Fatalf("group %d: %d rows", gi, len(rows))
		}
		for v, i := range rows {
			r := s.Record(i)
			if r.View != v || r.ImageKey() != base[gi].Key {
				t.Errorf("group %d row %d: view %d image %s", gi, v, r.View, r.ImageKey())
			}
		}
	}
	v0 := s.View0()
	if v0.Len() != 6 {
		t.Fatalf("View0 has %d rows", v0.Len())
	}
	for i := 0; i < v0.Len(); i++ {
		if v0.Record(i).Key != base[i].Key {
			t.Errorf("View0 row %d is not image %d", i, i)
		}
	}
	if tr := s.Split("train"); len(tr.ViewGroups()) != 5 || tr.View0().Len() != 5 {
		t.Errorf("train split: %d groups, %d view-0 rows", len(tr.ViewGroups()), tr.View0().Len())
	}
	// A store without views: one group per row, View0 is everything.
	plain := t.TempDir()
	extract(t, plain, spec, base, nil)
	p, err := Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ViewGroups()) != 6 || p.View0().Len() != 6 || p.Views() != 1 {
		t.Error("a store without views must read as one view per image")
	}
}
