package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/draw"

	"github.com/preconv/preconv/imageset"
)

func init() {
	c := &Command{Name: "bench preprocess", Short: "JPEG decode + torchvision preprocessing img/s per core, optionally vs PIL",
		Usage: `Usage: preconv bench preprocess [--threads 1,2] [--seconds S] [--preprocess NAME] [--peer pil_preprocess.py] [--json] [FILE|DIR...]

Decodes and preprocesses image files (read from disk each time) in a loop on
1 and 2 worker goroutines and reports images/s and images/s per core. Without
files it measures two sets: a 500×375 quality-90 4:2:0 JPEG made from
darknet's dog.jpg, and the darknet photos (Debian package darknet). With
--peer, the PIL + torchvision script (shared/peers/pil_preprocess.py, run by
/usr/bin/python3 pinned to one CPU) is timed on the same files in the same run.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		threadList := fs.String("threads", "1,2", "comma-separated worker counts")
		secs := fs.Float64("seconds", 3, "seconds per measurement")
		preName := fs.String("preprocess", "torchvision", "preprocessing preset or JSON")
		peer := fs.String("peer", "", "path of pil_preprocess.py to run as the PIL peer")
		asJSON := fs.Bool("json", false, "print JSON")
		rest, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		threads, err := positiveList("threads", *threadList)
		if err != nil {
			return err
		}
		pre, err := imageset.ParsePreprocess(*preName)
		if err != nil {
			return usageError("--preprocess: %v", err)
		}
		type set struct {
			name  string
			files []string
		}
		var sets []set
		if len(rest) > 0 {
			files, err := benchFiles(rest)
			if err != nil {
				return err
			}
			sets = append(sets, set{fmt.Sprintf("%d files", len(files)), files})
		} else {
			photos, _ := filepath.Glob("/usr/share/darknet/data/*.jpg")
			if len(photos) == 0 {
				return usageError("no files given and no darknet photos in /usr/share/darknet/data (apt-get install darknet)")
			}
			sort.Strings(photos)
			tmp, err := os.MkdirTemp("", "preconv-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			small := filepath.Join(tmp, "dog500x375q90.jpg")
			if err := write500x375(filepath.Join(filepath.Dir(photos[0]), "dog.jpg"), small); err != nil {
				return err
			}
			sets = append(sets, set{"500x375 q90 JPEG", []string{small}}, set{fmt.Sprintf("darknet photos (%d)", len(photos)), photos})
		}
		type row struct {
			Set string `json:"set"`
			*imageset.PreprocessBench
			PILImagesPerS float64 `json:"pil_images_per_s,omitempty"`
			RatioPerCore  float64 `json:"ratio_per_core_vs_pil,omitempty"`
		}
		var rows []row
		for _, s := range sets {
			pil := 0.0
			if *peer != "" {
				if pil, err = runPILPeer(ctx, *peer, s.files); err != nil {
					fmt.Fprintf(env.Stderr, "peer: %v\n", err)
				}
			}
			for _, th := range threads {
				r, err := imageset.BenchPreprocess(ctx, s.files, pre, th, time.Duration(*secs*float64(time.Second)))
				if err != nil {
					return err
				}
				rw := row{Set: s.name, PreprocessBench: r, PILImagesPerS: pil}
				if pil > 0 {
					rw.RatioPerCore = r.PerCore / pil
				}
				rows = append(rows, rw)
				if !*asJSON {
					line := fmt.Sprintf("%-22s workers=%d  preconv %7.1f img/s = %6.1f img/s per core (%.2f CPU s for %d images)",
						s.name, th, r.ImagesPerS, r.PerCore, r.CPUSeconds, r.Images)
					if pil > 0 {
						line += fmt.Sprintf("   PIL+torchvision (1 process) %6.1f img/s   per core ×%.2f", pil, rw.RatioPerCore)
					}
					fmt.Fprintln(env.Stdout, line)
				}
			}
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(rows)
		}
		return nil
	}
	register(c)
}

// benchFiles expands directories (their image files, recursively) and
// keeps plain files.
func benchFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp":
				if !d.IsDir() {
					out = append(out, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, usageError("no image files in %s", strings.Join(args, " "))
	}
	return out, nil
}

// write500x375 writes the benchmark's 500×375 quality-90 JPEG (image/jpeg
// writes 4:2:0, as PIL does by default) made from src.
func write500x375(src, dst string) error {
	img, err := imageset.DecodeFile(src, 0)
	if err != nil {
		return err
	}
	out := image.NewRGBA(image.Rect(0, 0, 500, 375))
	draw.BiLinear.Scale(out, out.Bounds(), img, img.Bounds(), draw.Src, nil)
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := jpeg.Encode(f, out, &jpeg.Options{Quality: 90}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var pilRate = regexp.MustCompile(`([0-9.]+) img/s`)

// runPILPeer runs the PIL peer on files, pinned to CPU 0, and parses img/s.
func runPILPeer(ctx context.Context, script string, files []string) (float64, error) {
	args := append([]string{"/usr/bin/python3", script}, files...)
	if p, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{p, "-c", "0"}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", script, err, s)
	}
	m := pilRate.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%s: no img/s in output %q", script, s)
	}
	return strconv.ParseFloat(m[1], 64)
}
