package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestBenchGemm(t *testing.T) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"bench", "gemm", "--threads", "1", "--shapes", "conv5_x", "--time", "1ms", "--no-openblas", "--json"}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("bench gemm: %v (stderr %s)", err, errb.String())
	}
	var got struct {
		Kernel  string
		Results []struct {
			Shape string
			Ours  float64 `json:"ours_gflops"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %q: %v", out.String(), err)
	}
	if len(got.Results) != 1 || got.Results[0].Shape != "conv5_x" || got.Results[0].Ours <= 0 || got.Kernel == "" {
		t.Fatalf("unexpected result %+v", got)
	}
	for _, bad := range [][]string{{"--threads", "0"}, {"--shapes", "conv9"}, {"extra"}} {
		err := Run(context.Background(), append([]string{"bench", "gemm"}, bad...), nil, &out, &errb)
		if ExitCode(err) != ExitUsage {
			t.Errorf("bench gemm %v: exit %d (%v), want %d", bad, ExitCode(err), err, ExitUsage)
		}
	}
}
