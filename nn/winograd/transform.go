package winograd

// Transform matrices (Lavin & Gray 2016, the forms used by NNPACK, oneDNN and
// ncnn).
//
// F(4×4,3×3), points {0, 1, -1, 2, -2, ∞}:
//
//	Bᵀ = ⎡4  0 -5  0  1  0⎤   G = ⎡ 1/4     0     0  ⎤   Aᵀ = ⎡1  1  1  1  1  0⎤
//	     ⎢0 -4 -4  1  1  0⎥       ⎢-1/6  -1/6  -1/6 ⎥        ⎢0  1 -1  2 -2  0⎥
//	     ⎢0  4 -4 -1  1  0⎥       ⎢-1/6   1/6  -1/6 ⎥        ⎢0  1  1  4  4  0⎥
//	     ⎢0 -2 -1  2  1  0⎥       ⎢ 1/24  1/12  1/6 ⎥        ⎣0  1 -1  8 -8  1⎦
//	     ⎢0  2 -1 -2  1  0⎥       ⎢ 1/24 -1/12  1/6 ⎥
//	     ⎣0  4  0 -5  0  1⎦       ⎣ 0     0     1   ⎦
//
// F(2×2,3×3), points {0, 1, -1, ∞}:
//
//	Bᵀ = ⎡1  0 -1  0⎤   G = ⎡1    0    0 ⎤   Aᵀ = ⎡1  1  1  0⎤
//	     ⎢0  1  1  0⎥       ⎢1/2  1/2  1/2⎥        ⎣0  1 -1 -1⎦
//	     ⎢0 -1  1  0⎥       ⎢1/2 -1/2  1/2⎥
//	     ⎣0  1  0 -1⎦       ⎣0    0    1 ⎦

// weightF4 computes U = G g Gᵀ (6×6, row-major) for one 3×3 filter g
// (row-major) in float64.
func weightF4(u *[36]float64, g *[9]float64) {
	var t [18]float64 // G g: 6×3
	for j := 0; j < 3; j++ {
		g0, g1, g2 := g[j], g[3+j], g[6+j]
		t[0*3+j] = g0 / 4
		t[1*3+j] = -(g0 + g1 + g2) / 6
		t[2*3+j] = -(g0 - g1 + g2) / 6
		t[3*3+j] = g0/24 + g1/12 + g2/6
		t[4*3+j] = g0/24 - g1/12 + g2/6
		t[5*3+j] = g2
	}
	for i := 0; i < 6; i++ {
		g0, g1, g2 := t[i*3], t[i*3+1], t[i*3+2]
		u[i*6+0] = g0 / 4
		u[i*6+1] = -(g0 + g1 + g2) / 6
		u[i*6+2] = -(g0 - g1 + g2) / 6
		u[i*6+3] = g0/24 + g1/12 + g2/6
		u[i*6+4] = g0/24 - g1/12 + g2/6
		u[i*6+5] = g2
	}
}

// weightF2 computes U = G g Gᵀ (4×4, row-major) for F(2×2,3×3).
func weightF2(u *[36]float64, g *[9]float64) {
	var t [12]float64 // G g: 4×3
	for j := 0; j < 3; j++ {
		g0, g1, g2 := g[j], g[3+j], g[6+j]
		t[0*3+j] = g0
		t[1*3+j] = (g0 + g1 + g2) / 2
		t[2*3+j] = (g0 - g1 + g2) / 2
		t[3*3+j] = g2
	}
	for i := 0; i < 4; i++ {
		g0, g1, g2 := t[i*3], t[i*3+1], t[i*3+2]
		u[i*4+0] = g0
		u[i*4+1] = (g0 + g1 + g2) / 2
		u[i*4+2] = (g0 - g1 + g2) / 2
		u[i*4+3] = g2
	}
}

