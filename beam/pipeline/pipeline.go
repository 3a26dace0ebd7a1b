// Package pipeline is preconv's sharded extraction as an Apache Beam
// pipeline (Go SDK):
//
//	Impulse → list (LoadDataset once, assign items to N shards by content hash)
//	        → Reshuffle (spread shards over workers)
//	        → extract (DoFn: Setup loads the backbone once per worker;
//	                   each element is one shard: extract.Run with Config.Shard)
//	        → GroupByKey (all N shard results to one place)
//	        → merge (extract.Merge: validate every shard manifest, commit STORE)
//
// Every step calls the same code as `preconv extract --shard i/N` and
// `preconv store merge`, so the pipeline's store is the one N shard
// processes (or one machine) write. Shards are idempotent: when a runner
// retries a bundle, the shard finds its finished chunks and computes nothing.
//
// The store (Job.Out) is either an s3:// location (every worker keeps a
// local working copy and pushes its shards; see remote.go) or a directory
// reachable by every worker under the same path: local for the Prism runner
// (in-process), a shared filesystem mounted on all workers otherwise.
//
// The DoFns are registered (register.DoFn…) so that the binary runs as a
// Beam worker on portable runners unchanged.
package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/store"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(int, int), error](&listFn{})
	register.DoFn4x1[context.Context, int, int, func(int, string), error](&extractFn{})
	register.DoFn4x1[context.Context, int, func(*string) bool, func(string), error](&mergeFn{})
	register.Emitter2[int, int]()
	register.Emitter2[int, string]()
	register.Emitter1[string]()
	register.Iter1[string]()
}

// Job is one sharded extraction: the flags of `preconv extract` plus the
// shard count. It is serialised into the pipeline (JSON), so it holds only
// plain values.
type Job struct {
	// Model, Arch, Tap and Pool choose the backbone (backbone.Open).
	Model string `json:"model"`
	Arch  string `json:"arch,omitempty"`
	Tap   string `json:"tap,omitempty"`
	Pool  string `json:"pool,omitempty"`
	// Data, Valid, ValidFraction, Out, Preprocess, Size, Crop, DType, Batch,
	// Workers, Threads, ZstdLevel and ChunkRows are extract.Config's.
	Data          string  `json:"data"`
	Valid         string  `json:"valid,omitempty"`
	ValidFraction float64 `json:"valid_fraction,omitempty"`
	Out           string  `json:"out"`
	Preprocess    string  `json:"preprocess,omitempty"`
	Size          int     `json:"size,omitempty"`
	Crop          int     `json:"crop,omitempty"`
	DType         string  `json:"dtype,omitempty"`
	Batch         int     `json:"batch,omitempty"`
	Workers       int     `json:"workers,omitempty"`
	Threads       int     `json:"threads,omitempty"`
	ZstdLevel     int     `json:"zstd_level,omitempty"`
	ChunkRows     int     `json:"chunk_rows,omitempty"`
	// Shards is N (>= 1).
	Shards int `json:"shards"`
	// Clean removes the shard directories after a verified merge.
	Clean bool `json:"clean,omitempty"`
}

// Config returns the extract.Config of the job (no shard set).
func (j Job) Config() extract.Config {
	return extract.Config{Data: j.Data, Valid: j.Valid, ValidFraction: j.ValidFraction, Out: j.Out,
		Preprocess: j.Preprocess, Size: j.Size, Crop: j.Crop, DType: j.DType, Batch: j.Batch,
		Workers: j.Workers, Threads: j.Threads, ZstdLevel: j.ZstdLevel, ChunkRows: j.ChunkRows}
}

// Validate checks the job's required fields.
func (j Job) Validate() error {
	switch {
	case j.Model == "" || j.Data == "" || j.Out == "":
		return fmt.Errorf("pipeline: a job needs a model, data and out")
	case j.Shards < 1 || j.Shards > 1<<16:
		return fmt.Errorf("pipeline: %d shards, want 1..65536", j.Shards)
	case j.DType != "" && j.DType != "f32" && j.DType != "f16":
		return fmt.Errorf("pipeline: dtype %q, want f32 or f16", j.DType)
	}
	return nil
}

