// Package backbone resolves what a user names with --model into a runnable
// feature extractor: an executable graph truncated at a tap, optionally
// followed by global pooling, together with everything that identifies its
// output (weights digest, architecture, default preprocessing).
//
// Accepted references:
//
//	path/to/weights.pth        torchvision state dict; needs Options.Arch (or an arch in the file name: vgg16-397923af.pth)
//	path/to/weights.safetensors same, in safetensors format
//	path/to/model.json, a directory holding one, or an npm-bundled TF.js model directory (model.min.js)
//	path/to/model.onnx         ONNX graph
//	nsfwjs/mobilenet_v2, nsfwjs/inception_v3   real ImageNet-derived weights from npm nsfwjs (fetched with npm pack)
//	vgg16, resnet18, …          the official torchvision checkpoint, fetched and verified (see `preconv fetch`)
//	pixels                     no network at all: the preprocessed image is the feature (the raw-pixel baseline)
package backbone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/model/tfjs"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// ErrModel means the model reference could not be resolved.
var ErrModel = errors.New("backbone: cannot load model")

// Options refine how a reference is loaded.
type Options struct {
	// Arch names the architecture for bare weight files (.pth, .safetensors).
	Arch string
	// CacheDir holds fetched assets (empty: npmfetch.CacheDir()).
	CacheDir string
	// Tap is the node whose output is the feature; empty: the backbone's default.
	Tap string
	// Pool is "", "avg" or "max": global pooling over H×W after the tap.
	Pool string
}

// Backbone is a loaded, tapped feature extractor.
type Backbone struct {
	// Name is a short human name ("vgg16", "nsfwjs/mobilenet_v2", a file name).
	Name string
	// Arch names the architecture ("vgg16", "mobilenet_v2", "onnx", "pixels").
	Arch string
	// Source is the file or directory the weights came from.
	Source string
	// WeightsDigest is the sha256 hex of the weight files, in a fixed order.
	WeightsDigest string
	// Preprocess is the image preprocessing the weights expect.
	Preprocess imageset.Preprocess
	// Tap and Pool are what Features computes.
	Tap, Pool string
	// Full is the whole graph with weights (for inspect, and heads that reuse
	// backbone layers); Graph is the inference-optimized graph cut at Tap.
	Full, Graph *model.Graph
	// StateDict holds the torchvision weights when the source was a state
	// dict (the vgg-classifier head starts from its classifier.* tensors).
	StateDict map[string]*tensor.Tensor
}

var archInName = regexp.MustCompile(`^(vgg1[13469](?:_bn)?|resnet(?:18|34|50))`)

