package winograd

// Group kernels: F(4×4,3×3) transforms of 16 tiles at once, one tile per
// vector lane. The tiles of a group may lie anywhere (different tile rows or
// images); each lane is located by a 32-bit element offset and partial
// tiles are handled by 16-bit lane masks, so one code path serves interior,
// border and missing tiles alike. The AVX-512 versions (group_amd64.s) use
// gathers and scatters; the Go versions below are their reference
// semantics and are used by the tests to check them.

// inputF4x16Go is the reference for inputF4x16: for each lane k < 16 and
// each (r, j) of the 6×6 input tile,
//
//	d[r][j][k] = src[idx[k] + r*w + j]  if mask[r*6+j] has bit k, else 0
//
// then V = Bᵀ d B per lane and v[ξ*vs + k] = V[ξ][k] for ξ = 0..35.
// Lanes whose mask bits are all clear produce zeros (still written).
func inputF4x16Go(v []float32, vs int, src []float32, w int, idx *[16]int32, mask *[36]uint16) {
	var d [36]float32
	for k := 0; k < 16; k++ {
		for r := 0; r < 6; r++ {
			for j := 0; j < 6; j++ {
				d[r*6+j] = 0
				if mask[r*6+j]>>k&1 != 0 {
					d[r*6+j] = src[int(idx[k])+r*w+j]
				}
			}
		}
		inputF4(v[k:], vs, &d)
	}
}

// outputF4x16Go is the reference for outputF4x16: for each lane k < 16,
// Y = Aᵀ M A with M[ξ] = m[ξ*ms + k], then for each (i, j) of the 4×4
// output tile whose mask[i*4+j] has bit k,
//
//	dst[idx[k] + i*ow + j] = max(Y[i][j] + bias, lo)
//
// (lo = 0 for a fused ReLU, -Inf for none; NaN propagates).
func outputF4x16Go(dst []float32, ow int, m []float32, ms int, idx *[16]int32, mask *[16]uint16, bias, lo float32) {
	var y [16]float32
	for k := 0; k < 16; k++ {
		outputF4(&y, m[k:], ms, 0, false)
		for ij := 0; ij < 16; ij++ {
			if mask[ij]>>k&1 != 0 {
				v := y[ij] + bias
				if !(v >= lo) && v == v { // v < lo, NaN kept
					v = lo
				}
				dst[int(idx[k])+(ij/4)*ow+ij%4] = v
			}
		}
	}
}

// Lane offsets and masks of 16 consecutive full tiles of one tile row: the
// case the Row kernels handle (read-only tables).
var (
	rowIdx = [16]int32{0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60}
	allIn  = [36]uint16{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff}
	allOut = [16]uint16{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff}
)

// gemm8xNGo is the reference for gemm8xN, the GEMM micro-kernel of the
// packed-weights path (n = 16 or 32 tile columns):
//
//	m[i*ldm+t] = Σ_{p<k} u[p*8+i] · v[p*ldv+t]   for i < 8, t < n
//
// u is one 8-row panel of a transformed-weight matrix, packed k-major.
func gemm8xNGo(n, k int, u, v []float32, ldv int, m []float32, ldm int) {
	var acc [8][32]float32
	for p := 0; p < k; p++ {
		vr := v[p*ldv : p*ldv+n]
		ur := u[p*8 : p*8+8]
		for i := range 8 {
			ui := ur[i]
			for t := range vr {
				acc[i][t] += ui * vr[t]
			}
		}
	}
	for i := range 8 {
		copy(m[i*ldm:i*ldm+n], acc[i][:n])
	}
}

// gemmColGo is the reference for gemmCol, the kernel for a block's last
// few tile columns (a block of 49 tiles: 48 through gemm8xN, the 49th here
// instead of 15 padding columns): for one tile column and panels q < np,
//
//	m[(8q+i)*ldm] = Σ_{p<k} u[q*us + p*8+i] · v[p*ldv]   for i < 8
//
// accumulated in the same order as gemm8xNGo (so a column gives the same
// bits through either kernel).
func gemmColGo(np, k int, u []float32, us int, v []float32, ldv int, m []float32, ldm int) {
	for q := 0; q < np; q++ {
		var acc [8]float32
		for p := 0; p < k; p++ {
			vp := v[p*ldv]
			ur := u[q*us+p*8 : q*us+p*8+8]
			for i := range 8 {
				acc[i] += ur[i] * vp
			}
		}
		for i := range 8 {
			m[(8*q+i)*ldm] = acc[i]
		}
	}
}
