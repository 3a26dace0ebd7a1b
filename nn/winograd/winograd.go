package winograd

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/preconv/preconv/gemm"
)

// Variant selects the Winograd tile size.
type Variant int

const (
	// F4x4 is F(4×4,3×3): 6×6 input tiles, 36 GEMMs, 4× fewer multiplies
	// than direct convolution. The default.
	F4x4 Variant = iota
	// F2x2 is F(2×2,3×3): 4×4 input tiles, 16 GEMMs, 2.25× fewer
	// multiplies, 10–20× smaller rounding error than F4x4 (see doc.go).
	F2x2
)

// String returns "F(4x4,3x3)" or "F(2x2,3x3)".
func (v Variant) String() string {
	switch v {
	case F4x4:
		return "F(4x4,3x3)"
	case F2x2:
		return "F(2x2,3x3)"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// outTile returns m, the output tile edge, and a = m+2, the input tile edge.
func (v Variant) outTile() (m, a int) {
	if v == F2x2 {
		return 2, 4
	}
	return 4, 6
}

// scratchBudget is the target size in bytes of one goroutine's V and M
// buffers; BlockTiles is derived from it.
const scratchBudget = 2 << 20

// Weights holds 3×3 filters transformed for Conv. It is built by
// PrepareWeights, is read-only afterwards and safe for concurrent Conv calls.
// It must not be copied after first use (it embeds a sync.Pool of scratch
// buffers).
type Weights struct {
	Cout, Cin int
	Variant   Variant

	// BlockTiles is the preferred number of tiles transformed and
	// multiplied together (the N of each GEMM); Conv uses equal blocks of
	// up to 2·BlockTiles when that balances its threads better (see
	// blockCount). PrepareWeights sets it so that one goroutine's
	// scratch, about a²·(Cin+Cout)·BlockTiles float32s (ScratchBytes), is
	// about 2 MB, rounded down to a multiple of 16 and clamped to 64…1024
	// (128…1024 from 256 input channels, so up to ~19 MB for 512→512).
	// It may be changed before the first Conv call, not after.
	BlockTiles int

	// u holds U = G g Gᵀ. Unpacked (for gemm.Sgemm): a² row-major
	// Cout×Cin matrices, u[(ξ*Cout+o)*Cin+c] = element ξ of filter (o, c).
	// Packed (for the 8×32 / 8×16 micro-kernels, chosen when the AVX-512
	// kernels are available at PrepareWeights): for each ξ, panels of 8
	// output channels (Cout rounded up to 8, zero rows), each Cin-major:
	// u[((ξ*np+P)*Cin+c)*8+i] = element ξ of filter (8P+i, c).
	u      []float32
	packed bool
	// free keeps scratch buffers between Conv calls (at most GOMAXPROCS).
	// Not a sync.Pool: every garbage collection empties a Pool, and
	// reallocating (and zeroing) megabytes of scratch per layer per pass
	// cost ~7 % of a VGG16 pass, on the critical path of batch-1 runs.
	freeMu sync.Mutex
	free   []*scratch
}

// rowsM returns the number of rows of each M matrix: Cout, rounded up to 8
// for packed weights.
func (wt *Weights) rowsM() int {
	if wt.packed {
		return (wt.Cout + 7) &^ 7
	}
	return wt.Cout
}

type scratch struct {
	v, m  []float32
	tiles []tileInfo
	// raw and misc are orderTiles' input and spill space (group path).
	raw, misc []tileInfo
	// Per group of 16 tiles, for the group kernels: input lane offsets and
	// masks (inIdx, inMask) and output lane offsets and masks.
	inIdx, outIdx []([16]int32)
	inMask        []([36]uint16)
	outMask       []([16]uint16)
	// inRow/outRow mark groups of 16 consecutive full tiles of one tile
	// row, which the faster Row kernels handle (no gathers/scatters).
	inRow, outRow []bool
}

// tileInfo locates one tile of a block in the input and output tensors.
type tileInfo struct {
	in       int // offset of the tile's image in x (channel 0)
	out      int // offset of the tile's top-left output in dst (channel 0)
	iy0, ix0 int // top-left input coordinate (may be negative: padding)
	rows     int // valid output rows (m, or fewer on the bottom edge)
	cols     int // valid output columns
	interior bool
}

// Applicable reports whether a convolution with the given kernel size,
// strides, dilations and groups can be computed by Conv: a 3×3 kernel,
// stride 1, dilation 1 and a single group.
func Applicable(kh, kw, strideH, strideW, dilH, dilW, groups int) bool {
	return kh == 3 && kw == 3 && strideH == 1 && strideW == 1 && dilH == 1 && dilW == 1 && groups == 1
}

// PrepareWeights transforms 3×3 filters w, in PyTorch's OIHW layout
// (w[((o*cin+c)*3+ky)*3+kx], len ≥ cout*cin*9), for F(4×4,3×3). The
// transform is computed in float64 and rounded once. w is not retained.
// The result takes a²/9 times the memory of w (4× for F(4×4,3×3), 16/9 for
// F(2×2,3×3); Cout rounded up to 8 when packed for the AVX-512 kernels).
// It panics with a "winograd:" message if cout or cin < 1 or w is too short.
func PrepareWeights(w []float32, cout, cin int) *Weights {
	return PrepareWeightsVariant(w, cout, cin, F4x4)
}

// PrepareWeightsVariant is PrepareWeights for the given variant.
func PrepareWeightsVariant(w []float32, cout, cin int, v Variant) *Weights {
	if cout < 1 || cin < 1 {
		panic(fmt.Sprintf("winograd: cout=%d cin=%d, want ≥ 1", cout, cin))
	}
	if v != F4x4 && v != F2x2 {
		panic(fmt.Sprintf("winograd: unknown variant %d", int(v)))
	}
	if len(w) < cout*cin*9 {
		panic(fmt.Sprintf("winograd: len(w)=%d < cout*cin*9=%d", len(w), cout*cin*9))
	}
	_, a := v.outTile()
	nxi := a * a
	packed := haveGroupKernels()
	coutP := cout
	if packed {
		coutP = (cout + 7) &^ 7
	}
	np := coutP / 8
	u := make([]float32, nxi*coutP*cin)
	var g [9]float64
	var t [36]float64
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			f := w[(o*cin+c)*9 : (o*cin+c)*9+9]
			for i := range g {
				g[i] = float64(f[i])
			}
			if v == F2x2 {
				weightF2(&t, &g)
			} else {
				weightF4(&t, &g)
			}
			for xi := 0; xi < nxi; xi++ {
				if packed {
					u[((xi*np+o/8)*cin+c)*8+o%8] = float32(t[xi])
				} else {
					u[(xi*cout+o)*cin+c] = float32(t[xi])
				}
			}
		}
	}
	// At least 64 tiles per block (128 from 256 input channels), even past
	// the budget (up to ~19 MB at 512+512 channels): each block streams
	// all of U once, and fewer tiles make that traffic dominate. Chosen
	// from BlockTiles sweeps (thread CPU time, batch 1 and 8) on VGG16.
	lo := 64
	if cin >= 256 {
		lo = 128
	}
	bt := scratchBudget / (4 * nxi * (cin + cout))
	bt = min(max(bt&^15, lo), 1024)
	return &Weights{Cout: cout, Cin: cin, Variant: v, BlockTiles: bt, u: u, packed: packed}
}

