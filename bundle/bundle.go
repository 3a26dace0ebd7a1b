// Package bundle reads and writes a run bundle: the directory `preconv train`
// produces and `preconv eval`/`predict` consume.
//
//	RUN/run.json                  Meta: backbone spec, store, classes, config, metrics
//	RUN/checkpoint.safetensors    the head's weights (+ optimizer state while training)
//	RUN/checkpoint.json           the trainer's checkpoint metadata (resume)
//	RUN/frozen.safetensors        frozen head layers, when any
//	RUN/report/index.html         the HTML report with plots
//
// predict needs nothing else but the backbone weights file: run.json records
// their digest, tap, pooling and preprocessing.
package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/train"
)

// MetaFile is the bundle's description file.
const MetaFile = "run.json"

// ReportDir is the report's subdirectory.
const ReportDir = "report"

// ErrNotRun means a directory is not a run bundle.
var ErrNotRun = errors.New("bundle: not a run directory")

// Meta describes a trained head and where its inputs came from.
type Meta struct {
	Format  int       `json:"format"`
	Version string    `json:"preconv_version"`
	Created time.Time `json:"created"`
	// Spec is the extraction spec of the features the head was trained on:
	// backbone name and weights digest, tap, pooling, preprocessing, shape.
	Spec       store.Spec `json:"spec"`
	SpecDigest string     `json:"spec_digest"`
	// Store is the training store's path when trained (informational).
	Store      string   `json:"store"`
	ValidStore string   `json:"valid_store,omitempty"`
	Classes    []string `json:"classes"`
	// Config is the training configuration.
	Config  train.Config         `json:"config"`
	History []train.EpochMetrics `json:"history"`
	// Valid is the final evaluation on the validation split (if any).
	Valid    *train.Metrics `json:"valid,omitempty"`
	Stopped  string         `json:"stopped"`
	Warnings []string       `json:"warnings,omitempty"`
	// TrainSeconds is the wall time of training (excluding extraction).
	TrainSeconds float64 `json:"train_seconds"`
}

// Write stores m as dir/run.json atomically.
func Write(dir string, m *Meta) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	tmp := filepath.Join(dir, "."+MetaFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, MetaFile)); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// Read loads dir/run.json.
func Read(dir string) (*Meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s (train one with 'preconv train --out %s')", ErrNotRun, dir, MetaFile, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotRun, filepath.Join(dir, MetaFile), err)
	}
	return &m, nil
}
