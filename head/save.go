package head

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/safetensors"
	"github.com/preconv/preconv/tensor"
)

// MetaKey is the safetensors metadata key holding the head description
// (JSON of Description).
const MetaKey = "preconv.head"

// Checkpoint file names inside a run directory.
const (
	// CheckpointFile holds trainable parameters, buffers (and optimizer
	// state written by package train).
	CheckpointFile = "checkpoint.safetensors"
	// FrozenFile holds the frozen parameters, written once per run so that
	// per-epoch checkpoints stay small (vgg-classifier's frozen layers are
	// 470 MB).
	FrozenFile = "frozen.safetensors"
)

// Description is what Load needs to rebuild a head.
type Description struct {
	Spec    Spec     `json:"spec"`
	InShape []int    `json:"in_shape"`
	Classes []string `json:"classes"`
}

// Entries returns the head's parameters and buffers as safetensors entries
// (sharing data). frozen selects frozen parameters (true) or the others.
func (h *Head) Entries(frozen bool) []safetensors.Entry {
	var out []safetensors.Entry
	for _, p := range h.Params() {
		if p.Frozen == frozen {
			out = append(out, safetensors.Entry{Name: p.Name, DType: safetensors.F32, Shape: p.Shape, F32: p.Data})
		}
	}
	return out
}

// Metadata returns the safetensors metadata describing h, merged with extra.
func (h *Head) Metadata(classes []string, extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range extra {
		m[k] = v
	}
	d, _ := json.Marshal(Description{Spec: h.Spec, InShape: h.InShape, Classes: classes})
	m[MetaKey] = string(d)
	return m
}

// SaveDir writes h into dir as CheckpointFile (non-frozen parameters and
// buffers) and FrozenFile (frozen parameters, only when there are any), both
// atomically.
func SaveDir(dir string, h *Head, classes []string, extra map[string]string) error {
	meta := h.Metadata(classes, extra)
	if fr := h.Entries(true); len(fr) > 0 {
		if err := safetensors.WriteFile(filepath.Join(dir, FrozenFile), fr, meta); err != nil {
			return err
		}
	}
	return safetensors.WriteFile(filepath.Join(dir, CheckpointFile), h.Entries(false), meta)
}

// Load rebuilds a head from a run directory (CheckpointFile plus FrozenFile
// when present) or from one .safetensors file holding all parameters. It
// returns the head (eval-ready), the class names and the checkpoint's
// metadata.
func Load(path string) (*Head, []string, map[string]string, error) {
	files := []string{path}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		files = []string{filepath.Join(path, CheckpointFile)}
		fr := filepath.Join(path, FrozenFile)
		if _, err := os.Stat(fr); err == nil {
			files = append(files, fr)
		}
	}
	var fs []*safetensors.File
	for _, f := range files {
		sf, err := safetensors.ReadFile(f)
		if err != nil {
			return nil, nil, nil, err
		}
		fs = append(fs, sf)
	}
	meta := fs[0].Metadata
	var d Description
	if err := json.Unmarshal([]byte(meta[MetaKey]), &d); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: metadata %q: %v: %w", files[0], MetaKey, err, ErrCheckpoint)
	}
	if _, err := tensor.CheckedNumel(d.InShape, 1<<28); err != nil || len(d.InShape) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: input shape %v: %w", files[0], d.InShape, ErrCheckpoint)
	}
	// Allocation bound: the head's parameters must be present in the
	// files, so do not build a head larger than what they hold.
	var have int64
	for _, sf := range fs {
		for _, e := range sf.Entries {
			have += int64(len(e.F32))
		}
	}
	if need := paramCount(d.Spec, tensor.Numel(d.InShape), len(d.Classes)); need > have {
		return nil, nil, nil, fmt.Errorf("%s: head %q needs %d parameter values, the files hold %d: %w", path, d.Spec.Preset, need, have, ErrCheckpoint)
	}
	h, err := newHead(d.Spec, d.InShape, len(d.Classes), 0, nil, false)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w: %w", files[0], ErrCheckpoint, err)
	}
	for _, p := range h.Params() {
		var t *tensor.Tensor
		for _, sf := range fs {
			if tt, err := sf.Tensor(p.Name); err == nil {
				t = tt
				break
			} else if !errors.Is(err, safetensors.ErrNotFound) {
				return nil, nil, nil, fmt.Errorf("%s: %w: %w", files[0], ErrCheckpoint, err)
			}
		}
		if t == nil {
			return nil, nil, nil, fmt.Errorf("%s: no tensor %q (files %s): %w", path, p.Name, strings.Join(files, ", "), ErrCheckpoint)
		}
		if !tensor.SameShape(t.Shape, p.Shape) {
			return nil, nil, nil, fmt.Errorf("%s: tensor %q has shape %v, want %v: %w", path, p.Name, t.Shape, p.Shape, ErrCheckpoint)
		}
		copy(p.Data, t.Data)
	}
	return h, d.Classes, meta, nil
}

// paramCount is the number of parameter and buffer values New would
// allocate (a lower bound for unknown presets, which New rejects).
func paramCount(s Spec, in, classes int) int64 {
	const limit = int64(1) << 40 // saturate: far above any loadable head, far below overflow
	sat := func(v int64) int64 { return min(v, limit) }
	lin := func(i, o int) int64 {
		if i <= 0 || o <= 0 || int64(i) > limit || int64(o) > limit {
			return limit // invalid or absurd sizes: never allocate for them
		}
		return sat(int64(i)*int64(o) + int64(o))
	}
	var n int64
	if s.Standardize {
		n = sat(2 * int64(max(in, 0)))
	}
	switch s.Preset {
	case "mlp":
		hidden := s.Hidden
		if len(hidden) == 0 {
			hidden = []int{256}
		}
		d := in
		for _, h := range hidden {
			n = sat(n + lin(d, h))
			if s.BatchNorm {
				n = sat(n + 4*int64(max(h, 0)))
			}
			d = h
		}
		return sat(n + lin(d, classes))
	case "vgg-classifier":
		return sat(n + lin(25088, 4096) + lin(4096, 4096) + lin(4096, classes))
	}
	return sat(n + lin(in, classes))
}