// ScratchBytes returns the size of the scratch buffers one goroutine of
// Conv uses for a block of BlockTiles tiles (V and M); blocks of up to
// 2·BlockTiles tiles use up to twice that.
func (wt *Weights) ScratchBytes() int {
	_, a := wt.Variant.outTile()
	ldt := (wt.BlockTiles + 15) &^ 15
	return 4 * a * a * (xiStride(wt.Cin, ldt) + xiStride(wt.rowsM(), ldt))
}

// xiStride returns the distance in floats between consecutive ξ matrices of
// rows×tb elements: rounded up to whole 64-byte lines, and an odd number of
// lines, so that the a² elements of one tile written or read together fall
// in different L1/L2 cache sets (an even power-of-two stride would put all
// 36 in the same set).
func xiStride(rows, tb int) int {
	s := (rows*tb + 15) &^ 15
	if (s/16)%2 == 0 {
		s += 16
	}
	return s
}

// blockCount returns the number of equal blocks Conv splits total tiles
// into for threads goroutines, given the preferred block size bt
// (Weights.BlockTiles): ⌈total/bt⌉ when that is fewer than threads (the
// team path), otherwise the count, with blocks of at most 2·bt tiles, that
// minimizes the GEMM columns of the busiest thread, ⌈k/threads⌉ blocks of
// ⌈total/k⌉ tiles rounded up to 16 (the kernels' column group). Ties go to
// the most blocks (the size closest to bt). For example 196 tiles (VGG16
// conv3 at batch 1) with bt = 64 on 2 threads: 2 blocks of 98 tiles (112
// columns each) rather than 4 of 49 (2 × 64 columns per thread), measured
// on conv3_1 2.67 → 2.39 ms; 784 tiles (conv2): 10 blocks of 79 (80
// columns, 5 per thread) rather than 13 of 61 (7 × 64 columns on one
// thread).
func blockCount(total, bt, threads int) int {
	bt = max(bt, 1)
	nb := (total + bt - 1) / bt
	if nb < threads {
		return nb
	}
	cost := func(k int) int {
		return (k + threads - 1) / threads * (((total+k-1)/k + 15) &^ 15)
	}
	best, bestCost := nb, cost(nb)
	for k := max(threads, (total+2*bt-1)/(2*bt)); k < nb+threads && k <= total; k++ {
		if c := cost(k); c < bestCost || c == bestCost && k > best {
			best, bestCost = k, c
		}
	}
	return best
}

