package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{"inspect", "../../model/tfjs/testdata/small"}, 0, []string{"c_same_s2", "Conv2d", "[1 6 6 5]", "mp_same", "out"}},
		{[]string{"inspect", "../../model/onnx/testdata/small_vgg.onnx"}, 0, []string{"input \"x\" [3 112 112]", "Gemm", "[1 10]"}},
		{[]string{"inspect"}, ExitUsage, nil},
		{[]string{"inspect", "x.bin", "y"}, ExitUsage, nil},
		{[]string{"inspect", "../../model/onnx/testdata/small_vgg_input.pb"}, ExitUsage, nil},
		{[]string{"inspect", "nsfwjs/nope"}, ExitUsage, nil},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := Run(context.Background(), c.args, nil, &out, &errb)
		if got := ExitCode(err); got != c.code {
			t.Errorf("%v: exit %d (%v), want %d", c.args, got, err, c.code)
			continue
		}
		for _, s := range c.contains {
			if !strings.Contains(out.String(), s) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, s, out.String())
			}
		}
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"inspect", "--json", "../../model/tfjs/testdata/small"}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Layers []struct {
			Name     string `json:"name"`
			OutShape []int  `json:"out_shape"`
			Params   int64  `json:"params"`
		} `json:"layers"`
		Params int64 `json:"params"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	// c_same_s2: 3×3×3×6 kernel + 6 bias = 168 parameters (gen_small.js).
	if len(res.Layers) == 0 || res.Layers[0].Name != "c_same_s2" || res.Layers[0].Params != 168 {
		t.Errorf("first layer %+v", res.Layers)
	}
}
