package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Plan says what an extraction must compute and why.
type Plan struct {
	// Todo lists the item positions whose features must be computed and
	// given to Put (or Fail), ascending.
	Todo []int
	// Kept counts items whose chunks were already complete and stay in place.
	Kept int
	// Reused counts items whose features the writer copies from earlier
	// chunks (same content key and spec digest) into the new layout.
	Reused int
	// FromSources counts the Reused items copied from the stores named by
	// WithSources (a shared store, a shard) rather than from this one.
	FromSources int
	// Reasons explains the plan in sentences ("spec changed: weights digest
	// changed (ab12… → cd34…); all 2000 items recomputed", "12 images
	// changed, 40 added, 3 removed; 1945 reused", "chunk 7 damaged (checksum
	// mismatch): 64 items recomputed", "resuming: 5 of 32 chunks missing").
	Reasons []string
}

// source is a verified chunk whose rows may be copied into the new layout.
type source struct {
	info *chunkInfo
	dir  string // the store directory the chunk belongs to
	path string // absolute chunk file path
}

type srcRow struct {
	src *source
	row int
}

// wchunk is the writer's state for one features chunk of the new layout.
type wchunk struct {
	done   bool
	todo   []bool // rows in the plan's Todo
	need   []bool // Todo rows not yet Put/Failed
	left   int
	reuse  map[int]srcRow // rows to copy from sources
	buf    []float32
	failed map[int]string
}

// Writer fills a store prepared by Prepare. Its methods are safe for
// concurrent use.
type Writer struct {
	mu       sync.Mutex
	dir      string
	spec     Spec
	digest   string
	classes  []string
	items    []ItemRef
	opts     *options
	rows     int // chunk rows
	rowElems int
	dtype    string
	meta     ArrayMeta
	chunks   []*wchunk
	codec    *codec
	srcCache map[*source][]float32
	srcOrder []*source
	release  func()
	closed   bool
}

// Prepare opens (creating if needed) the store at dir for writing the given
// items with spec, takes the writer lock, and works out what must be
// computed. Features already present for an item (same content key, same
// spec digest, checksum intact) are kept or copied by the writer itself;
// the caller computes only plan.Todo, then calls Put/Fail for each of them
// and Commit. Until Commit, the store has no committed metadata and Open
// refuses it; Close without Commit keeps written chunks for a later resume.
func Prepare(ctx context.Context, dir string, spec Spec, classes []string, items []ItemRef, opts ...Option) (*Writer, *Plan, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	for i, it := range items {
		if !validKey(it.Key) {
			return nil, nil, fmt.Errorf("item %d (%s): key %q is not a lowercase sha256 hex: %w", i, it.Path, it.Key, ErrBadInput)
		}
		if it.Label < -1 || it.Label >= len(classes) {
			return nil, nil, fmt.Errorf("item %d (%s): label %d outside [-1,%d): %w", i, it.Path, it.Label, len(classes), ErrBadInput)
		}
		if strings.ContainsAny(it.Path, "\n\r") {
			return nil, nil, fmt.Errorf("item %d: path %q has a newline: %w", i, it.Path, ErrBadInput)
		}
	}
	w := &Writer{dir: dir, spec: spec, digest: spec.Digest(), classes: append([]string(nil), classes...),
		items: append([]ItemRef(nil), items...), opts: o,
		srcCache: map[*source][]float32{}}
	w.rowElems = 1
	for _, d := range spec.FeatureShape {
		w.rowElems *= d
	}
	w.rows = o.chunkRows
	if w.rows == 0 {
		w.rows = max(1, min(1024, (2<<20)/(4*w.rowElems)))
	}
	w.dtype = arrayDType(spec.DType)
	w.meta = ArrayMeta{ZarrFormat: 2, Shape: append([]int{len(items)}, spec.FeatureShape...),
		Chunks: append([]int{w.rows}, spec.FeatureShape...), DType: w.dtype,
		Compressor: &Codec{ID: "zstd", Level: o.level}, FillValue: 0.0, Order: "C", DimensionSeparator: "."}
	for _, d := range []string{featuresDir, chunkInfoDir, stashDir} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return nil, nil, err
		}
	}
	release, note, err := acquireLock(filepath.Join(dir, metaDir))
	if err != nil {
		return nil, nil, err
	}
	w.release = release
	if w.codec, err = newCodec(o.level, w.rows*w.rowElems*4); err != nil {
		w.Close()
		return nil, nil, err
	}
	plan, err := w.plan(ctx)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	if note != "" {
		plan.Reasons = append([]string{note}, plan.Reasons...)
	}
	return w, plan, nil
}