// Build adds the extraction of j to the pipeline's root scope and returns
// the merge result: one JSON-encoded extract.MergeResult.
func Build(s beam.Scope, j Job) (beam.PCollection, error) {
	if err := j.Validate(); err != nil {
		return beam.PCollection{}, err
	}
	s = s.Scope("preconv-extract")
	imp := beam.Impulse(s)
	shards := beam.ParDo(s.Scope("list"), &listFn{Job: j}, imp)
	shards = beam.Reshuffle(s, shards)
	done := beam.ParDo(s.Scope("extract"), &extractFn{Job: j}, shards)
	grouped := beam.GroupByKey(s, done)
	return beam.ParDo(s.Scope("merge"), &mergeFn{Job: j}, grouped), nil
}

// listFn lists and hashes the dataset once and emits (shard, items) for
// every shard 0..N-1 (empty shards too: they write a manifest).
type listFn struct {
	Job Job `json:"job"`
}

func (f *listFn) ProcessElement(ctx context.Context, _ []byte, emit func(int, int)) error {
	ds, err := extract.LoadDataset(ctx, f.Job.Config())
	if err != nil {
		return err
	}
	counts := extract.ShardCounts(ds, f.Job.Shards)
	log.Infof(ctx, "preconv: %d items of %s in %d shards: %v", len(ds.Items), f.Job.Data, f.Job.Shards, counts)
	for i, n := range counts {
		emit(i, n)
	}
	return nil
}

// extractFn extracts one shard per element. Setup loads the backbone once
// per DoFn instance (per worker thread), and every shard it processes reuses
// it. It emits (0, ShardResult JSON) so that one GroupByKey gathers all.
type extractFn struct {
	Job Job `json:"job"`
	b   *backbone.Backbone
}

func (f *extractFn) Setup(ctx context.Context) error {
	b, err := backbone.Open(ctx, f.Job.Model, backbone.Options{Arch: f.Job.Arch, Tap: f.Job.Tap, Pool: f.Job.Pool})
	if err != nil {
		return err
	}
	f.b = b
	return nil
}

// ShardResult is what the extract step emits per shard.
type ShardResult struct {
	Shard    int `json:"shard"`
	Items    int `json:"items"`
	Computed int `json:"computed"`
	Failed   int `json:"failed"`
}

func (f *extractFn) ProcessElement(ctx context.Context, shard, items int, emit func(int, string)) error {
	cfg := f.Job.Config()
	cfg.Shard = extract.Shard{Index: shard, Of: f.Job.Shards}
	cfg.Log = func(m string) { log.Info(ctx, m) }
	ds, err := extract.LoadDataset(ctx, cfg)
	if err != nil {
		return err
	}
	res, err := runShard(ctx, cfg, f.b, ds)
	if err != nil {
		return err
	}
	if res.Items != items {
		return fmt.Errorf("pipeline: shard %s holds %d items but the listing gave it %d: the dataset changed during the run", cfg.Shard, res.Items, items)
	}
	log.Infof(ctx, "preconv: shard %s: %d items, %d computed, %d failed in %.1fs", cfg.Shard, res.Items, res.Computed, res.Failed, res.Seconds)
	b, _ := json.Marshal(ShardResult{Shard: shard, Items: res.Items, Computed: res.Computed, Failed: res.Failed})
	emit(0, string(b))
	return nil
}

// mergeFn runs extract.Merge once every shard reported.
type mergeFn struct {
	Job Job `json:"job"`
}

func (f *mergeFn) ProcessElement(ctx context.Context, _ int, results func(*string) bool, emit func(string)) error {
	seen := map[int]bool{}
	var r string
	for results(&r) {
		var sr ShardResult
		if err := json.Unmarshal([]byte(r), &sr); err != nil {
			return fmt.Errorf("pipeline: shard result %q: %w", r, err)
		}
		seen[sr.Shard] = true
	}
	if len(seen) != f.Job.Shards {
		return fmt.Errorf("pipeline: %d of %d shards reported", len(seen), f.Job.Shards)
	}
	res, err := merge(ctx, f.Job.Out, extract.MergeOptions{Of: f.Job.Shards, Clean: f.Job.Clean})
	if err != nil {
		return err
	}
	log.Infof(ctx, "preconv: merged %d shards into %s: %d items (%d failed)", res.Shards, res.Store, res.Items, res.Failed)
	b, _ := json.Marshal(res)
	emit(string(b))
	return nil
}

// Result summarises the merged store at out (where the launcher sees it).
func Result(out string) (*store.Info, error) { return store.Stat(out) }