// getScratch returns scratch buffers for blocks of up to tiles tiles (at
// least BlockTiles), recycled from an earlier Conv call when large enough.
func (wt *Weights) getScratch(tiles int) *scratch {
	_, a := wt.Variant.outTile()
	tiles = max(tiles, wt.BlockTiles)
	ldt := (tiles + 15) &^ 15
	nv, nm := a*a*xiStride(wt.Cin, ldt), a*a*xiStride(wt.rowsM(), ldt)
	wt.freeMu.Lock()
	var s *scratch
	if n := len(wt.free); n > 0 {
		s, wt.free = wt.free[n-1], wt.free[:n-1]
	}
	wt.freeMu.Unlock()
	if s != nil && len(s.v) >= nv && len(s.m) >= nm && len(s.tiles) >= tiles {
		return s
	}
	ng := ldt / 16
	return &scratch{
		v: make([]float32, nv), m: make([]float32, nm), tiles: make([]tileInfo, tiles),
		raw: make([]tileInfo, tiles), misc: make([]tileInfo, 0, tiles),
		inIdx: make([][16]int32, ng), outIdx: make([][16]int32, ng),
		inMask: make([][36]uint16, ng), outMask: make([][16]uint16, ng),
		inRow: make([]bool, ng), outRow: make([]bool, ng),
	}
}

// putScratch keeps s for the next Conv call unless GOMAXPROCS buffers are
// already kept.
func (wt *Weights) putScratch(s *scratch) {
	wt.freeMu.Lock()
	if len(wt.free) < runtime.GOMAXPROCS(0) {
		wt.free = append(wt.free, s)
	}
	wt.freeMu.Unlock()
}

// OutSize returns the output height and width of Conv for an h×w input and
// the given padding: oh = h+padTop+padBottom-2, ow = w+padLeft+padRight-2.
func OutSize(h, w, padTop, padLeft, padBottom, padRight int) (oh, ow int) {
	return h + padTop + padBottom - 2, w + padLeft + padRight - 2
}