func (w *Writer) nChunks() int { return (len(w.items) + w.rows - 1) / w.rows }

// chunkKeys returns the item keys of new chunk c.
func (w *Writer) chunkKeys(c int) []string {
	lo, hi := c*w.rows, min((c+1)*w.rows, len(w.items))
	k := make([]string, 0, hi-lo)
	for _, it := range w.items[lo:hi] {
		k = append(k, it.Key)
	}
	return k
}

func (w *Writer) plan(ctx context.Context) (*Plan, error) {
	plan := &Plan{}
	// What was committed before, for the explanations.
	oldProv, oldRecs := readCommitted(w.dir)

	// Current chunks and their sidecars.
	infos, _ := filepath.Glob(filepath.Join(w.dir, filepath.FromSlash(chunkInfoDir), "*.json"))
	type cur struct {
		info *chunkInfo
		err  error
	}
	current := map[int]cur{}
	for _, p := range infos {
		c, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".json"))
		if err != nil || c < 0 {
			os.Remove(p)
			continue
		}
		ci, err := readChunkInfo(p)
		if err == nil {
			_, err = checkChunk(w.dir, ci)
		}
		current[c] = cur{ci, err}
	}
	n := w.nChunks()
	kept := make([]bool, n)
	var damaged []string
	damagedRows := map[int]bool{}
	for c := 0; c < n; c++ {
		cu, ok := current[c]
		if !ok {
			continue
		}
		if cu.err != nil {
			switch {
			case cu.info == nil:
				damaged = append(damaged, fmt.Sprintf("chunk %d index entry unreadable", c))
				damagedRows[c] = true
			case cu.info.Spec != w.digest:
			case errors.Is(cu.err, ErrDamaged):
				damaged = append(damaged, fmt.Sprintf("chunk %d damaged (%s)", c, reasonOf(cu.err)))
				damagedRows[c] = true
			case errors.Is(cu.err, ErrMissing):
				damaged = append(damaged, fmt.Sprintf("chunk %d file missing", c))
				damagedRows[c] = true
			}
			continue
		}
		ci := cu.info
		if ci.Spec == w.digest && ci.Rows == w.rows && ci.RowElems == w.rowElems && ci.DType == w.dtype &&
			len(ci.Failed) == 0 && ci.File == featuresDir+"/"+w.meta.rowChunkKey(c) && slices.Equal(ci.Keys, w.chunkKeys(c)) {
			kept[c] = true
		}
	}
	allKept := true
	for _, k := range kept {
		allKept = allKept && k
	}
	if !allKept || !w.sameMetadata(oldProv, oldRecs) {
		// The store is about to change: withdraw the commit point first.
		if err := os.Remove(filepath.Join(w.dir, ".zattrs")); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if err := syncDir(w.dir); err != nil {
			return nil, err
		}
	}
	// Set aside intact chunks that the new layout overwrites, whatever their
	// spec (an interrupted run with another spec must not destroy the old
	// features); drop damaged ones. The set-aside chunks go at Commit.
	for c, cu := range current {
		if c < n && kept[c] {
			continue
		}
		if cu.err == nil {
			if err := w.stash(c, cu.info); err != nil {
				return nil, err
			}
			continue
		}
		if cu.info != nil {
			os.Remove(filepath.Join(w.dir, filepath.FromSlash(cu.info.File)))
		}
		os.Remove(chunkInfoPath(w.dir, c))
	}
	// Reuse sources: everything set aside with the same spec.
	reuse := map[string]srcRow{}
	stashed, _ := filepath.Glob(filepath.Join(w.dir, filepath.FromSlash(stashDir), "*.json"))
	sort.Strings(stashed)
	for _, p := range stashed {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ci, err := readChunkInfo(p)
		if err == nil {
			_, err = checkChunk(w.dir, ci)
		}
		if err != nil || ci.Spec != w.digest || ci.RowElems != w.rowElems {
			continue
		}
		s := &source{info: ci, dir: w.dir, path: filepath.Join(w.dir, filepath.FromSlash(ci.File))}
		for r, k := range ci.Keys {
			if _, bad := ci.Failed[r]; !bad {
				reuse[k] = srcRow{s, r}
			}
		}
	}
	// Kept chunks are sources too (duplicate images).
	for c := 0; c < n; c++ {
		if kept[c] {
			ci := current[c].info
			s := &source{info: ci, dir: w.dir, path: filepath.Join(w.dir, filepath.FromSlash(ci.File))}
			for r, k := range ci.Keys {
				if _, ok := reuse[k]; !ok {
					reuse[k] = srcRow{s, r}
				}
			}
		}
	}
	// Other stores named by WithSources come last: this store's own
	// features win.
	fromSource := map[*source]bool{}
	if err := w.addSources(ctx, reuse, fromSource); err != nil {
		return nil, err
	}
	// Build the chunk states.
	w.chunks = make([]*wchunk, n)
	missingChunks, damagedTodo := 0, 0
	for c := 0; c < n; c++ {
		wc := &wchunk{}
		w.chunks[c] = wc
		if kept[c] {
			wc.done = true
			plan.Kept += len(w.chunkKeys(c))
			continue
		}
		missingChunks++
		lo, hi := c*w.rows, min((c+1)*w.rows, len(w.items))
		wc.need = make([]bool, w.rows)
		wc.todo = make([]bool, w.rows)
		wc.reuse = map[int]srcRow{}
		for p := lo; p < hi; p++ {
			if sr, ok := reuse[w.items[p].Key]; ok {
				wc.reuse[p-lo] = sr
				plan.Reused++
				if fromSource[sr.src] {
					plan.FromSources++
				}
				continue
			}
			wc.need[p-lo] = true
			wc.todo[p-lo] = true
			wc.left++
			plan.Todo = append(plan.Todo, p)
			if damagedRows[c] {
				damagedTodo++
			}
		}
	}
	plan.Reasons = w.reasons(plan, oldProv, oldRecs, damaged, damagedTodo, missingChunks, len(current) > 0)
	// Chunks made only of reused rows are written now.
	for c, wc := range w.chunks {
		if !wc.done && wc.left == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := w.fill(wc); err != nil {
				return nil, err
			}
			if err := w.flush(c, wc); err != nil {
				return nil, err
			}
		}
	}
	return plan, nil
}

