package model

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/model/torch"
	"github.com/preconv/preconv/safetensors"
	"github.com/preconv/preconv/tensor"
)

// LoadWeightsFile reads a state dict by file type: ".safetensors" through
// package safetensors (integer tensors converted to float32), anything else
// (".pth", ".pt", ".bin") as a torch.save file through package model/torch
// with its default limits. Feed the result to LoadStateDict.
func LoadWeightsFile(path string) (map[string]*tensor.Tensor, error) {
	if strings.EqualFold(filepath.Ext(path), ".safetensors") {
		f, err := safetensors.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sd := make(map[string]*tensor.Tensor, len(f.Entries))
		for _, e := range f.Entries {
			if e.DType.IsFloat() {
				sd[e.Name] = tensor.FromData(e.F32, e.Shape...)
				continue
			}
			v := make([]float32, len(e.I64))
			for i, x := range e.I64 {
				v[i] = float32(x)
			}
			if len(v) != tensor.Numel(e.Shape) {
				return nil, fmt.Errorf("%s: tensor %q: %d values for shape %v: %w", path, e.Name, len(v), e.Shape, ErrShape)
			}
			sd[e.Name] = tensor.FromData(v, e.Shape...)
		}
		return sd, nil
	}
	return torch.Load(path)
}
