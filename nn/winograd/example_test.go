package winograd_test

import (
	"fmt"

	"github.com/preconv/preconv/nn/winograd"
)

// A 3×3 box filter over a 4×4 image of ones with padding 1 counts each
// pixel's in-image neighbours (itself included).
func ExampleConv() {
	const cin, cout, h, w = 1, 1, 4, 4
	filter := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1} // OIHW, 1×1×3×3
	wt := winograd.PrepareWeights(filter, cout, cin)

	x := make([]float32, cin*h*w)
	for i := range x {
		x[i] = 1
	}
	oh, ow := winograd.OutSize(h, w, 1, 1, 1, 1)
	dst := make([]float32, cout*oh*ow)
	winograd.Conv(dst, x, 1, cin, h, w, wt, nil, 1, 1, 1, 1, false, 1)
	for y := 0; y < oh; y++ {
		// Winograd's float32 result is within rounding of the integers.
		fmt.Printf("%.0f %.0f %.0f %.0f\n", dst[y*ow], dst[y*ow+1], dst[y*ow+2], dst[y*ow+3])
	}
	// Output:
	// 4 6 6 4
	// 6 9 9 6
	// 6 9 9 6
	// 4 6 6 4
}

func ExampleApplicable() {
	fmt.Println(winograd.Applicable(3, 3, 1, 1, 1, 1, 1)) // VGG conv
	fmt.Println(winograd.Applicable(3, 3, 2, 2, 1, 1, 1)) // stride 2
	// Output:
	// true
	// false
}
