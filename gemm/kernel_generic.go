package gemm

import "unsafe"

// kernelGeneric4x8 is the portable micro-kernel and the reference for the
// assembly ones: it computes the 4×8 tile
//
//	acc[i][j] = sum_{p<k} a[i*lda+p] * b[p*ldb+j]
//	c[i*ldc+j] = acc[i][j] + beta*c[i*ldc+j]   (c not read when beta == 0)
func kernelGeneric4x8(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	const mr, nr = 4, 8
	as := unsafe.Slice(a, (mr-1)*lda+k)
	a0 := as[0*lda : 0*lda+k]
	a1 := as[1*lda : 1*lda+k]
	a2 := as[2*lda : 2*lda+k]
	a3 := as[3*lda : 3*lda+k]
	bs := unsafe.Slice(b, (k-1)*ldb+nr)
	var acc [mr][nr]float32
	for p := 0; p < k; p++ {
		ap := [mr]float32{a0[p], a1[p], a2[p], a3[p]}
		bp := bs[p*ldb : p*ldb+nr : p*ldb+nr]
		for i := 0; i < mr; i++ {
			ai := ap[i]
			r := &acc[i]
			r[0] += ai * bp[0]
			r[1] += ai * bp[1]
			r[2] += ai * bp[2]
			r[3] += ai * bp[3]
			r[4] += ai * bp[4]
			r[5] += ai * bp[5]
			r[6] += ai * bp[6]
			r[7] += ai * bp[7]
		}
	}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		row := cs[i*ldc : i*ldc+nr : i*ldc+nr]
		if beta == 0 {
			copy(row, acc[i][:])
			continue
		}
		for j := range row {
			row[j] = acc[i][j] + beta*row[j]
		}
	}
}
