package store

import (
	"bufio"
	"bytes"
	"container/list"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
)

// core is the shared, immutable-after-Open part of a store plus its chunk
// cache; views (Split) share one core.
type core struct {
	dir      string
	prov     *Provenance
	meta     *ArrayMeta
	recs     []Record
	rowElems int
	rows     int
	isz      int
	opts     *options
	codec    *codec

	mu       sync.Mutex
	cache    map[int]*list.Element // chunk → element holding *centry
	lru      list.List
	bytes    int64
	inflight map[int]*loadCall
	infos    map[int]*chunkInfo
	verified map[int]bool // chunks whose sha256 was checked once
	seq      []int        // chunk sequence registered by Prefetch
	seqPos   map[int]int  // chunk → first position in seq
	lastCh   int          // last chunk read, to detect sequential access
	sem      chan struct{}
	rawPool  sync.Pool // *[]byte buffers for compressed chunk files
}

// centry is a cached chunk: its decompressed little-endian bytes (stored
// dtype), decoded row by row straight into the caller's dst on Read.
type centry struct {
	chunk int
	data  []byte
}

type loadCall struct {
	done chan struct{}
	data []byte
	err  error
}

// Store reads a committed feature store. It implements train.Dataset and
// train.Orderer (without importing package train): items are the store's
// non-failed items, in store order, optionally filtered by split. All
// methods are safe for concurrent use; many processes may read one store
// at once while no writer runs.
type Store struct {
	c   *core
	idx []int // dataset index → store position
}

// Open opens the committed store at dir for reading. Memory is bounded by
// the chunk cache budget (WithCacheBytes): features are decompressed chunk by
// chunk on demand, never all at once. Chunks are checked against their
// checksums when loaded; a damaged chunk makes Read fail with ErrDamaged
// naming it.
func Open(dir string, opts ...Option) (*Store, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	zp := filepath.Join(dir, ".zattrs")
	b, err := readLimited(zp, maxMetaBytes)
	if os.IsNotExist(err) {
		if _, serr := os.Stat(filepath.Join(dir, metaDir)); serr == nil {
			return nil, fmt.Errorf("%s: no committed metadata (an extraction is running or was interrupted; rerun it to resume): %w", dir, ErrIncomplete)
		}
		return nil, fmt.Errorf("%s: not a store (no .zattrs): %w", dir, ErrNotPreconv)
	}
	if err != nil {
		return nil, err
	}
	var za zattrs
	if err := json.Unmarshal(b, &za); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", zp, err, ErrFormat)
	}
	if za.Preconv == nil {
		return nil, fmt.Errorf("%s: no preconv provenance (use OpenArray for plain zarr arrays): %w", zp, ErrNotPreconv)
	}
	p := za.Preconv
	if p.Format != formatVer {
		return nil, fmt.Errorf("%s: store format %d, this preconv reads %d: %w", zp, p.Format, formatVer, ErrUnsupported)
	}
	arr, err := OpenArray(filepath.Join(dir, featuresDir))
	if err != nil {
		return nil, err
	}
	m := arr.Meta
	if m.Shape[0] != p.Count || m.Chunks[0] != p.ChunkRows || m.DType != arrayDType(p.Spec.DType) ||
		fmt.Sprint(m.Shape[1:]) != fmt.Sprint(p.Spec.FeatureShape) || fmt.Sprint(m.Chunks[1:]) != fmt.Sprint(m.Shape[1:]) ||
		m.Compressor == nil {
		return nil, fmt.Errorf("%s: features/.zarray (shape %v chunks %v %s) disagrees with provenance: %w", dir, m.Shape, m.Chunks, m.DType, ErrFormat)
	}
	recs, err := readRecords(filepath.Join(dir, recordsFile), p.Count)
	if err != nil {
		return nil, err
	}
	if layoutHash(recs) != p.LayoutHash {
		return nil, fmt.Errorf("%s: records do not match the committed layout: %w", dir, ErrFormat)
	}
	for _, r := range recs {
		if r.Label < -1 || r.Label >= len(p.Classes) {
			return nil, fmt.Errorf("%s: item %d label %d outside the %d classes: %w", recordsFile, r.Index, r.Label, len(p.Classes), ErrFormat)
		}
	}
	c := &core{dir: dir, prov: p, meta: m, recs: recs, rows: m.Chunks[0], opts: o, lastCh: -2,
		cache: map[int]*list.Element{}, inflight: map[int]*loadCall{}, infos: map[int]*chunkInfo{}, verified: map[int]bool{}}
	c.rowElems = 1
	for _, d := range p.Spec.FeatureShape {
		c.rowElems *= d
	}
	c.isz, _ = itemSize(m.DType)
	if c.codec, err = newCodec(0, m.ChunkBytes()); err != nil {
		return nil, err
	}
	if o.workers > 0 {
		c.sem = make(chan struct{}, o.workers)
	}
	s := &Store{c: c}
	for i, r := range recs {
		if r.Failed == "" {
			s.idx = append(s.idx, i)
		}
	}
	return s, nil
}

