package model_test

import (
	"errors"
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

func smallGraph() *model.Graph {
	conv := nn.NewConv2d(3, 4, 3, 1, 1, true)
	g := &model.Graph{Name: "small", Input: "x", InputShape: []int{3, 6, 6}, Nodes: []*model.Node{
		{Name: "conv", Op: conv, Inputs: []string{"x"}},
		{Name: "bn", Op: nn.NewBatchNorm2d(4), Inputs: []string{"conv"}},
		{Name: "act", Op: nn.NewReLU6(), Inputs: []string{"bn"}},
		{Name: "drop", Op: &nn.Dropout{P: 0.2}, Inputs: []string{"act"}},
		{Name: "flat", Op: &nn.Flatten{StartDim: 1}, Inputs: []string{"drop"}},
		{Name: "fc", Op: nn.NewLinear(144, 5, true), Inputs: []string{"flat"}},
		{Name: "fc_relu", Op: &nn.ReLU{}, Inputs: []string{"fc"}},
	}, Output: "fc_relu", Aliases: map[string]string{"block": "act"}}
	g.InitRandom(3)
	return g
}

// TestFuseMatchesUnfused: the fused graph (conv+bn+relu6, linear+relu,
// dropout removed, Winograd attached) must match the unfused graph, whose
// ops are each checked against torch in package nn.
func TestFuseMatchesUnfused(t *testing.T) {
	g := smallGraph()
	x := tensor.New(2, 3, 6, 6)
	for i := range x.Data {
		x.Data[i] = float32(i%13)/3 - 2
	}
	e := &nn.Exec{Threads: 2}
	want, err := g.Run(e, x, "block", "fc_relu", "drop")
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.Fuse()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Nodes) != 3 { // conv(+bn+relu6), flat, fc(+relu)
		for _, n := range f.Nodes {
			t.Logf("%s %s", n.Name, n.Op.Type())
		}
		t.Fatalf("fused graph has %d nodes, want 3", len(f.Nodes))
	}
	got, err := f.Run(e, x, "block", "fc_relu", "drop")
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if e := tensor.MaxRelErr(got[k].Data, want[k].Data); e > 1e-5 {
			t.Errorf("%s: fused vs unfused max rel err %g", k, e)
		}
	}
	if _, err := f.Resolve("conv"); !errors.Is(err, model.ErrTap) {
		t.Errorf("absorbed conv still tappable: %v", err)
	}
	// Keeping "conv" blocks folding the batch norm into it.
	k, err := g.Fuse("conv")
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := g.Forward(e, x, "conv")
	c2, err := k.Forward(e, x, "conv")
	if err != nil || tensor.MaxRelErr(c2.Data, c1.Data) > 1e-5 {
		t.Errorf("kept conv tap: %v", err)
	}
	// The original graph is untouched.
	again, _ := g.Forward(e, x, "")
	if tensor.MaxRelErr(again.Data, want["fc_relu"].Data) != 0 {
		t.Error("Fuse modified the original graph")
	}
}

func TestRunFreesAndTaps(t *testing.T) {
	g := smallGraph()
	x := tensor.New(1, 3, 6, 6)
	m, err := g.Run(nil, x, "x", "conv")
	if err != nil {
		t.Fatal(err)
	}
	if m["x"] != x || len(m) != 2 || !tensor.SameShape(m["conv"].Shape, []int{1, 4, 6, 6}) {
		t.Errorf("taps %v", m)
	}
	if _, err := g.Run(nil, x, "nope"); !errors.Is(err, model.ErrTap) {
		t.Errorf("unknown tap: %v", err)
	}
	if _, err := g.Run(nil, tensor.New(1, 2, 6, 6)); !errors.Is(err, nn.ErrShape) {
		t.Errorf("wrong input channels: %v", err)
	}
}

// keepRightPad is an op of Type "Pad" that is not a zero padding (it
// repeats the last column once), which Fuse must not fold.
type keepRightPad struct{}

func (keepRightPad) Type() string { return "Pad" }
func (keepRightPad) OutShape(in ...[]int) ([]int, error) {
	s := in[0]
	return []int{s[0], s[1], s[2], s[3] + 1}, nil
}
func (keepRightPad) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	x := in[0]
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := tensor.New(n, c, h, w+1)
	for r := 0; r < n*c*h; r++ {
		copy(out.Data[r*(w+1):], x.Data[r*w:(r+1)*w])
		out.Data[r*(w+1)+w] = x.Data[r*w+w-1]
	}
	return out, nil
}

// wrappedPad hides an nn.Pad behind another type of Type "Pad" (as the
// TF.js importer's ZeroPadding2D op is), so Fuse has to probe it.
type wrappedPad struct{ nn.Pad }

