package bundle

import (
	"context"
	"fmt"
	"math"

	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/tensor"
	"github.com/preconv/preconv/train"
)

// Test-time augmentation modes (eval --tta, predict --tta).
const (
	// TTAFlip averages the head's probabilities over the image and its
	// horizontal flip. predict runs the backbone on both; eval, which
	// reads stored features, flips spatial feature maps ([C,H,W]; the
	// cheap flip, see extract.FlipFeatureMap) and refuses pooled ones,
	// whose flip would pool to the same vector.
	TTAFlip = "flip"
	// TTAViews averages the probabilities over every stored view of each
	// image (eval only; a store extracted with --augment/--views).
	TTAViews = "views"
)

// FeatureDigest is the spec digest with the augmentation left out: a head
// trained on a store with augmented views reads the un-augmented features
// of any store with the same FeatureDigest.
func FeatureDigest(s store.Spec) string {
	s.Augment = nil
	return s.Digest()
}

// TrainSet is the training dataset of tr: a train.ViewSet drawing one view
// per image per epoch with policy (train.ViewUniform, "" or
// train.ViewRoundRobin) when tr holds augmented views, else tr itself.
func TrainSet(tr *store.Store, policy string) (train.Dataset, error) {
	if tr.Views() <= 1 {
		if policy != "" && policy != train.ViewUniform && policy != train.ViewRoundRobin {
			return nil, fmt.Errorf("view policy %q (uniform, round-robin): %w", policy, train.ErrConfig)
		}
		return tr, nil
	}
	return train.NewViewSet(tr, tr.ViewGroups(), policy)
}

// EvaluateTTA scores h on ds averaging probabilities per image: over the
// stored views of each image (TTAViews) or over each feature map and its
// horizontal flip (TTAFlip, spatial features only). Loss is the mean
// negative log of the averaged probability of the true class.
func EvaluateTTA(ctx context.Context, h *head.Head, ds *store.Store, mode string) (*train.Metrics, error) {
	shape := ds.FeatureShape()
	d := tensor.Numel(shape)
	var groups [][]int
	switch mode {
	case TTAViews:
		groups = ds.ViewGroups()
	case TTAFlip:
		if len(shape) != 3 {
			return nil, fmt.Errorf("bundle: --tta flip on stored features needs spatial maps [C,H,W], the store holds %v (pooled: a flipped map pools to the same vector; use predict --tta flip, which runs the backbone on the flipped image): %w", shape, ErrSpecMismatch)
		}
		v0 := ds.View0()
		ds = v0
		for i := 0; i < v0.Len(); i++ {
			groups = append(groups, []int{i})
		}
	default:
		return nil, fmt.Errorf("bundle: TTA mode %q (flip, views): %w", mode, train.ErrConfig)
	}
	classes := ds.Classes()
	c := len(classes)
	m := &train.Metrics{Classes: classes, Confusion: make([][]int, c)}
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, c)
	}
	var loss float64
	avg := make([]float64, c)
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := make([]float32, len(g)*d)
		if err := ds.Read(g, x); err != nil {
			return nil, err
		}
		n := len(g)
		if mode == TTAFlip {
			f := make([]float32, len(x))
			extract.FlipFeatureMap(f, x, shape)
			x, n = append(x, f...), 2
		}
		p := h.Predict(x, n)
		clear(avg)
		for r := 0; r < n; r++ {
			for k := 0; k < c; k++ {
				avg[k] += float64(p[r*c+k]) / float64(n)
			}
		}
		t := ds.Label(g[0])
		if t < 0 || t >= c {
			return nil, fmt.Errorf("bundle: %s: label %d outside %d classes: %w", ds.Record(g[0]).Path, t, c, train.ErrData)
		}
		best := 0
		for k := range avg {
			if avg[k] > avg[best] {
				best = k
			}
		}
		m.Confusion[t][best]++
		loss -= math.Log(math.Max(avg[t], 1e-12))
		m.Items++
	}
	if m.Items == 0 {
		return nil, fmt.Errorf("bundle: nothing to evaluate: %w", train.ErrData)
	}
	m.Loss = loss / float64(m.Items)
	m.Summarize()
	return m, nil
}

// flipTTA averages probs (n rows) with the head's probabilities of the
// horizontally flipped input images x ([n, C, H, W]): predict --tta flip.
func (p *Predictor) flipTTA(e *nn.Exec, x *tensor.Tensor, probs []float32, n int) ([]float32, error) {
	s := x.Shape
	f := tensor.New(s...)
	extractFlip(f.Data, x.Data, s[0]*s[1], s[2], s[3])
	y, err := p.Backbone.Features(e, f)
	if err != nil {
		return nil, err
	}
	if p.Meta.Spec.DType == "f16" {
		roundF16(y)
	}
	q := p.Head.Predict(y.Data, n)
	for i := range probs {
		probs[i] = (probs[i] + q[i]) / 2
	}
	return probs, nil
}

// extractFlip flips planes (rows of w values, h rows each) horizontally.
func extractFlip(dst, src []float32, planes, h, w int) {
	extract.FlipFeatureMap(dst, src, []int{planes, h, w})
}
