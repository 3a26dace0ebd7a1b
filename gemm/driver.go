package gemm

import (
	"sync"
	"unsafe"
)

// problem is one validated call: C = alpha*op(A)*op(B) + beta*C.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	// pb, when set, supplies op(B) pre-packed (SgemmPacked); pbCol is the
	// column of pb where this (sub-)problem's B starts.
	pb    *PackedB
	pbCol int
}

// sub returns the part of p that computes C[i0:i0+m, j0:j0+n].
func (p problem) sub(i0, m, j0, n int) problem {
	q := p
	q.m, q.n = m, n
	if m == 0 || n == 0 {
		return q
	}
	q.c = p.c[i0*p.ldc+j0:]
	if p.k == 0 || p.alpha == 0 {
		return q // A and B are not read
	}
	if p.transA {
		q.a = p.a[i0:]
	} else {
		q.a = p.a[i0*p.lda:]
	}
	switch {
	case p.pb != nil:
		q.pbCol = p.pbCol + j0
	case p.transB:
		q.b = p.b[j0*p.ldb:]
	default:
		q.b = p.b[j0:]
	}
	return q
}

// scaleC sets C = beta*C (C = 0 when beta == 0, without reading it).
func scaleC(p problem) {
	for i := 0; i < p.m; i++ {
		row := p.c[i*p.ldc : i*p.ldc+p.n]
		if p.beta == 0 {
			clear(row)
		} else if p.beta != 1 {
			for j := range row {
				row[j] *= p.beta
			}
		}
	}
}

// buffers holds one goroutine's packing space; reused through bufPool.
type buffers struct {
	raw []float32
}

var bufPool = sync.Pool{New: func() any { return new(buffers) }}

// aligned returns n floats from bf starting at a 64-byte boundary.
func (bf *buffers) aligned(n int) []float32 {
	if cap(bf.raw) < n+16 {
		bf.raw = make([]float32, n+16)
	}
	off := 0
	if r := uintptr(unsafe.Pointer(&bf.raw[0])) & 63; r != 0 {
		off = int((64 - r) / 4)
	}
	return bf.raw[off : off+n : off+n]
}

// run computes p serially with kernel kn: the packed loop nest.
//
//	for pc over k in steps of kc:            (beta applies on the first step only)
//	  for ic over m in steps of mc:          pack alpha*op(A)[ic:,pc:] into mr-row panels
//	    for jc over n in steps of nc:        pack op(B)[pc:,jc:] into nr-column panels
//	      for each A panel: for each B panel: micro-kernel
//
// The A micro-panel (mr×kc) stays in L1 while B panels stream from L2.
func run(kn kernel, p problem) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		scaleC(p)
		return
	}
	if p.pb == nil {
		if dk, ok := useDot(p); ok {
			runDot(dk, p)
			return
		}
	}
	mr, nr := kn.mr, kn.nr
	kc := min(kn.kc, p.k)
	mc := min(kn.mc, roundUp(p.m, mr))
	nc := min(kn.nc, roundUp(p.n, nr))
	bf := bufPool.Get().(*buffers)
	defer bufPool.Put(bf)
	// A is packed only when transposed (else just a partial last panel);
	// B is packed whole only when transposed, alpha != 1 or m is small
	// (else just a partial last panel); see the loop below.
	asz, bsz := mr*kc, nr*kc
	if p.transA {
		asz = kc * mc
	}
	// B rows are read in place when B is not transposed, alpha == 1
	// (packing applies alpha) and A spans more than 8 row panels to reuse
	// them; with fewer, the sequential reads of packing beat the kernel's
	// strided first touch.
	directB := !p.transB && !kn.packB && p.alpha == 1 && mc > 8*mr
	if p.pb != nil {
		directB, bsz = false, 0
	} else if !directB {
		bsz = kc * nc
	}
	buf := bf.aligned(asz + bsz + mr*nr)
	ap := buf[:asz]
	bp := buf[asz : asz+bsz]
	tmp := buf[asz+bsz:]

	for pc := 0; pc < p.k; pc += kc {
		kb := min(kc, p.k-pc)
		beta := p.beta
		if pc > 0 {
			beta = 1
		}
		for ic := 0; ic < p.m; ic += mc {
			mb := min(mc, p.m-ic)
			// A panels: rows of A read in place when A is not transposed;
			// otherwise (and for a partial last panel) copied row-major into ap.
			var pa []float32
			lda, aoff := p.lda, ic*p.lda+pc
			if p.transA {
				packAT(ap, p, ic, mb, pc, kb, mr)
				pa, lda, aoff = ap, kb, 0
			} else {
				pa = p.a
				if rem := mb % mr; rem != 0 {
					packATail(ap, p, ic+mb-rem, rem, pc, kb, mr)
				}
			}
			for jc := 0; jc < p.n; jc += nc {
				nb := min(nc, p.n-jc)
				bs := bsrc{b: bp, ldb: nr}
				if p.pb != nil {
					bs.b = p.pb.block(pc, kb, p.pbCol+jc)
				} else if directB {
					// Only a partial last panel is packed.
					bs = bsrc{b: p.b, ldb: p.ldb, off: pc*p.ldb + jc, direct: true, pack: bp}
					if rem := nb % nr; rem != 0 {
						packB(bp, p, pc, kb, jc+nb-rem, rem, nr)
					}
				} else {
					packB(bp, p, pc, kb, jc, nb, nr)
				}
				if kn.jrOuter {
					for jr := 0; jr < nb; jr += nr {
						for ir := 0; ir < mb; ir += mr {
							tile(kn, p, pa, lda, aoff, ap, bs, tmp, kb, ic, ir, mb, jc, jr, nb, beta)
						}
					}
				} else {
					for ir := 0; ir < mb; ir += mr {
						for jr := 0; jr < nb; jr += nr {
							tile(kn, p, pa, lda, aoff, ap, bs, tmp, kb, ic, ir, mb, jc, jr, nb, beta)
						}
					}
				}
			}
		}
	}
}