// TestFuseFoldsZeroPad: zero paddings read only by a conv are folded into
// its Pad (graph shrinks, output unchanged vs the unfused graph), both for
// nn.Pad and for a foreign "Pad" op; non-zero paddings are left alone.
func TestFuseFoldsZeroPad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pad   nn.Op
		folds bool
	}{
		{"nn.Pad", &nn.Pad{Pads: [4]int{0, 0, 1, 1}}, true},
		{"probed", &wrappedPad{nn.Pad{Pads: [4]int{2, 1, 0, 3}}}, true},
		{"value", &nn.Pad{Pads: [4]int{1, 1, 1, 1}, Value: 0.5}, false},
		{"probed-value", &wrappedPad{nn.Pad{Pads: [4]int{1, 0, 1, 0}, Value: -1}}, false},
		{"not-zero", keepRightPad{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, depthwise := range []bool{false, true} {
				conv := nn.NewConv2d(4, 4, 3, 2, 0, true)
				if depthwise {
					conv = &nn.Conv2d{InChannels: 4, OutChannels: 4, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2},
						Groups: 4, Weight: tensor.New(4, 1, 3, 3), Bias: tensor.New(4)}
				}
				g := &model.Graph{Name: "pad", Input: "x", InputShape: []int{4, 9, 8}, Nodes: []*model.Node{
					{Name: "pad", Op: tc.pad, Inputs: []string{"x"}},
					{Name: "conv", Op: conv, Inputs: []string{"pad"}},
					{Name: "act", Op: nn.NewReLU6(), Inputs: []string{"conv"}},
				}, Output: "act"}
				g.InitRandom(5)
				x := tensor.New(2, 4, 9, 8)
				for i := range x.Data {
					x.Data[i] = float32(i%11)/2 - 2.5
				}
				want, err := g.Forward(nil, x, "")
				if err != nil {
					t.Fatal(err)
				}
				f, err := g.Fuse()
				if err != nil {
					t.Fatal(err)
				}
				wantNodes := 2
				if tc.folds {
					wantNodes = 1
				}
				if len(f.Nodes) != wantNodes {
					t.Fatalf("fused graph has %d nodes, want %d", len(f.Nodes), wantNodes)
				}
				got, err := f.Forward(&nn.Exec{Threads: 2}, x, "")
				if err != nil {
					t.Fatal(err)
				}
				if !tensor.SameShape(got.Shape, want.Shape) {
					t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
				}
				if e := tensor.MaxRelErr(got.Data, want.Data); e > 1e-5 {
					t.Errorf("depthwise=%v: fused vs unfused max rel err %g", depthwise, e)
				}
			}
		})
	}
}

// TestFuseInterleavedBranches: conv→bn→relu chains whose nodes are not
// adjacent in the node list (two branches interleaved, as TF.js orders
// InceptionV3) are still fused, and the result matches the unfused graph.
func TestFuseInterleavedBranches(t *testing.T) {
	g := &model.Graph{Name: "branches", Input: "x", InputShape: []int{3, 7, 7}, Nodes: []*model.Node{
		{Name: "c1", Op: nn.NewConv2d(3, 4, 1, 1, 0, false), Inputs: []string{"x"}},
		{Name: "c2", Op: nn.NewConv2d(3, 4, 3, 1, 1, false), Inputs: []string{"x"}},
		{Name: "bn1", Op: nn.NewBatchNorm2d(4), Inputs: []string{"c1"}},
		{Name: "bn2", Op: nn.NewBatchNorm2d(4), Inputs: []string{"c2"}},
		{Name: "r1", Op: &nn.ReLU{}, Inputs: []string{"bn1"}},
		{Name: "r2", Op: &nn.ReLU{}, Inputs: []string{"bn2"}},
		{Name: "cat", Op: &nn.Concat{Axis: 1}, Inputs: []string{"r1", "r2"}},
	}, Output: "cat"}
	g.InitRandom(7)
	x := tensor.New(2, 3, 7, 7)
	for i := range x.Data {
		x.Data[i] = float32(i%9)/4 - 1
	}
	want, err := g.Forward(nil, x, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.Fuse()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Nodes) != 3 {
		for _, n := range f.Nodes {
			t.Logf("%s %s %v", n.Name, n.Op.Type(), n.Inputs)
		}
		t.Fatalf("fused graph has %d nodes, want 3 (two conv+bn+relu, concat)", len(f.Nodes))
	}
	got, err := f.Forward(&nn.Exec{Threads: 2}, x, "")
	if err != nil {
		t.Fatal(err)
	}
	if e := tensor.MaxRelErr(got.Data, want.Data); e > 1e-5 {
		t.Errorf("fused vs unfused max rel err %g", e)
	}
}
