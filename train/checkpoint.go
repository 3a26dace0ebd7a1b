package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/safetensors"
)

// CheckpointJSON is the name of the human-readable checkpoint description
// in a run directory (a copy of the state stored in the safetensors
// metadata, which is authoritative).
const CheckpointJSON = "checkpoint.json"

const trainMetaKey = "preconv.train"

// Checkpoint is the training state saved after every epoch.
type Checkpoint struct {
	Provenance json.RawMessage `json:"provenance,omitempty"`
	Classes    []string        `json:"classes"`
	Config     Config          `json:"config"`
	// Epoch is the number of completed epochs.
	Epoch     int            `json:"epoch"`
	Step      int64          `json:"step"`
	OptSteps  int64          `json:"optimizer_steps"`
	History   []EpochMetrics `json:"history"`
	BestEpoch int            `json:"best_epoch"`
	BestValue float64        `json:"best_value"`
	Folded    bool           `json:"folded,omitempty"`
}

func writeCheckpoint(dir string, h *head.Head, opt Optimizer, cp *Checkpoint, writeFrozen bool) error {
	js, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	meta := h.Metadata(cp.Classes, map[string]string{trainMetaKey: string(js)})
	if writeFrozen {
		if fr := h.Entries(true); len(fr) > 0 {
			if err := safetensors.WriteFile(filepath.Join(dir, head.FrozenFile), fr, meta); err != nil {
				return err
			}
		}
	}
	ents := h.Entries(false)
	state, _ := opt.State()
	for _, p := range h.Trainable() {
		for _, suf := range []string{".momentum_buffer", ".exp_avg", ".exp_avg_sq"} {
			if v, ok := state[p.Name+suf]; ok {
				ents = append(ents, safetensors.Entry{Name: "optim." + p.Name + suf, DType: safetensors.F32, Shape: []int{len(v)}, F32: v})
			}
		}
	}
	if err := safetensors.WriteFile(filepath.Join(dir, head.CheckpointFile), ents, meta); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+CheckpointJSON+".tmp")
	if err := os.WriteFile(tmp, append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, CheckpointJSON))
}

// readCheckpoint loads dir's checkpoint into h and opt and returns its
// state; (nil, nil) when dir has none.
func readCheckpoint(dir string, h *head.Head, opt Optimizer, provenance json.RawMessage, classes []string) (*Checkpoint, error) {
	path := filepath.Join(dir, head.CheckpointFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	var cp Checkpoint
	if err := json.Unmarshal([]byte(f.Metadata[trainMetaKey]), &cp); err != nil {
		return nil, fmt.Errorf("%s: metadata %q: %v: %w", path, trainMetaKey, err, ErrCheckpoint)
	}
	if !sameJSON(cp.Provenance, provenance) {
		return nil, fmt.Errorf("%s: checkpoint provenance %s, this run's store %s: %w", path, short(cp.Provenance), short(provenance), ErrProvenance)
	}
	if strings.Join(cp.Classes, "\x00") != strings.Join(classes, "\x00") {
		return nil, fmt.Errorf("%s: checkpoint classes %v, dataset classes %v: %w", path, cp.Classes, classes, ErrProvenance)
	}
	var d head.Description
	if err := json.Unmarshal([]byte(f.Metadata[head.MetaKey]), &d); err != nil {
		return nil, fmt.Errorf("%s: metadata %q: %v: %w", path, head.MetaKey, err, ErrCheckpoint)
	}
	a, _ := json.Marshal(d.Spec)
	b, _ := json.Marshal(h.Spec)
	if !bytes.Equal(a, b) {
		return nil, fmt.Errorf("%s: checkpoint head %s, configured head %s: %w", path, a, b, ErrCheckpoint)
	}
	for _, p := range h.Params() {
		if p.Frozen {
			continue
		}
		t, err := f.Tensor(p.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, ErrCheckpoint, err)
		}
		if len(t.Data) != len(p.Data) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, want %v: %w", path, p.Name, t.Shape, p.Shape, ErrCheckpoint)
		}
		copy(p.Data, t.Data)
	}
	state := map[string][]float32{}
	for _, e := range f.Entries {
		if k, ok := strings.CutPrefix(e.Name, "optim."); ok && e.F32 != nil {
			state[k] = e.F32
		}
	}
	if err := opt.SetState(state, cp.OptSteps); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &cp, nil
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if len(bytes.TrimSpace(a)) == 0 {
		a = []byte("null")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("null")
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

func short(b json.RawMessage) string {
	s := string(b)
	if s == "" {
		s = "null"
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
