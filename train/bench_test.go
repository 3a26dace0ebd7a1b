package train

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// BenchmarkHeadEpoch_VGGClassifier times one epoch of the seed's head config
// on synthetic 25088-d features (PRECONV_BENCH_ITEMS, default 2000), with and
// without frozen-prefix folding, at 1 and 2 threads. Compare with the peer:
//
//	OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 taskset -c 0 /usr/bin/python3 /work/shared/peers/torch_head_epoch.py 2000 1
//	OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 /work/shared/peers/torch_head_epoch.py 2000 2
//
// or run both with `preconv bench head`. Measured 2026-11-28 on the shared
// 2-vCPU machine (load 10-15 from other builds, so wall times are noisy),
// 2000 items, one `preconv bench head --threads 1,2 --peer ...` run:
//
//	threads 1: preconv unfolded 127 items/s wall (302 items per CPU second),
//	           PyTorch 335 items/s (pinned to core 0);
//	           preconv folded 51408 items/s (+11.5 s folding once)
//	threads 2: preconv unfolded 407 items/s, PyTorch 222 items/s;
//	           preconv folded 104054 items/s (+6.7 s folding once)
func BenchmarkHeadEpoch_VGGClassifier(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("PRECONV_BENCH_ITEMS")); err == nil && v > 0 {
		n = v
	}
	ds := SyntheticFeatures(n, []int{512, 7, 7}, 2, 1)
	for _, fold := range []bool{false, true} {
		for _, th := range []int{1, 2} {
			name := "unfolded"
			if fold {
				name = "folded"
			}
			b.Run(name+"/threads="+strconv.Itoa(th), func(b *testing.B) {
				var last *HeadBench
				for i := 0; i < b.N; i++ {
					r, err := BenchHead(context.Background(), ds, th, fold)
					if err != nil {
						b.Fatal(err)
					}
					last = r
				}
				b.ReportMetric(last.ItemsPerSec, "items/s")
				b.ReportMetric(last.EpochSeconds, "s/epoch")
			})
		}
	}
}
