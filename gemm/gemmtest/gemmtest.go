// Package gemmtest is the conformance suite that every SGEMM implementation
// runs (each kernel path of package gemm, and optional system BLAS backends),
// plus the GEMM shape tables of the networks preconv runs.
//
// The reference is a naive loop accumulating in float64; each result element
// must agree within a bound proportional to k·ε·Σ|terms|. Every call is
// surrounded with NaN guards (before, after and between the rows of C) that
// must survive, and A and B must be unchanged.
package gemmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Func is the row-major SGEMM signature shared by gemm.Sgemm and backends:
// C = alpha*op(A)*op(B) + beta*C, C not read when beta == 0.
type Func func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// Case is one call to check.
type Case struct {
	TransA, TransB bool
	M, N, K        int
	Alpha, Beta    float32
	PadA, PadB     int // extra elements per row beyond the minimum stride
	PadC           int
}

func (c Case) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_m%d_n%d_k%d_a%g_b%g_pad%d.%d.%d", t(c.TransA), t(c.TransB), c.M, c.N, c.K, c.Alpha, c.Beta, c.PadA, c.PadB, c.PadC)
}

const guard = 8 // NaN guard floats before and after C

// Check runs one case with inputs drawn from rng and returns an error
// describing the first mismatch, guard overwrite or input change.
func Check(fn Func, cs Case, rng *rand.Rand) error {
	ar, ac := cs.M, cs.K
	if cs.TransA {
		ar, ac = cs.K, cs.M
	}
	br, bc := cs.K, cs.N
	if cs.TransB {
		br, bc = cs.N, cs.K
	}
	lda, ldb, ldc := max(1, ac+cs.PadA), max(1, bc+cs.PadB), max(1, cs.N+cs.PadC)
	a := randSlice(rng, ar*lda)
	b := randSlice(rng, br*ldb)
	a0 := append([]float32(nil), a...)
	b0 := append([]float32(nil), b...)
	nan := float32(math.NaN())
	cfull := make([]float32, guard+cs.M*ldc+guard)
	for i := range cfull {
		cfull[i] = nan
	}
	c := cfull[guard : guard+cs.M*ldc]
	if cs.Beta != 0 {
		for i := 0; i < cs.M; i++ {
			for j := 0; j < cs.N; j++ {
				c[i*ldc+j] = rng.Float32()*2 - 1
			}
		}
	}
	c0 := append([]float32(nil), c...)
	fn(cs.TransA, cs.TransB, cs.M, cs.N, cs.K, cs.Alpha, a, lda, b, ldb, cs.Beta, c, ldc)

	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(a0[i]) {
			return fmt.Errorf("%v: A[%d] changed", cs, i)
		}
	}
	for i := range b {
		if math.Float32bits(b[i]) != math.Float32bits(b0[i]) {
			return fmt.Errorf("%v: B[%d] changed", cs, i)
		}
	}
	for i := 0; i < guard; i++ {
		if !math.IsNaN(float64(cfull[i])) || !math.IsNaN(float64(cfull[len(cfull)-1-i])) {
			return fmt.Errorf("%v: guard around C overwritten", cs)
		}
	}
	eps := float64(math.Nextafter32(1, 2) - 1)
	for i := 0; i < cs.M; i++ {
		for j := cs.N; j < ldc; j++ {
			if !math.IsNaN(float64(c[i*ldc+j])) {
				return fmt.Errorf("%v: C[%d][%d] beyond n (row padding) overwritten", cs, i, j)
			}
		}
		for j := 0; j < cs.N; j++ {
			var s, sabs float64
			for p := 0; p < cs.K; p++ {
				var av, bv float64
				if cs.TransA {
					av = float64(a0[p*lda+i])
				} else {
					av = float64(a0[i*lda+p])
				}
				if cs.TransB {
					bv = float64(b0[j*ldb+p])
				} else {
					bv = float64(b0[p*ldb+j])
				}
				s += av * bv
				sabs += math.Abs(av * bv)
			}
			want := float64(cs.Alpha) * s
			bound := math.Abs(float64(cs.Alpha)) * sabs
			if cs.Beta != 0 {
				want += float64(cs.Beta) * float64(c0[i*ldc+j])
				bound += math.Abs(float64(cs.Beta) * float64(c0[i*ldc+j]))
			}
			got := float64(c[i*ldc+j])
			tol := 2*float64(cs.K+2)*eps*bound + 1e-30
			if !(math.Abs(got-want) <= tol) {
				return fmt.Errorf("%v: C[%d][%d] = %g, want %g (tol %g)", cs, i, j, got, want, tol)
			}
		}
	}
	return nil
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// Cases returns the conformance table: every transpose pair; sizes across
// 1…67 that straddle the register tiles of all kernels (4×8, 6×16, 8×32,
// 12×32, 8×48, dot 4×4) and k across the k blocks (256, 2048); α/β including β = 0 with NaN in C and α = 0; strides above
// the minimum; and a few cases larger than one cache block in every
// dimension. short trims it for -short runs.
func Cases(short bool) []Case {
	sizes := []int{1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 31, 33, 47, 49, 63, 64, 67}
	if short {
		sizes = []int{1, 3, 8, 17, 33, 67}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var cs []Case
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, m := range sizes {
				for _, n := range sizes {
					k := sizes[rng.IntN(len(sizes))]
					ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, -1}, {1.5, 0}}[rng.IntN(5)]
					pad := rng.IntN(3)
					cs = append(cs, Case{TransA: ta, TransB: tb, M: m, N: n, K: k, Alpha: ab[0], Beta: ab[1], PadA: pad, PadB: (pad + 1) % 3, PadC: 2 - pad})
				}
			}
			// Every k in 1…67 once per transpose pair, and big blocks.
			for k := 1; k <= 67; k += 1 + btoi(short)*5 {
				cs = append(cs, Case{TransA: ta, TransB: tb, M: 1 + k%19, N: 1 + (k*7)%53, K: k, Alpha: 1, Beta: 0.5})
			}
			cs = append(cs,
				Case{TransA: ta, TransB: tb, M: 1, N: 1, K: 0, Alpha: 1, Beta: 0},
				Case{TransA: ta, TransB: tb, M: 5, N: 9, K: 0, Alpha: 1, Beta: 0.5},
				Case{TransA: ta, TransB: tb, M: 5, N: 9, K: 7, Alpha: 0, Beta: 0},
				Case{TransA: ta, TransB: tb, M: 0, N: 9, K: 7, Alpha: 1, Beta: 0},
				Case{TransA: ta, TransB: tb, M: 4, N: 0, K: 7, Alpha: 1, Beta: 0},
				Case{TransA: ta, TransB: tb, M: 67, N: 600, K: 300, Alpha: 1, Beta: 0, PadA: 1, PadB: 2, PadC: 3},
				Case{TransA: ta, TransB: tb, M: 6, N: 70, K: 2100, Alpha: 0.5, Beta: -1, PadA: 1, PadB: 1, PadC: 1},
				// Big enough (> 2^20 multiply-adds) for SgemmParallel to split
				// by columns (first, third) and by rows (second).
				Case{TransA: ta, TransB: tb, M: 9, N: 301, K: 400, Alpha: 1, Beta: 0, PadC: 1},
				Case{TransA: ta, TransB: tb, M: 100, N: 40, K: 300, Alpha: 1, Beta: 1, PadA: 1},
				Case{TransA: ta, TransB: tb, M: 33, N: 1000, K: 40, Alpha: 2, Beta: 0, PadB: 2},
			)
			if !short {
				cs = append(cs, Case{TransA: ta, TransB: tb, M: 530, N: 61, K: 520, Alpha: -1, Beta: 1, PadC: 1})
			}
		}
	}
	return cs
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSgemm runs the conformance table against fn, one subtest per case
// group, stopping each group at its first failure.
func TestSgemm(t *testing.T, fn Func) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	cases := Cases(testing.Short())
	fails := 0
	for _, cs := range cases {
		if err := Check(fn, cs, rng); err != nil {
			t.Error(err)
			if fails++; fails >= 10 {
				t.Fatal("too many failures")
			}
		}
	}
}

