package bundle

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/preconv/preconv/internal/buildinfo"
	"github.com/preconv/preconv/report"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/train"
)

// TrainOptions says what to train on and where the bundle goes.
type TrainOptions struct {
	// Store holds the training features; ValidStore optionally the
	// validation features. Without ValidStore, a store with a "valid" split
	// trains on its "train" split (or every non-valid item) and validates on
	// "valid".
	Store, ValidStore string
	// Out is the run directory.
	Out    string
	Config train.Config
	Hooks  []train.Hook
	// ViewPolicy picks one view per image per epoch when the training store
	// holds augmented views (train.ViewUniform, the default, or
	// train.ViewRoundRobin); validation always reads view 0. See views.go.
	ViewPolicy string
	// FeatureFlip mirrors each training item's spatial feature map in about
	// half of the epochs (train.FlipSet): a cheap flip view computed from the
	// stored features instead of the backbone. Spatial (C, H, W) features
	// only; validation is never flipped.
	FeatureFlip bool
	// StoreRef and ValidRef, when set, are recorded in run.json instead of
	// Store and ValidStore: the locations as the user named them (e.g. the
	// s3:// or http:// URL of a store pulled into a local working copy).
	StoreRef, ValidRef string
}

// Splits opens the training and validation datasets as TrainOptions describes.
func Splits(storeDir, validDir string) (tr, va *store.Store, err error) {
	s, err := store.Open(storeDir)
	if err != nil {
		return nil, nil, err
	}
	if validDir != "" {
		v, err := store.Open(validDir)
		if err != nil {
			return nil, nil, err
		}
		if v.Spec().Digest() != s.Spec().Digest() {
			return nil, nil, fmt.Errorf("bundle: %s and %s hold features of different specs: %s", storeDir, validDir, strings.Join(v.Spec().Diff(s.Spec()), "; "))
		}
		return s, v, nil
	}
	counts := s.Provenance().Splits
	if counts["valid"] > 0 {
		tr := s.Split("train")
		if tr.Len() == 0 {
			tr = s.Split("")
		}
		return tr, s.Split("valid"), nil
	}
	return s, nil, nil
}

// Train trains a head on the stores and writes the run bundle with its report.
func Train(ctx context.Context, o TrainOptions) (*Meta, error) {
	tr, va, err := Splits(o.Store, o.ValidStore)
	if err != nil {
		return nil, err
	}
	spec := tr.Spec()
	cfg := o.Config
	cfg.RunDir = o.Out
	prov, _ := json.Marshal(map[string]string{"spec_digest": spec.Digest(), "weights_digest": spec.WeightsDigest})
	cfg.Provenance = prov
	start := time.Now()
	var vds train.Dataset
	if va != nil {
		va = va.View0()
		vds = va
	}
	tds, err := TrainSet(tr, o.ViewPolicy)
	if err != nil {
		return nil, err
	}
	if o.FeatureFlip {
		if tds, err = train.NewFlipSet(tds); err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", o.Store, err)
		}
	}
	if tds != train.Dataset(tr) && cfg.Fold {
		return nil, fmt.Errorf("bundle: --fold computes the frozen layers once and cannot draw a view per epoch from %s: %w", o.Store, train.ErrConfig)
	}
	res, err := train.Run(ctx, cfg, tds, vds, o.Hooks...)
	if err != nil {
		return nil, err
	}
	m := &Meta{Format: 1, Version: buildinfo.Version, Created: time.Now().UTC(), Spec: spec, SpecDigest: spec.Digest(),
		Store: cmp.Or(o.StoreRef, o.Store), ValidStore: cmp.Or(o.ValidRef, o.ValidStore), Classes: res.Classes, Config: cfg, History: res.History,
		Stopped: res.Stopped, Warnings: res.Warnings, TrainSeconds: time.Since(start).Seconds()}
	if va != nil {
		met, err := train.Evaluate(ctx, res.Head, va, &train.EvalOptions{Names: func(i int) string { return va.Record(i).Path }})
		if err != nil {
			return nil, err
		}
		m.Valid = met
	}
	if err := Write(o.Out, m); err != nil {
		return nil, err
	}
	if err := WriteReport(o.Out, m); err != nil {
		return nil, err
	}
	return m, nil
}

// WriteReport renders RUN/report from the bundle's metadata.
func WriteReport(dir string, m *Meta) error {
	settings := map[string]any{"train": m.Config, "features": m.Spec, "spec_digest": m.SpecDigest,
		"store": m.Store, "valid_store": m.ValidStore}
	notes := map[string]string{"stopped": m.Stopped, "train seconds": fmt.Sprintf("%.1f", m.TrainSeconds)}
	return report.Write(filepath.Join(dir, ReportDir), report.Report{
		Title:    fmt.Sprintf("preconv: %s head on %s (%s)", presetName(m.Config), m.Spec.Model, m.Spec.Tap),
		Settings: settings, History: m.History, Metrics: m.Valid, Warnings: m.Warnings, Notes: notes})
}

func presetName(c train.Config) string {
	if c.Head.Preset == "" {
		return "linear"
	}
	return c.Head.Preset
}