// Open resolves ref (see the package doc) and prepares it for extraction.
func Open(ctx context.Context, ref string, opts Options) (*Backbone, error) {
	b, err := open(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	if err := b.setTap(opts.Tap, opts.Pool); err != nil {
		return nil, err
	}
	return b, nil
}

func open(ctx context.Context, ref string, opts Options) (*Backbone, error) {
	low := strings.ToLower(ref)
	switch {
	case ref == "pixels" || ref == "raw":
		return pixels(), nil
	case strings.HasPrefix(low, "nsfwjs/") || low == "mobilenet_v2" || low == "inception_v3":
		name := strings.TrimPrefix(low, "nsfwjs/")
		if name != "mobilenet_v2" && name != "inception_v3" {
			return nil, fmt.Errorf("%w: %q: nsfwjs ships mobilenet_v2 and inception_v3", ErrModel, ref)
		}
		dir, err := tfjs.FetchNSFWJS(ctx, opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrModel, ref, err)
		}
		b, err := openTFJS(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		b.Name = "nsfwjs/" + name
		b.Arch = name
		b.Tap = defaultTap(name)
		return b, nil
	case strings.HasSuffix(low, ".pth") || strings.HasSuffix(low, ".pt") || strings.HasSuffix(low, ".safetensors"):
		return openStateDict(ref, opts.Arch)
	case strings.HasSuffix(low, ".onnx"):
		return openONNX(ref)
	case strings.HasSuffix(low, ".json") || strings.HasSuffix(low, ".js") || isDir(ref):
		return openTFJS(ref)
	}
	if _, err := model.Arch(low, 1000); err == nil {
		return openZoo(ctx, low, opts)
	}
	if _, err := os.Stat(ref); err != nil {
		return nil, fmt.Errorf("%w: %q is neither a file nor a known model (try vgg16, nsfwjs/mobilenet_v2, pixels, or a .pth/.onnx/model.json path)", ErrModel, ref)
	}
	return nil, fmt.Errorf("%w: %s: unknown model format (want .pth, .safetensors, .onnx or a TF.js model.json)", ErrModel, ref)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func pixels() *Backbone {
	pre, _ := imageset.Named("unit")
	g := &model.Graph{Name: "pixels", Input: "pixels", Output: "pixels"}
	return &Backbone{Name: "pixels", Arch: "pixels", WeightsDigest: digestString("pixels"), Preprocess: pre, Full: g, Tap: "pixels"}
}

func openStateDict(path, arch string) (*Backbone, error) {
	if arch == "" {
		arch = archInName.FindString(strings.ToLower(filepath.Base(path)))
	}
	if arch == "" {
		return nil, fmt.Errorf("%w: %s: say which architecture these weights are for with --arch (e.g. vgg16)", ErrModel, path)
	}
	sd, err := model.LoadWeightsFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	numClasses := 1000
	for _, k := range []string{"classifier.6.weight", "fc.weight"} {
		if t, ok := sd[k]; ok && len(t.Shape) == 2 {
			numClasses = t.Shape[0]
		}
	}
	g, err := model.Arch(arch, numClasses)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, path, err)
	}
	if err := g.LoadStateDict(sd, true); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, path, err)
	}
	d, err := digestFiles(path)
	if err != nil {
		return nil, err
	}
	pre, _ := imageset.Named("torchvision")
	return &Backbone{Name: filepath.Base(path), Arch: arch, Source: path, WeightsDigest: d, Preprocess: pre,
		Full: g, StateDict: sd, Tap: defaultTap(arch)}, nil
}

func defaultTap(arch string) string {
	switch {
	case strings.HasPrefix(arch, "vgg"):
		return "features"
	case strings.HasPrefix(arch, "resnet"):
		return "layer4"
	case arch == "mobilenet_v2":
		return "block_13_expand_relu"
	case arch == "inception_v3":
		return "mixed5"
	}
	return ""
}