// Shape is one GEMM problem from a network layer (im2col: M = Cout,
// K = Cin·kh·kw, N = Hout·Wout for batch 1; A = weights, B = columns, both
// non-transposed).
type Shape struct {
	Name           string
	M, N, K        int
	TransA, TransB bool // op(A) = Aᵀ, op(B) = Bᵀ (stored k×m and n×k)
}

// LDs returns the minimal strides of A, B and C for s.
func (s Shape) LDs() (lda, ldb, ldc int) {
	lda, ldb = s.K, s.N
	if s.TransA {
		lda = s.M
	}
	if s.TransB {
		ldb = s.K
	}
	return lda, ldb, s.N
}

// FLOPs is the floating-point operation count 2·M·N·K.
func (s Shape) FLOPs() float64 { return 2 * float64(s.M) * float64(s.N) * float64(s.K) }

// String is the benchmark name: "conv4_1_m512_n784_k2304", with "_TN"-style
// suffixes for transposed operands.
func (s Shape) String() string {
	t := ""
	if s.TransA || s.TransB {
		t = "_" + map[bool]string{false: "N", true: "T"}[s.TransA] + map[bool]string{false: "N", true: "T"}[s.TransB]
	}
	return fmt.Sprintf("%s_m%d_n%d_k%d%s", s.Name, s.M, s.N, s.K, t)
}

