package gemm

// dotKernel computes an mr×nr tile of alpha*A*Bᵀ + beta*C reading A and B
// in place, both with rows contiguous along k:
//
//	c[i*ldc+j] = alpha*sum_{p<k} a[i*lda+p]*b[j*ldb+p] + beta*c[i*ldc+j]
//
// (c not read when beta == 0). It avoids transposing B into panels, which
// dominates when A has few rows (a Linear layer's x·Wᵀ at small batch).
type dotKernel struct {
	name   string
	mr, nr int // tile: rows of A by rows of B (at most 4×4)
	// fn writes C itself (alpha, beta applied); when nil, raw writes the
	// plain sums into a scratch tile t (row stride 4) and the driver merges.
	fn  func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
	raw func(k int, a *float32, lda int, b *float32, ldb int, t *float32)
}

const (
	dotMaxM = 256 // use the dot path for A·Bᵀ when m is at most this
	dotKC   = 512 // k block: partial sums per C pass
	dotNC   = 64  // B rows per block (dotNC×dotKC floats stay in L2)
)

// useDot reports whether p goes through the dot-product path.
func useDot(p problem) (dotKernel, bool) {
	if !p.transB || p.transA || p.m > dotMaxM || p.k < 16 {
		return dotKernel{}, false
	}
	return pickDot()
}

// runDot computes p (A not transposed, B transposed) with dk, blocking k by
// dotKC and B's rows by dotNC; tiles at the edges use zero-padded copies of
// their rows and a scratch tile.
func runDot(dk dotKernel, p problem) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		scaleC(p)
		return
	}
	mr, nr := dk.mr, dk.nr
	kc := min(dotKC, p.k)
	bf := bufPool.Get().(*buffers)
	defer bufPool.Put(bf)
	buf := bf.aligned(8*kc + 16)
	padA, padB, tmp := buf[:4*kc], buf[4*kc:8*kc], buf[8*kc:]
	for pc := 0; pc < p.k; pc += kc {
		kb := min(kc, p.k-pc)
		beta := p.beta
		if pc > 0 {
			beta = 1
		}
		for jc := 0; jc < p.n; jc += dotNC {
			nb := min(dotNC, p.n-jc)
			for ir := 0; ir < p.m; ir += mr {
				mrr := min(mr, p.m-ir)
				aptr, lda := &p.a[ir*p.lda+pc], p.lda
				if mrr < mr {
					padRows(padA, p.a[ir*p.lda+pc:], p.lda, mrr, mr, kb)
					aptr, lda = &padA[0], kb
				}
				for jr := 0; jr < nb; jr += nr {
					nrr := min(nr, nb-jr)
					j := jc + jr
					bptr, ldb := &p.b[j*p.ldb+pc], p.ldb
					if nrr < nr {
						padRows(padB, p.b[j*p.ldb+pc:], p.ldb, nrr, nr, kb)
						bptr, ldb = &padB[0], kb
					}
					ci := ir*p.ldc + j
					alpha := p.alpha
					switch {
					case dk.fn != nil && mrr == mr && nrr == nr:
						dk.fn(kb, aptr, lda, bptr, ldb, &p.c[ci], p.ldc, alpha, beta)
						continue
					case dk.fn != nil:
						dk.fn(kb, aptr, lda, bptr, ldb, &tmp[0], 4, 1, 0)
					default:
						dk.raw(kb, aptr, lda, bptr, ldb, &tmp[0])
					}
					for i := 0; i < mrr; i++ {
						row := p.c[ci+i*p.ldc : ci+i*p.ldc+nrr]
						t := tmp[i*4 : i*4+nrr]
						if beta == 0 {
							for x := range row {
								row[x] = alpha * t[x]
							}
						} else {
							for x := range row {
								row[x] = alpha*t[x] + beta*row[x]
							}
						}
					}
				}
			}
		}
	}
}

// padRows copies rows of kb floats (stride ld) from src into dst with stride
// kb, zero-filling dst up to want rows.
func padRows(dst, src []float32, ld, rows, want, kb int) {
	for i := 0; i < rows; i++ {
		copy(dst[i*kb:i*kb+kb], src[i*ld:i*ld+kb])
	}
	clear(dst[rows*kb : want*kb])
}