// addSources adds the rows of the WithSources stores' intact chunks with
// this writer's spec to reuse, without replacing rows already there.
func (w *Writer) addSources(ctx context.Context, reuse map[string]srcRow, fromSource map[*source]bool) error {
	for _, dir := range w.opts.sources {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		if self, _ := filepath.Abs(w.dir); self == abs {
			continue
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return fmt.Errorf("source store %s: not a directory: %w", dir, ErrBadInput)
		}
		var infos []string
		for _, d := range []string{chunkInfoDir, stashDir} {
			m, _ := filepath.Glob(filepath.Join(abs, filepath.FromSlash(d), "*.json"))
			sort.Strings(m)
			infos = append(infos, m...)
		}
		for _, p := range infos {
			if err := ctx.Err(); err != nil {
				return err
			}
			ci, err := readChunkInfo(p)
			if err != nil || ci.Spec != w.digest || ci.RowElems != w.rowElems {
				continue
			}
			wanted := false
			for r, k := range ci.Keys {
				if _, have := reuse[k]; !have {
					if _, bad := ci.Failed[r]; !bad {
						wanted = true
						break
					}
				}
			}
			if !wanted {
				continue
			}
			if _, err := checkChunk(abs, ci); err != nil {
				continue
			}
			s := &source{info: ci, dir: abs, path: filepath.Join(abs, filepath.FromSlash(ci.File))}
			fromSource[s] = true
			for r, k := range ci.Keys {
				if _, bad := ci.Failed[r]; bad {
					continue
				}
				if _, have := reuse[k]; !have {
					reuse[k] = srcRow{s, r}
				}
			}
		}
	}
	return nil
}

