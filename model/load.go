package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/preconv/preconv/tensor"
)

// LoadStateDict copies the tensors of sd (PyTorch state-dict names, e.g.
// "features.0.weight") into the graph's parameters, in place. A tensor whose
// shape differs from the parameter's is an error wrapping ErrShape naming
// the tensor and both shapes. With strict, a parameter without a tensor
// (ErrMissingTensor) or a tensor without a parameter (ErrUnexpectedTensor)
// is an error too; "num_batches_tracked" entries of batch-norm layers are
// always ignored. All problems are reported together (errors.Join, sorted
// by name); on error no parameter has been modified.
func (g *Graph) LoadStateDict(sd map[string]*tensor.Tensor, strict bool) error {
	var errs []error
	used := map[string]bool{}
	type copyOp struct{ dst, src *tensor.Tensor }
	var copies []copyOp
	bnPrefixes := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Op.Type() == "BatchNorm2d" {
			bnPrefixes[n.Name] = true
		}
	}
	for _, p := range g.Params() {
		src, ok := sd[p.Name]
		if !ok {
			if strict {
				errs = append(errs, fmt.Errorf("%s: tensor %q missing (want shape %v): %w", g.Name, p.Name, p.Tensor.Shape, ErrMissingTensor))
			}
			continue
		}
		used[p.Name] = true
		if src == nil || !tensor.SameShape(src.Shape, p.Tensor.Shape) || len(src.Data) != len(p.Tensor.Data) {
			var s []int
			if src != nil {
				s = src.Shape
			}
			errs = append(errs, fmt.Errorf("%s: tensor %q has shape %v, model wants %v: %w", g.Name, p.Name, s, p.Tensor.Shape, ErrShape))
			continue
		}
		copies = append(copies, copyOp{p.Tensor, src})
	}
	if strict {
		for name, t := range sd {
			if used[name] {
				continue
			}
			if i := strings.LastIndex(name, "."); i > 0 && name[i+1:] == "num_batches_tracked" && bnPrefixes[name[:i]] {
				continue
			}
			var s []int
			if t != nil {
				s = t.Shape
			}
			errs = append(errs, fmt.Errorf("%s: unexpected tensor %q (shape %v): %w", g.Name, name, s, ErrUnexpectedTensor))
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		if len(errs) > 20 {
			errs = append(errs[:20], fmt.Errorf("… and %d more", len(errs)-20))
		}
		return errors.Join(errs...)
	}
	for _, c := range copies {
		copy(c.dst.Data, c.src.Data)
	}
	return nil
}
