package tfjs

import (
	"encoding/json"
	"fmt"
)

// ModelJSON is the parsed model.json of a TF.js layers-model.
type ModelJSON struct {
	Format          string          `json:"format"`
	ModelTopology   json.RawMessage `json:"modelTopology"`
	WeightsManifest []WeightGroup   `json:"weightsManifest"`

	// Config is the Keras model config found in ModelTopology (either
	// modelTopology.model_config or modelTopology itself).
	Config ModelConfig `json:"-"`
}

// WeightGroup is one entry of weightsManifest: shard files (relative to
// model.json) whose concatenated bytes hold Weights back to back.
type WeightGroup struct {
	Paths   []string     `json:"paths"`
	Weights []WeightSpec `json:"weights"`
}

// WeightSpec describes one weight tensor in a manifest.
type WeightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization"`
}

// Quantization says how a weight is stored: dtype uint8/uint16 with
// value = q*Scale + Min, or dtype float16.
type Quantization struct {
	DType string  `json:"dtype"`
	Scale float64 `json:"scale"`
	Min   float64 `json:"min"`
}

// ModelConfig is a Keras model config (class_name Model, Functional or
// Sequential).
type ModelConfig struct {
	ClassName    string
	Name         string
	Layers       []Layer
	InputLayers  [][]any
	OutputLayers [][]any
}

// Layer is one Keras layer of the model config.
type Layer struct {
	Name         string          `json:"name"`
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
	InboundNodes json.RawMessage `json:"inbound_nodes"`
	inbound      []string
}

type topology struct {
	ModelConfig *json.RawMessage `json:"model_config"`
	ClassName   string           `json:"class_name"`
	Config      json.RawMessage  `json:"config"`
}

// parseModelJSON decodes model.json bytes; file names the source in errors.
func parseModelJSON(b []byte, file string) (*ModelJSON, error) {
	var m ModelJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tfjs: %s: %v: %w", file, err, ErrFormat)
	}
	if len(m.ModelTopology) == 0 {
		return nil, fmt.Errorf("tfjs: %s: no modelTopology (is this a graph-model?): %w", file, ErrFormat)
	}
	var top topology
	if err := json.Unmarshal(m.ModelTopology, &top); err != nil {
		return nil, fmt.Errorf("tfjs: %s: modelTopology: %v: %w", file, err, ErrFormat)
	}
	if top.ModelConfig != nil {
		if err := json.Unmarshal(*top.ModelConfig, &top); err != nil {
			return nil, fmt.Errorf("tfjs: %s: model_config: %v: %w", file, err, ErrFormat)
		}
	}
	m.Config.ClassName = top.ClassName
	if len(top.Config) == 0 {
		return nil, fmt.Errorf("tfjs: %s: model config has no config: %w", file, ErrFormat)
	}
	// Old Sequential configs are a bare list of layers.
	if top.Config[0] == '[' {
		if err := json.Unmarshal(top.Config, &m.Config.Layers); err != nil {
			return nil, fmt.Errorf("tfjs: %s: layers: %v: %w", file, err, ErrFormat)
		}
	} else {
		var c struct {
			Name         string  `json:"name"`
			Layers       []Layer `json:"layers"`
			InputLayers  [][]any `json:"input_layers"`
			OutputLayers [][]any `json:"output_layers"`
		}
		if err := json.Unmarshal(top.Config, &c); err != nil {
			return nil, fmt.Errorf("tfjs: %s: model config: %v: %w", file, err, ErrFormat)
		}
		m.Config.Name = c.Name
		m.Config.Layers = c.Layers
		m.Config.InputLayers = c.InputLayers
		m.Config.OutputLayers = c.OutputLayers
	}
	if len(m.Config.Layers) == 0 {
		return nil, fmt.Errorf("tfjs: %s: model has no layers: %w", file, ErrFormat)
	}
	for i := range m.Config.Layers {
		l := &m.Config.Layers[i]
		if l.Name == "" {
			var c struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(l.Config, &c)
			l.Name = c.Name
		}
		if l.Name == "" {
			return nil, fmt.Errorf("tfjs: %s: layer %d (%s) has no name: %w", file, i, l.ClassName, ErrFormat)
		}
		in, err := parseInbound(l.InboundNodes)
		if err != nil {
			return nil, fmt.Errorf("tfjs: %s: layer %q: inbound_nodes: %v: %w", file, l.Name, err, ErrFormat)
		}
		l.inbound = in
	}
	return &m, nil
}

// parseInbound reads Keras inbound_nodes: [[[name, nodeIdx, tensorIdx, {}], ...]]
// (Keras 2) or [{args: [{config: {keras_history: [name, ...]}}]}] (Keras 3).
// Only the first call of a layer (shared layers are not supported) is used.
func parseInbound(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var nodes []json.RawMessage
	if err := json.Unmarshal(raw, &nodes); err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	if len(nodes) > 1 {
		return nil, fmt.Errorf("layer is called %d times (shared layers are not supported)", len(nodes))
	}
	var conns [][]any
	if err := json.Unmarshal(nodes[0], &conns); err == nil {
		var names []string
		for _, c := range conns {
			if len(c) == 0 {
				return nil, fmt.Errorf("empty inbound connection")
			}
			s, ok := c[0].(string)
			if !ok {
				return nil, fmt.Errorf("inbound connection %v: want a layer name", c)
			}
			if len(c) > 2 {
				if ti, ok := c[2].(float64); ok && ti != 0 {
					return nil, fmt.Errorf("inbound %q uses output %v (multi-output layers are not supported)", s, ti)
				}
			}
			names = append(names, s)
		}
		return names, nil
	}
	// Keras 3 style.
	var k3 struct {
		Args []json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(nodes[0], &k3); err != nil {
		return nil, err
	}
	var names []string
	var walk func(r json.RawMessage)
	walk = func(r json.RawMessage) {
		var h struct {
			Config struct {
				KerasHistory []any `json:"keras_history"`
			} `json:"config"`
		}
		if json.Unmarshal(r, &h) == nil && len(h.Config.KerasHistory) > 0 {
			if s, ok := h.Config.KerasHistory[0].(string); ok {
				names = append(names, s)
			}
			return
		}
		var list []json.RawMessage
		if json.Unmarshal(r, &list) == nil {
			for _, x := range list {
				walk(x)
			}
		}
	}
	for _, a := range k3.Args {
		walk(a)
	}
	return names, nil
}