func reasonOf(err error) string {
	if strings.Contains(err.Error(), "checksum") {
		return "checksum mismatch"
	}
	s := err.Error()
	if i := strings.Index(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return strings.TrimSuffix(s, ": "+ErrDamaged.Error())
}

func (w *Writer) reasons(plan *Plan, oldProv *Provenance, oldRecs []Record, damaged []string, damagedTodo, missingChunks int, hadChunks bool) []string {
	var r []string
	total := len(w.items)
	switch {
	case oldProv != nil && oldProv.SpecDigest != w.digest:
		why := w.spec.Diff(oldProv.Spec)
		if len(why) == 0 {
			why = []string{"spec digest changed"}
		}
		if plan.Reused+plan.Kept == 0 {
			r = append(r, fmt.Sprintf("spec changed: %s; all %d items recomputed", strings.Join(why, ", "), total))
		} else {
			r = append(r, fmt.Sprintf("spec changed: %s; %d items recomputed, %d reused from an earlier run with this spec", strings.Join(why, ", "), len(plan.Todo), plan.Reused+plan.Kept))
		}
	case oldProv != nil:
		old := map[string]Record{}
		failedBefore := 0
		for _, rec := range oldRecs {
			old[rec.Path] = rec
			if rec.Failed != "" {
				failedBefore++
			}
		}
		changed, added := 0, 0
		seen := map[string]bool{}
		for _, it := range w.items {
			seen[it.Path] = true
			if o, ok := old[it.Path]; !ok {
				added++
			} else if o.Key != it.Key {
				changed++
			}
		}
		removed := 0
		for p := range old {
			if !seen[p] {
				removed++
			}
		}
		if changed+added+removed > 0 {
			r = append(r, fmt.Sprintf("%d images changed, %d added, %d removed; %d reused", changed, added, removed, plan.Reused+plan.Kept))
		}
		if failedBefore > 0 {
			r = append(r, fmt.Sprintf("%d items that failed last time are retried", failedBefore))
		}
		if oldProv.ChunkRows != w.rows {
			r = append(r, fmt.Sprintf("chunk rows %d → %d: features re-chunked", oldProv.ChunkRows, w.rows))
		}
	case hadChunks:
		r = append(r, fmt.Sprintf("resuming: %d of %d chunks missing", missingChunks, w.nChunks()))
	default:
		r = append(r, fmt.Sprintf("new store: %d items to compute", total))
	}
	for i, d := range damaged {
		if i == 5 {
			r = append(r, fmt.Sprintf("and %d more damaged chunks", len(damaged)-5))
			break
		}
		r = append(r, d)
	}
	if len(damaged) > 0 {
		r = append(r, fmt.Sprintf("%d items of damaged or missing chunks recomputed", damagedTodo))
	}
	if plan.FromSources > 0 {
		r = append(r, fmt.Sprintf("%d items copied from %d source store(s)", plan.FromSources, len(w.opts.sources)))
	}
	r = append(r, fmt.Sprintf("%d to compute, %d reused, %d kept in place", len(plan.Todo), plan.Reused, plan.Kept))
	return r
}

// sameMetadata reports whether the committed metadata already describes
// this writer's items, classes and layout, so that a run with nothing to
// compute can leave the commit point in place for readers.
func (w *Writer) sameMetadata(p *Provenance, recs []Record) bool {
	if p == nil || recs == nil || p.ChunkRows != w.rows || len(recs) != len(w.items) || !slices.Equal(p.Classes, w.classes) {
		return false
	}
	for i, it := range w.items {
		r := recs[i]
		if r.Key != it.Key || r.Path != it.Path || r.Label != it.Label || r.Split != it.Split || r.Failed != "" ||
			r.View != it.View || r.Image != it.Image {
			return false
		}
	}
	return true
}

// readCommitted returns the previous commit's provenance and records, or nils.
func readCommitted(dir string) (*Provenance, []Record) {
	b, err := readLimited(filepath.Join(dir, ".zattrs"), maxMetaBytes)
	if err != nil {
		return nil, nil
	}
	var za zattrs
	if json.Unmarshal(b, &za) != nil || za.Preconv == nil {
		return nil, nil
	}
	recs, err := readRecords(filepath.Join(dir, recordsFile), za.Preconv.Count)
	if err != nil {
		return za.Preconv, nil
	}
	return za.Preconv, recs
}

// stash moves current chunk c (valid, same spec) to .preconv/old so its rows
// can be copied into the new layout. Crash-safe in every order: the stash
// sidecar is written before the chunk is moved, and the old sidecar removed
// last.
func (w *Writer) stash(c int, ci *chunkInfo) error {
	name := ci.SHA256
	moved := *ci
	moved.File = stashDir + "/" + name + ".chunk"
	b, _ := json.Marshal(&moved)
	sp := filepath.Join(w.dir, filepath.FromSlash(stashDir), name+".json")
	if err := WriteFileAtomic(sp, b); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(w.dir, filepath.FromSlash(ci.File)), filepath.Join(w.dir, filepath.FromSlash(moved.File))); err != nil {
		return err
	}
	if err := syncDir(filepath.Join(w.dir, filepath.FromSlash(stashDir))); err != nil {
		return err
	}
	os.Remove(chunkInfoPath(w.dir, c))
	return nil
}

