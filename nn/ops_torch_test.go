package nn

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/preconv/preconv/tensor"
)

// torchCase is one case of testdata/ops.json, written by
// testdata/gen_ops.py with torch 1.13 (F.conv2d, F.max_pool2d,
// F.avg_pool2d, F.adaptive_avg_pool2d, nn.BatchNorm2d, nn.Linear).
type torchCase struct {
	Name   string         `json:"name"`
	Op     string         `json:"op"`
	Params map[string]any `json:"params"`
	X      []float32      `json:"x"`
	XShape []int          `json:"xshape"`
	W      []float32      `json:"w"`
	WShape []int          `json:"wshape"`
	B      []float32      `json:"b"`
	Y      []float32      `json:"y"`
	YShape []int          `json:"yshape"`
	Gamma  []float32      `json:"gamma"`
	Beta   []float32      `json:"beta"`
	Mean   []float32      `json:"mean"`
	Var    []float32      `json:"var"`
}

func loadTorchCases(t *testing.T) []torchCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/ops.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []torchCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 20 {
		t.Fatalf("only %d cases in ops.json", len(f.Cases))
	}
	return f.Cases
}

func pint(p map[string]any, k string) int { return int(p[k].(float64)) }

func ints(p map[string]any, k string) []int {
	var r []int
	for _, v := range p[k].([]any) {
		r = append(r, int(v.(float64)))
	}
	return r
}

func opFor(t *testing.T, c torchCase) Op {
	p := c.Params
	switch c.Op {
	case "conv":
		k, pad := ints(p, "k"), ints(p, "pad")
		s, d := pint(p, "stride"), pint(p, "dil")
		conv := &Conv2d{InChannels: pint(p, "cin"), OutChannels: pint(p, "cout"), Kernel: [2]int{k[0], k[1]},
			Stride: [2]int{s, s}, Pad: [4]int{pad[0], pad[1], pad[2], pad[3]}, Dilation: [2]int{d, d},
			Groups: pint(p, "groups"), Weight: tensor.FromData(c.W, c.WShape...)}
		if c.B != nil {
			conv.Bias = tensor.FromData(c.B, len(c.B))
		}
		return conv
	case "maxpool", "avgpool":
		k, s, pd := pint(p, "k"), pint(p, "stride"), pint(p, "pad")
		ceil := p["ceil"].(bool)
		if c.Op == "maxpool" {
			m := NewMaxPool2d(k, s, pd)
			m.CeilMode = ceil
			return m
		}
		a := NewAvgPool2d(k, s, pd)
		a.CeilMode, a.CountIncludePad = ceil, p["cip"].(bool)
		return a
	case "adaptive":
		o := ints(p, "out")
		return &AdaptiveAvgPool2d{Out: [2]int{o[0], o[1]}}
	case "batchnorm":
		n := len(c.Gamma)
		return &BatchNorm2d{Channels: n, Eps: float32(p["eps"].(float64)),
			Weight: tensor.FromData(c.Gamma, n), Bias: tensor.FromData(c.Beta, n),
			RunningMean: tensor.FromData(c.Mean, n), RunningVar: tensor.FromData(c.Var, n)}
	case "linear":
		return &Linear{In: c.WShape[1], Out: c.WShape[0], Weight: tensor.FromData(c.W, c.WShape...),
			Bias: tensor.FromData(c.B, len(c.B))}
	}
	t.Fatalf("unknown op %q", c.Op)
	return nil
}

// TestOpsAgainstTorch runs every case of ops.json with 1 and 3 threads.
func TestOpsAgainstTorch(t *testing.T) {
	for _, c := range loadTorchCases(t) {
		for _, threads := range []int{1, 3} {
			op := opFor(t, c)
			x := tensor.FromData(c.X, c.XShape...)
			xCopy := x.Clone()
			os, err := op.OutShape(c.XShape)
			if err != nil {
				t.Fatalf("%s: OutShape: %v", c.Name, err)
			}
			if !tensor.SameShape(os, c.YShape) {
				t.Fatalf("%s: OutShape %v, torch %v", c.Name, os, c.YShape)
			}
			y, err := op.Forward(&Exec{Threads: threads}, x)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if !tensor.SameShape(y.Shape, c.YShape) {
				t.Fatalf("%s: shape %v, torch %v", c.Name, y.Shape, c.YShape)
			}
			if e := tensor.MaxRelErr(y.Data, c.Y); e > 1e-5 {
				t.Errorf("%s (threads %d): max rel err %g", c.Name, threads, e)
			}
			if tensor.MaxRelErr(x.Data, xCopy.Data) != 0 {
				t.Errorf("%s: input modified", c.Name)
			}
		}
	}
}

// TestConvFusedActAndFold checks the fused ReLU/ReLU6 and FoldBatchNorm
// against the unfused sequence of torch-verified ops (conv and batchnorm
// are each checked against torch above).
func TestConvFusedActAndFold(t *testing.T) {
	var conv *Conv2d
	var x *tensor.Tensor
	for _, c := range loadTorchCases(t) {
		if c.Name == "conv3x3_pad1" {
			conv = opFor(t, c).(*Conv2d)
			x = tensor.FromData(c.X, c.XShape...)
		}
	}
	e := &Exec{Threads: 1}
	bn := NewBatchNorm2d(conv.OutChannels)
	for i := range bn.Weight.Data {
		bn.Weight.Data[i] = 0.5 + float32(i)
		bn.Bias.Data[i] = float32(i) - 2
		bn.RunningMean.Data[i] = 0.1 * float32(i)
		bn.RunningVar.Data[i] = 1 + float32(i)
	}
	y0, _ := conv.Forward(e, x)
	y1, _ := bn.Forward(e, y0)
	want, _ := NewReLU6().Forward(e, y1)
	folded := *conv
	if err := FoldBatchNorm(&folded, bn); err != nil {
		t.Fatal(err)
	}
	folded.Act = Act{Kind: ActReLU6}
	got, err := folded.Forward(e, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := tensor.MaxRelErr(got.Data, want.Data); err > 1e-5 {
		t.Errorf("folded conv+bn+relu6: max rel err %g", err)
	}
	if tensor.MaxRelErr(conv.Weight.Data, folded.Weight.Data) == 0 {
		t.Errorf("FoldBatchNorm changed nothing")
	}
	// The original conv's weights must be untouched (fold copies).
	y2, _ := conv.Forward(e, x)
	if tensor.MaxRelErr(y2.Data, y0.Data) != 0 {
		t.Errorf("FoldBatchNorm modified the original weights")
	}
}

func TestConvShapeErrors(t *testing.T) {
	c := NewConv2d(3, 4, 3, 1, 1, true)
	if _, err := c.OutShape([]int{1, 5, 8, 8}); err == nil {
		t.Error("wrong channel count accepted")
	}
	if _, err := c.OutShape([]int{1, 3, 8}); err == nil {
		t.Error("3-D input accepted")
	}
	c.Weight = tensor.New(4, 3, 2, 3)
	if _, err := c.Forward(nil, tensor.New(1, 3, 8, 8)); err == nil {
		t.Error("wrong weight shape accepted")
	}
	c = NewConv2d(3, 4, 5, 1, 0, false)
	if _, err := c.OutShape([]int{1, 3, 4, 4}); err == nil {
		t.Error("input smaller than kernel accepted")
	}
}
