package gemm_test

import (
	"fmt"

	"github.com/preconv/preconv/gemm"
)

// A 2×3 times 3×2 product, row-major: C = A·B.
func ExampleSgemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		7, 8,
		9, 10,
		11, 12,
	}
	c := make([]float32, 4)
	gemm.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [58 64 139 154]
}

// A Linear layer's forward pass, y = x·Wᵀ + y, with PyTorch's out×in weight
// layout: B is transposed, and beta = 1 adds to the bias already in y.
func ExampleSgemmParallel() {
	x := []float32{1, 1, 1, 1} // batch 1, 4 inputs
	w := []float32{            // 2 outputs × 4 inputs
		1, 2, 3, 4,
		-1, 0, 1, 0,
	}
	y := []float32{0.5, -0.5} // bias
	gemm.SgemmParallel(2, false, true, 1, 2, 4, 1, x, 4, w, 4, 1, y, 2)
	fmt.Println(y)
	// Output: [10.5 -0.5]
}