// sourceRows decodes a source chunk (small LRU of 4).
func (w *Writer) sourceRows(s *source) ([]float32, error) {
	if d, ok := w.srcCache[s]; ok {
		return d, nil
	}
	b, err := checkChunk(s.dir, s.info)
	if err != nil {
		return nil, err
	}
	isz := 4
	if s.info.DType == "<f2" {
		isz = 2
	}
	want := s.info.Rows * s.info.RowElems * isz
	raw, err := w.codec.decompress(nil, b, want, true)
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", s.info.File, err)
	}
	d := make([]float32, s.info.Rows*s.info.RowElems)
	decodeF32(d, raw, s.info.DType)
	if len(w.srcOrder) >= 4 {
		delete(w.srcCache, w.srcOrder[0])
		w.srcOrder = w.srcOrder[1:]
	}
	w.srcCache[s] = d
	w.srcOrder = append(w.srcOrder, s)
	return d, nil
}

// fill allocates a chunk buffer and copies the reused rows into it.
func (w *Writer) fill(wc *wchunk) error {
	if wc.buf != nil {
		return nil
	}
	wc.buf = make([]float32, w.rows*w.rowElems)
	rows := make([]int, 0, len(wc.reuse))
	for r := range wc.reuse {
		rows = append(rows, r)
	}
	sort.Ints(rows)
	for _, r := range rows {
		sr := wc.reuse[r]
		d, err := w.sourceRows(sr.src)
		if err != nil {
			return err
		}
		e := w.rowElems
		copy(wc.buf[r*e:(r+1)*e], d[sr.row*e:(sr.row+1)*e])
	}
	return nil
}

// flush compresses chunk c and writes it (temp, fsync, rename), then its
// sidecar.
func (w *Writer) flush(c int, wc *wchunk) error {
	isz := 4
	if w.dtype == "<f2" {
		isz = 2
	}
	raw := make([]byte, len(wc.buf)*isz)
	encodeF32(raw, wc.buf, w.dtype)
	comp := w.codec.compress(raw)
	key := w.meta.rowChunkKey(c)
	rel := featuresDir + "/" + key
	if err := WriteFileAtomic(filepath.Join(w.dir, featuresDir, key), comp); err != nil {
		return err
	}
	h := sha256.Sum256(comp)
	ci := chunkInfo{File: rel, Spec: w.digest, DType: w.dtype, RowElems: w.rowElems, Rows: w.rows,
		Keys: w.chunkKeys(c), Failed: wc.failed, SHA256: hex.EncodeToString(h[:]), Size: int64(len(comp))}
	b, _ := json.Marshal(&ci)
	if err := WriteFileAtomic(chunkInfoPath(w.dir, c), b); err != nil {
		return err
	}
	wc.done, wc.buf, wc.reuse, wc.need, wc.todo = true, nil, nil, nil, nil
	return nil
}

