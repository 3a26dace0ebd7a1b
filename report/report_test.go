package report_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/report"
	"github.com/preconv/preconv/train"
)

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rep")
	m := &train.Metrics{Items: 10, Accuracy: 0.7, Loss: 0.5, Classes: []string{"cat", "dog<script>"},
		Confusion:     [][]int{{4, 1}, {2, 3}},
		PerClass:      []train.ClassMetrics{{Class: "cat", Precision: 0.667, Recall: 0.8, F1: 0.727, Support: 5}, {Class: "dog<script>", Support: 5}},
		Misclassified: []train.Miss{{Index: 3, Name: "photos/x.jpg", True: "cat", Pred: "dog<script>", ProbPred: 0.9, ProbTrue: 0.1}}}
	r := report.Report{Settings: map[string]any{"lr": 0.01}, Metrics: m, Warnings: []string{"w1"},
		History: []train.EpochMetrics{{Epoch: 1, TrainLoss: 1, ValidLoss: 0.9, TrainAcc: 0.5, ValidAcc: 0.6}, {Epoch: 2, TrainLoss: 0.6, ValidLoss: 0.7, TrainAcc: 0.7, ValidAcc: 0.7}}}
	if err := report.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{report.LossPNG, report.AccuracyPNG, report.ConfusionPNG} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("%s: %v", f, err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, report.IndexHTML))
	s := string(html)
	for _, want := range []string{"photos/x.jpg", "70.0%", "confusion.png", "&#34;lr&#34;: 0.01", "w1"} {
		if !strings.Contains(s, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(s, "dog<script>") {
		t.Error("class name not escaped")
	}
}