// readRecords reads records.jsonl, expecting exactly n records in order.
func readRecords(path string, n int) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if n < 0 || n > 1<<28 {
		return nil, fmt.Errorf("%s: %d records: %w", path, n, ErrTooLarge)
	}
	recs := make([]Record, 0, min(n, 1<<16))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v: %w", path, len(recs)+1, err, ErrFormat)
		}
		if r.Index != len(recs) || len(recs) >= n {
			return nil, fmt.Errorf("%s: line %d: record index %d out of order or beyond %d: %w", path, len(recs)+1, r.Index, n, ErrFormat)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrFormat)
	}
	if len(recs) != n {
		return nil, fmt.Errorf("%s: %d records, provenance says %d: %w", path, len(recs), n, ErrFormat)
	}
	return recs, nil
}

// Len is the number of (non-failed) items in this view.
func (s *Store) Len() int { return len(s.idx) }

// FeatureShape is the per-item feature shape.
func (s *Store) FeatureShape() []int { return append([]int(nil), s.c.prov.Spec.FeatureShape...) }

// Classes returns the class names; labels index into them.
func (s *Store) Classes() []string { return append([]string(nil), s.c.prov.Classes...) }

// Label returns item i's label (-1 for unlabelled items).
func (s *Store) Label(i int) int { return s.c.recs[s.idx[i]].Label }

// Record returns item i's record.
func (s *Store) Record(i int) Record { return s.c.recs[s.idx[i]] }

// Records returns every record of the store, including failed items, in
// store order (not only this view's items).
func (s *Store) Records() []Record { return append([]Record(nil), s.c.recs...) }

// Spec returns the extraction spec.
func (s *Store) Spec() Spec { return s.c.prov.Spec }

// Provenance returns the store's provenance (group attributes).
func (s *Store) Provenance() Provenance { return *s.c.prov }

// Dir is the store directory.
func (s *Store) Dir() string { return s.c.dir }

// Split returns a view of the items whose split is name. The view shares
// the chunk cache and implements the same interfaces.
func (s *Store) Split(name string) *Store {
	v := &Store{c: s.c, idx: []int{}}
	for _, p := range s.idx {
		if s.c.recs[p].Split == name {
			v.idx = append(v.idx, p)
		}
	}
	return v
}

// Read writes the features of items idx back to back into dst
// (len(dst) == len(idx)*prod(FeatureShape())), as float32 whatever the
// stored dtype.
func (s *Store) Read(idx []int, dst []float32) error {
	e := s.c.rowElems
	if len(dst) != len(idx)*e {
		return fmt.Errorf("read: dst has %d values for %d items of %d: %w", len(dst), len(idx), e, ErrBadInput)
	}
	for k, i := range idx {
		if i < 0 || i >= len(s.idx) {
			return fmt.Errorf("read: index %d outside [0,%d): %w", i, len(s.idx), ErrBadInput)
		}
		p := s.idx[i]
		ch, r := p/s.c.rows, p%s.c.rows
		data, err := s.c.chunk(ch)
		if err != nil {
			return err
		}
		rb := e * s.c.isz
		decodeF32(dst[k*e:(k+1)*e], data[r*rb:(r+1)*rb], s.c.meta.DType)
		if k == 0 {
			s.c.readahead(ch)
		}
	}
	return nil
}

// chunk returns chunk c decoded, from the cache or loaded once.
func (c *core) chunk(ch int) ([]byte, error) {
	c.mu.Lock()
	if el, ok := c.cache[ch]; ok {
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		return el.Value.(*centry).data, nil
	}
	if call, ok := c.inflight[ch]; ok {
		c.mu.Unlock()
		<-call.done
		return call.data, call.err
	}
	call := &loadCall{done: make(chan struct{})}
	c.inflight[ch] = call
	c.mu.Unlock()

	call.data, call.err = c.load(ch)

	c.mu.Lock()
	delete(c.inflight, ch)
	if call.err == nil {
		c.cache[ch] = c.lru.PushFront(&centry{ch, call.data})
		c.bytes += int64(len(call.data))
		for c.bytes > c.opts.cacheBytes && c.lru.Len() > 1 {
			el := c.lru.Back()
			ce := el.Value.(*centry)
			c.lru.Remove(el)
			delete(c.cache, ce.chunk)
			c.bytes -= int64(len(ce.data))
		}
	}
	c.mu.Unlock()
	close(call.done)
	return call.data, call.err
}

