package winograd

import "testing"

// TestBlockCount checks the block counts worked out by hand in
// blockCount's doc comment, and for a range of sizes that blocks stay
// within 2·bt tiles and never cost the busiest thread more GEMM columns
// than ⌈total/bt⌉ equal blocks (the previous rule).
func TestBlockCount(t *testing.T) {
	for _, tc := range []struct{ total, bt, threads, want int }{
		{196, 64, 2, 2},    // VGG16 conv3_1, batch 1: 2×98 (112 columns) over 4×49
		{784, 64, 2, 10},   // conv2: 10×79 (80 columns, 5 per thread) over 13×61
		{196, 64, 1, 2},    // 224 columns over 256 (4×64) or 240 (3×80)
		{49, 128, 2, 1},    // conv4 at batch 1: fewer blocks than threads (team)
		{3136, 112, 2, 28}, // conv1_2: 28×112 ties with 14×224; more blocks win
		{5, 64, 3, 1},
		{1, 1, 1, 1},
	} {
		if got := blockCount(tc.total, tc.bt, tc.threads); got != tc.want {
			t.Errorf("blockCount(%d, %d, %d) = %d, want %d", tc.total, tc.bt, tc.threads, got, tc.want)
		}
	}
	cols := func(total, k, threads int) int {
		return (k + threads - 1) / threads * (((total+k-1)/k + 15) &^ 15)
	}
	for total := 1; total <= 2000; total += 7 {
		for _, bt := range []int{16, 64, 128, 208} {
			for threads := 1; threads <= 4; threads++ {
				k := blockCount(total, bt, threads)
				nb := (total + bt - 1) / bt
				if k < 1 || k > total {
					t.Fatalf("blockCount(%d, %d, %d) = %d", total, bt, threads, k)
				}
				if (total+k-1)/k > 2*bt {
					t.Fatalf("blockCount(%d, %d, %d) = %d: blocks of %d tiles > 2·bt", total, bt, threads, k, (total+k-1)/k)
				}
				if nb >= threads && cols(total, k, threads) > cols(total, nb, threads) {
					t.Fatalf("blockCount(%d, %d, %d) = %d: %d columns per thread, %d blocks give %d",
						total, bt, threads, k, cols(total, k, threads), nb, cols(total, nb, threads))
				}
			}
		}
	}
}
