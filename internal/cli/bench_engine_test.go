package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestBenchEngine(t *testing.T) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"bench", "engine", "--arch", "vgg11", "--size", "32", "--batch", "2", "--threads", "1", "--runs", "1", "--json"}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("bench engine: %v (stderr %s)", err, errb.String())
	}
	var got struct {
		Results []struct {
			Batch     int     `json:"batch"`
			ImgPerSec float64 `json:"img_per_s"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %q: %v", out.String(), err)
	}
	if len(got.Results) != 1 || got.Results[0].Batch != 2 || got.Results[0].ImgPerSec <= 0 {
		t.Fatalf("unexpected %+v", got)
	}
	for _, bad := range [][]string{{"--threads", "0"}, {"--batch", "x"}, {"extra"}, {"--peer-dir", "/nonexistent"}} {
		err := Run(context.Background(), append([]string{"bench", "engine"}, bad...), nil, &out, &errb)
		if ExitCode(err) != ExitUsage {
			t.Errorf("bench engine %v: exit %d (%v), want %d", bad, ExitCode(err), err, ExitUsage)
		}
	}
}