// load reads, verifies and decodes chunk ch.
func (c *core) load(ch int) ([]byte, error) {
	c.mu.Lock()
	ci := c.infos[ch]
	c.mu.Unlock()
	if ci == nil {
		var err error
		ci, err = readChunkInfo(chunkInfoPath(c.dir, ch))
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: chunk %d (features/%s): no chunk index entry: %w", c.dir, ch, c.meta.rowChunkKey(ch), ErrMissing)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: chunk %d: %w", c.dir, ch, err)
		}
		lo, hi := ch*c.rows, min((ch+1)*c.rows, len(c.recs))
		ok := ci.Rows == c.rows && ci.RowElems == c.rowElems && ci.DType == c.meta.DType &&
			ci.File == featuresDir+"/"+c.meta.rowChunkKey(ch) && ci.Spec == c.prov.SpecDigest && len(ci.Keys) == hi-lo
		for r := 0; ok && r < len(ci.Keys); r++ {
			ok = ci.Keys[r] == c.recs[lo+r].Key
		}
		if !ok {
			return nil, fmt.Errorf("%s: chunk %d: index entry does not match the records: %w", c.dir, ch, ErrDamaged)
		}
		c.mu.Lock()
		c.infos[ch] = ci
		c.mu.Unlock()
	}
	bp, _ := c.rawPool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer c.rawPool.Put(bp)
	// The first load of a chunk checks its sha256 against the index; later
	// loads (after eviction) rely on the zstd frame's own content checksum
	// (xxhash64, verified while decoding) plus the size, which is cheaper.
	c.mu.Lock()
	verified := c.verified[ch]
	c.mu.Unlock()
	b, err := checkChunkInto(c.dir, ci, *bp, !verified)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.dir, err)
	}
	*bp = b
	if verified && !frameHasChecksum(b) {
		if b, err = checkChunkInto(c.dir, ci, b, true); err != nil {
			return nil, fmt.Errorf("%s: %w", c.dir, err)
		}
	}
	want := c.meta.ChunkBytes()
	raw, err := c.codec.decompress(make([]byte, 0, want), b, want, true)
	if err != nil {
		return nil, fmt.Errorf("%s: chunk %s: %w", c.dir, ci.File, err)
	}
	if !verified {
		c.mu.Lock()
		c.verified[ch] = true
		c.mu.Unlock()
	}
	return raw, nil
}

// Prefetch registers the order in which items will be read (dataset
// indices, e.g. from EpochOrder). Afterwards each Read starts decompressing
// the next chunks of that order on a worker pool (WithWorkers,
// WithReadahead), so decompression overlaps training. It returns at once.
func (s *Store) Prefetch(order []int) {
	c := s.c
	seq := []int{}
	pos := map[int]int{}
	for _, i := range order {
		if i < 0 || i >= len(s.idx) {
			continue
		}
		ch := s.idx[i] / c.rows
		if _, ok := pos[ch]; !ok {
			pos[ch] = len(seq)
			seq = append(seq, ch)
		}
	}
	c.mu.Lock()
	c.seq, c.seqPos = seq, pos
	c.mu.Unlock()
	if len(seq) > 0 {
		c.readahead(-1)
	}
}

// readahead schedules the chunks after ch in the registered sequence
// (ch = -1: the first ones) on free workers; without a registered order, the
// next chunks by number while reads are sequential.
func (c *core) readahead(ch int) {
	if c.sem == nil || c.opts.readahead == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var next []int
	switch {
	case c.seq != nil:
		start := 0
		if ch >= 0 {
			p, ok := c.seqPos[ch]
			if !ok {
				return
			}
			start = p + 1
		}
		next = c.seq[start:min(len(c.seq), start+c.opts.readahead)]
	case ch >= 0:
		// No registered order: read ahead only while access is sequential.
		last := c.lastCh
		c.lastCh = ch
		if ch != last && ch != last+1 {
			return
		}
		for n := ch + 1; n < min(c.prov.Chunks, ch+1+c.opts.readahead); n++ {
			next = append(next, n)
		}
	}
	for _, next := range next {
		if _, ok := c.cache[next]; ok {
			continue
		}
		if _, ok := c.inflight[next]; ok {
			continue
		}
		select {
		case c.sem <- struct{}{}:
			go func(n int) {
				defer func() { <-c.sem }()
				c.chunk(n) // errors surface on the real Read
			}(next)
		default:
			return
		}
	}
}

// EpochOrder returns a chunk-aware shuffle of 0..Len()-1 that depends only on
// (seed, epoch): chunk order is shuffled, then items are shuffled within
// windows of 4 consecutive chunks, so an epoch touches each chunk about once.
// The order is also registered for readahead (as by Prefetch), since a
// trainer reads in that order next.
func (s *Store) EpochOrder(seed int64, epoch int) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(epoch)))
	byChunk := map[int][]int{}
	var chunks []int
	for i, p := range s.idx {
		ch := p / s.c.rows
		if _, ok := byChunk[ch]; !ok {
			chunks = append(chunks, ch)
		}
		byChunk[ch] = append(byChunk[ch], i)
	}
	rng.Shuffle(len(chunks), func(a, b int) { chunks[a], chunks[b] = chunks[b], chunks[a] })
	const window = 4
	out := make([]int, 0, len(s.idx))
	for w := 0; w < len(chunks); w += window {
		start := len(out)
		for _, ch := range chunks[w:min(len(chunks), w+window)] {
			out = append(out, byChunk[ch]...)
		}
		win := out[start:]
		rng.Shuffle(len(win), func(a, b int) { win[a], win[b] = win[b], win[a] })
	}
	if s.c.sem != nil {
		s.Prefetch(out)
	}
	return out
}
