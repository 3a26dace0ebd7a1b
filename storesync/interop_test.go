package storesync_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/storesync"
)

// TestPythonReadsPushedStore pushes a store to versitygw and reads it back
// with Python zarr over the S3 protocol (s3fs if installed, else boto3:
// Debian python3-boto3), checking every value against the Go side.
func TestPythonReadsPushedStore(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import zarr, numcodecs\ntry:\n import s3fs\nexcept ImportError:\n import boto3").Run(); err != nil {
		t.Skipf("%s cannot import zarr, numcodecs and s3fs or boto3 (Debian: python3-zarr python3-numcodecs python3-boto3): %v", py, err)
	}
	srv := s3test.StartServer(t)
	src := filepath.Join(t.TempDir(), "src")
	its := items(10, nil)
	makeStore(t, src, its)
	if _, err := storesync.Push(context.Background(), src, srv.Open(t, ""), "stores/py"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/read_s3.py", srv.Endpoint, srv.Access, srv.Secret, srv.Bucket, "stores/py")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("read_s3.py: %v", err)
	}
	var got struct {
		Via     string    `json:"via"`
		Shape   []int     `json:"shape"`
		DType   string    `json:"dtype"`
		Labels  []int     `json:"labels"`
		Keys    []string  `json:"keys"`
		Sum     float64   `json:"sum"`
		First   []float64 `json:"first"`
		Classes []string  `json:"classes"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("read_s3.py output %q: %v", out, err)
	}
	t.Logf("python read the store via %s", got.Via)
	if len(got.Shape) != 2 || got.Shape[0] != len(its) || got.Shape[1] != 64 || got.DType != "float32" {
		t.Fatalf("python sees features %v %s, want [%d 64] float32", got.Shape, got.DType, len(its))
	}
	var sum float64
	for i, it := range its {
		if got.Labels[i] != it.Label || got.Keys[i] != it.Key {
			t.Errorf("item %d: python label %d key %.8s, want %d %.8s", i, got.Labels[i], got.Keys[i], it.Label, it.Key)
		}
		for _, v := range features(it.Key, 64) {
			sum += float64(v)
		}
	}
	for j, v := range features(its[0].Key, 64) {
		if got.First[j] != float64(v) {
			t.Fatalf("row 0 col %d: python %v, want %v", j, got.First[j], v)
		}
	}
	if math.Abs(got.Sum-sum) > 1e-9*math.Abs(sum) {
		t.Errorf("feature sum: python %v, go %v", got.Sum, sum)
	}
	if len(got.Classes) != 2 || got.Classes[0] != "a" {
		t.Errorf("classes %v", got.Classes)
	}
}
