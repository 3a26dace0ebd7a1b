// Package winograd computes 3×3, stride-1, dilation-1, ungrouped 2-D
// convolutions (the convolutions of the VGG family) with Winograd's minimal
// filtering algorithm, F(4×4, 3×3) by default and F(2×2, 3×3) as a more
// precise fallback (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016).
//
// # Algorithm
//
// The output is cut into m×m tiles (m = 4, or 2 for F(2×2,3×3)); each needs
// an a×a input tile d (a = m+2) that overlaps its neighbours by two pixels.
// With the transform matrices B, G, A of the chosen variant
//
//	U = G g Gᵀ          (a×a, once per filter, at PrepareWeights)
//	V = Bᵀ d B          (a×a, per input tile and input channel)
//	M[ξ] = Σ_c U[ξ][o][c] · V[ξ][c][t]   for each of the a² positions ξ
//	Y = Aᵀ M A          (m×m, per output tile and output channel)
//
// so the bulk of the work is a² independent GEMMs of [Cout×Cin]·[Cin×T]
// (T = tiles of one spatial block), done with gemm.Sgemm. F(4×4,3×3) does
// 36 multiplies per 16 outputs per channel pair instead of 144 (a 4× cut);
// F(2×2,3×3) does 16 per 4 (2.25×).
//
// Interpolation points: F(4×4,3×3) uses the standard well-conditioned set
// {0, 1, -1, 2, -2, ∞}; F(2×2,3×3) uses {0, 1, -1, ∞}. The matrices are
// written out in transform.go.
//
// # Layout
//
// Input and output are NCHW float32, row-major, batch-major. Weights are
// given in PyTorch's OIHW layout (Cout×Cin×3×3). Tiles are numbered over the
// flattened (image, tile row, tile column) space and processed in blocks of
// at most a few hundred tiles, so the per-goroutine scratch (V and M for one
// block) stays bounded (a few MB, see Weights.ScratchBytes) however large
// the batch or image.
//
// # Precision
//
// Winograd trades multiplies for additions with coefficients up to 8, so its
// float32 rounding error is larger than a direct convolution's. Measured
// against a float64 direct convolution (see winograd_test.go), the error
// relative to the output's largest magnitude stays well inside the project's
// parity bound of 1e-4; the numbers per VGG16 layer are in the package
// README section of the report and in TestVGGMagnitudes' log output.
package winograd
