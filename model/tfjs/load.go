package tfjs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Options controls Load. The zero value is valid.
type Options struct {
	// MaxBytes bounds the total weight bytes read (<= 0: 4 GiB).
	MaxBytes int64
	// InputHW fixes the input height and width when the model leaves them
	// open (batch_input_shape [null, null, null, 3]); ignored otherwise.
	InputHW [2]int
}

// Load reads a TF.js layers-model (a directory holding model.json or the
// npm-bundled model.min.js, or the path of either file) and returns an
// executable graph on NCHW input (C, H, W per image; feed RGB in the
// model's own scaling, e.g. [0,1] for nsfwjs). Node names are the Keras
// layer names; the graph input is named after the InputLayer.
//
// The Keras NHWC semantics are kept: channel-last axes map to NCHW axis 1,
// Flatten flattens in NHWC order so Dense kernels apply unchanged, and TF
// 'same' padding puts the odd extra pixel at the bottom/right.
func Load(path string, opts Options) (*model.Graph, error) {
	src, err := openDir(path)
	if err != nil {
		return nil, err
	}
	mj, err := src.modelJSON()
	if err != nil {
		return nil, err
	}
	m, err := parseModelJSON(mj, src.jsonPath)
	if err != nil {
		return nil, err
	}
	if err := checkSupported(m, src.jsonPath); err != nil {
		return nil, err
	}
	w, err := decodeWeights(src, m.WeightsManifest, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	return buildGraph(m, w, opts, src.jsonPath)
}

// Parse decodes model.json bytes (plain JSON, not the npm JS module) and
// checks the layer graph is supported, without reading weights. It is the
// entry point of FuzzTFJSManifest.
func Parse(b []byte) (*ModelJSON, error) {
	m, err := parseModelJSON(b, "model.json")
	if err != nil {
		return nil, err
	}
	if err := checkSupported(m, "model.json"); err != nil {
		return nil, err
	}
	return m, nil
}

var supported = map[string]bool{
	"InputLayer": true, "Conv2D": true, "DepthwiseConv2D": true, "SeparableConv2D": true,
	"BatchNormalization": true, "ReLU": true, "Activation": true, "ZeroPadding2D": true,
	"MaxPooling2D": true, "AveragePooling2D": true, "GlobalAveragePooling2D": true,
	"GlobalMaxPooling2D": true, "Add": true, "Concatenate": true, "Flatten": true,
	"Dense": true, "Dropout": true,
}

// checkSupported returns one error listing every unsupported layer type
// with the names of the layers that use it.
func checkSupported(m *ModelJSON, file string) error {
	bad := map[string][]string{}
	for _, l := range m.Config.Layers {
		if !supported[l.ClassName] {
			bad[l.ClassName] = append(bad[l.ClassName], l.Name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	types := make([]string, 0, len(bad))
	for t := range bad {
		types = append(types, t)
	}
	sort.Strings(types)
	var parts []string
	for _, t := range types {
		parts = append(parts, fmt.Sprintf("%s (%s)", t, strings.Join(bad[t], ", ")))
	}
	return fmt.Errorf("tfjs: %s: unsupported layer types: %s: %w", file, strings.Join(parts, "; "), ErrUnsupported)
}

// layerConf holds the Keras config fields the importer reads.
type layerConf struct {
	BatchInputShape []*int   `json:"batch_input_shape"`
	BatchShape      []*int   `json:"batch_shape"`
	Filters         int      `json:"filters"`
	KernelSize      []int    `json:"kernel_size"`
	Strides         []int    `json:"strides"`
	Padding         any      `json:"padding"`
	DataFormat      string   `json:"data_format"`
	DilationRate    any      `json:"dilation_rate"`
	Activation      string   `json:"activation"`
	UseBias         *bool    `json:"use_bias"`
	DepthMultiplier int      `json:"depth_multiplier"`
	Groups          int      `json:"groups"`
	Axis            any      `json:"axis"`
	Epsilon         *float64 `json:"epsilon"`
	Center          *bool    `json:"center"`
	Scale           *bool    `json:"scale"`
	MaxValue        *float64 `json:"max_value"`
	NegativeSlope   float64  `json:"negative_slope"`
	Threshold       float64  `json:"threshold"`
	PoolSize        []int    `json:"pool_size"`
	Units           int      `json:"units"`
}

func pair(v []int, def int) [2]int {
	switch len(v) {
	case 0:
		return [2]int{def, def}
	case 1:
		return [2]int{v[0], v[0]}
	}
	return [2]int{v[0], v[1]}
}

func anyPair(v any, def int) ([2]int, error) {
	switch x := v.(type) {
	case nil:
		return [2]int{def, def}, nil
	case float64:
		return [2]int{int(x), int(x)}, nil
	case []any:
		var out [2]int
		if len(x) == 1 {
			x = append(x, x[0])
		}
		if len(x) != 2 {
			return out, fmt.Errorf("want 2 values, got %v", v)
		}
		for i := range out {
			f, ok := x[i].(float64)
			if !ok {
				return out, fmt.Errorf("want numbers, got %v", v)
			}
			out[i] = int(f)
		}
		return out, nil
	}
	return [2]int{}, fmt.Errorf("want a number or pair, got %v", v)
}

// samePad returns TF 'same' padding [before, after] for one axis.
func samePad(in, k, s, d int) (int, int) {
	out := (in + s - 1) / s
	eff := (k-1)*d + 1
	total := max((out-1)*s+eff-in, 0)
	return total / 2, total - total/2
}

type builder struct {
	file   string
	g      *model.Graph
	shapes map[string][]int // NCHW shapes with N=1
	w      map[string]*tensor.Tensor
	used   map[string]bool
}

// weight finds layer's weight "<layer>/<name>" (also with ":0" suffix or a
// scope prefix).
func (b *builder) weight(layer, name string, shape ...int) (*tensor.Tensor, error) {
	key := layer + "/" + name
	t, ok := b.w[key]
	if !ok {
		t, ok = b.w[key+":0"]
	}
	if !ok {
		for k, v := range b.w {
			if strings.HasSuffix(strings.TrimSuffix(k, ":0"), "/"+key) {
				t, ok, key = v, true, k
				break
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("tfjs: %s: layer %q: weight %q not in the manifest: %w", b.file, layer, key, ErrWeights)
	}
	if shape != nil && !tensor.SameShape(t.Shape, shape) {
		return nil, fmt.Errorf("tfjs: %s: layer %q: weight %q has shape %v, want %v: %w", b.file, layer, key, t.Shape, shape, ErrWeights)
	}
	b.used[key] = true
	return t, nil
}

func (b *builder) add(name string, op nn.Op, inputs []string) error {
	in := make([][]int, len(inputs))
	for i, s := range inputs {
		sh, ok := b.shapes[s]
		if !ok {
			return fmt.Errorf("tfjs: %s: layer %q: inbound layer %q is not defined before it: %w", b.file, name, s, ErrGraph)
		}
		in[i] = sh
	}
	os, err := op.OutShape(in...)
	if err != nil {
		return fmt.Errorf("tfjs: %s: layer %q: %w", b.file, name, err)
	}
	if _, dup := b.shapes[name]; dup {
		return fmt.Errorf("tfjs: %s: duplicate layer name %q: %w", b.file, name, ErrGraph)
	}
	b.shapes[name] = os
	b.g.Nodes = append(b.g.Nodes, &model.Node{Name: name, Op: op, Inputs: inputs})
	return nil
}

func buildGraph(m *ModelJSON, w map[string]*tensor.Tensor, opts Options, file string) (*model.Graph, error) {
	b := &builder{file: file, shapes: map[string][]int{}, w: w, used: map[string]bool{},
		g: &model.Graph{Name: m.Config.Name, Aliases: map[string]string{}}}
	layers := m.Config.Layers
	sequential := m.Config.ClassName == "Sequential"
	prev := ""
	for i, l := range layers {
		var c layerConf
		if err := json.Unmarshal(l.Config, &c); err != nil {
			return nil, fmt.Errorf("tfjs: %s: layer %q config: %v: %w", file, l.Name, err, ErrFormat)
		}
		inputs := l.inbound
		if sequential && l.ClassName != "InputLayer" {
			if prev == "" {
				// Sequential without an InputLayer: the first layer
				// carries batch_input_shape.
				if err := b.input("input", c, opts); err != nil {
					return nil, err
				}
				prev = "input"
			}
			inputs = []string{prev}
		}
		if l.ClassName == "InputLayer" {
			if b.g.Input != "" {
				return nil, fmt.Errorf("tfjs: %s: second InputLayer %q (one input supported): %w", file, l.Name, ErrUnsupported)
			}
			if err := b.input(l.Name, c, opts); err != nil {
				return nil, err
			}
			prev = l.Name
			continue
		}
		if len(inputs) == 0 {
			return nil, fmt.Errorf("tfjs: %s: layer %d %q has no inbound layer: %w", file, i, l.Name, ErrGraph)
		}
		if err := b.layer(l, c, inputs); err != nil {
			return nil, err
		}
		prev = l.Name
	}
	if b.g.Input == "" {
		return nil, fmt.Errorf("tfjs: %s: no InputLayer: %w", file, ErrGraph)
	}
	b.g.Output = prev
	if len(m.Config.OutputLayers) == 1 && len(m.Config.OutputLayers[0]) > 0 {
		if s, ok := m.Config.OutputLayers[0][0].(string); ok {
			if _, ok := b.shapes[s]; !ok {
				return nil, fmt.Errorf("tfjs: %s: output layer %q not found: %w", file, s, ErrGraph)
			}
			b.g.Output = s
		}
	}
	return b.g, nil
}

func (b *builder) input(name string, c layerConf, opts Options) error {
	shp := c.BatchInputShape
	if shp == nil {
		shp = c.BatchShape
	}
	if len(shp) != 4 || shp[3] == nil {
		return fmt.Errorf("tfjs: %s: input %q: batch_input_shape %v, want [null, H, W, C]: %w", b.file, name, fmtShape(shp), ErrUnsupported)
	}
	h, w := opts.InputHW[0], opts.InputHW[1]
	if shp[1] != nil && shp[2] != nil {
		h, w = *shp[1], *shp[2]
	}
	if h <= 0 || w <= 0 || *shp[3] <= 0 || h > 1<<16 || w > 1<<16 || *shp[3] > 1<<16 {
		return fmt.Errorf("tfjs: %s: input %q: shape %v (set Options.InputHW for open sizes): %w", b.file, name, fmtShape(shp), ErrUnsupported)
	}
	b.g.Input = name
	b.g.InputShape = []int{*shp[3], h, w}
	b.shapes[name] = []int{1, *shp[3], h, w}
	return nil
}

func fmtShape(s []*int) string {
	parts := make([]string, len(s))
	for i, p := range s {
		if p == nil {
			parts[i] = "null"
		} else {
			parts[i] = fmt.Sprint(*p)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// channelsLast checks data_format / axis say channels last.
func (b *builder) channelsLast(l Layer, c layerConf) error {
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		return fmt.Errorf("tfjs: %s: layer %q: data_format %q: %w", b.file, l.Name, c.DataFormat, ErrUnsupported)
	}
	return nil
}

// actOf maps a Keras activation to a fused nn.Act where possible.
func actOf(fn string) (nn.Act, bool) {
	switch fn {
	case "", "linear":
		return nn.Act{}, true
	case "relu":
		return nn.Act{Kind: nn.ActReLU}, true
	case "relu6":
		return nn.Act{Kind: nn.ActReLU6}, true
	}
	return nn.Act{}, false
}

func (b *builder) layer(l Layer, c layerConf, inputs []string) error {
	name := l.Name
	bad := func(format string, args ...any) error {
		return fmt.Errorf("tfjs: %s: layer %q (%s): %s: %w", b.file, name, l.ClassName, fmt.Sprintf(format, args...), ErrUnsupported)
	}
	if err := b.channelsLast(l, c); err != nil {
		return err
	}
	one := func() (string, []int, error) {
		if len(inputs) != 1 {
			return "", nil, fmt.Errorf("tfjs: %s: layer %q: %d inputs, want 1: %w", b.file, name, len(inputs), ErrGraph)
		}
		s, ok := b.shapes[inputs[0]]
		if !ok {
			return "", nil, fmt.Errorf("tfjs: %s: layer %q: inbound layer %q is not defined before it: %w", b.file, name, inputs[0], ErrGraph)
		}
		return inputs[0], s, nil
	}
	switch l.ClassName {
	case "Conv2D", "DepthwiseConv2D", "SeparableConv2D":
		_, in, err := one()
		if err != nil {
			return err
		}
		if !knownActivation(c.Activation) {
			return bad("activation %q", c.Activation)
		}
		k := pair(c.KernelSize, 1)
		s := pair(c.Strides, 1)
		d, err := anyPair(c.DilationRate, 1)
		if err != nil {
			return bad("dilation_rate: %v", err)
		}
		if len(in) != 4 {
			return fmt.Errorf("tfjs: %s: layer %q: input shape %v, want 4-D: %w", b.file, name, in, ErrGraph)
		}
		var pad [4]int
		switch c.Padding {
		case "valid", nil:
		case "same":
			pad[0], pad[2] = samePad(in[2], k[0], s[0], d[0])
			pad[1], pad[3] = samePad(in[3], k[1], s[1], d[1])
		default:
			return bad("padding %v", c.Padding)
		}
		cin := in[1]
		useBias := c.UseBias == nil || *c.UseBias
		act, fused := actOf(c.Activation)
		conv := &nn.Conv2d{InChannels: cin, Kernel: k, Stride: s, Pad: pad, Dilation: d, Groups: 1}
		if fused {
			conv.Act = act
		}
		var convName = name
		var wgt *tensor.Tensor
		switch l.ClassName {
		case "Conv2D":
			groups := max(c.Groups, 1)
			if cin%groups != 0 {
				return bad("groups %d do not divide %d channels", groups, cin)
			}
			kw, err := b.weight(name, "kernel", k[0], k[1], cin/groups, c.Filters)
			if err != nil {
				return err
			}
			conv.OutChannels, conv.Groups = c.Filters, groups
			wgt = hwioToOIHW(kw)
		default:
			mult := max(c.DepthMultiplier, 1)
			dk, err := b.weight(name, "depthwise_kernel", k[0], k[1], cin, mult)
			if err != nil {
				return err
			}
			conv.OutChannels, conv.Groups = cin*mult, cin
			wgt = depthwiseToOIHW(dk)
		}
		conv.Weight = wgt
		if l.ClassName == "SeparableConv2D" {
			// Depthwise step as its own node, then the pointwise conv
			// carries the layer's name, bias and activation.
			convName = name + "/depthwise"
			conv.Act = nn.Act{}
			if err := b.add(convName, conv, inputs); err != nil {
				return err
			}
			pk, err := b.weight(name, "pointwise_kernel", 1, 1, conv.OutChannels, c.Filters)
			if err != nil {
				return err
			}
			pw := &nn.Conv2d{InChannels: conv.OutChannels, OutChannels: c.Filters, Kernel: [2]int{1, 1},
				Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Groups: 1, Weight: hwioToOIHW(pk)}
			if fused {
				pw.Act = act
			}
			conv, inputs, convName = pw, []string{convName}, name
		}
		if useBias {
			bias, err := b.weight(name, "bias", conv.OutChannels)
			if err != nil {
				return err
			}
			conv.Bias = bias
		}
		if fused {
			return b.add(convName, conv, inputs)
		}
		if err := b.add(convName+"/conv", conv, inputs); err != nil {
			return err
		}
		return b.add(name, &Activation{Fn: c.Activation}, []string{convName + "/conv"})

	case "BatchNormalization":
		_, in, err := one()
		if err != nil {
			return err
		}
		if ax, ok := c.Axis.(float64); c.Axis != nil && !(ok && (ax == -1 || int(ax) == len(in)-1)) {
			return bad("axis %v (only the channels axis is supported)", c.Axis)
		}
		ch := in[1]
		eps := 1e-3
		if c.Epsilon != nil {
			eps = *c.Epsilon
		}
		mean, err := b.weight(name, "moving_mean", ch)
		if err != nil {
			return err
		}
		variance, err := b.weight(name, "moving_variance", ch)
		if err != nil {
			return err
		}
		var gamma, beta *tensor.Tensor
		if c.Scale == nil || *c.Scale {
			if gamma, err = b.weight(name, "gamma", ch); err != nil {
				return err
			}
		}
		if c.Center == nil || *c.Center {
			if beta, err = b.weight(name, "beta", ch); err != nil {
				return err
			}
		}
		// nn.BatchNorm2d, so model.(*Graph).Fuse can fold it into the conv.
		op := nn.NewBatchNorm2d(ch)
		op.Eps = float32(eps)
		op.RunningMean, op.RunningVar = mean, variance
		if gamma != nil {
			op.Weight = gamma
		}
		if beta != nil {
			op.Bias = beta
		}
		return b.add(name, op, inputs)

	case "ReLU":
		if c.NegativeSlope != 0 || c.Threshold != 0 {
			return bad("negative_slope %g / threshold %g", c.NegativeSlope, c.Threshold)
		}
		if c.MaxValue != nil {
			if *c.MaxValue == 6 {
				return b.add(name, nn.NewReLU6(), inputs)
			}
			return b.add(name, &nn.Clip{Min: 0, Max: float32(*c.MaxValue)}, inputs)
		}
		return b.add(name, &nn.ReLU{}, inputs)

	case "Activation":
		switch c.Activation {
		case "relu":
			return b.add(name, &nn.ReLU{}, inputs)
		case "relu6":
			return b.add(name, nn.NewReLU6(), inputs)
		case "linear":
			return b.add(name, &Identity{Name: "Activation(linear)"}, inputs)
		}
		if !knownActivation(c.Activation) {
			return bad("activation %q", c.Activation)
		}
		return b.add(name, &Activation{Fn: c.Activation}, inputs)

	case "ZeroPadding2D":
		var p [4]int
		switch v := c.Padding.(type) {
		case float64:
			p = [4]int{int(v), int(v), int(v), int(v)}
		case []any:
			if len(v) != 2 {
				return bad("padding %v", c.Padding)
			}
			hp, err1 := anyPair(v[0], 0)
			wp, err2 := anyPair(v[1], 0)
			if err1 != nil || err2 != nil {
				return bad("padding %v", c.Padding)
			}
			// A bare int per axis means symmetric; a pair is (before, after).
			p = [4]int{hp[0], wp[0], hp[1], wp[1]}
		default:
			return bad("padding %v", c.Padding)
		}
		for _, v := range p {
			if v < 0 || v > 1<<16 {
				return bad("padding %v", c.Padding)
			}
		}
		return b.add(name, &ZeroPad{Pad: p}, inputs)

	case "MaxPooling2D", "AveragePooling2D":
		_, in, err := one()
		if err != nil {
			return err
		}
		k := pair(c.PoolSize, 2)
		s := pair(c.Strides, 0)
		if c.Strides == nil {
			s = k
		}
		if len(in) != 4 {
			return fmt.Errorf("tfjs: %s: layer %q: input shape %v, want 4-D: %w", b.file, name, in, ErrGraph)
		}
		var pad [4]int
		switch c.Padding {
		case "valid", nil:
		case "same":
			pad[0], pad[2] = samePad(in[2], k[0], s[0], 1)
			pad[1], pad[3] = samePad(in[3], k[1], s[1], 1)
		default:
			return bad("padding %v", c.Padding)
		}
		if l.ClassName == "MaxPooling2D" {
			return b.add(name, &nn.MaxPool2d{Kernel: k, Stride: s, Pad: pad, Dilation: [2]int{1, 1}}, inputs)
		}
		// TF averages over the real (unpadded) pixels only.
		return b.add(name, &nn.AvgPool2d{Kernel: k, Stride: s, Pad: pad, CountIncludePad: false}, inputs)

	case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
		var op nn.Op = &nn.GlobalAvgPool{}
		if l.ClassName == "GlobalMaxPooling2D" {
			op = &nn.GlobalMaxPool{}
		}
		if err := b.add(name+"/pool", op, inputs); err != nil {
			return err
		}
		return b.add(name, &FlattenNHWC{}, []string{name + "/pool"})

	case "Add":
		if len(inputs) < 2 {
			return b.add(name, &Sum{}, inputs)
		}
		return b.add(name, &nn.Add{}, inputs)

	case "Concatenate":
		if ax, ok := c.Axis.(float64); c.Axis != nil && !(ok && (ax == -1 || ax == 3)) {
			return bad("axis %v (only the channels axis is supported)", c.Axis)
		}
		return b.add(name, &nn.Concat{Axis: 1}, inputs)

	case "Flatten":
		return b.add(name, &FlattenNHWC{}, inputs)

	case "Dense":
		_, in, err := one()
		if err != nil {
			return err
		}
		if len(in) != 2 {
			return bad("input shape %v (Dense on non-flat input)", in)
		}
		if !knownActivation(c.Activation) {
			return bad("activation %q", c.Activation)
		}
		k, err := b.weight(name, "kernel", in[1], c.Units)
		if err != nil {
			return err
		}
		d := &Dense{Kernel: k, Act: c.Activation}
		if c.UseBias == nil || *c.UseBias {
			if d.Bias, err = b.weight(name, "bias", c.Units); err != nil {
				return err
			}
		}
		return b.add(name, d, inputs)

	case "Dropout":
		return b.add(name, &Identity{Name: "Dropout"}, inputs)
	}
	return bad("layer type")
}

// hwioToOIHW converts a Keras conv kernel (KH, KW, I, O) to OIHW.
func hwioToOIHW(k *tensor.Tensor) *tensor.Tensor {
	kh, kw, ci, co := k.Shape[0], k.Shape[1], k.Shape[2], k.Shape[3]
	out := tensor.New(co, ci, kh, kw)
	for y := 0; y < kh; y++ {
		for x := 0; x < kw; x++ {
			for i := 0; i < ci; i++ {
				for o := 0; o < co; o++ {
					out.Data[((o*ci+i)*kh+y)*kw+x] = k.Data[((y*kw+x)*ci+i)*co+o]
				}
			}
		}
	}
	return out
}

// depthwiseToOIHW converts a Keras depthwise kernel (KH, KW, C, M) to
// (C·M, 1, KH, KW) with output channel c·M+m.
func depthwiseToOIHW(k *tensor.Tensor) *tensor.Tensor {
	kh, kw, c, m := k.Shape[0], k.Shape[1], k.Shape[2], k.Shape[3]
	out := tensor.New(c*m, 1, kh, kw)
	for y := 0; y < kh; y++ {
		for x := 0; x < kw; x++ {
			for ci := 0; ci < c; ci++ {
				for mi := 0; mi < m; mi++ {
					out.Data[((ci*m+mi)*kh+y)*kw+x] = k.Data[((y*kw+x)*c+ci)*m+mi]
				}
			}
		}
	}
	return out
}