// Put stores the features of the items at positions pos (indices into the
// items given to Prepare, each in plan.Todo), back to back in features
// (len(features) == len(pos)*prod(spec.FeatureShape)). Calls may come in any
// order and batch size; a chunk is written as soon as all its items arrived.
// The features slice is copied; the caller may reuse it. NaN, ±Inf and, for
// f16 stores, values beyond ±65504 are rejected with ErrBadInput.
func (w *Writer) Put(pos []int, features []float32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if len(features) != len(pos)*w.rowElems {
		return fmt.Errorf("put: %d features for %d items of %d: %w", len(features), len(pos), w.rowElems, ErrBadInput)
	}
	limit := float32(math.MaxFloat32)
	if w.dtype == "<f2" {
		limit = 65504 // largest finite binary16
	}
	for i, p := range pos {
		wc, r, err := w.todoRow(p)
		if err != nil {
			return err
		}
		for _, v := range features[i*w.rowElems : (i+1)*w.rowElems] {
			if !(v >= -limit && v <= limit) {
				return fmt.Errorf("put: item %d (%s): feature value %g is not finite in %s: %w", p, w.items[p].Path, v, w.spec.DType, ErrBadInput)
			}
		}
		if err := w.fill(wc); err != nil {
			return err
		}
		e := w.rowElems
		copy(wc.buf[r*e:(r+1)*e], features[i*e:(i+1)*e])
		delete(wc.failed, r)
		if err := w.rowDone(p, wc, r); err != nil {
			return err
		}
	}
	return nil
}

// Fail records that item pos (in plan.Todo) could not be computed, e.g. its
// image did not decode. The item stays in the records with the reason, is
// excluded from reading, and is retried by the next Prepare.
func (w *Writer) Fail(pos int, reason string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	wc, r, err := w.todoRow(pos)
	if err != nil {
		return err
	}
	if err := w.fill(wc); err != nil {
		return err
	}
	if reason == "" {
		reason = "failed"
	}
	reason = strings.ReplaceAll(reason, "\n", " ")
	if wc.failed == nil {
		wc.failed = map[int]string{}
	}
	wc.failed[r] = reason
	clear(wc.buf[r*w.rowElems : (r+1)*w.rowElems])
	return w.rowDone(pos, wc, r)
}

func (w *Writer) todoRow(p int) (*wchunk, int, error) {
	if p < 0 || p >= len(w.items) {
		return nil, 0, fmt.Errorf("position %d outside [0,%d): %w", p, len(w.items), ErrBadInput)
	}
	wc, r := w.chunks[p/w.rows], p%w.rows
	if wc.done || wc.todo == nil || !wc.todo[r] {
		return nil, 0, fmt.Errorf("position %d (%s) is not in the plan's Todo: %w", p, w.items[p].Path, ErrBadInput)
	}
	return wc, r, nil
}

func (w *Writer) rowDone(p int, wc *wchunk, r int) error {
	if wc.need[r] {
		wc.need[r] = false
		wc.left--
	}
	if wc.left == 0 {
		return w.flush(p/w.rows, wc)
	}
	return nil
}

// Commit writes labels, keys, records and array metadata, removes chunks kept
// aside for reuse, and writes the group attributes (provenance) last: the
// commit point. It fails with ErrIncomplete if some Todo item was neither
// Put nor Failed. The lock stays held until Close.
func (w *Writer) Commit() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	missing := 0
	for _, wc := range w.chunks {
		if !wc.done {
			missing += wc.left
		}
	}
	if missing > 0 {
		return fmt.Errorf("%s: %d items neither Put nor Failed: %w", w.dir, missing, ErrIncomplete)
	}
	recs := make([]Record, len(w.items))
	splits := map[string]int{}
	nFailed := 0
	for i, it := range w.items {
		recs[i] = Record{Index: i, Path: it.Path, Key: it.Key, Label: it.Label, Split: it.Split, View: it.View, Image: it.Image}
	}
	// Failures live in the sidecars (they survive a crash before Commit).
	for c := range w.chunks {
		ci, err := readChunkInfo(chunkInfoPath(w.dir, c))
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		for r, why := range ci.Failed {
			recs[c*w.rows+r].Failed = why
		}
	}
	for _, r := range recs {
		if r.Failed != "" {
			nFailed++
		} else {
			splits[r.Split]++
		}
	}
	if err := w.writeAux(recs); err != nil {
		return err
	}
	fb, _ := json.MarshalIndent(&w.meta, "", "  ")
	if err := WriteFileAtomic(filepath.Join(w.dir, featuresDir, ".zarray"), fb); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(w.dir, ".zgroup"), []byte("{\n  \"zarr_format\": 2\n}")); err != nil {
		return err
	}
	w.cleanup()
	created := now()
	if !w.opts.created.IsZero() {
		created = w.opts.created
	}
	prov := &Provenance{Format: formatVer, Version: version(), Created: created, Spec: w.spec, SpecDigest: w.digest,
		Classes: w.classes, Count: len(w.items), Failed: nFailed, Splits: splits, ChunkRows: w.rows,
		Chunks: w.nChunks(), Level: w.opts.level, LayoutHash: layoutHash(recs), ArrayDType: w.dtype, RecordsFile: recordsFile}
	if prov.Classes == nil {
		prov.Classes = []string{}
	}
	zb, _ := json.MarshalIndent(zattrs{Preconv: prov, Classes: prov.Classes}, "", "  ")
	if err := WriteFileAtomic(filepath.Join(w.dir, ".zattrs"), zb); err != nil {
		return err
	}
	return nil
}