// Conv computes the 3×3, stride-1 convolution of x with the filters in wt,
// plus bias, optionally followed by ReLU:
//
//	dst[i,o,y,x] = act(bias[o] + Σ_c Σ_ky Σ_kx w[o,c,ky,kx] · xp[i,c,y+ky,x+kx])
//
// where xp is x zero-padded by padTop, padLeft, padBottom, padRight and act
// is max(·,0) when relu is set (identity otherwise). x is NCHW (n, cin, h, w),
// dst is NCHW (n, wt.Cout, oh, ow) with oh, ow from OutSize; only
// dst[:n*Cout*oh*ow] is written and every element of it is written. bias may
// be nil (zero) or have len ≥ Cout. dst must not overlap x.
//
// Work is split into blocks of wt.BlockTiles tiles over the flattened
// (image, tile) space and spread over up to threads goroutines (≤ 1: the
// calling goroutine only); when there are fewer blocks than threads, all
// threads work on one block at a time, splitting its transforms by channel
// and its GEMMs by position ξ.
//
// It panics with a "winograd:" message on inconsistent arguments (cin ≠
// wt.Cin, short slices, negative padding, empty output).
func Conv(dst, x []float32, n, cin, h, w int, wt *Weights, bias []float32, padTop, padLeft, padBottom, padRight int, relu bool, threads int) {
	if wt == nil {
		panic("winograd: nil weights")
	}
	if cin != wt.Cin {
		panic(fmt.Sprintf("winograd: cin=%d, weights have %d", cin, wt.Cin))
	}
	if n < 0 || h < 0 || w < 0 || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0 {
		panic(fmt.Sprintf("winograd: negative size or padding n=%d h=%d w=%d pad=%d,%d,%d,%d", n, h, w, padTop, padLeft, padBottom, padRight))
	}
	oh, ow := OutSize(h, w, padTop, padLeft, padBottom, padRight)
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("winograd: empty output %dx%d for input %dx%d", oh, ow, h, w))
	}
	if len(x) < n*cin*h*w {
		panic(fmt.Sprintf("winograd: len(x)=%d < %d", len(x), n*cin*h*w))
	}
	if len(dst) < n*wt.Cout*oh*ow {
		panic(fmt.Sprintf("winograd: len(dst)=%d < %d", len(dst), n*wt.Cout*oh*ow))
	}
	if bias != nil && len(bias) < wt.Cout {
		panic(fmt.Sprintf("winograd: len(bias)=%d < cout=%d", len(bias), wt.Cout))
	}
	if n == 0 {
		return
	}
	if wt.BlockTiles < 1 {
		panic(fmt.Sprintf("winograd: BlockTiles=%d", wt.BlockTiles))
	}
	m, _ := wt.Variant.outTile()
	p := plan{
		wt: wt, x: x, dst: dst, bias: bias, relu: relu,
		cin: cin, h: h, w: w, oh: oh, ow: ow, pt: padTop, pl: padLeft,
		m: m, th: (oh + m - 1) / m, tw: (ow + m - 1) / m,
		// The group kernels address lanes with 32-bit offsets.
		groups: wt.Variant == F4x4 && haveGroupKernels() &&
			int64(n)*int64(cin)*int64(h)*int64(w) < 1<<31-64 &&
			int64(n)*int64(wt.Cout)*int64(oh)*int64(ow) < 1<<31-64,
	}
	total := n * p.th * p.tw
	threads = max(threads, 1)
	// Blocks of equal size (a short last block leaves a thread idle). With
	// fewer blocks than threads, a team of threads shares each block
	// rather than the tiles being split finer: every block streams all of
	// U, so splitting a small layer's tiles (e.g. VGG16 conv4 at batch 1,
	// 49 tiles, U = 38 MB) doubles the memory traffic of its GEMMs.
	k := blockCount(total, wt.BlockTiles, threads)
	bt := (total + k - 1) / k
	nblocks := (total + bt - 1) / bt
	if nblocks < threads {
		// Fewer blocks than threads (a small layer at batch 1, e.g. VGG16
		// conv4 and conv5): a team of threads works on each block in
		// turn, splitting its input transform by channel, its GEMMs by
		// position ξ and its output transform by output channel (see
		// teamBlock).
		s := wt.getScratch(bt)
		p.teamBlocks(s, total, bt, nblocks, threads)
		wt.putScratch(s)
		return
	}
	workers := min(threads, nblocks)

	var next atomic.Int64
	work := func() {
		s := wt.getScratch(bt)
		for {
			b := int(next.Add(1)) - 1
			if b >= nblocks {
				break
			}
			t0 := b * bt
			p.block(s, t0, min(bt, total-t0))
		}
		wt.putScratch(s)
	}
	if workers == 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < workers; i++ {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// plan carries one Conv call's arguments to the block workers.
type plan struct {
	wt             *Weights
	x, dst, bias   []float32
	relu           bool
	cin, h, w      int
	oh, ow, pt, pl int
	m, th, tw      int
	groups         bool // use the 16-tile group kernels (F(4×4), AVX-512)
}

// block computes tiles [t0, t0+tb) of the flattened (image, tile row, tile
// column) space on the calling goroutine.
func (p *plan) block(s *scratch, t0, tb int) {
	b := p.setup(s, t0, tb)
	p.input(s, &b, 0, p.cin)
	p.gemm(&b, 0, b.nxi)
	p.output(s, &b, 0, p.wt.Cout)
}

// blockBufs describes one block's tiles and its V and M buffers: a² matrices
// of rows×ldt (tile columns padded to 16 for the group kernels), vs and ms
// floats apart.
type blockBufs struct {
	tiles   []tileInfo
	tb, ldt int
	nxi     int
	v, mm   []float32
	vs, ms  int
}

// setup locates tiles [t0, t0+tb) (reordered for the group kernels, whose
// lane tables it also fills) and slices the block's V and M from s.
func (p *plan) setup(s *scratch, t0, tb int) blockBufs {
	wt := p.wt
	cin, cout := p.cin, wt.Cout
	m, a := wt.Variant.outTile()
	nxi := a * a
	tiles := s.tiles[:tb]
	if p.groups {
		tiles = s.raw[:tb] // reordered into s.tiles below
	}
	perImg := p.th * p.tw
	for i := range tiles {
		t := t0 + i
		img, r := t/perImg, t%perImg
		ty, tx := r/p.tw, r%p.tw
		oy0, ox0 := ty*m, tx*m
		iy0, ix0 := oy0-p.pt, ox0-p.pl
		tiles[i] = tileInfo{
			in:       img * cin * p.h * p.w,
			out:      img*cout*p.oh*p.ow + oy0*p.ow + ox0,
			iy0:      iy0,
			ix0:      ix0,
			rows:     min(m, p.oh-oy0),
			cols:     min(m, p.ow-ox0),
			interior: iy0 >= 0 && ix0 >= 0 && iy0+a <= p.h && ix0+a <= p.w,
		}
	}
	ldt := (tb + 15) &^ 15
	if p.groups {
		tiles = orderTiles(s.tiles[:tb], tiles, s.misc[:0])
		p.buildGroups(s, tiles)
	}
	vs, ms := xiStride(cin, ldt), xiStride(wt.rowsM(), ldt)
	return blockBufs{
		tiles: tiles, tb: tb, ldt: ldt, nxi: nxi,
		v: s.v[:nxi*vs], mm: s.m[:nxi*ms], vs: vs, ms: ms,
	}
}

// input computes the block's V for input channels [c0, c1).
func (p *plan) input(s *scratch, b *blockBufs, c0, c1 int) {
	if p.groups {
		p.inputGroups(b.v, b.vs, b.ldt, s, c0, c1)
	} else {
		p.inputTransform(b.v, b.vs, b.ldt, b.tiles, c0, c1)
	}
}

// gemm computes M[ξ] = U[ξ]·V[ξ] for positions ξ in [x0, x1).
func (p *plan) gemm(b *blockBufs, x0, x1 int) {
	wt := p.wt
	if wt.packed {
		p.packedGemm(b.v, b.vs, b.mm, b.ms, b.ldt, b.tb, x0, x1)
		return
	}
	cin, cout := p.cin, wt.Cout
	for xi := x0; xi < x1; xi++ {
		gemm.Sgemm(false, false, cout, b.tb, cin,
			1, wt.u[xi*cout*cin:(xi+1)*cout*cin], cin,
			b.v[xi*b.vs:xi*b.vs+cin*b.ldt], b.ldt,
			0, b.mm[xi*b.ms:xi*b.ms+cout*b.ldt], b.ldt)
	}
}

// output transforms the block's M for output channels [o0, o1) into dst.
func (p *plan) output(s *scratch, b *blockBufs, o0, o1 int) {
	if p.groups {
		p.outputGroups(b.mm, b.ms, b.ldt, s, o0, o1)
	} else {
		p.outputTransform(b.mm, b.ms, b.ldt, b.tiles, o0, o1)
	}
}

// teamBlocks computes the nblocks blocks of bt tiles (the last one
// shorter) of total tiles one after the other with up to threads
// goroutines sharing each block in four phases: locating its tiles (one
// item), the input transform by chunks of teamChunk input channels, the
// GEMMs by position ξ, the output transform by chunks of output channels.
// Items are claimed dynamically, so a helper that starts late (waking an
// idle thread takes ~0.1–0.2 ms on the VMs measured, a sizable part of a
// 2–4 ms layer) only takes fewer items; each phase starts once every item
// of the previous one is done. The calling goroutine returns when every
// item is done, without waiting for helpers to exit (a helper arriving
// after the end finds no item left and touches nothing).
func (p *plan) teamBlocks(s *scratch, total, bt, nblocks, threads int) {
	nIn := (p.cin + teamChunk - 1) / teamChunk
	nOut := (p.wt.Cout + teamChunk - 1) / teamChunk
	_, a := p.wt.Variant.outTile()
	tm := &team{n: make([]int64, 4*nblocks), next: make([]atomic.Int64, 4*nblocks), done: make([]atomic.Int64, 4*nblocks)}
	for b := range nblocks {
		copy(tm.n[4*b:], []int64{1, int64(nIn), int64(a * a), int64(nOut)})
	}
	var b blockBufs // the current block, set by its phase 0
	do := func(phase, i int) {
		switch phase % 4 {
		case 0:
			t0 := phase / 4 * bt
			b = p.setup(s, t0, min(bt, total-t0))
		case 1:
			p.input(s, &b, i*teamChunk, min((i+1)*teamChunk, p.cin))
		case 2:
			p.gemm(&b, i, i+1)
		case 3:
			p.output(s, &b, i*teamChunk, min((i+1)*teamChunk, p.wt.Cout))
		}
	}
	for range threads - 1 {
		go tm.run(do)
	}
	tm.run(do)
	tm.wait(len(tm.n) - 1)
}

// teamChunk is the number of input or output channels one team item
// transforms.
const teamChunk = 32

// team hands out the items of consecutive phases to the goroutines
// running run.
type team struct {
	n          []int64 // items per phase
	next, done []atomic.Int64
}

// run claims and runs items of each phase in turn, waiting between phases
// until the previous phase's items are all done.
func (tm *team) run(do func(phase, i int)) {
	for ph := range tm.n {
		if ph > 0 {
			tm.wait(ph - 1)
		}
		for {
			i := tm.next[ph].Add(1) - 1
			if i >= tm.n[ph] {
				break
			}
			do(ph, int(i))
			tm.done[ph].Add(1)
		}
	}
}

// wait returns once every item of phase ph is done. The other goroutines
// are finishing one item each at most, so it yields rather than parks.
func (tm *team) wait(ph int) {
	for tm.done[ph].Load() < tm.n[ph] {
		runtime.Gosched()
	}
}

// inputTransform fills v[ξ*stride+c*ldt+t] = (Bᵀ d B)[ξ] for channels c in
// [c0, c1) and every tile t of the block.
func (p *plan) inputTransform(v []float32, stride, tb int, tiles []tileInfo, c0, c1 int) {
	_, a := p.wt.Variant.outTile()
	f2 := p.wt.Variant == F2x2
	hw, w := p.h*p.w, p.w
	var d [36]float32
	for c := c0; c < c1; c++ {
		for i := range tiles {
			ti := &tiles[i]
			src := p.x[ti.in+c*hw : ti.in+(c+1)*hw]
			if ti.interior {
				o := ti.iy0*w + ti.ix0
				if f2 {
					for r := 0; r < 4; r++ {
						row := src[o+r*w : o+r*w+4 : o+r*w+4]
						dr := d[r*6 : r*6+4 : r*6+4]
						dr[0], dr[1], dr[2], dr[3] = row[0], row[1], row[2], row[3]
					}
				} else {
					for r := 0; r < 6; r++ {
						row := src[o+r*w : o+r*w+6 : o+r*w+6]
						dr := d[r*6 : r*6+6 : r*6+6]
						dr[0], dr[1], dr[2], dr[3], dr[4], dr[5] = row[0], row[1], row[2], row[3], row[4], row[5]
					}
				}
			} else {
				d = [36]float32{}
				r0, r1 := max(0, -ti.iy0), min(a, p.h-ti.iy0)
				c0, c1 := max(0, -ti.ix0), min(a, p.w-ti.ix0)
				for r := r0; r < r1; r++ {
					o := (ti.iy0+r)*w + ti.ix0
					copy(d[r*6+c0:r*6+c1], src[o+c0:o+c1])
				}
			}
			if f2 {
				inputF2(v[c*tb+i:], stride, &d)
			} else {
				inputF4(v[c*tb+i:], stride, &d)
			}
		}
	}
}

// outputTransform computes Y = Aᵀ M A for output channels o in [o0, o1)
// and every tile of the block from mm[ξ*stride+o*ldt+t], adds bias, applies
// ReLU and writes the valid part of each tile to dst.
func (p *plan) outputTransform(mm []float32, stride, tb int, tiles []tileInfo, o0, o1 int) {
	m, _ := p.wt.Variant.outTile()
	f2 := p.wt.Variant == F2x2
	ohw, ow := p.oh*p.ow, p.ow
	var y [16]float32
	for o := o0; o < o1; o++ {
		var b float32
		if p.bias != nil {
			b = p.bias[o]
		}
		for i := range tiles {
			ti := &tiles[i]
			if f2 {
				outputF2(&y, mm[o*tb+i:], stride, b, p.relu)
			} else {
				outputF4(&y, mm[o*tb+i:], stride, b, p.relu)
			}
			base := ti.out + o*ohw
			if ti.rows == m && ti.cols == m {
				if f2 {
					d0 := p.dst[base : base+2 : base+2]
					d1 := p.dst[base+ow : base+ow+2 : base+ow+2]
					d0[0], d0[1] = y[0], y[1]
					d1[0], d1[1] = y[2], y[3]
				} else {
					for r := 0; r < 4; r++ {
						dr := p.dst[base+r*ow : base+r*ow+4 : base+r*ow+4]
						dr[0], dr[1], dr[2], dr[3] = y[r*4], y[r*4+1], y[r*4+2], y[r*4+3]
					}
				}
				continue
			}
			for r := 0; r < ti.rows; r++ {
				copy(p.dst[base+r*ow:base+r*ow+ti.cols], y[r*m:r*m+ti.cols])
			}
		}
	}
}

// buildGroups fills, for each group of 16 consecutive tiles of the block,
// the lane offsets and masks the group kernels need (F(4×4) only). Lanes
// past the block's last tile get empty masks: zeros in V, no output.
func (p *plan) buildGroups(s *scratch, tiles []tileInfo) {
	ng := (len(tiles) + 15) / 16
	for g := 0; g < ng; g++ {
		ii, im := &s.inIdx[g], &s.inMask[g]
		oi, om := &s.outIdx[g], &s.outMask[g]
		*ii, *im, *oi, *om = [16]int32{}, [36]uint16{}, [16]int32{}, [16]uint16{}
		for k := 0; k < 16 && g*16+k < len(tiles); k++ {
			ti := &tiles[g*16+k]
			bit := uint16(1) << k
			ii[k] = int32(ti.in + ti.iy0*p.w + ti.ix0)
			for r := 0; r < 6; r++ {
				if iy := ti.iy0 + r; iy < 0 || iy >= p.h {
					continue
				}
				for j := 0; j < 6; j++ {
					if ix := ti.ix0 + j; ix >= 0 && ix < p.w {
						im[r*6+j] |= bit
					}
				}
			}
			oi[k] = int32(ti.out)
			for r := 0; r < ti.rows; r++ {
				for j := 0; j < ti.cols; j++ {
					om[r*4+j] |= bit
				}
			}
		}
		s.inRow[g], s.outRow[g] = false, false
		if g*16+16 <= len(tiles) {
			t0 := &tiles[g*16]
			inRow, outRow := true, true
			for k := 0; k < 16; k++ {
				ti := &tiles[g*16+k]
				same := ti.in == t0.in && ti.iy0 == t0.iy0 && ti.ix0 == t0.ix0+4*k
				inRow = inRow && same && ti.interior
				outRow = outRow && same && ti.rows == 4 && ti.cols == 4
			}
			s.inRow[g], s.outRow[g] = inRow, outRow
		}
	}
}

// inputGroups is inputTransform with the 16-tile group kernel.
func (p *plan) inputGroups(v []float32, stride, ldt int, s *scratch, c0, c1 int) {
	hw := p.h * p.w
	ng := ldt / 16
	for c := c0; c < c1; c++ {
		src := p.x[c*hw:]
		for g := 0; g < ng; g++ {
			if s.inRow[g] {
				inputF4x16Row(v[c*ldt+g*16:], stride, src[s.inIdx[g][0]:], p.w)
				continue
			}
			inputF4x16(v[c*ldt+g*16:], stride, src, p.w, &s.inIdx[g], &s.inMask[g])
		}
	}
}

// outputGroups is outputTransform with the 16-tile group kernel.
func (p *plan) outputGroups(mm []float32, stride, ldt int, s *scratch, o0, o1 int) {
	ohw := p.oh * p.ow
	ng := ldt / 16
	lo := float32(math.Inf(-1))
	if p.relu {
		lo = 0
	}
	for o := o0; o < o1; o++ {
		var b float32
		if p.bias != nil {
			b = p.bias[o]
		}
		dst := p.dst[o*ohw:]
		for g := 0; g < ng; g++ {
			if s.outRow[g] {
				outputF4x16Row(dst[s.outIdx[g][0]:], p.ow, mm[o*ldt+g*16:], stride, b, lo)
				continue
			}
			outputF4x16(dst, p.ow, mm[o*ldt+g*16:], stride, &s.outIdx[g], &s.outMask[g], b, lo)
		}
	}
}

// orderTiles writes the block's tiles raw (in tile order) into dst so that
// runs of 16 consecutive interior tiles of one tile row come first, each
// starting at a multiple of 16 (the Row kernels' case), and all other tiles
// follow. Any order is valid: a tile's V column and M column are the same
// and its output location travels in its tileInfo. misc is spill space
// with capacity ≥ len(raw). It returns dst.
func orderTiles(dst, raw, misc []tileInfo) []tileInfo {
	n := 0
	for i := 0; i < len(raw); {
		j := i + 1 // segment [i, j): one tile row of one image
		for j < len(raw) && raw[j].in == raw[i].in && raw[j].iy0 == raw[i].iy0 {
			j++
		}
		for k := i; k < j; {
			if !raw[k].interior {
				misc = append(misc, raw[k])
				k++
				continue
			}
			e := k + 1
			for e < j && raw[e].interior {
				e++
			}
			for ; k+16 <= e; k += 16 {
				n += copy(dst[n:], raw[k:k+16])
			}
			misc = append(misc, raw[k:e]...)
			k = e
		}
		i = j
	}
	copy(dst[n:], misc)
	return dst
}

// packedGemm computes M[ξ] = U[ξ]·V[ξ] for positions ξ in [x0, x1) with
// the 8×32 (and, for an odd last group of 16 columns, 8×16) micro-kernel
// over packed weights, Cout rounded up to 8 rows. Padding columns past the
// block's tb tiles are computed and ignored, except that a last group of
// at most maxColTail real columns goes through gemmCol one column at a
// time (a 49-tile block, VGG16 conv4 at batch 1, computes 49 columns
// instead of 64; M's other padding columns are then left unwritten).
func (p *plan) packedGemm(v []float32, vs int, mm []float32, ms, ldt, tb, x0, x1 int) {
	wt := p.wt
	cin := p.cin
	np := wt.rowsM() / 8
	full, tail := ldt, 0
	if r := tb % 16; r > 0 && r <= maxColTail {
		full, tail = tb-r, r
	}
	for xi := x0; xi < x1; xi++ {
		vx := v[xi*vs : xi*vs+cin*ldt]
		ux := wt.u[xi*np*cin*8 : (xi+1)*np*cin*8]
		mx := mm[xi*ms : xi*ms+np*8*ldt]
		// Panels in groups of 8, each group's tail columns right after
		// its main columns, while its 8 panels of U are still in cache.
		for P0 := 0; P0 < np; P0 += 8 {
			P1 := min(P0+8, np)
			for P := P0; P < P1; P++ {
				up := ux[P*cin*8 : (P+1)*cin*8]
				mp := mx[P*8*ldt : (P+1)*8*ldt]
				t := 0
				for ; t+32 <= full; t += 32 {
					gemm8xN(32, cin, up, vx[t:], ldt, mp[t:], ldt)
				}
				if t < full {
					gemm8xN(16, cin, up, vx[t:], ldt, mp[t:], ldt)
				}
			}
			for t := full; t < full+tail; t++ {
				gemmCol(P1-P0, cin, ux[P0*cin*8:], cin*8, vx[t:], ldt, mx[P0*8*ldt+t:], ldt)
			}
		}
	}
}

// maxColTail is the most columns of a block's last group that gemmCol
// computes one by one instead of gemm8xN computing all 16: a column costs
// gemmCol about 1/8 of a 16-column gemm8x16 call (8-lane FMAs, one per
// panel and p, against 16-lane FMAs for 16 columns of a panel).
const maxColTail = 4
