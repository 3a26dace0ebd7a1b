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
