package gemmbench_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmbench"
	"github.com/preconv/preconv/gemm/gemmtest"
	"github.com/preconv/preconv/gemm/openblas"
)

func TestRunSmall(t *testing.T) {
	res, err := gemmbench.Run(context.Background(), gemmbench.Config{
		Shapes: []gemmtest.Shape{{Name: "tiny", M: 16, N: 40, K: 9}}, Threads: []int{1, 2},
		MinTime: time.Millisecond, Rounds: 1}, gemm.Native{})
	if err != nil || len(res) != 2 || res[0].GFLOPS[0] <= 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := gemmbench.Run(ctx, gemmbench.Config{}, gemm.Native{}); err == nil {
		t.Fatal("Run with cancelled context returned nil error")
	}
}

// TestReport prints the ours-vs-OpenBLAS table; PRECONV_GEMMBENCH=1 only.
func TestReport(t *testing.T) {
	if os.Getenv("PRECONV_GEMMBENCH") == "" {
		t.Skip("set PRECONV_GEMMBENCH=1 (and OPENBLAS_CORETYPE=SkylakeX) to print the VGG16 table")
	}
	l, err := openblas.Open("")
	if err != nil {
		t.Skip(err)
	}
	res, err := gemmbench.Run(context.Background(), gemmbench.Config{MinTime: 600 * time.Millisecond}, gemm.Native{}, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%-28s t%d ours %6.1f openblas %6.1f ratio %.2f", r.Shape, r.Threads, r.GFLOPS[0], r.GFLOPS[1], r.GFLOPS[0]/r.GFLOPS[1])
	}
}