// writeAux writes labels/, keys/ and records.jsonl.
func (w *Writer) writeAux(recs []Record) error {
	n := len(recs)
	rows := max(1, min(auxChunkRows, n))
	lab := ArrayMeta{ZarrFormat: 2, Shape: []int{n}, Chunks: []int{rows}, DType: "<i8",
		Compressor: &Codec{ID: "zstd", Level: w.opts.level}, FillValue: 0, Order: "C", DimensionSeparator: "."}
	keys := lab
	keys.DType, keys.FillValue = "|S64", ""
	for _, a := range []struct {
		dir  string
		meta ArrayMeta
		isz  int
		put  func(dst []byte, r Record)
	}{
		{labelsDir, lab, 8, func(dst []byte, r Record) {
			v := uint64(int64(r.Label))
			for i := 0; i < 8; i++ {
				dst[i] = byte(v >> (8 * i))
			}
		}},
		{keysDir, keys, 64, func(dst []byte, r Record) { copy(dst, r.Key) }},
	} {
		d := filepath.Join(w.dir, a.dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for c := 0; c*rows < n; c++ {
			raw := make([]byte, rows*a.isz)
			for i := c * rows; i < min(n, (c+1)*rows); i++ {
				a.put(raw[(i-c*rows)*a.isz:], recs[i])
			}
			if err := WriteFileAtomic(filepath.Join(d, strconv.Itoa(c)), w.codec.compress(raw)); err != nil {
				return err
			}
		}
		mb, _ := json.MarshalIndent(&a.meta, "", "  ")
		if err := WriteFileAtomic(filepath.Join(d, ".zarray"), mb); err != nil {
			return err
		}
	}
	var sb strings.Builder
	bw := bufio.NewWriter(&sb)
	enc := json.NewEncoder(bw)
	for i := range recs {
		enc.Encode(&recs[i])
	}
	bw.Flush()
	return WriteFileAtomic(filepath.Join(w.dir, recordsFile), []byte(sb.String()))
}

// cleanup removes chunks set aside for reuse, chunks and sidecars past the
// new layout, and stray temp files.
func (w *Writer) cleanup() {
	n := w.nChunks()
	os.RemoveAll(filepath.Join(w.dir, filepath.FromSlash(stashDir)))
	os.MkdirAll(filepath.Join(w.dir, filepath.FromSlash(stashDir)), 0o755)
	valid := map[string]bool{".zarray": true}
	for c := 0; c < n; c++ {
		valid[w.meta.rowChunkKey(c)] = true
	}
	ents, _ := os.ReadDir(filepath.Join(w.dir, featuresDir))
	for _, e := range ents {
		if !valid[e.Name()] {
			os.RemoveAll(filepath.Join(w.dir, featuresDir, e.Name()))
		}
	}
	ents, _ = os.ReadDir(filepath.Join(w.dir, filepath.FromSlash(chunkInfoDir)))
	for _, e := range ents {
		c, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json"))
		if err != nil || c >= n || !strings.HasSuffix(e.Name(), ".json") {
			os.Remove(filepath.Join(w.dir, filepath.FromSlash(chunkInfoDir), e.Name()))
		}
	}
	syncDir(filepath.Join(w.dir, featuresDir))
}

// Close releases the writer lock. Without a prior Commit, chunks already
// written stay in place for the next Prepare to resume from.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.release != nil {
		w.release()
	}
	if w.codec != nil {
		if w.codec.enc != nil {
			w.codec.enc.Close()
		}
		w.codec.dec.Close()
	}
	return nil
}
