package cli

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
)

func init() {
	c := &Command{Name: "predict", Short: "classify new images with a trained run",
		Usage: `Usage: preconv predict --run RUN [--model BACKBONE] [--top K] IMAGE...

Runs the backbone and the trained head on new images and prints the top-K
classes with probabilities. The backbone is the one recorded in RUN (a known
name such as nsfwjs/mobilenet_v2), or the weights file given with --model,
whose digest must match the one the head was trained on.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		run := fs.String("run", "", "run directory (required)")
		modelRef := fs.String("model", "", "backbone weights file (default: the one recorded in the run)")
		arch := fs.String("arch", "", "architecture of a bare weights file")
		topK := fs.Int("top", 3, "classes to show per image")
		threads := fs.Int("threads", 0, "threads (default: number of CPUs)")
		tta := fs.String("tta", "", "test-time augmentation: flip (average with the horizontally flipped image: two backbone passes)")
		asJSON := fs.Bool("json", false, "print JSON")
		images, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if *run == "" || len(images) == 0 {
			return usageError("predict needs --run and at least one image (see 'preconv predict -h')")
		}
		p, err := bundle.NewPredictor(ctx, *run, *modelRef, backbone.Options{Arch: *arch})
		if err != nil {
			return err
		}
		p.Threads = *threads
		for _, n := range p.Notes {
			fmt.Fprintf(env.Stderr, "note: %s\n", n)
		}
		if *tta != "" && *tta != bundle.TTAFlip {
			return usageError("--tta %q: predict supports flip", *tta)
		}
		p.TTA = *tta
		preds, err := p.Predict(ctx, images, *topK)
		if err != nil {
			return err
		}
		bad := 0
		for _, pr := range preds {
			if pr.Error != "" {
				bad++
			}
		}
		if *asJSON {
			if err := writeJSON(env.Stdout, preds); err != nil {
				return err
			}
		} else {
			for _, pr := range preds {
				if pr.Error != "" {
					fmt.Fprintf(env.Stdout, "%s: error: %s\n", pr.Path, pr.Error)
					continue
				}
				fmt.Fprintf(env.Stdout, "%s:", pr.Path)
				for _, cp := range pr.Top {
					fmt.Fprintf(env.Stdout, "  %s %.4f", cp.Class, cp.Prob)
				}
				fmt.Fprintln(env.Stdout)
			}
		}
		if bad > 0 {
			return partialError("%d of %d images could not be read", bad, len(preds))
		}
		return nil
	}
	register(c)
}
