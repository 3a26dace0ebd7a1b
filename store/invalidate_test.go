package store

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSpecChangeInvalidates changes each part of the spec in turn and checks
// that every item is recomputed with the right reason.
func TestSpecChangeInvalidates(t *testing.T) {
	base := testSpec("f32", 6)
	items := testItems(12)
	cases := []struct {
		name   string
		change func(*Spec)
		reason string
	}{
		{"weights", func(s *Spec) { s.WeightsDigest = sha("weights-v2") }, "weights digest changed (c0ab742f… → "},
		{"arch", func(s *Spec) { s.Arch = "tinynet2" }, "arch tinynet → tinynet2"},
		{"tap", func(s *Spec) { s.Tap = "features.23" }, "tap features → features.23"},
		{"pool", func(s *Spec) { s.Pool = "avg" }, "pool (none) → avg"},
		{"crop", func(s *Spec) {
			s.Preprocess = json.RawMessage(`{"resize":256,"crop":256,"mean":[0.485,0.456,0.406]}`)
		}, "preprocess.crop 224→256"},
		{"mean", func(s *Spec) {
			s.Preprocess = json.RawMessage(`{"resize":256,"crop":224,"mean":[0.5,0.5,0.5]}`)
		}, "preprocess.mean [0.485,0.456,0.406]→[0.5,0.5,0.5]"},
		{"dtype", func(s *Spec) { s.DType = "f16" }, "dtype f32 → f16"},
		{"shape", func(s *Spec) { s.FeatureShape = []int{3, 2} }, "feature shape [6] → [3 2]"},
		{"augment", func(s *Spec) { s.Augment = json.RawMessage(`{"hflip":true}`) }, "augment.hflip added (true)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			extract(t, dir, base, items, nil, WithChunkRows(5))
			spec := base
			c.change(&spec)
			if spec.Digest() == base.Digest() {
				t.Fatal("digest did not change")
			}
			plan := extract(t, dir, spec, items, nil, WithChunkRows(5))
			if len(plan.Todo) != len(items) || plan.Reused+plan.Kept != 0 {
				t.Errorf("todo %d reused %d kept %d, want all recomputed", len(plan.Todo), plan.Reused, plan.Kept)
			}
			if !containsSub(plan.Reasons, "spec changed: "+c.reason) || !containsSub(plan.Reasons, "all 12 items recomputed") {
				t.Errorf("reasons %q, want %q", plan.Reasons, c.reason)
			}
			checkStore(t, dir, items, spec.DType, nil)
		})
	}
	t.Run("model name and JSON formatting only", func(t *testing.T) {
		dir := t.TempDir()
		extract(t, dir, base, items, nil, WithChunkRows(5))
		spec := base
		spec.Model = "tiny (renamed)"
		spec.Preprocess = json.RawMessage(`{ "mean":[0.485, 0.456, 0.406], "crop":224, "resize":256 }`)
		plan := extract(t, dir, spec, items, nil, WithChunkRows(5))
		if len(plan.Todo) != 0 || plan.Kept != 12 {
			t.Errorf("plan %+v, want everything kept", plan)
		}
	})
}

// TestItemChanges changes image bytes and adds/removes/reorders items.
func TestItemChanges(t *testing.T) {
	spec := testSpec("f16", 3, 2)
	items := testItems(30)
	dir := t.TempDir()
	extract(t, dir, spec, items, nil, WithChunkRows(4))

	// 2 images changed (new bytes → new key), 3 removed, 4 added, order shuffled.
	next := slices.Clone(items)
	next[5].Key = sha("img-5 edited")
	next[17].Key = sha("img-17 edited")
	next = slices.Delete(next, 20, 23)
	extra := testItems(34)[30:]
	next = slices.Insert(next, 2, extra...)
	slices.Reverse(next[10:])
	plan := extract(t, dir, spec, next, nil, WithChunkRows(4))
	if len(plan.Todo) != 6 || plan.Reused+plan.Kept != 25 {
		t.Fatalf("todo %d (want 6: 2 changed + 4 added), reused+kept %d (want 25); reasons %q", len(plan.Todo), plan.Reused+plan.Kept, plan.Reasons)
	}
	if !containsSub(plan.Reasons, "2 images changed, 4 added, 3 removed; 25 reused") {
		t.Errorf("reasons %q", plan.Reasons)
	}
	for _, p := range plan.Todo {
		k := next[p].Key
		if k != sha("img-5 edited") && k != sha("img-17 edited") && !slices.ContainsFunc(extra, func(e ItemRef) bool { return e.Key == k }) {
			t.Errorf("item %d (%s) recomputed although unchanged", p, next[p].Path)
		}
	}
	checkStore(t, dir, next, "f16", nil)

	// Same inputs again: nothing to do.
	plan = extract(t, dir, spec, next, nil, WithChunkRows(4))
	if len(plan.Todo) != 0 || plan.Kept != len(next) {
		t.Errorf("unchanged rerun: %+v", plan)
	}
	// Re-chunking copies everything.
	plan = extract(t, dir, spec, next, nil, WithChunkRows(7))
	if len(plan.Todo) != 0 || plan.Reused != len(next) || !containsSub(plan.Reasons, "chunk rows 4 → 7") {
		t.Errorf("rechunk: %+v", plan)
	}
	checkStore(t, dir, next, "f16", nil)
}

func TestSpecDiff(t *testing.T) {
	a := testSpec("f32", 512, 7, 7)
	b := a
	b.WeightsDigest = sha("other")
	b.Tap = "features.23"
	b.DType = "f16"
	got := b.Diff(a)
	want := []string{"weights digest changed (c0ab742f… → " + sha("other")[:8] + "…)", "tap features → features.23", "dtype f32 → f16"}
	if !slices.Equal(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if len(a.Diff(a)) != 0 {
		t.Error("Diff of equal specs not empty")
	}
}

// TestInterruptedSpecChangeKeepsOldFeatures: a run with another spec that is
// interrupted before Commit does not destroy the committed features; going
// back to the old spec reuses them.
func TestInterruptedSpecChangeKeepsOldFeatures(t *testing.T) {
	dir := t.TempDir()
	items := testItems(10)
	a := testSpec("f32", 4)
	extract(t, dir, a, items, nil, WithChunkRows(3))
	b := a
	b.Tap = "features.23"
	w, plan, err := Prepare(t.Context(), dir, b, []string{"a", "b", "c"}, items, WithChunkRows(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Todo) != 10 {
		t.Fatalf("spec B todo %d", len(plan.Todo))
	}
	w.Put(plan.Todo[:3], make([]float32, 12)) // one chunk of B written, then interrupted
	w.Close()
	plan = extract(t, dir, a, items, nil, WithChunkRows(3))
	if len(plan.Todo) != 0 || plan.Reused+plan.Kept != 10 {
		t.Fatalf("back to spec A: %+v", plan)
	}
	checkStore(t, dir, items, "f32", nil)
}

// TestRelabelOnly: same images, new labels/classes: nothing recomputed, the
// metadata follows.
func TestRelabelOnly(t *testing.T) {
	dir := t.TempDir()
	items := testItems(7)
	spec := testSpec("f32", 2)
	extract(t, dir, spec, items, nil)
	for i := range items {
		items[i].Label = 2 - items[i].Label
		items[i].Split = "valid"
	}
	plan := extract(t, dir, spec, items, nil)
	if len(plan.Todo) != 0 || plan.Kept != 7 {
		t.Fatalf("relabel: %+v", plan)
	}
	s := checkStore(t, dir, items, "f32", nil)
	if s.Split("valid").Len() != 7 {
		t.Error("splits not updated")
	}
}
