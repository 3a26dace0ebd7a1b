package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/store"
)

func init() {
	info := &Command{Name: "store info", Short: "show a feature store's provenance, counts and size",
		Usage: `Usage: preconv store info STORE [--json]

Prints the provenance (model, weights digest, tap, pooling, preprocessing,
dtype, preconv version, creation time), item counts per split and class,
size on disk, compression ratio and chunk count. Reads no chunks.`}
	info.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, info)
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("store info needs one STORE directory (try 'preconv store info -h')")
		}
		dir, _, err := openStoreRef(ctx, env, pos[0], false) // s3://, http(s):// → local copy
		if err != nil {
			return err
		}
		in, err := store.Stat(dir)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, in)
		}
		p := in.Provenance
		w := env.Stdout
		fmt.Fprintf(w, "store      %s\n", in.Dir)
		fmt.Fprintf(w, "model      %s (%s), weights sha256 %s\n", p.Spec.Model, p.Spec.Arch, p.Spec.WeightsDigest)
		pool := p.Spec.Pool
		if pool == "" {
			pool = "none"
		}
		fmt.Fprintf(w, "tap        %s, pool %s, dtype %s, feature shape %v\n", p.Spec.Tap, pool, p.Spec.DType, p.Spec.FeatureShape)
		if len(p.Spec.Preprocess) > 0 {
			var v any
			json.Unmarshal(p.Spec.Preprocess, &v)
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "preprocess %s\n", b)
		}
		fmt.Fprintf(w, "spec       %s\n", p.SpecDigest)
		fmt.Fprintf(w, "written    %s by preconv %s\n", p.Created.Format("2006-01-02 15:04:05Z07:00"), p.Version)
		fmt.Fprintf(w, "items      %d (%d failed)\n", in.Items, in.Failed)
		splits := make([]string, 0, len(in.PerSplit))
		for s := range in.PerSplit {
			splits = append(splits, s)
		}
		sort.Strings(splits)
		for _, s := range splits {
			var parts []string
			total := 0
			for _, c := range append(append([]string(nil), p.Classes...), "(unlabelled)") {
				if n := in.PerSplit[s][c]; n > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", c, n))
					total += n
				}
			}
			name := s
			if name == "" {
				name = "(no split)"
			}
			fmt.Fprintf(w, "  %-10s %6d: %s\n", name, total, strings.Join(parts, ", "))
		}
		fmt.Fprintf(w, "chunks     %d of %d items, zstd level %d\n", in.Chunks, p.ChunkRows, p.Level)
		fmt.Fprintf(w, "size       %s on disk; features %s compressed, %s raw (%.2f×), %.2f× smaller than raw float32\n",
			humanBytes(in.DiskBytes), humanBytes(in.ChunkBytes), humanBytes(in.RawBytes), in.Ratio, in.RatioF32)
		return nil
	}
	register(info)

	verify := &Command{Name: "store verify", Short: "check every chunk checksum of a feature store",
		Usage: `Usage: preconv store verify STORE [--json]

Reads every features chunk, checks it against the checksum recorded when it
was written, decodes it and checks the item keys it holds. Exits 1 and names
each damaged or missing chunk; rerunning the extraction recomputes them.`}
	verify.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, verify)
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("store verify needs one STORE directory (try 'preconv store verify -h')")
		}
		dir, _, err := openStoreRef(ctx, env, pos[0], false) // s3://, http(s):// → local copy
		if err != nil {
			return err
		}
		rep, err := store.Verify(dir)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := writeJSON(env.Stdout, map[string]any{"ok": rep.OK(), "report": rep}); err != nil {
				return err
			}
		} else {
			for _, p := range rep.Problems {
				fmt.Fprintf(env.Stdout, "chunk %d (%s): %s\n", p.Chunk, p.File, p.Problem)
			}
			switch {
			case !rep.Committed:
				fmt.Fprintf(env.Stdout, "%s: not committed (an extraction is running or was interrupted); %d chunks written so far\n", rep.Dir, rep.Chunks)
			case rep.OK():
				fmt.Fprintf(env.Stdout, "%s: ok, %d chunks, %d items (%d failed)\n", rep.Dir, rep.Chunks, rep.Items, rep.Failed)
			}
		}
		if !rep.OK() {
			return &exitError{code: ExitFailure, err: fmt.Errorf("%s: %d damaged or missing chunks%s; rerun the extraction to recompute them",
				rep.Dir, len(rep.Problems), map[bool]string{true: "", false: ", store not committed"}[rep.Committed])}
		}
		return nil
	}
	register(verify)

	export := &Command{Name: "store export", Short: "export a feature store as .npy or safetensors",
		Usage: `Usage: preconv store export STORE --format npy|safetensors --out FILE [--split NAME]

Writes the features of the store's non-failed items (dtype as stored: f32 or
f16) in store order. safetensors also holds "labels" (int64) and the spec in
its metadata. Streams chunk by chunk, so the store may exceed memory.`}
	export.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, export)
		format := fs.String("format", "npy", "npy or safetensors")
		out := fs.String("out", "", "output file (required)")
		split := fs.String("split", "", "export only this split (default: all)")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 || *out == "" {
			return usageError("store export needs STORE and --out FILE (try 'preconv store export -h')")
		}
		if *format != "npy" && *format != "safetensors" {
			return usageError("--format %q: want npy or safetensors", *format)
		}
		dir, _, err := openStoreRef(ctx, env, pos[0], false) // s3://, http(s):// → local copy
		if err != nil {
			return err
		}
		s, err := store.Open(dir)
		if err != nil {
			return err
		}
		if *split != "" {
			s = s.Split(*split)
		}
		f, err := os.CreateTemp(filepath.Dir(*out), ".export-*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		if *format == "npy" {
			err = s.ExportNPY(ctx, f)
		} else {
			err = s.ExportSafetensors(ctx, f)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), *out)
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", *out, err)
		}
		fmt.Fprintf(env.Stderr, "wrote %d items to %s\n", s.Len(), *out)
		return nil
	}
	register(export)

	merge := &Command{Name: "store merge", Short: "commit a store from its finished extraction shards",
		Usage: `Usage: preconv store merge STORE [--clean] [--of N] [--json]

Merges the shards that 'preconv extract --shard i/N --out STORE' wrote under
STORE/.preconv/shards/ into STORE. Refuses, writing nothing, unless shards
0..N-1 are all finished and agree (same spec, same dataset listing), naming
the missing or mismatched shards. The merged store is the one a single
machine writes (byte-identical features, labels, keys and records) and is
verified before the command returns. --clean then removes the shards (for an
s3:// store, in the bucket too, after the merged store is pushed).`}
	merge.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, merge)
		var opts extract.MergeOptions
		fs.BoolVar(&opts.Clean, "clean", false, "remove the shard directories after a verified merge")
		fs.IntVar(&opts.Of, "of", 0, "merge the shards of this N when shards of several counts are present")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("store merge needs one STORE directory (try 'preconv store merge -h')")
		}
		// s3://: pull the store and its shards, push the result, and with
		// --clean delete the merged shards there too.
		dir, finish, clean, err := openMergeRef(ctx, env, pos[0])
		if err != nil {
			return err
		}
		res, err := extract.Merge(ctx, dir, opts)
		if err != nil {
			return err
		}
		if err := finish(true); err != nil {
			return err
		}
		if res.Cleaned {
			names := make([]string, res.Shards)
			for i := range names {
				names[i] = fmt.Sprintf("%d-of-%d", i, res.Shards)
			}
			if err := clean(names); err != nil {
				return err
			}
		}
		if *asJSON {
			return writeJSON(env.Stdout, res)
		}
		fmt.Fprintf(env.Stdout, "%s: merged %d shards, %d items (%d failed, %d copied, %d kept) in %.1fs; verified\n",
			res.Store, res.Shards, res.Items, res.Failed, res.Copied, res.Kept, res.Seconds)
		if res.Cleaned {
			fmt.Fprintf(env.Stdout, "  shard directories removed\n")
		}
		return nil
	}
	register(merge)
}