func openTFJS(path string) (*Backbone, error) {
	g, err := tfjs.Load(path, tfjs.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	dir := path
	if !isDir(path) {
		dir = filepath.Dir(path)
	}
	d, err := digestTFJS(dir)
	if err != nil {
		return nil, err
	}
	pre, _ := imageset.Named("unit")
	if len(g.InputShape) == 3 && g.InputShape[1] > 0 && g.InputShape[2] > 0 {
		pre.ResizeShort, pre.ResizeH, pre.ResizeW = 0, g.InputShape[1], g.InputShape[2]
	}
	arch := g.Name
	return &Backbone{Name: filepath.Base(dir), Arch: arch, Source: path, WeightsDigest: d, Preprocess: pre,
		Full: g, Tap: defaultTap(arch)}, nil
}

// digestFiles hashes the files' bytes in the order given.
func digestFiles(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrModel, err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrModel, p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// digestTFJS hashes a TF.js model: model.json (or the npm-bundled
// model.min.js) and the weight shards it names, in manifest order. Other
// files in the directory (notes, READMEs) do not change the digest.
func digestTFJS(dir string) (string, error) {
	files, err := tfjs.WeightFiles(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModel, err)
	}
	h := sha256.New()
	for _, p := range files {
		fmt.Fprintf(h, "%s\x00", filepath.Base(p))
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrModel, err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrModel, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func digestString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// setTap cuts the graph at tap (empty: the default) and records pooling.
func (b *Backbone) setTap(tap, pool string) error {
	switch pool {
	case "", "none":
		pool = ""
	case "avg", "max":
	default:
		return fmt.Errorf("%w: pool %q: want avg, max or none", ErrModel, pool)
	}
	if tap == "" {
		tap = b.Tap
	}
	if tap == "" {
		tap = b.Full.Output
	}
	if b.Arch == "pixels" {
		if tap != "pixels" {
			return fmt.Errorf("%w: the pixels backbone has no layers: tap %q (leave --tap empty)", ErrModel, tap)
		}
		b.Tap, b.Pool, b.Graph = tap, pool, b.Full
		return nil
	}
	b.Tap, b.Pool = tap, pool
	if _, err := b.Full.Resolve(tap); err != nil {
		return fmt.Errorf("%w: tap %q: %w (run 'preconv inspect' to list layers)", ErrModel, tap, err)
	}
	cut, err := b.Full.Truncate(tap)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrModel, err)
	}
	fused, err := cut.Fuse(tap)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrModel, err)
	}
	b.Graph = fused
	return nil
}

// InputShape is the per-image input (C, H, W) the preprocessing produces.
func (b *Backbone) InputShape() []int {
	s := b.Preprocess.OutShape()
	return s[:]
}

// FeatureShape is the per-item feature shape for the current tap and pool.
func (b *Backbone) FeatureShape() ([]int, error) {
	in := b.InputShape()
	var out []int
	if b.Arch == "pixels" {
		out = in
	} else {
		infos, err := b.Graph.Describe(append([]int{1}, in...))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModel, err)
		}
		node, err := b.Graph.Resolve(b.Tap)
		if err != nil {
			return nil, err
		}
		for _, li := range infos {
			if li.Name == node {
				out = li.OutShape
			}
		}
		if out == nil {
			return nil, fmt.Errorf("%w: tap %q has no shape", ErrModel, b.Tap)
		}
		out = out[1:] // drop the batch dimension
	}
	if b.Pool != "" && len(out) == 3 {
		return []int{out[0]}, nil
	}
	return append([]int(nil), out...), nil
}

// Features runs the backbone on the batch x (N×C×H×W) and returns the
// features, N × FeatureShape.
func (b *Backbone) Features(e *nn.Exec, x *tensor.Tensor) (*tensor.Tensor, error) {
	var y *tensor.Tensor
	if b.Arch == "pixels" {
		y = x
	} else {
		var err error
		y, err = b.Graph.Forward(e, x, b.Tap)
		if err != nil {
			return nil, err
		}
	}
	if b.Pool == "" || len(y.Shape) != 4 {
		return y, nil
	}
	return globalPool(y, b.Pool == "max"), nil
}

func globalPool(y *tensor.Tensor, isMax bool) *tensor.Tensor {
	n, c, hw := y.Shape[0], y.Shape[1], y.Shape[2]*y.Shape[3]
	out := tensor.New(n, c)
	for i := 0; i < n*c; i++ {
		src := y.Data[i*hw : (i+1)*hw]
		if isMax {
			m := src[0]
			for _, v := range src[1:] {
				m = max(m, v)
			}
			out.Data[i] = m
			continue
		}
		var s float64
		for _, v := range src {
			s += float64(v)
		}
		out.Data[i] = float32(s / float64(hw))
	}
	return out
}

// WithTap returns a copy of b cut at another tap and pooling, sharing the
// weights.
func (b *Backbone) WithTap(tap, pool string) (*Backbone, error) {
	c := *b
	if tap == "" {
		tap = b.Tap
	}
	if err := c.setTap(tap, pool); err != nil {
		return nil, err
	}
	return &c, nil
}