// VGG16 lists the distinct im2col GEMM shapes of torchvision's VGG16
// features at 224×224, batch 1 (3×3 convs, padding 1; conv3_x stands for
// conv3_2 and conv3_3, and so on).
var VGG16 = []Shape{
	{Name: "conv1_1", M: 64, N: 50176, K: 27},
	{Name: "conv1_2", M: 64, N: 50176, K: 576},
	{Name: "conv2_1", M: 128, N: 12544, K: 576},
	{Name: "conv2_2", M: 128, N: 12544, K: 1152},
	{Name: "conv3_1", M: 256, N: 3136, K: 1152},
	{Name: "conv3_x", M: 256, N: 3136, K: 2304},
	{Name: "conv4_1", M: 512, N: 784, K: 2304},
	{Name: "conv4_x", M: 512, N: 784, K: 4608},
	{Name: "conv5_x", M: 512, N: 196, K: 4608},
}

// VGG16Linear lists the GEMMs of VGG16's classifier and of a head trained on
// its 25088-wide features, batch 8 (PyTorch Linear weights are out×in, so
// the forward pass is x·Wᵀ and the weight gradient dyᵀ·x).
var VGG16Linear = []Shape{
	{Name: "fc6_b8", M: 8, N: 4096, K: 25088, TransB: true},
	{Name: "fc7_b8", M: 8, N: 4096, K: 4096, TransB: true},
	{Name: "fc6_b64", M: 64, N: 4096, K: 25088, TransB: true},
	{Name: "fc6_grad_b64", M: 4096, N: 25088, K: 64, TransA: true},
}

// CheckShape runs fn on shape s with random inputs (beta = 0, C filled with
// NaN first), then checks that every element of C was written and that
// samples randomly chosen elements match a float64 dot product. It is the
// affordable check for full-size network shapes.
func CheckShape(fn Func, s Shape, samples int, rng *rand.Rand) error {
	lda, ldb, ldc := s.LDs()
	a := randSlice(rng, s.M*s.K)
	b := randSlice(rng, s.K*s.N)
	c := make([]float32, s.M*s.N)
	nan := float32(math.NaN())
	for i := range c {
		c[i] = nan
	}
	fn(s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, ldc)
	for i, v := range c {
		if math.IsNaN(float64(v)) {
			return fmt.Errorf("%v: C[%d][%d] not written", s, i/ldc, i%ldc)
		}
	}
	eps := float64(math.Nextafter32(1, 2) - 1)
	for n := 0; n < samples; n++ {
		i, j := rng.IntN(s.M), rng.IntN(s.N)
		var sum, sabs float64
		for p := 0; p < s.K; p++ {
			var av, bv float64
			if s.TransA {
				av = float64(a[p*lda+i])
			} else {
				av = float64(a[i*lda+p])
			}
			if s.TransB {
				bv = float64(b[j*ldb+p])
			} else {
				bv = float64(b[p*ldb+j])
			}
			sum += av * bv
			sabs += math.Abs(av * bv)
		}
		if got := float64(c[i*ldc+j]); !(math.Abs(got-sum) <= 2*float64(s.K+2)*eps*sabs) {
			return fmt.Errorf("%v: C[%d][%d] = %g, want %g", s, i, j, got, sum)
		}
	}
	return nil
}
