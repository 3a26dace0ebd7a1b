package model

import (
	"fmt"
	"strings"

	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Resolve maps a tap name to a node name (or the graph input), following
// Aliases (chains allowed). It wraps ErrTap for an unknown name.
func (g *Graph) Resolve(tap string) (string, error) {
	name := tap
	for i := 0; i <= len(g.Aliases); i++ {
		if g.index(name) >= 0 || name == g.Input {
			return name, nil
		}
		next, ok := g.Aliases[name]
		if !ok {
			break
		}
		name = next
	}
	return "", fmt.Errorf("%s: tap %q (known: %s): %w", g.Name, tap, g.tapHint(), ErrTap)
}

func (g *Graph) tapHint() string {
	var names []string
	for a := range g.Aliases {
		names = append(names, a)
	}
	if n := len(g.Nodes); n > 0 {
		names = append(names, g.Nodes[0].Name+" … "+g.Nodes[n-1].Name)
	}
	return strings.Join(names, ", ")
}

// index returns the position of the node called name, or -1.
func (g *Graph) index(name string) int {
	for i, n := range g.Nodes {
		if n.Name == name {
			return i
		}
	}
	return -1
}

// Validate checks the graph's structure: node names unique and non-empty,
// every input defined earlier (or the graph input), aliases and Output
// resolvable. If InputShape is set it also propagates shapes (batch 1)
// through OutShape, and an error names the node and the shapes.
func (g *Graph) Validate() error {
	seen := map[string]bool{g.Input: true}
	if g.Input == "" {
		return fmt.Errorf("%s: empty input name: %w", g.Name, ErrGraph)
	}
	for i, n := range g.Nodes {
		if n.Name == "" || seen[n.Name] {
			return fmt.Errorf("%s: node %d: duplicate or empty name %q: %w", g.Name, i, n.Name, ErrGraph)
		}
		if n.Op == nil {
			return fmt.Errorf("%s: node %q has no op: %w", g.Name, n.Name, ErrGraph)
		}
		if len(n.Inputs) == 0 {
			return fmt.Errorf("%s: node %q has no inputs: %w", g.Name, n.Name, ErrGraph)
		}
		for _, in := range n.Inputs {
			if !seen[in] {
				return fmt.Errorf("%s: node %q: input %q is not defined before it: %w", g.Name, n.Name, in, ErrGraph)
			}
		}
		seen[n.Name] = true
	}
	for a := range g.Aliases {
		if _, err := g.Resolve(a); err != nil {
			return fmt.Errorf("%s: alias %q → %q: %w", g.Name, a, g.Aliases[a], ErrGraph)
		}
	}
	if g.Output != "" {
		if _, err := g.Resolve(g.Output); err != nil {
			return fmt.Errorf("%s: output %q: %w", g.Name, g.Output, ErrGraph)
		}
	}
	if len(g.InputShape) > 0 {
		if _, err := g.shapes(append([]int{1}, g.InputShape...), len(g.Nodes)-1); err != nil {
			return err
		}
	}
	return nil
}

// shapes propagates the full input shape through nodes 0..last and returns
// every value's shape by name.
func (g *Graph) shapes(in []int, last int) (map[string][]int, error) {
	s := map[string][]int{g.Input: in}
	for _, n := range g.Nodes[:last+1] {
		ins := make([][]int, len(n.Inputs))
		for j, name := range n.Inputs {
			v, ok := s[name]
			if !ok {
				return nil, fmt.Errorf("%s: node %q: input %q not defined before it: %w", g.Name, n.Name, name, ErrGraph)
			}
			ins[j] = v
		}
		out, err := n.Op.OutShape(ins...)
		if err != nil {
			return nil, fmt.Errorf("%s: node %q (%s) on input shapes %v: %w", g.Name, n.Name, n.Op.Type(), ins, err)
		}
		s[n.Name] = out
	}
	return s, nil
}

// Run computes the graph on the batch x (N × InputShape) up to the last
// node any tap needs, and returns the tapped tensors by the names asked for
// (aliases included). With no taps it returns the Output node (under the
// name g.Output). Intermediate values are dropped as soon as no later node
// needs them, so peak memory stays near the two or three largest
// activations. The returned tensors are owned by the caller; a tap of the
// graph input returns x itself.
func (g *Graph) Run(e *nn.Exec, x *tensor.Tensor, taps ...string) (map[string]*tensor.Tensor, error) {
	if len(taps) == 0 {
		if g.Output == "" {
			return nil, fmt.Errorf("%s: no taps and no Output: %w", g.Name, ErrTap)
		}
		taps = []string{g.Output}
	}
	want := map[string]bool{} // node names to keep
	resolved := make([]string, len(taps))
	last := -1
	for i, t := range taps {
		r, err := g.Resolve(t)
		if err != nil {
			return nil, err
		}
		resolved[i] = r
		want[r] = true
		last = max(last, g.index(r))
	}
	// lastUse[name] = index of the last node (<= last) reading it.
	lastUse := map[string]int{}
	for i, n := range g.Nodes[:last+1] {
		for _, in := range n.Inputs {
			lastUse[in] = i
		}
	}
	if e == nil {
		e = &nn.Exec{}
	}
	if e.Arena == nil {
		ec := *e
		ec.Arena = g.Arena()
		e = &ec
	}
	vals := map[string]*tensor.Tensor{g.Input: x}
	// drop forgets a value no later node needs and recycles its buffer when
	// no live value shares it (ops may return views of their inputs).
	drop := func(name string) {
		v := vals[name]
		delete(vals, name)
		if v == nil || v == x || len(v.Data) == 0 {
			return
		}
		k := &v.Data[:cap(v.Data)][cap(v.Data)-1]
		for _, o := range vals {
			if len(o.Data) > 0 && &o.Data[:cap(o.Data)][cap(o.Data)-1] == k {
				return
			}
		}
		e.Arena.Release(v)
	}
	for i, n := range g.Nodes[:last+1] {
		ins := make([]*tensor.Tensor, len(n.Inputs))
		for j, name := range n.Inputs {
			v, ok := vals[name]
			if !ok {
				return nil, fmt.Errorf("%s: node %q: input %q is not defined before it: %w", g.Name, n.Name, name, ErrGraph)
			}
			ins[j] = v
		}
		out, err := n.Op.Forward(e, ins...)
		if err != nil {
			return nil, fmt.Errorf("%s: node %q (%s): %w", g.Name, n.Name, n.Op.Type(), err)
		}
		vals[n.Name] = out
		for _, name := range n.Inputs {
			if lastUse[name] == i && !want[name] {
				drop(name)
			}
		}
		if _, used := lastUse[n.Name]; !used && !want[n.Name] {
			drop(n.Name)
		}
	}
	res := make(map[string]*tensor.Tensor, len(taps))
	for i, t := range taps {
		res[t] = vals[resolved[i]]
		e.Arena.Disown(res[t]) // the caller's now
	}
	return res, nil
}

// Forward runs the graph up to tap (or Output when tap is "") and returns
// that tensor.
func (g *Graph) Forward(e *nn.Exec, x *tensor.Tensor, tap string) (*tensor.Tensor, error) {
	if tap == "" {
		tap = g.Output
	}
	m, err := g.Run(e, x, tap)
	if err != nil {
		return nil, err
	}
	return m[tap], nil
}

// Truncate returns a graph sharing g's ops that ends at tap: nodes after
// it are dropped, Output becomes tap's node, and aliases to dropped nodes
// are removed.
func (g *Graph) Truncate(tap string) (*Graph, error) {
	r, err := g.Resolve(tap)
	if err != nil {
		return nil, err
	}
	last := g.index(r)
	t := &Graph{Name: g.Name, Input: g.Input, InputShape: append([]int(nil), g.InputShape...),
		Nodes: append([]*Node(nil), g.Nodes[:last+1]...), Output: r, Aliases: map[string]string{}}
	for a, target := range g.Aliases {
		if rt, err := g.Resolve(target); err == nil && (rt == g.Input || g.index(rt) <= last) {
			t.Aliases[a] = target
		}
	}
	return t, nil
}
