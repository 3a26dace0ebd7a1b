package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchPreprocess(t *testing.T) {
	fx := "../../imageset/internal/jpegdec/testdata/"
	r := run("bench", "preprocess", "--threads", "1,2", "--seconds", "0.1", "--json",
		fx+"q90_420_61x45.jpg", fx+"restart_rows.jpg", fx+"gray_61x45.png")
	if r.err != nil {
		t.Fatalf("bench preprocess: %v (stderr %s)", r.err, r.stderr)
	}
	var rows []struct {
		Set     string  `json:"set"`
		Files   int     `json:"files"`
		Workers int     `json:"workers"`
		Images  int     `json:"images"`
		Rate    float64 `json:"images_per_s"`
		PerCore float64 `json:"images_per_s_per_core"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("bad JSON %q: %v", r.stdout, err)
	}
	if len(rows) != 2 || rows[0].Workers != 1 || rows[1].Workers != 2 {
		t.Fatalf("rows %+v", rows)
	}
	for _, row := range rows {
		if row.Files != 3 || row.Images < 1 || row.Rate <= 0 || row.PerCore <= 0 || row.PerCore > row.Rate {
			t.Errorf("row %+v", row)
		}
	}
	// A file that does not decode fails the run and is named.
	r = run("bench", "preprocess", "--seconds", "0.1", fx+"arithmetic.jpg")
	if r.err == nil || !strings.Contains(r.err.Error(), "arithmetic.jpg") {
		t.Errorf("undecodable file: err %v", r.err)
	}
	if r := run("bench", "preprocess", "--threads", "0"); r.code != ExitUsage {
		t.Errorf("--threads 0: exit %d", r.code)
	}
}
