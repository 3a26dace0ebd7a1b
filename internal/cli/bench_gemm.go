package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmbench"
	"github.com/preconv/preconv/gemm/gemmtest"
	"github.com/preconv/preconv/gemm/openblas"
)

func init() {
	c := &Command{Name: "bench gemm", Short: "SGEMM GFLOP/s on the VGG16 conv shapes, ours next to OpenBLAS",
		Usage: `Usage: preconv bench gemm [--threads 1,2] [--time 300ms] [--shapes conv1_2,conv4_1] [--json]

Measures the native SGEMM and, when the library loads, the system OpenBLAS
(set OPENBLAS_CORETYPE=SkylakeX for its best kernels on new CPUs) on the
VGG16 im2col shapes at 224x224, batch 1, interleaving the two so both see the
same machine load. Single-thread figures use thread CPU time; multi-thread
figures use wall time.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		threadsFlag := fs.String("threads", "1,2", "comma-separated thread counts")
		minTime := fs.Duration("time", 300*time.Millisecond, "time per backend, shape and thread count")
		shapesFlag := fs.String("shapes", "", "comma-separated shape names from the VGG16 conv table (default: all of them) or the classifier/head table (fc6_b8, fc7_b8, fc6_b64, fc6_grad_b64)")
		libPath := fs.String("openblas", "", "path of libopenblas (default: the usual system locations)")
		noBLAS := fs.Bool("no-openblas", false, "measure the native SGEMM only")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageError("bench gemm takes no arguments, got %q", pos)
		}
		threads, err := positiveList("threads", *threadsFlag)
		if err != nil {
			return err
		}
		var shapes []gemmtest.Shape
		if *shapesFlag != "" {
			for _, name := range strings.Split(*shapesFlag, ",") {
				found := false
				for _, s := range append(append([]gemmtest.Shape(nil), gemmtest.VGG16...), gemmtest.VGG16Linear...) {
					if s.Name == strings.TrimSpace(name) {
						shapes, found = append(shapes, s), true
					}
				}
				if !found {
					return usageError("--shapes: unknown shape %q", name)
				}
			}
		}
		backends := []gemm.Backend{gemm.Native{}}
		blasName := ""
		if !*noBLAS {
			if l, err := openblas.Open(*libPath); err == nil {
				backends = append(backends, l)
				blasName = l.Name()
			} else if !*asJSON {
				fmt.Fprintf(env.Stderr, "OpenBLAS not measured: %v\n(install Debian libopenblas0-pthread, or pass --openblas PATH)\n", err)
			}
		}
		res, err := gemmbench.Run(ctx, gemmbench.Config{Shapes: shapes, Threads: threads, MinTime: *minTime}, backends...)
		if err != nil {
			return err
		}
		type row struct {
			Shape    string  `json:"shape"`
			Trans    string  `json:"trans,omitempty"`
			M        int     `json:"m"`
			N        int     `json:"n"`
			K        int     `json:"k"`
			Threads  int     `json:"threads"`
			Ours     float64 `json:"ours_gflops"`
			OpenBLAS float64 `json:"openblas_gflops,omitempty"`
			Ratio    float64 `json:"ratio,omitempty"`
		}
		rows := make([]row, 0, len(res))
		for _, r := range res {
			w := row{Shape: r.Shape.Name, Trans: strings.TrimPrefix(strings.TrimPrefix(r.Shape.String(), fmt.Sprintf("%s_m%d_n%d_k%d", r.Shape.Name, r.Shape.M, r.Shape.N, r.Shape.K)), "_"), M: r.Shape.M, N: r.Shape.N, K: r.Shape.K, Threads: r.Threads, Ours: r.GFLOPS[0]}
			if len(r.GFLOPS) > 1 && r.GFLOPS[1] > 0 {
				w.OpenBLAS, w.Ratio = r.GFLOPS[1], r.GFLOPS[0]/r.GFLOPS[1]
			}
			rows = append(rows, w)
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(map[string]any{
				"kernel": gemm.Kernel(), "openblas": blasName, "results": rows})
		}
		fmt.Fprintf(env.Stdout, "native kernel: %s\n", gemm.Kernel())
		if blasName != "" {
			fmt.Fprintf(env.Stdout, "openblas: %s\n", blasName)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "shape\tM\tN\tK\tthreads\tours GFLOP/s\tOpenBLAS GFLOP/s\tratio\t")
		for _, w := range rows {
			ob, ratio := "-", "-"
			if w.OpenBLAS > 0 {
				ob, ratio = fmt.Sprintf("%.1f", w.OpenBLAS), fmt.Sprintf("%.2f", w.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t\n", w.Shape, w.M, w.N, w.K, w.Threads, w.Ours, ob, ratio)
		}
		return tw.Flush()
	}
	register(c)
}