// bsrc says where the B micro-panels of a block are: packed in b (panel s at
// s*nr*kb, row stride nr), or read in place (direct) from b at off with row
// stride ldb, except a partial last panel packed at pack[0].
type bsrc struct {
	b      []float32
	ldb    int
	off    int
	direct bool
	pack   []float32
}

// tile runs the micro-kernel for the tile at (ic+ir, jc+jr); edge tiles go
// through tmp and only their valid part is merged into C.
func tile(kn kernel, p problem, pa []float32, lda, aoff int, ap []float32, bs bsrc, tmp []float32, kb, ic, ir, mb, jc, jr, nb int, beta float32) {
	mr, nr := kn.mr, kn.nr
	mrr := min(mr, mb-ir)
	nrr := min(nr, nb-jr)
	var apan *float32
	if mrr < mr && !p.transA {
		apan, lda = &ap[0], kb // the partial panel packed by packATail
	} else {
		apan = &pa[aoff+ir*lda]
	}
	var bpan *float32
	ldb := bs.ldb
	switch {
	case !bs.direct:
		bpan = &bs.b[jr*kb]
	case nrr < nr:
		bpan, ldb = &bs.pack[0], nr // the partial panel packed by packB
	default:
		bpan = &bs.b[bs.off+jr]
	}
	ci := (ic+ir)*p.ldc + jc + jr
	if mrr == mr && nrr == nr {
		kn.fn(kb, apan, lda, bpan, ldb, &p.c[ci], p.ldc, beta)
		return
	}
	if nrr <= kn.nrEdge {
		kn.fnEdge(kb, apan, lda, bpan, ldb, &tmp[0], nr, 0)
	} else {
		kn.fn(kb, apan, lda, bpan, ldb, &tmp[0], nr, 0)
	}
	for i := 0; i < mrr; i++ {
		row := p.c[ci+i*p.ldc : ci+i*p.ldc+nrr]
		t := tmp[i*nr : i*nr+nrr]
		if beta == 0 {
			copy(row, t)
		} else {
			for j := range row {
				row[j] = t[j] + beta*row[j]
			}
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// packAT writes op(A)[ic:ic+mb, pc:pc+kb] for transposed A (a is k×m)
// row-major into dst (row i at i*kb), rows up to the next multiple of mr
// zero-filled.
func packAT(dst []float32, p problem, ic, mb, pc, kb, mr int) {
	for q := 0; q < kb; q++ {
		src := p.a[(pc+q)*p.lda+ic : (pc+q)*p.lda+ic+mb]
		for i, v := range src {
			dst[i*kb+q] = v
		}
	}
	clear(dst[mb*kb : roundUp(mb, mr)*kb])
}

// packATail copies rows i0…i0+rows-1 of A (not transposed), columns
// pc…pc+kb-1, row-major into dst[:mr*kb] with zero rows after them: the
// partial last panel, so the kernel never reads past A.
func packATail(dst []float32, p problem, i0, rows, pc, kb, mr int) {
	for i := 0; i < rows; i++ {
		copy(dst[i*kb:i*kb+kb], p.a[(i0+i)*p.lda+pc:])
	}
	clear(dst[rows*kb : mr*kb])
}

// packB writes alpha*op(B)[pc:pc+kb, jc:jc+nb] into dst as panels of nr
// columns: panel s holds element (q, j) at s*nr*kb + q*nr + j. Columns past
// nb are zero.
func packB(dst []float32, p problem, pc, kb, jc, nb, nr int) {
	np := (nb + nr - 1) / nr
	if !p.transB {
		// Row by row, so each source row is read once, contiguously.
		full := nb / nr
		packBRows(dst, p.b[pc*p.ldb+jc:], p.ldb, kb, full, nr)
		if full < np {
			for q := 0; q < kb; q++ {
				off := (pc+q)*p.ldb + jc
				row := p.b[off : off+nb]
				d := dst[full*nr*kb+q*nr : full*nr*kb+q*nr+nr]
				n := copy(d, row[full*nr:])
				clear(d[n:])
			}
		}
	} else {
		for s := 0; s < np; s++ {
			pan := dst[s*nr*kb : (s+1)*nr*kb]
			cols := min(nr, nb-s*nr)
			j0 := jc + s*nr
			for j := 0; j < cols; j++ {
				src := p.b[(j0+j)*p.ldb+pc : (j0+j)*p.ldb+pc+kb]
				for q, v := range src {
					pan[q*nr+j] = v
				}
			}
			if cols < nr {
				for q := 0; q < kb; q++ {
					clear(pan[q*nr+cols : q*nr+nr])
				}
			}
		}
	}
	if p.alpha != 1 {
		d := dst[:np*nr*kb]
		for i := range d {
			d[i] *= p.alpha
		}
	}
}

// packBRowsGeneric is the Go version of packBRows.
func packBRowsGeneric(dst, src []float32, ldb, kb, panels, nr int) {
	if panels == 0 {
		return
	}
	for q := 0; q < kb; q++ {
		row := src[q*ldb : q*ldb+panels*nr]
		for s := 0; s < panels; s++ {
			copy(dst[s*nr*kb+q*nr:s*nr*kb+q*nr+nr], row[s*nr:s*nr+nr])
		}
	}
}

// parallel splits p over up to threads goroutines: by column blocks of C
// when n is wide enough, otherwise by row blocks, each a multiple of the
// kernel tile. Each goroutine packs its own panels.
func parallel(kn kernel, threads int, p problem) {
	// Below about a million multiply-adds a goroutine hand-off costs more
	// than it saves.
	if threads <= 1 || p.m == 0 || p.n == 0 || p.m*p.n*p.k < 1<<20 {
		run(kn, p)
		return
	}
	type part struct{ i0, m, j0, n int }
	var parts []part
	if colBlocks := (p.n + kn.nr - 1) / kn.nr; colBlocks >= 4*threads || p.n >= p.m {
		t := min(threads, colBlocks)
		for w := 0; w < t; w++ {
			j0 := colBlocks * w / t * kn.nr
			j1 := min(p.n, colBlocks*(w+1)/t*kn.nr)
			if j1 > j0 {
				parts = append(parts, part{0, p.m, j0, j1 - j0})
			}
		}
	} else {
		rowBlocks := (p.m + kn.mr - 1) / kn.mr
		t := min(threads, rowBlocks)
		for w := 0; w < t; w++ {
			i0 := rowBlocks * w / t * kn.mr
			i1 := min(p.m, rowBlocks*(w+1)/t*kn.mr)
			if i1 > i0 {
				parts = append(parts, part{i0, i1 - i0, 0, p.n})
			}
		}
	}
	if len(parts) <= 1 {
		run(kn, p)
		return
	}
	var wg sync.WaitGroup
	for _, pt := range parts[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(kn, p.sub(pt.i0, pt.m, pt.j0, pt.n))
		}()
	}
	pt := parts[0]
	run(kn, p.sub(pt.i0, pt.m, pt.j0, pt.n))
	wg.Wait()
}
