package store

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/x448/float16"
)

func TestRoundTrip(t *testing.T) {
	for _, dt := range []string{"f32", "f16"} {
		t.Run(dt, func(t *testing.T) {
			dir := t.TempDir()
			items := testItems(23)
			spec := testSpec(dt, 4, 3, 2)
			failed := map[int]bool{7: true}
			plan := extract(t, dir, spec, items, failed, WithChunkRows(5))
			if len(plan.Todo) != 23 || plan.Reused != 0 || plan.Kept != 0 {
				t.Fatalf("fresh plan: todo %d reused %d kept %d", len(plan.Todo), plan.Reused, plan.Kept)
			}
			s := checkStore(t, dir, items, dt, failed)
			if s.Spec().Digest() != spec.Digest() || s.Provenance().Failed != 1 {
				t.Errorf("provenance %+v", s.Provenance())
			}
			tr, va := s.Split("train"), s.Split("valid")
			if tr.Len()+va.Len() != s.Len() || va.Len() != 4 {
				t.Errorf("splits train %d valid %d of %d", tr.Len(), va.Len(), s.Len())
			}
			// Batched read through a split view equals single reads.
			idx := []int{3, 0, 2}
			got := make([]float32, 3*24)
			if err := va.Read(idx, got); err != nil {
				t.Fatal(err)
			}
			for k, i := range idx {
				want := expectFor(va.Record(i).Key, 24, dt)
				if !slices.Equal(got[k*24:(k+1)*24], want) {
					t.Errorf("valid item %d differs", i)
				}
			}
			// Rerun with the same inputs: only the failed item is retried.
			plan = extract(t, dir, spec, items, nil, WithChunkRows(5))
			if !slices.Equal(plan.Todo, []int{7}) || plan.Kept != 18 || plan.Reused != 4 {
				t.Fatalf("rerun plan: %+v", plan)
			}
			checkStore(t, dir, items, dt, nil)
		})
	}
}

func TestEpochOrder(t *testing.T) {
	dir := t.TempDir()
	items := testItems(50)
	extract(t, dir, testSpec("f32", 2), items, nil, WithChunkRows(4))
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Store{s, s.Split("train")} {
		a, b, c := v.EpochOrder(1, 0), v.EpochOrder(1, 0), v.EpochOrder(1, 1)
		if !slices.Equal(a, b) || slices.Equal(a, c) {
			t.Fatal("EpochOrder not a function of (seed, epoch)")
		}
		sorted := slices.Clone(a)
		slices.Sort(sorted)
		for i, x := range sorted {
			if x != i {
				t.Fatalf("EpochOrder is not a permutation of 0..%d", v.Len()-1)
			}
		}
		// Chunk-aware: the first 4*4 rows come from at most 4 chunks.
		chunks := map[int]bool{}
		for _, i := range a[:min(len(a), 12)] {
			chunks[v.idx[i]/4] = true
		}
		if len(chunks) > 4 {
			t.Errorf("first window spans %d chunks", len(chunks))
		}
	}
}