// inputF4 computes V = Bᵀ d B for one 6×6 tile d (row-major) and stores
// V[ξ] at v[ξ*stride], ξ = 0..35.
func inputF4(v []float32, stride int, d *[36]float32) {
	var t [36]float32 // Bᵀ d
	for j := 0; j < 6; j++ {
		d0, d1, d2, d3, d4, d5 := d[j], d[6+j], d[12+j], d[18+j], d[24+j], d[30+j]
		t[j] = 4*d0 - 5*d2 + d4
		t[6+j] = d3 + d4 - 4*(d1+d2)
		t[12+j] = d4 - d3 + 4*(d1-d2)
		t[18+j] = d4 - d2 + 2*(d3-d1)
		t[24+j] = d4 - d2 + 2*(d1-d3)
		t[30+j] = 4*d1 - 5*d3 + d5
	}
	_ = v[35*stride]
	for i := 0; i < 6; i++ {
		r := t[i*6 : i*6+6 : i*6+6]
		d0, d1, d2, d3, d4, d5 := r[0], r[1], r[2], r[3], r[4], r[5]
		o := i * 6 * stride
		v[o] = 4*d0 - 5*d2 + d4
		v[o+stride] = d3 + d4 - 4*(d1+d2)
		v[o+2*stride] = d4 - d3 + 4*(d1-d2)
		v[o+3*stride] = d4 - d2 + 2*(d3-d1)
		v[o+4*stride] = d4 - d2 + 2*(d1-d3)
		v[o+5*stride] = 4*d1 - 5*d3 + d5
	}
}

// inputF2 computes V = Bᵀ d B for one 4×4 tile d (row-major, stride 6 in the
// [36] array: rows at 0, 6, 12, 18) and stores V[ξ] at v[ξ*stride], ξ = 0..15.
func inputF2(v []float32, stride int, d *[36]float32) {
	var t [16]float32
	for j := 0; j < 4; j++ {
		d0, d1, d2, d3 := d[j], d[6+j], d[12+j], d[18+j]
		t[j] = d0 - d2
		t[4+j] = d1 + d2
		t[8+j] = d2 - d1
		t[12+j] = d1 - d3
	}
	_ = v[15*stride]
	for i := 0; i < 4; i++ {
		r := t[i*4 : i*4+4 : i*4+4]
		o := i * 4 * stride
		v[o] = r[0] - r[2]
		v[o+stride] = r[1] + r[2]
		v[o+2*stride] = r[2] - r[1]
		v[o+3*stride] = r[1] - r[3]
	}
}

// outputF4 computes Y = Aᵀ M A (4×4, row-major into y) from M[ξ] =
// m[ξ*stride], ξ = 0..35, adds bias and clamps at zero when relu.
func outputF4(y *[16]float32, m []float32, stride int, bias float32, relu bool) {
	var t [24]float32 // Aᵀ M: 4×6
	_ = m[35*stride]
	for j := 0; j < 6; j++ {
		m0, m1, m2, m3, m4, m5 := m[j*stride], m[(6+j)*stride], m[(12+j)*stride], m[(18+j)*stride], m[(24+j)*stride], m[(30+j)*stride]
		s12, d12 := m1+m2, m1-m2
		s34, d34 := m3+m4, m3-m4
		t[j] = m0 + s12 + s34
		t[6+j] = d12 + 2*d34
		t[12+j] = s12 + 4*s34
		t[18+j] = d12 + 8*d34 + m5
	}
	for i := 0; i < 4; i++ {
		r := t[i*6 : i*6+6 : i*6+6]
		s12, d12 := r[1]+r[2], r[1]-r[2]
		s34, d34 := r[3]+r[4], r[3]-r[4]
		y0 := r[0] + s12 + s34 + bias
		y1 := d12 + 2*d34 + bias
		y2 := s12 + 4*s34 + bias
		y3 := d12 + 8*d34 + r[5] + bias
		if relu {
			y0, y1, y2, y3 = max(y0, 0), max(y1, 0), max(y2, 0), max(y3, 0)
		}
		y[i*4], y[i*4+1], y[i*4+2], y[i*4+3] = y0, y1, y2, y3
	}
}

// outputF2 computes Y = Aᵀ M A (2×2, row-major into y[0:4]) from M[ξ] =
// m[ξ*stride], ξ = 0..15, adds bias and clamps at zero when relu.
func outputF2(y *[16]float32, m []float32, stride int, bias float32, relu bool) {
	var t [8]float32 // Aᵀ M: 2×4
	_ = m[15*stride]
	for j := 0; j < 4; j++ {
		m0, m1, m2, m3 := m[j*stride], m[(4+j)*stride], m[(8+j)*stride], m[(12+j)*stride]
		t[j] = m0 + m1 + m2
		t[4+j] = m1 - m2 - m3
	}
	for i := 0; i < 2; i++ {
		r := t[i*4 : i*4+4 : i*4+4]
		y0 := r[0] + r[1] + r[2] + bias
		y1 := r[1] - r[2] - r[3] + bias
		if relu {
			y0, y1 = max(y0, 0), max(y1, 0)
		}
		y[i*2], y[i*2+1] = y0, y1
	}
}
