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
// (T = tiles of one spatial block; see Kernels). F(4×4,3×3) does
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
// flattened (image, tile row, tile column) space and processed in equal
// blocks of about Weights.BlockTiles tiles (64…1024; up to twice that when
// it balances the threads), so the per-goroutine scratch (V and M for one
// block, Weights.ScratchBytes: about 2 MB, at most ~19 MB for 512→512
// channels, doubled at most) is bounded however large the batch or image.
// When a layer has fewer blocks than threads (small maps at batch 1), the
// threads share each block instead: its input transform split by channel,
// its GEMMs by position ξ, its output transform by output channel. Blocks run
// in parallel over up to `threads` goroutines and may span images, so a
// whole batch passed in one call keeps the GEMMs wide even for 14×14 maps.
//
// # Kernels
//
// On CPUs with AVX-512 (internal/cpu), F(4×4,3×3) runs entirely in
// hand-written assembly (group_amd64.s), 16 tiles per vector:
//
//   - input transform: runs of 16 consecutive interior tiles of one tile
//     row use contiguous loads and permutes (the common case for 112- and
//     224-wide maps; tiles are reordered within a block to form such runs);
//     all other tiles (borders, rows narrower than 16 tiles) use masked
//     gathers with per-lane offsets, which also supply the zero padding;
//   - output transform: the mirror image (permutes + stores, or masked
//     scatters), with bias and ReLU fused;
//   - GEMMs: the transformed weights are packed at PrepareWeights into
//     panels of 8 output channels and multiplied by an 8×32 (8×16 for a
//     tail) register-blocked micro-kernel, so no weight packing happens per
//     call. The kernels prefetch U 4 KB ahead (deep layers stream tens of
//     MB of it from memory per block). A block's last 1–4 tile columns go
//     through a one-column kernel (8 panels at a time) instead of a padded
//     16-column group: a 7×7-tile map computes 49 columns, not 64. Every
//     kernel accumulates in the same order, so a tile's result does not
//     depend on the block it falls in: outputs are bit-identical for any
//     thread count.
//
// Elsewhere (no AVX-512, -tags noasm or purego) the transforms are per-tile
// Go code and the GEMMs go through gemm.Sgemm; F(2×2,3×3) always uses the Go
// transforms, with the micro-kernel GEMMs where AVX-512 is present.
// Every path is tested against a float64 direct convolution, and each
// assembly kernel against its Go reference (group.go).
//
// # Precision
//
// Winograd trades multiplies for additions with coefficients up to 8, so its
// float32 rounding error is larger than a direct convolution's. Measured
// against a float64 direct convolution (max |diff| / max |ref|, He-init
// weights, ReLU'd N(0,1) inputs, bias, ReLU; winograd_test.go,
// PRECONV_HEAVY=1):
//
//	layer (Cin→Cout, 28×28)   F(4×4,3×3)   F(2×2,3×3)
//	3→64                      1.9e-6       2.2e-7
//	64→64                     5.0e-6       2.3e-7
//	128→128                   7.3e-6       4.1e-7
//	256→256                   9.9e-6       5.4e-7
//	256→512                   1.2e-5       5.8e-7
//	512→512                   1.7e-5       7.9e-7
//
// Through VGG16's 13 convs and 5 max pools (real widths, 64×64 input,
// chain_test.go) the errors do not compound: F(4×4) stays within 1.9e-6 …
// 6.8e-6 at every depth, F(2×2) within 1.6e-7 … 1.1e-6, and a float32
// im2col+GEMM within 2.3e-7 … 7.9e-7. All are well inside the project's
// parity bound of 1e-4.
package winograd
