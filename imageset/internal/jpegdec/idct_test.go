package jpegdec

import (
	"math/rand/v2"
	"testing"
)

// TestIDCTGoMatchesFloat checks idctGo against the defining formula of the
// 8×8 inverse DCT (ITU T.81 A.3.3) in float64: islow's fixed-point result
// is within one level of the rounded exact value (libjpeg's own accuracy
// claim for jidctint.c) on random blocks with realistic coefficients.
func TestIDCTGoMatchesFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q [64]int32
	for i := range q {
		q[i] = int32(1 + rng.IntN(20))
	}
	worst := 0.0
	for n := 0; n < 2000; n++ {
		var blk [64]int16
		for i := range blk {
			if rng.IntN(4) == 0 || i == 0 {
				blk[i] = int16(rng.IntN(41) - 20)
			}
		}
		want := floatIDCT(&blk, &q)
		got := make([]uint8, 64)
		b := blk
		idctGo(&b, &q, got, 8)
		if b != ([64]int16{}) {
			t.Fatal("idctGo did not zero the block")
		}
		for i, v := range want {
			ref := min(max(v+128, 0), 255)
			d := ref - float64(got[i])
			if d < 0 {
				d = -d
			}
			worst = max(worst, d)
		}
	}
	t.Logf("max |islow - exact IDCT| = %.3f levels", worst)
	if worst > 1 {
		t.Fatalf("islow differs from the exact IDCT by %.3f levels", worst)
	}
}

func floatIDCT(blk *[64]int16, q *[64]int32) [64]float64 {
	var out [64]float64
	cu := func(u int) float64 {
		if u == 0 {
			return 1 / sqrt2
		}
		return 1
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			s := 0.0
			for v := 0; v < 8; v++ {
				for u := 0; u < 8; u++ {
					c := float64(blk[8*v+u]) * float64(q[8*v+u])
					s += cu(u) * cu(v) * c * cosTab[x][u] * cosTab[y][v]
				}
			}
			out[8*y+x] = s / 4
		}
	}
	return out
}

// TestIDCTBlockMatchesGo checks the dispatched IDCT (AVX2 assembly where
// available) against idctGo bit for bit, on realistic blocks and on
// arbitrary 16-bit coefficients and multipliers (overflowing sums
// included), with a stride wider than the block.
func TestIDCTBlockMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 20000; n++ {
		var blk [64]int16
		var q [64]int32
		wild := n%2 == 1
		for i := range blk {
			if wild {
				blk[i] = int16(rng.Uint32())
				q[i] = int32(int16(rng.Uint32()))
			} else {
				q[i] = int32(1 + rng.IntN(64))
				if rng.IntN(3) == 0 {
					blk[i] = int16(rng.IntN(257) - 128)
				}
			}
		}
		const stride = 24
		want := make([]uint8, 8*stride)
		got := make([]uint8, 8*stride)
		for i := range want {
			want[i], got[i] = 0xAA, 0xAA
		}
		b1, b2 := blk, blk
		idctGo(&b1, &q, want[3:], stride)
		idctBlock(&b2, &q, got[3:], stride)
		if b2 != ([64]int16{}) {
			t.Fatal("idctBlock did not zero the block")
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("block %d (wild %v): byte %d (row %d col %d) = %d, idctGo %d", n, wild, i, (i-3)/stride, (i-3)%stride, got[i], want[i])
			}
		}
	}
}

func BenchmarkIDCT(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	var q [64]int32
	var src [64]int16
	for i := range q {
		q[i] = int32(1 + rng.IntN(30))
		src[i] = int16(rng.IntN(61) - 30)
	}
	dst := make([]uint8, 8*64)
	b.Run("dispatch", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			blk := src
			idctBlock(&blk, &q, dst, 64)
		}
	})
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			blk := src
			idctGo(&blk, &q, dst, 64)
		}
	})
}