func TestPrefetchAndSmallCache(t *testing.T) {
	dir := t.TempDir()
	items := testItems(64)
	extract(t, dir, testSpec("f16", 8, 8), items, nil, WithChunkRows(4))
	s, err := Open(dir, WithCacheBytes(3*4*64*2), WithWorkers(2), WithReadahead(2))
	if err != nil {
		t.Fatal(err)
	}
	order := s.EpochOrder(7, 3) // registers the order for readahead
	dst := make([]float32, 5*64)
	if err := s.Read(order[:1], dst[:64]); err != nil {
		t.Fatal(err)
	}
	// The workers decode the next chunk of the order without being asked.
	next := -1
	for _, i := range order {
		if ch := s.idx[i] / 4; ch != s.idx[order[0]]/4 {
			next = ch
			break
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.c.mu.Lock()
		_, ok := s.c.cache[next]
		s.c.mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chunk %d was not read ahead", next)
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; i+5 <= len(order); i += 5 {
		if err := s.Read(order[i:i+5], dst); err != nil {
			t.Fatal(err)
		}
		for k, j := range order[i : i+5] {
			if !slices.Equal(dst[k*64:(k+1)*64], expectFor(s.Record(j).Key, 64, "f16")) {
				t.Fatalf("item %d differs", j)
			}
		}
	}
	s.c.mu.Lock()
	n := s.c.lru.Len()
	s.c.mu.Unlock()
	if n > 4 {
		t.Errorf("cache holds %d chunks, budget is 3", n)
	}
}

func TestDamagedChunk(t *testing.T) {
	dir := t.TempDir()
	items := testItems(20)
	spec := testSpec("f32", 16)
	extract(t, dir, spec, items, nil, WithChunkRows(8))
	p := filepath.Join(dir, "features", "1.0")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	os.WriteFile(p, b, 0o644)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 16)
	if err := s.Read([]int{9}, dst); !errors.Is(err, ErrDamaged) {
		t.Fatalf("read of damaged chunk: %v, want ErrDamaged", err)
	}
	if err := s.Read([]int{1}, dst); err != nil {
		t.Fatalf("read of intact chunk: %v", err)
	}
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Chunk != 1 {
		t.Fatalf("verify: %+v", rep)
	}
	plan := extract(t, dir, spec, items, nil, WithChunkRows(8))
	if !slices.Equal(plan.Todo, []int{8, 9, 10, 11, 12, 13, 14, 15}) {
		t.Fatalf("todo after damage: %v", plan.Todo)
	}
	if !containsSub(plan.Reasons, "chunk 1 damaged (checksum mismatch)") {
		t.Errorf("reasons %q", plan.Reasons)
	}
	checkStore(t, dir, items, "f32", nil)
	if rep, _ := Verify(dir); !rep.OK() {
		t.Errorf("verify after repair: %+v", rep)
	}
	// A garbled index entry and a deleted chunk file are recomputed too.
	os.WriteFile(filepath.Join(dir, ".preconv", "chunks", "0.json"), []byte("{garbage"), 0o644)
	os.Remove(filepath.Join(dir, "features", "2.0"))
	if rep, _ := Verify(dir); len(rep.Problems) != 2 {
		t.Errorf("verify: %+v", rep)
	}
	plan = extract(t, dir, spec, items, nil, WithChunkRows(8))
	if !slices.Equal(plan.Todo, []int{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19}) ||
		!containsSub(plan.Reasons, "chunk 0 index entry unreadable") || !containsSub(plan.Reasons, "chunk 2 file missing") {
		t.Errorf("plan %+v", plan)
	}
	checkStore(t, dir, items, "f32", nil)
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	items := testItems(3)
	w, _, err := Prepare(t.Context(), dir, testSpec("f32", 2), nil, items)
	if err == nil {
		t.Fatal("labels outside classes accepted")
	}
	w, _, err = Prepare(t.Context(), dir, testSpec("f32", 2), []string{"a", "b", "c"}, items)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Prepare(t.Context(), dir, testSpec("f32", 2), []string{"a", "b", "c"}, items); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	w.Close()
	// A stale lock (dead pid on this host) is taken over with a note.
	host, _ := os.Hostname()
	os.WriteFile(filepath.Join(dir, ".preconv", "lock"), []byte(`{"pid":999999999,"host":"`+host+`","since":"2026-01-01T00:00:00Z"}`), 0o644)
	w, plan, err := Prepare(t.Context(), dir, testSpec("f32", 2), []string{"a", "b", "c"}, items)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !containsSub(plan.Reasons, "took over stale lock of pid 999999999") {
		t.Errorf("reasons %q", plan.Reasons)
	}
	if _, err := Open(dir); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Open during write: %v, want ErrIncomplete", err)
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) {
			return true
		}
	}
	return false
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestDamageAfterFirstRead: a chunk damaged after it was verified and evicted
// is caught on reload (zstd content checksum), never served.
func TestDamageAfterFirstRead(t *testing.T) {
	dir := t.TempDir()
	items := testItems(16)
	extract(t, dir, testSpec("f32", 64), items, nil, WithChunkRows(8))
	s, err := Open(dir, WithCacheBytes(0), WithWorkers(0))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 64)
	for _, i := range []int{0, 8} { // load chunk 0, then evict it by loading chunk 1
		if err := s.Read([]int{i}, dst); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "features", "0.0")
	b, _ := os.ReadFile(p)
	for k := len(b) / 3; k < len(b)/3+4; k++ {
		b[k] ^= 0x5a
	}
	os.WriteFile(p, b, 0o644)
	if err := s.Read([]int{1}, dst); !errors.Is(err, ErrDamaged) {
		t.Fatalf("reload of damaged chunk: %v, want ErrDamaged", err)
	}
}

// TestFloatCodecs checks encodeF32/decodeF32 against encoding/binary and
// x448/float16 element by element (guards around dst catch overruns).
func TestFloatCodecs(t *testing.T) {
	src := []float32{0, -0.0, 1.5, -2.25, 65504, 1e-8, 3.4e38, 0.1}
	for _, dt := range []string{"<f4", "<f2"} {
		isz := map[string]int{"<f4": 4, "<f2": 2}[dt]
		raw := make([]byte, len(src)*isz+3)
		raw[len(raw)-1] = 0xee
		encodeF32(raw, src, dt)
		if raw[len(raw)-1] != 0xee {
			t.Fatal("encode overran")
		}
		for i, v := range src {
			if dt == "<f4" {
				if got := binary.LittleEndian.Uint32(raw[4*i:]); got != math.Float32bits(v) {
					t.Errorf("f4 encode %v: %08x", v, got)
				}
			} else if got := binary.LittleEndian.Uint16(raw[2*i:]); got != float16.Fromfloat32(v).Bits() {
				t.Errorf("f2 encode %v: %04x", v, got)
			}
		}
		dst := make([]float32, len(src)+2)
		dst[len(src)], dst[len(src)+1] = -7, -7
		decodeF32(dst[:len(src)], raw, dt)
		if dst[len(src)] != -7 || dst[len(src)+1] != -7 {
			t.Fatal("decode overran")
		}
		for i, v := range src {
			want := v
			if dt == "<f2" {
				want = float16.Fromfloat32(v).Float32()
			}
			if math.Float32bits(dst[i]) != math.Float32bits(want) {
				t.Errorf("%s decode %v: got %v want %v", dt, v, dst[i], want)
			}
		}
	}
}
