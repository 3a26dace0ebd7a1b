package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/x448/float16"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/tensor"
	"github.com/preconv/preconv/train"
)

// ErrSpecMismatch means features or a backbone do not match what the head
// was trained on.
var ErrSpecMismatch = errors.New("bundle: features do not match the run")

// Evaluate scores the run's head on a store (split "" = every item; "valid",
// "train" = that split).
func Evaluate(ctx context.Context, runDir, storeDir, split string, opt *train.EvalOptions) (*Meta, *train.Metrics, error) {
	return EvaluateTTAMode(ctx, runDir, storeDir, split, "", opt)
}

// EvaluateTTAMode is Evaluate with test-time augmentation tta (TTAFlip,
// TTAViews; "" none, which scores view 0 of each image).
func EvaluateTTAMode(ctx context.Context, runDir, storeDir, split, tta string, opt *train.EvalOptions) (*Meta, *train.Metrics, error) {
	m, err := Read(runDir)
	if err != nil {
		return nil, nil, err
	}
	h, classes, _, err := head.Load(runDir)
	if err != nil {
		return nil, nil, err
	}
	s, err := store.Open(storeDir)
	if err != nil {
		return nil, nil, err
	}
	if d := s.Spec().Digest(); d != m.SpecDigest && FeatureDigest(s.Spec()) != FeatureDigest(m.Spec) {
		return nil, nil, fmt.Errorf("%w: %s was extracted with a different spec than run %s: %s", ErrSpecMismatch, storeDir, runDir, strings.Join(s.Spec().Diff(m.Spec), "; "))
	}
	if strings.Join(s.Classes(), "\x00") != strings.Join(classes, "\x00") {
		return nil, nil, fmt.Errorf("%w: %s has classes %v, the run was trained on %v", ErrSpecMismatch, storeDir, s.Classes(), classes)
	}
	ds := s
	if split != "" {
		ds = s.Split(split)
	}
	if tta != "" {
		met, err := EvaluateTTA(ctx, h, ds, tta)
		return m, met, err
	}
	ds = ds.View0() // augmented views are for training; score each image once
	if ds.Len() == 0 {
		return nil, nil, fmt.Errorf("bundle: %s has no items in split %q", storeDir, split)
	}
	if opt == nil {
		opt = &train.EvalOptions{}
	}
	if opt.Names == nil {
		opt.Names = func(i int) string { return ds.Record(i).Path }
	}
	met, err := train.Evaluate(ctx, h, ds, opt)
	return m, met, err
}

// ClassProb is one class of a prediction.
type ClassProb struct {
	Class string  `json:"class"`
	Prob  float64 `json:"prob"`
}

// Prediction is the result for one image.
type Prediction struct {
	Path  string      `json:"path"`
	Top   []ClassProb `json:"top,omitempty"`
	Error string      `json:"error,omitempty"`
}

// Predictor runs backbone + head on new images.
type Predictor struct {
	Meta     *Meta
	Backbone *backbone.Backbone
	Head     *head.Head
	Classes  []string
	Pre      imageset.Preprocess
	// Notes are caveats found while loading the run, for the user.
	Notes   []string
	Threads int
	// TTA "flip" averages each image's probabilities with those of its
	// horizontal flip (a second backbone pass); "" none.
	TTA string
}

// NewPredictor loads the run and its backbone. modelRef overrides the
// backbone reference recorded in the run (needed when the backbone was a
// file); its weights must have the digest the head was trained with.
func NewPredictor(ctx context.Context, runDir, modelRef string, opts backbone.Options) (*Predictor, error) {
	m, err := Read(runDir)
	if err != nil {
		return nil, err
	}
	h, classes, _, err := head.Load(runDir)
	if err != nil {
		return nil, err
	}
	if modelRef == "" {
		modelRef = m.Spec.Model
	}
	opts.Tap, opts.Pool = m.Spec.Tap, m.Spec.Pool
	if opts.Arch == "" && m.Spec.Arch != "onnx" {
		opts.Arch = m.Spec.Arch
	}
	b, err := backbone.Open(ctx, modelRef, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (the run was trained on features of %q, weights sha256 %.12s…: pass that file with --model)", err, m.Spec.Model, m.Spec.WeightsDigest)
	}
	if b.WeightsDigest != m.Spec.WeightsDigest {
		return nil, fmt.Errorf("%w: backbone %s has weights sha256 %.12s…, the head was trained on features of %.12s…", ErrSpecMismatch, modelRef, b.WeightsDigest, m.Spec.WeightsDigest)
	}
	var pre imageset.Preprocess
	if err := json.Unmarshal(m.Spec.Preprocess, &pre); err != nil {
		return nil, fmt.Errorf("bundle: %s: preprocess spec: %w", runDir, err)
	}
	var notes []string
	if up, old := pre.UpgradeVersion(); old {
		notes = append(notes, fmt.Sprintf("the head was trained on features of pixel version %d; this build decodes with version %d (JPEG pixels within a few levels of the old ones)", pre.Version, up.Version))
		pre = up
	}
	if err := pre.Validate(); err != nil {
		return nil, fmt.Errorf("bundle: %s: preprocess spec: %w", runDir, err)
	}
	b.Preprocess = pre
	return &Predictor{Meta: m, Backbone: b, Head: h, Classes: classes, Pre: pre, Notes: notes}, nil
}

// Predict classifies the images, returning the topK classes of each; a bad
// image gets an Error and the others go on.
func (p *Predictor) Predict(ctx context.Context, paths []string, topK int) ([]Prediction, error) {
	items := make([]imageset.Item, len(paths))
	for i, path := range paths {
		items[i] = imageset.Item{Path: path, Rel: path}
	}
	out := make([]Prediction, len(paths))
	byPath := make(map[string][]int, len(paths))
	for i := range out {
		out[i].Path = paths[i]
		byPath[paths[i]] = append(byPath[paths[i]], i)
	}
	e := &nn.Exec{Threads: p.Threads}
	for bt, err := range imageset.Load(ctx, items, p.Pre, imageset.LoadOptions{Batch: 8}) {
		if err != nil {
			return out, err
		}
		for _, ie := range bt.Errors {
			for _, i := range byPath[ie.Path] {
				out[i].Error = ie.Err.Error()
			}
		}
		if len(bt.Index) == 0 {
			continue
		}
		y, err := p.Backbone.Features(e, bt.X)
		if err != nil {
			return out, err
		}
		if p.Meta.Spec.DType == "f16" {
			roundF16(y)
		}
		probs := p.Head.Predict(y.Data, len(bt.Index))
		if p.TTA == TTAFlip {
			if probs, err = p.flipTTA(e, bt.X, probs, len(bt.Index)); err != nil {
				return out, err
			}
		}
		k := len(p.Classes)
		for j, idx := range bt.Index {
			out[idx].Top = topClasses(probs[j*k:(j+1)*k], p.Classes, topK)
		}
	}
	return out, nil
}

// roundF16 makes features what the store would have kept.
func roundF16(t *tensor.Tensor) {
	for i, v := range t.Data {
		t.Data[i] = float16.Fromfloat32(v).Float32()
	}
}

func topClasses(p []float32, classes []string, k int) []ClassProb {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	if k <= 0 || k > len(idx) {
		k = len(idx)
	}
	out := make([]ClassProb, k)
	for i := 0; i < k; i++ {
		out[i] = ClassProb{Class: classes[idx[i]], Prob: float64(p[idx[i]])}
	}
	return out
}
