package train

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/preconv/preconv/head"
)

// Metrics is the evaluation of a head on a dataset.
type Metrics struct {
	Items    int     `json:"items"`
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
	// PerClass in class order.
	PerClass []ClassMetrics `json:"per_class"`
	// Confusion[t][p] counts items of true class t predicted as p.
	Confusion [][]int  `json:"confusion"`
	Classes   []string `json:"classes"`
	// Misclassified holds the worst wrong predictions (highest predicted
	// probability first), at most EvalOptions.TopK.
	Misclassified []Miss `json:"misclassified,omitempty"`
	// Probs is Items×len(Classes) softmax probabilities in dataset order
	// (only with EvalOptions.KeepProbs).
	Probs []float32 `json:"-"`
	// Skipped lists items left out because of NaN/Inf features.
	Skipped []int `json:"skipped,omitempty"`
}

// Summarize derives Accuracy and PerClass (precision, recall, F1, support)
// from Confusion, Classes and Items.
func (m *Metrics) Summarize() {
	c := len(m.Confusion)
	correct := 0
	m.PerClass = m.PerClass[:0]
	for k := 0; k < c; k++ {
		correct += m.Confusion[k][k]
		var predK, trueK int
		for j := 0; j < c; j++ {
			predK += m.Confusion[j][k]
			trueK += m.Confusion[k][j]
		}
		cm := ClassMetrics{Class: m.Classes[k], Support: trueK}
		if predK > 0 {
			cm.Precision = float64(m.Confusion[k][k]) / float64(predK)
		}
		if trueK > 0 {
			cm.Recall = float64(m.Confusion[k][k]) / float64(trueK)
		}
		if cm.Precision+cm.Recall > 0 {
			cm.F1 = 2 * cm.Precision * cm.Recall / (cm.Precision + cm.Recall)
		}
		m.PerClass = append(m.PerClass, cm)
	}
	if m.Items > 0 {
		m.Accuracy = float64(correct) / float64(m.Items)
	}
}

// ClassMetrics are one class's precision, recall and F1 (0 when undefined).
type ClassMetrics struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Miss is one misclassified item.
type Miss struct {
	Index    int     `json:"index"`
	Name     string  `json:"name,omitempty"`
	True     string  `json:"true"`
	Pred     string  `json:"pred"`
	ProbPred float64 `json:"prob_pred"`
	ProbTrue float64 `json:"prob_true"`
}

// EvalOptions tunes Evaluate; the zero value is usable.
type EvalOptions struct {
	BatchSize int // default 256
	TopK      int // misclassified items kept (default 20; negative: none)
	// Names maps an item index to a display name (e.g. its image path).
	Names     func(i int) string
	KeepProbs bool
	// Loss settings (label smoothing, class weights) for the reported loss.
	Loss         head.Loss
	SkipBadItems bool
}

// Evaluate runs h in eval mode over ds and computes the metrics. The
// dataset's class list must have h.Classes entries.
func Evaluate(ctx context.Context, h *head.Head, ds Dataset, opt *EvalOptions) (*Metrics, error) {
	if opt == nil {
		opt = &EvalOptions{}
	}
	classes := ds.Classes()
	c := len(classes)
	if c != h.Classes {
		return nil, fmt.Errorf("dataset has %d classes, head %d: %w", c, h.Classes, ErrData)
	}
	if ds.Len() == 0 {
		return nil, fmt.Errorf("evaluation set is empty: %w", ErrData)
	}
	bs := opt.BatchSize
	if bs <= 0 {
		bs = 256
	}
	topK := opt.TopK
	if topK == 0 {
		topK = 20
	}
	m := &Metrics{Classes: classes, Confusion: make([][]int, c)}
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, c)
	}
	if opt.KeepProbs {
		m.Probs = make([]float32, ds.Len()*c)
	}
	order := make([]int, ds.Len())
	for i := range order {
		order[i] = i
	}
	r := newBatchReader(ctx, ds, order, bs, opt.SkipBadItems)
	defer r.close()
	var probs []float32
	var lossSum float64
	var misses []Miss
	for {
		b, ok := r.next()
		if !ok {
			break
		}
		if b.err != nil {
			return nil, b.err
		}
		n := len(b.idx)
		logits := h.Forward(&head.Exec{Threads: h.Threads}, b.x, n)
		probs = grow(probs, n*c)
		lossSum += opt.Loss.Forward(logits, b.labels, c, probs, nil) * float64(n)
		for k, i := range b.idx {
			row := probs[k*c : (k+1)*c]
			p, t := argmax(row), b.labels[k]
			m.Confusion[t][p]++
			if opt.KeepProbs {
				copy(m.Probs[i*c:(i+1)*c], row)
			}
			if p != t {
				ms := Miss{Index: i, True: classes[t], Pred: classes[p], ProbPred: float64(row[p]), ProbTrue: float64(row[t])}
				misses = append(misses, ms)
			}
		}
		m.Items += n
		r.release(b)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	r.close()
	m.Skipped = r.skipped
	if m.Items == 0 {
		return nil, fmt.Errorf("no evaluable items (all %d skipped): %w", len(r.skipped), ErrData)
	}
	m.Loss = lossSum / float64(m.Items)
	m.Summarize()
	sort.SliceStable(misses, func(a, b int) bool { return misses[a].ProbPred > misses[b].ProbPred })
	if topK > 0 && len(misses) > topK {
		misses = misses[:topK]
	}
	if topK < 0 {
		misses = nil
	}
	for i := range misses {
		if opt.Names != nil {
			misses[i].Name = opt.Names(misses[i].Index)
		}
	}
	m.Misclassified = misses
	if math.IsNaN(m.Loss) {
		return m, fmt.Errorf("evaluation loss is NaN: %w", ErrData)
	}
	return m, nil
}
