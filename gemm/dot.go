package gemm

// dotKernel computes a 4×4 tile of alpha*A*Bᵀ + beta*C reading A and B in
// place, both with rows contiguous along k:
//
//	c[i*ldc+j] = alpha*sum_{p<k} a[i*lda+p]*b[j*ldb+p] + beta*c[i*ldc+j]
//
// (c not read when beta == 0). It avoids transposing B into panels, which
// dominates when A has few rows (a Linear layer's x·Wᵀ at small batch).
type dotKernel struct {
	name string
	fn   func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
}

const (
	dotMaxM = 256  // use the dot path for A·Bᵀ when m is at most this
	dotKC   = 2048 // k block: partial sums per C pass
	dotNC   = 64   // B rows per block (dotNC×dotKC floats stay in L2)
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
			for ir := 0; ir < p.m; ir += 4 {
				mrr := min(4, p.m-ir)
				aptr, lda := &p.a[ir*p.lda+pc], p.lda
				if mrr < 4 {
					padRows(padA, p.a[ir*p.lda+pc:], p.lda, mrr, kb)
					aptr, lda = &padA[0], kb
				}
				for jr := 0; jr < nb; jr += 4 {
					nrr := min(4, nb-jr)
					j := jc + jr
					bptr, ldb := &p.b[j*p.ldb+pc], p.ldb
					if nrr < 4 {
						padRows(padB, p.b[j*p.ldb+pc:], p.ldb, nrr, kb)
						bptr, ldb = &padB[0], kb
					}
					ci := (ir)*p.ldc + j
					if mrr == 4 && nrr == 4 {
						dk.fn(kb, aptr, lda, bptr, ldb, &p.c[ci], p.ldc, p.alpha, beta)
						continue
					}
					dk.fn(kb, aptr, lda, bptr, ldb, &tmp[0], 4, p.alpha, 0)
					for i := 0; i < mrr; i++ {
						row := p.c[ci+i*p.ldc : ci+i*p.ldc+nrr]
						t := tmp[i*4 : i*4+nrr]
						if beta == 0 {
							copy(row, t)
						} else {
							for x := range row {
								row[x] = t[x] + beta*row[x]
							}
						}
					}
				}
			}
		}
	}
}

// padRows copies rows of kb floats (stride ld) from src into dst with stride
// kb, zero-filling dst up to 4 rows.
func padRows(dst, src []float32, ld, rows, kb int) {
	for i := 0; i < rows; i++ {
		copy(dst[i*kb:i*kb+kb], src[i*ld:i*ld+kb])
	}
	clear(dst[rows*kb : 4*kb])
}
