package store

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A second store (another team's, or a shard) supplies the features of the
// items it shares with this one: only the rest are computed, and the result
// is byte-identical to a store computed from scratch.
func TestWithSourcesReusesSharedItems(t *testing.T) {
	spec := testSpec("f32", 3, 2, 2)
	all := testItems(40)
	shared := t.TempDir()
	extract(t, shared, spec, all[:25], map[int]bool{3: true}, WithChunkRows(8))

	mine := filepath.Join(t.TempDir(), "b")
	plan := extract(t, mine, spec, all[10:], nil, WithChunkRows(8), WithSources(shared))
	// Items 10..24 come from the shared store, 25..39 are new.
	if plan.FromSources != 15 || plan.Reused != 15 || len(plan.Todo) != 15 {
		t.Fatalf("plan: todo %d reused %d from sources %d; reasons %q", len(plan.Todo), plan.Reused, plan.FromSources, plan.Reasons)
	}
	if !containsSub(plan.Reasons, "15 items copied from 1 source store") {
		t.Errorf("reasons %q do not mention the source store", plan.Reasons)
	}
	clean := filepath.Join(t.TempDir(), "c")
	extract(t, clean, spec, all[10:], nil, WithChunkRows(8))
	files, _ := filepath.Glob(filepath.Join(clean, "features", "*"))
	if len(files) < 2 {
		t.Fatalf("clean store has %d feature files", len(files))
	}
	for _, f := range append(files, filepath.Join(clean, "records.jsonl"), filepath.Join(clean, "keys", "0")) {
		f, _ = filepath.Rel(clean, f)
		a, err1 := os.ReadFile(filepath.Join(mine, f))
		b, err2 := os.ReadFile(filepath.Join(clean, f))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from a clean extraction (%v, %v)", f, err1, err2)
		}
	}
}

// A failed row, a damaged chunk and another spec in a source are never used.
func TestWithSourcesSkipsFailedDamagedAndOtherSpecs(t *testing.T) {
	spec := testSpec("f32", 4)
	items := testItems(12)
	src := t.TempDir()
	extract(t, src, spec, items, map[int]bool{2: true}, WithChunkRows(4))
	// Damage chunk 1 (items 4..7).
	p := filepath.Join(src, "features", "1.0")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := extract(t, t.TempDir(), spec, items, nil, WithChunkRows(4), WithSources(src))
	if want := []int{2, 4, 5, 6, 7}; !slices.Equal(plan.Todo, want) {
		t.Errorf("todo %v, want %v (failed row 2 and damaged chunk 1 recomputed)", plan.Todo, want)
	}
	other := spec
	other.Tap = "features.23"
	plan = extract(t, t.TempDir(), other, items, nil, WithChunkRows(4), WithSources(src))
	if len(plan.Todo) != len(items) || plan.FromSources != 0 {
		t.Errorf("another spec took %d items from the source", plan.FromSources)
	}
	if _, _, err := Prepare(t.Context(), t.TempDir(), spec, nil, nil, WithSources(filepath.Join(src, "nope"))); err == nil {
		t.Error("a missing source directory was accepted")
	}
}
