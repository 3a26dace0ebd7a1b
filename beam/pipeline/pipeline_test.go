package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/preconv/preconv/beam/pipeline"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/storesync"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// folder writes root/{cat,dog}/imgNNN.png (perClass each) and one
// undecodable root/dog/bad.png.
func folder(t *testing.T, perClass int) string {
	root := filepath.Join(t.TempDir(), "data")
	for c, name := range []string{"cat", "dog"} {
		for n := 0; n < perClass; n++ {
			img := image.NewNRGBA(image.Rect(0, 0, 16, 14))
			for y := 0; y < 14; y++ {
				for x := 0; x < 16; x++ {
					img.Set(x, y, color.NRGBA{uint8((x*17 + y*31 + n*53) % 256), uint8(40 + 150*c), uint8(200 - 150*c), 255})
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(root, name, fmt.Sprintf("img%03d.png", n))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "dog", "bad.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// files returns the store's files but .zattrs (creation time), the lock and
// the shard directories.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == extract.ShardsDir {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == ".zattrs" || rel == ".preconv/lock" {
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPrismEqualsShardProcesses runs the pipeline on Beam's Prism runner and
// compares its store, file for file, with the store that 3 shard processes
// of the real preconv binary plus 'preconv store merge' write.
func TestPrismEqualsShardProcesses(t *testing.T) {
	data := folder(t, 12)
	dir := t.TempDir()
	viaProcs, viaBeam := filepath.Join(dir, "procs"), filepath.Join(dir, "beam")
	const n = 3

	bin := filepath.Join(dir, "preconv")
	build := exec.Command("go", "build", "-o", bin, "./cmd/preconv")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build preconv: %v\n%s", err, out)
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command(bin, "extract", "--model", "pixels", "--size", "8", "--data", data, "--out", viaProcs,
				"--valid-fraction", "0.25", "--chunk-items", "4", "--threads", "1", "--workers", "1", "--quiet",
				"--shard", fmt.Sprintf("%d/%d", i, n)).CombinedOutput()
			// Exit 3: the undecodable image is reported; the shard still completes.
			if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 3) {
				t.Errorf("shard %d/%d: %v\n%s", i, n, err, out)
			}
		}()
	}
	wg.Wait()
	if out, err := exec.Command(bin, "store", "merge", viaProcs).CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}

	j := pipeline.Job{Model: "pixels", Size: 8, Data: data, Out: viaBeam, ValidFraction: 0.25, ChunkRows: 4,
		Threads: 1, Workers: 1, Shards: n}
	p, s := beam.NewPipelineWithRoot()
	if _, err := pipeline.Build(s, j); err != nil {
		t.Fatal(err)
	}
	if _, err := prism.Execute(context.Background(), p); err != nil {
		t.Fatalf("prism: %v", err)
	}
	res, err := pipeline.Result(viaBeam)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 25 || res.Failed != 1 {
		t.Errorf("pipeline store: %d items, %d failed; want 25, 1", res.Items, res.Failed)
	}
	a, b := files(t, viaProcs), files(t, viaBeam)
	if len(a) < 8 {
		t.Fatalf("only %d files in %s", len(a), viaProcs)
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Errorf("%s differs between shard processes and the Beam pipeline", k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("extra file %s from the pipeline", k)
		}
	}
	pa, pb := prov(t, viaProcs), prov(t, viaBeam)
	if pa.SpecDigest != pb.SpecDigest || pa.LayoutHash != pb.LayoutHash || pa.Count != pb.Count {
		t.Errorf("provenance differs: %+v vs %+v", pa, pb)
	}
	if rep, err := store.Verify(viaBeam); err != nil || !rep.OK() {
		t.Errorf("verify: %+v %v", rep, err)
	}
	// Rerun: every shard is finished, nothing is computed, the store stays.
	p2, s2 := beam.NewPipelineWithRoot()
	pipeline.Build(s2, j)
	if _, err := prism.Execute(context.Background(), p2); err != nil {
		t.Fatalf("prism rerun: %v", err)
	}
	c := files(t, viaBeam)
	for k, v := range b {
		if !bytes.Equal(v, c[k]) {
			t.Errorf("rerun changed %s", k)
		}
	}
}

func prov(t *testing.T, dir string) store.Provenance {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s.Provenance()
}

func TestJobValidate(t *testing.T) {
	ok := pipeline.Job{Model: "pixels", Data: "d", Out: "o", Shards: 2}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid job: %v", err)
	}
	for _, j := range []pipeline.Job{
		{Data: "d", Out: "o", Shards: 2},
		{Model: "pixels", Data: "d", Out: "o"},
		{Model: "pixels", Data: "d", Out: "o", Shards: 2, DType: "f8"},
	} {
		if err := j.Validate(); err == nil {
			t.Errorf("job %+v accepted", j)
		}
	}
	// The job survives the JSON round trip Beam uses for DoFn fields.
	b, _ := json.Marshal(ok)
	var back pipeline.Job
	if err := json.Unmarshal(b, &back); err != nil || back != ok {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

// TestPrismS3 runs the pipeline with an s3:// store on a real S3 server
// (versitygw on loopback): workers use working copies and push shards, the
// merge pushes the store; pulled back, it equals a local pipeline run.
func TestPrismS3(t *testing.T) {
	srv := s3test.StartServer(t)
	srv.Setenv(t)
	t.Setenv("PRECONV_CACHE", t.TempDir())
	data := folder(t, 6)
	dir := t.TempDir()
	local := filepath.Join(dir, "local")
	ref := "s3://" + srv.Bucket + "/beam-feats"
	for _, out := range []string{local, ref} {
		j := pipeline.Job{Model: "pixels", Size: 8, Data: data, Out: out, ChunkRows: 3, Threads: 1, Workers: 1, Shards: 2}
		p, s := beam.NewPipelineWithRoot()
		if _, err := pipeline.Build(s, j); err != nil {
			t.Fatal(err)
		}
		if _, err := prism.Execute(context.Background(), p); err != nil {
			t.Fatalf("prism, out %s: %v", out, err)
		}
	}
	bucket := srv.Open(t, "beam-feats")
	if names, err := storesync.RemoteShards(context.Background(), bucket, ""); err != nil || fmt.Sprint(names) != "[0-of-2 1-of-2]" {
		t.Errorf("shards pushed: %v %v", names, err)
	}
	pulled := filepath.Join(dir, "pulled")
	if _, err := storesync.Pull(context.Background(), bucket, "", pulled, filepath.Join(dir, "cache")); err != nil {
		t.Fatal(err)
	}
	a, b := files(t, local), files(t, pulled)
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Errorf("%s differs between the local and the S3 pipeline store", k)
		}
	}
	if len(a) != len(b) || len(a) < 8 {
		t.Errorf("%d local files, %d pulled", len(a), len(b))
	}
}
