package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/preconv/preconv/train"
)

// Report is the content of a report directory.
type Report struct {
	// Title heads the page (default "preconv training report").
	Title string
	// Settings are shown as indented JSON (typically a train.Config, or a
	// map with the store's provenance as well).
	Settings any
	History  []train.EpochMetrics
	// Metrics of the final head on the validation (or test) split; may be nil.
	Metrics  *train.Metrics
	Warnings []string
	// Notes are extra key/value lines (e.g. "folded": "layers 0..5").
	Notes map[string]string
}

// Files written by Write inside the report directory.
const (
	LossPNG      = "loss.png"
	AccuracyPNG  = "accuracy.png"
	ConfusionPNG = "confusion.png"
	IndexHTML    = "index.html"
)

// Write creates dir (if needed) and writes the plots and index.html.
func Write(dir string, r Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if r.Title == "" {
		r.Title = "preconv training report"
	}
	var imgs []string
	if len(r.History) > 0 {
		if err := curves(filepath.Join(dir, LossPNG), "Loss", r.History,
			func(e train.EpochMetrics) (float64, float64) { return e.TrainLoss, e.ValidLoss }); err != nil {
			return fmt.Errorf("report: %s: %w", LossPNG, err)
		}
		if err := curves(filepath.Join(dir, AccuracyPNG), "Accuracy", r.History,
			func(e train.EpochMetrics) (float64, float64) { return e.TrainAcc, e.ValidAcc }); err != nil {
			return fmt.Errorf("report: %s: %w", AccuracyPNG, err)
		}
		imgs = append(imgs, LossPNG, AccuracyPNG)
	}
	if r.Metrics != nil && len(r.Metrics.Confusion) > 0 {
		if err := confusion(filepath.Join(dir, ConfusionPNG), r.Metrics); err != nil {
			return fmt.Errorf("report: %s: %w", ConfusionPNG, err)
		}
		imgs = append(imgs, ConfusionPNG)
	}
	settings, err := json.MarshalIndent(r.Settings, "", "  ")
	if err != nil {
		return fmt.Errorf("report: settings: %w", err)
	}
	f, err := os.CreateTemp(dir, ".index*.html")
	if err != nil {
		return err
	}
	data := struct {
		Report
		SettingsJSON string
		Images       []string
	}{r, string(settings), imgs}
	if err := page.Execute(f, data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("report: %s: %w", IndexHTML, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, IndexHTML))
}

func curves(path, what string, hist []train.EpochMetrics, get func(train.EpochMetrics) (float64, float64)) error {
	p := plot.New()
	p.Title.Text = what + " per epoch"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = what
	tr := make(plotter.XYs, len(hist))
	va := make(plotter.XYs, len(hist))
	for i, e := range hist {
		a, b := get(e)
		tr[i].X, tr[i].Y = float64(e.Epoch), a
		va[i].X, va[i].Y = float64(e.Epoch), b
	}
	for _, s := range []struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}{{"train", tr, color.RGBA{R: 31, G: 119, B: 180, A: 255}}, {"valid", va, color.RGBA{R: 255, G: 127, B: 14, A: 255}}} {
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = s.c, s.c
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

type grid struct{ m [][]int }

func (g grid) Dims() (c, r int)   { return len(g.m), len(g.m) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Z(c, r int) float64 { return float64(g.m[len(g.m)-1-r][c]) } // true class top to bottom

type ticks []string

func (t ticks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for i, s := range t {
		out = append(out, plot.Tick{Value: float64(i), Label: s})
	}
	return out
}

func confusion(path string, m *train.Metrics) error {
	c := len(m.Confusion)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Confusion matrix (accuracy %.3f)", m.Accuracy)
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	hm := plotter.NewHeatMap(grid{m.Confusion}, moreland.SmoothBlueRed().Palette(64))
	p.Add(hm)
	var lab plotter.XYLabels
	for t := 0; t < c; t++ {
		for q := 0; q < c; q++ {
			lab.XYs = append(lab.XYs, plotter.XY{X: float64(q), Y: float64(c - 1 - t)})
			lab.Labels = append(lab.Labels, fmt.Sprint(m.Confusion[t][q]))
		}
	}
	if c <= 30 {
		l, err := plotter.NewLabels(lab)
		if err != nil {
			return err
		}
		p.Add(l)
	}
	names := m.Classes
	if len(names) != c {
		names = make([]string, c)
		for i := range names {
			names[i] = fmt.Sprint(i)
		}
	}
	rev := make(ticks, c)
	for i := range names {
		rev[i] = names[c-1-i]
	}
	p.X.Tick.Marker = ticks(names)
	p.Y.Tick.Marker = rev
	side := vg.Length(4+0.25*float64(min(c, 40))) * vg.Inch
	return p.Save(side, side, path)
}

var page = template.Must(template.New("index").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"f4":  func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"f1":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}img{max-width:48%;margin:.5em}
pre{background:#f8f8f8;padding:1em;overflow:auto}.warn{color:#a40}
</style></head><body>
<h1>{{.Title}}</h1>
{{with .Metrics}}<p><b>Accuracy {{pct .Accuracy}}</b>, loss {{f4 .Loss}} on {{.Items}} items.</p>{{end}}
{{range .Warnings}}<p class="warn">⚠ {{.}}</p>{{end}}
{{if .Notes}}<table>{{range $k, $v := .Notes}}<tr><th class="l">{{$k}}</th><td class="l">{{$v}}</td></tr>{{end}}</table>{{end}}
<div>{{range .Images}}<img src="{{.}}" alt="{{.}}">{{end}}</div>
{{with .Metrics}}
<h2>Per class</h2>
<table><tr><th class="l">class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{{range .PerClass}}<tr><td class="l">{{.Class}}</td><td>{{f4 .Precision}}</td><td>{{f4 .Recall}}</td><td>{{f4 .F1}}</td><td>{{.Support}}</td></tr>{{end}}
</table>
{{if .Misclassified}}<h2>Most confident mistakes</h2>
<table><tr><th>#</th><th class="l">item</th><th class="l">true</th><th class="l">predicted</th><th>p(pred)</th><th>p(true)</th></tr>
{{range .Misclassified}}<tr><td>{{.Index}}</td><td class="l">{{.Name}}</td><td class="l">{{.True}}</td><td class="l">{{.Pred}}</td><td>{{f4 .ProbPred}}</td><td>{{f4 .ProbTrue}}</td></tr>{{end}}
</table>{{end}}
{{end}}
{{if .History}}<h2>History</h2>
<table><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>valid loss</th><th>valid acc</th><th>seconds</th><th>items/s</th></tr>
{{range .History}}<tr><td>{{.Epoch}}</td><td>{{printf "%.3g" .LR}}</td><td>{{f4 .TrainLoss}}</td><td>{{pct .TrainAcc}}</td><td>{{f4 .ValidLoss}}</td><td>{{pct .ValidAcc}}</td><td>{{f1 .Seconds}}</td><td>{{printf "%.0f" .ItemsPerSec}}</td></tr>{{end}}
</table>{{end}}
<h2>Settings</h2>
<pre>{{.SettingsJSON}}</pre>
</body></html>
`))
