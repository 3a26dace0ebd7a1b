package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/model/onnx"
	"github.com/preconv/preconv/model/tfjs"
)

func init() {
	c := &Command{Name: "inspect", Short: "list a model's layers (taps) with shapes, params and FLOPs",
		Usage: `Usage: preconv inspect MODEL [--input C,H,W] [--json]

Lists every node of MODEL in execution order with its output shape (batch 1),
parameter count and FLOPs, so you can choose a --tap for 'preconv extract'.
MODEL is an .onnx file, a TF.js layers-model (model.json, its directory, or
an npm-bundled directory with model.min.js), or nsfwjs/mobilenet_v2 or
nsfwjs/inception_v3 (fetched with npm pack into the preconv cache).`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		asJSON := fs.Bool("json", false, "print JSON")
		input := fs.String("input", "", "per-image input shape C,H,W (default: the model's own)")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("inspect needs one MODEL (try 'preconv inspect nsfwjs/mobilenet_v2')")
		}
		g, err := loadForInspect(ctx, pos[0])
		if err != nil {
			return err
		}
		in := g.InputShape
		if *input != "" {
			if in, err = intList(*input); err != nil || len(in) == 0 {
				return usageError("--input %q: want C,H,W", *input)
			}
		}
		if len(in) == 0 {
			return usageError("%s: the model does not fix its input shape: pass --input C,H,W", pos[0])
		}
		infos, err := g.Describe(append([]int{1}, in...))
		if err != nil {
			return err
		}
		var params, flops int64
		for _, li := range infos {
			params += li.Params
			flops += li.FLOPs
		}
		if *asJSON {
			return writeJSON(env.Stdout, map[string]any{"model": pos[0], "name": g.Name, "input": g.Input,
				"input_shape": in, "output": g.Output, "aliases": g.Aliases, "layers": infos,
				"params": params, "flops": flops})
		}
		fmt.Fprintf(env.Stdout, "%s: %d nodes, input %q %v, output %q, %d params, %.3g GFLOPs/image\n",
			pos[0], len(infos), g.Input, in, g.Output, params, float64(flops)/1e9)
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		alias := map[string][]string{}
		for a, n := range g.Aliases {
			alias[n] = append(alias[n], a)
		}
		fmt.Fprintln(tw, "NAME\tTYPE\tOUTPUT\tPARAMS\tMFLOPs\tALIASES")
		for _, li := range infos {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%.1f\t%s\n", li.Name, li.Type, li.OutShape, li.Params, float64(li.FLOPs)/1e6, strings.Join(alias[li.Name], " "))
		}
		return tw.Flush()
	}
	register(c)
}

// loadForInspect opens an ONNX or TF.js model (or nsfwjs/NAME).
func loadForInspect(ctx context.Context, ref string) (*model.Graph, error) {
	low := strings.ToLower(ref)
	if name, ok := strings.CutPrefix(low, "nsfwjs/"); ok {
		if name != "mobilenet_v2" && name != "inception_v3" {
			return nil, usageError("%s: nsfwjs has mobilenet_v2 and inception_v3", ref)
		}
		dir, err := tfjs.FetchNSFWJS(ctx, "")
		if err != nil {
			return nil, err
		}
		return tfjs.Load(filepath.Join(dir, name), tfjs.Options{})
	}
	st, err := os.Stat(ref)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	switch {
	case strings.HasSuffix(low, ".onnx"):
		return onnx.Load(ref, onnx.Options{})
	case st.IsDir() || strings.HasSuffix(low, ".json") || strings.HasSuffix(low, ".js"):
		return tfjs.Load(ref, tfjs.Options{})
	}
	return nil, usageError("%s: unknown model format (want .onnx, a TF.js model.json or its directory, or nsfwjs/NAME)", ref)
}
