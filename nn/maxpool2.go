package nn

// max2x2Go is the reference for max2x2, the kernel of 2×2 stride-2 max
// pooling: for j in [0, len(dst)),
//
//	dst[j] = max(r0[2j], r0[2j+1], r1[2j], r1[2j+1])
//
// with Go's max semantics (NaN if any input is NaN). r0 and r1 need
// 2·len(dst) elements.
func max2x2Go(dst, r0, r1 []float32) {
	r0 = r0[:2*len(dst)]
	r1 = r1[:2*len(dst)]
	for j := range dst {
		dst[j] = max(r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1])
	}
}

// maxPool2Serial is the output count below which a 2×2 stride-2 max pool
// runs on the calling goroutine only: waking a second thread costs
// ~0.1–0.2 ms on the VMs measured, more than pooling 100k outputs (VGG16's
// last two pools at batch 1, ~0.05 ms each with the AVX-512 kernel).
const maxPool2Serial = 1 << 18
