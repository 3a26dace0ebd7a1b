package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/report"
	"github.com/preconv/preconv/train"
)

func init() {
	c := &Command{Name: "eval", Short: "evaluate a trained head on a feature store",
		Usage: `Usage: preconv eval --run RUN --store STORE [--split valid] [--report DIR]

Scores the head in RUN on the features in STORE (which must have been
extracted with the same spec): accuracy, loss, per-class precision/recall,
confusion matrix and the worst misclassified items.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		run := fs.String("run", "", "run directory (required)")
		st := fs.String("store", "", "feature store (required)")
		split := fs.String("split", "", "evaluate only this split (train, valid); default all items")
		rep := fs.String("report", "", "also write an HTML report to this directory")
		topK := fs.Int("top", 10, "misclassified items to list")
		tta := fs.String("tta", "", "test-time augmentation: views (average over the stored views of each image) or flip (spatial features only)")
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *run == "" || *st == "" {
			return usageError("eval needs --run and --store (see 'preconv eval -h')")
		}
		stDir, _, err := openStoreRef(ctx, env, *st, false) // s3://, http(s):// → local copy
		if err != nil {
			return err
		}
		m, met, err := bundle.EvaluateTTAMode(ctx, *run, stDir, *split, *tta, &train.EvalOptions{TopK: *topK})
		if err != nil {
			return err
		}
		if *rep != "" {
			if err := report.Write(*rep, report.Report{Title: "preconv eval: " + *st, Settings: map[string]any{"run": *run, "store": *st, "split": *split, "features": m.Spec},
				History: m.History, Metrics: met}); err != nil {
				return err
			}
		}
		if *asJSON {
			return writeJSON(env.Stdout, met)
		}
		fmt.Fprintf(env.Stdout, "accuracy %.4f on %d items, loss %.4f\n\n", met.Accuracy, met.Items, met.Loss)
		fmt.Fprintf(env.Stdout, "%-20s %9s %9s %9s %7s\n", "class", "precision", "recall", "f1", "support")
		for _, pc := range met.PerClass {
			fmt.Fprintf(env.Stdout, "%-20s %9.4f %9.4f %9.4f %7d\n", pc.Class, pc.Precision, pc.Recall, pc.F1, pc.Support)
		}
		fmt.Fprintln(env.Stdout, "\nconfusion (rows: true, columns: predicted)")
		for i, row := range met.Confusion {
			fmt.Fprintf(env.Stdout, "%-20s", met.Classes[i])
			for _, v := range row {
				fmt.Fprintf(env.Stdout, " %6d", v)
			}
			fmt.Fprintln(env.Stdout)
		}
		if len(met.Misclassified) > 0 {
			fmt.Fprintln(env.Stdout, "\nworst misclassified")
			for _, ms := range met.Misclassified {
				fmt.Fprintf(env.Stdout, "  %s: %s predicted %s (p=%.3f, p(true)=%.3f)\n", ms.Name, ms.True, ms.Pred, ms.ProbPred, ms.ProbTrue)
			}
		}
		if *rep != "" {
			fmt.Fprintf(env.Stdout, "\nreport: %s\n", filepath.Join(*rep, "index.html"))
		}
		return nil
	}
	register(c)
}
