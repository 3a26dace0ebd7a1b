// Package plan predicts, before extracting, what a feature store will cost:
// for a few candidate taps, poolings and dtypes it measures the backbone on a
// small sample of the dataset (time per image, and how well the real features
// compress with the store's codec) and extrapolates to the whole dataset, so
// nobody discovers a 178 GB cache afterwards.
package plan

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/x448/float16"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Candidate is one row of the plan.
type Candidate struct {
	Tap          string  `json:"tap"`
	Pool         string  `json:"pool"`
	DType        string  `json:"dtype"`
	FeatureShape []int   `json:"feature_shape"`
	RawBytes     int64   `json:"raw_bytes"`       // whole dataset, uncompressed float32
	StoreBytes   int64   `json:"predicted_bytes"` // whole dataset, as stored (dtype + zstd), predicted
	Ratio        float64 `json:"compression_ratio"`
	SecPerImage  float64 `json:"seconds_per_image"`
	ExtractSec   float64 `json:"predicted_extract_seconds"`
}

// Plan is the result.
type Plan struct {
	Model      string      `json:"model"`
	Items      int         `json:"items"`
	Sample     int         `json:"sample"`
	Threads    int         `json:"threads"`
	Candidates []Candidate `json:"candidates"`
	// Views and Rows: rows per training image and the store's row count
	// (Items when Views <= 1).
	Views int `json:"views,omitempty"`
	Rows  int `json:"rows"`
}

// Options choose what to measure.
type Options struct {
	Taps    []string // default: the backbone's default tap and the graph output
	Pools   []string // default: "" and "avg"
	DTypes  []string // default: f32, f16
	Sample  int      // images measured (default 8)
	Threads int
	Level   int // zstd level (default 3)
	// Views > 1 plans an augmented extraction (extract --views K): K rows
	// per training image, one per "valid"/"test" image; sizes and times
	// count rows (each view is one backbone pass).
	Views int
}

// Make measures backbone b (its Full graph) on a sample of items.
func Make(ctx context.Context, b *backbone.Backbone, items []imageset.Item, o Options) (*Plan, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("plan: no images")
	}
	if o.Sample <= 0 {
		o.Sample = 8
	}
	if o.Sample > len(items) {
		o.Sample = len(items)
	}
	if len(o.Taps) == 0 {
		o.Taps = []string{b.Tap}
		if out := b.Full.Output; out != "" && out != b.Tap {
			o.Taps = append(o.Taps, out)
		}
	}
	if len(o.Pools) == 0 {
		o.Pools = []string{"", "avg"}
	}
	if len(o.DTypes) == 0 {
		o.DTypes = []string{"f32", "f16"}
	}
	if o.Level <= 0 {
		o.Level = 3
	}
	// An evenly spread sample, in dataset order.
	sample := make([]imageset.Item, o.Sample)
	for i := range sample {
		sample[i] = items[i*len(items)/o.Sample]
	}
	var x *tensor.Tensor
	for bt, err := range imageset.Load(ctx, sample, b.Preprocess, imageset.LoadOptions{Batch: len(sample)}) {
		if err != nil {
			return nil, err
		}
		if len(bt.Index) == 0 {
			return nil, fmt.Errorf("plan: no sample image could be read: %v", bt.Errors)
		}
		x = bt.X
	}
	n := x.Shape[0]
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(o.Level)))
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	p := &Plan{Model: b.Name, Items: len(items), Sample: n, Threads: o.Threads, Views: max(o.Views, 1)}
	for _, it := range items {
		if it.Split == "valid" || it.Split == "test" {
			p.Rows++
		} else {
			p.Rows += p.Views
		}
	}
	e := &nn.Exec{Threads: o.Threads}
	for _, tap := range o.Taps {
		for _, pool := range o.Pools {
			cb, err := b.WithTap(tap, pool)
			if err != nil {
				return nil, err
			}
			start := time.Now()
			y, err := cb.Features(e, x)
			if err != nil {
				return nil, fmt.Errorf("plan: tap %s: %w", tap, err)
			}
			sec := time.Since(start).Seconds() / float64(n)
			per := int64(len(y.Data) / n)
			for _, dt := range o.DTypes {
				raw := encode(y.Data, dt)
				comp := enc.EncodeAll(raw, nil)
				ratio := float64(len(y.Data)*4) / float64(max(1, len(comp)))
				c := Candidate{Tap: tap, Pool: pool, DType: dt, FeatureShape: y.Shape[1:],
					RawBytes: per * 4 * int64(p.Rows), Ratio: ratio, SecPerImage: sec,
					ExtractSec: sec * float64(p.Rows)}
				c.StoreBytes = int64(math.Ceil(float64(c.RawBytes) / ratio))
				p.Candidates = append(p.Candidates, c)
			}
		}
	}
	return p, nil
}

func encode(v []float32, dt string) []byte {
	if dt == "f16" {
		b := make([]byte, 2*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(float16.Fromfloat32(f)))
		}
		return b
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}
