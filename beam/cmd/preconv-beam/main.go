// Command preconv-beam runs preconv's sharded extraction as an Apache Beam
// pipeline (package pipeline): list → N shards in parallel → merge.
//
//	preconv-beam extract --model M --data DIR --out STORE --shards N [extract flags] [beam flags]
//
// The runner is Beam's --runner flag: prism (default: in-process, local),
// dataflow, or universal (Flink, Spark job servers); see beam/README.md.
// When a portable runner starts this binary as a worker (--worker), it runs
// the Beam worker harness instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/preconv/preconv/beam/pipeline"
)

const usage = `Usage: preconv-beam extract --model M --data DIR --out STORE --shards N [flags]

Runs 'preconv extract --shard i/N' for i = 0..N-1 as a Beam pipeline (one
DoFn loads the backbone once per worker) and 'preconv store merge STORE' as
its last step. STORE is s3://BUCKET/PREFIX or a path every worker sees (local for prism).

Runner (Beam flags): --runner=prism (default, in-process) | dataflow |
universal --endpoint=HOST:PORT (Flink or Spark job server); see beam/README.md.
`

func main() {
	args := os.Args[1:]
	worker := false
	for _, a := range args {
		worker = worker || a == "--worker" || a == "-worker" || a == "--worker=true"
	}
	if !worker {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Print(usage)
			flag.PrintDefaults()
			return
		}
		if args[0] != "extract" {
			fmt.Fprintf(os.Stderr, "preconv-beam: unknown command %q\n%s", args[0], usage)
			os.Exit(2)
		}
		os.Args = append(os.Args[:1], args[1:]...)
	}
	var j pipeline.Job
	flag.StringVar(&j.Model, "model", "", "backbone: a file or a known name (required)")
	flag.StringVar(&j.Arch, "arch", "", "architecture of a bare weights file")
	flag.StringVar(&j.Tap, "tap", "", "layer whose output is stored")
	flag.StringVar(&j.Pool, "pool", "", "global pooling after the tap: avg, max or none")
	flag.StringVar(&j.Data, "data", "", "ImageFolder root or .csv/.jsonl manifest (required)")
	flag.StringVar(&j.Valid, "valid", "", "separate validation ImageFolder root")
	flag.Float64Var(&j.ValidFraction, "valid-fraction", 0, "hold out this fraction as the valid split (by content hash)")
	flag.StringVar(&j.Out, "out", "", "store directory, seen by every worker (required)")
	flag.StringVar(&j.Preprocess, "preprocess", "", "preprocessing preset or JSON")
	flag.IntVar(&j.Size, "size", 0, "resize to this size")
	flag.IntVar(&j.Crop, "crop", 0, "center-crop to this size")
	flag.StringVar(&j.DType, "dtype", "f32", "stored dtype: f32 or f16")
	flag.IntVar(&j.Batch, "batch", 8, "images per forward pass")
	flag.IntVar(&j.Workers, "workers", 0, "image decoding workers per shard (default: number of CPUs)")
	flag.IntVar(&j.Threads, "threads", 0, "backbone threads per shard (default: number of CPUs)")
	flag.IntVar(&j.ZstdLevel, "zstd-level", 0, "zstd level 1..19 (default 3)")
	flag.IntVar(&j.ChunkRows, "chunk-items", 0, "items per chunk")
	flag.IntVar(&j.Shards, "shards", 0, "number of shards N (required)")
	flag.BoolVar(&j.Clean, "clean", false, "remove the shard directories after a verified merge")
	asJSON := flag.Bool("json", false, "print the merge result as JSON")
	flag.Parse()
	beam.Init() // in worker mode this runs the harness and exits

	if err := run(j, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "preconv-beam:", err)
		os.Exit(1)
	}
}

func run(j pipeline.Job, asJSON bool) error {
	if err := j.Validate(); err != nil {
		return fmt.Errorf("%w (see 'preconv-beam -h')", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, s := beam.NewPipelineWithRoot()
	if _, err := pipeline.Build(s, j); err != nil {
		return err
	}
	if err := beamx.Run(ctx, p); err != nil {
		return err
	}
	res, err := pipeline.Result(j.Out)
	if err != nil {
		// A remote runner's store may not be visible from the launcher.
		fmt.Printf("pipeline finished; %s is not readable here (%v)\n", j.Out, err)
		return nil
	}
	if asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	fmt.Printf("store %s: %d items (%d failed) from %d shards; verified\n", j.Out, res.Items, res.Failed, j.Shards)
	return nil
}
