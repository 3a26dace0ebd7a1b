package imageset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeTree builds an ImageFolder tree with nested folders, a symlinked file,
// a symlinked directory, a symlink loop, a directory named like an image and
// non-image files.
func makeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := []string{
		"dog/b.jpg", "dog/a.PNG", "dog/a.b.jpg", "dog/sub/x.jpg", "dog/sub/deeper/y.webp", "dog/sub2/z.jpeg",
		"dog/notes.txt", "dog/dir.jpg/inner.png", "cat/c1.bmp", "cat/c0.jpg", "cat/Z.jpg",
		"Bird/only.tiff", "stray.jpg",
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("../dog/b.jpg", filepath.Join(root, "cat", "link.jpg")))
	must(os.Symlink("../dog/sub", filepath.Join(root, "cat", "linkdir")))
	must(os.Symlink("..", filepath.Join(root, "dog", "sub", "loop")))
	must(os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	return root
}

func TestScanOrder(t *testing.T) {
	root := makeTree(t)
	ds, err := Scan(root, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range ds.Items {
		got = append(got, fmt.Sprintf("%d:%s", it.Label, it.Rel))
		if it.Class != ds.Classes[it.Label] || it.Path != filepath.Join(root, filepath.FromSlash(it.Rel)) {
			t.Errorf("inconsistent item %+v", it)
		}
	}
	// Expected order derived by hand from torchvision's rules (sorted
	// classes; sorted(os.walk(followlinks=True)); sorted file names);
	// TestScanMatchesTorchvision checks it against torchvision itself.
	if strings.Join(ds.Classes, ",") != "Bird,cat,dog,empty" {
		t.Errorf("classes %v", ds.Classes)
	}
	wantSorted := []string{
		"0:Bird/only.tiff",
		"1:cat/Z.jpg", "1:cat/c0.jpg", "1:cat/c1.bmp", "1:cat/link.jpg",
		"1:cat/linkdir/x.jpg", "1:cat/linkdir/deeper/y.webp",
		// cat/linkdir/loop leads to dog/, not yet seen from cat; dog/sub
		// was (as cat/linkdir) and is skipped, which ends the loop.
		"1:cat/linkdir/loop/a.PNG", "1:cat/linkdir/loop/a.b.jpg", "1:cat/linkdir/loop/b.jpg",
		"1:cat/linkdir/loop/dir.jpg/inner.png", "1:cat/linkdir/loop/sub2/z.jpeg",
		"2:dog/a.PNG", "2:dog/a.b.jpg", "2:dog/b.jpg", "2:dog/dir.jpg/inner.png",
		"2:dog/sub/x.jpg", "2:dog/sub/deeper/y.webp", "2:dog/sub2/z.jpeg",
	}
	if strings.Join(got, " ") != strings.Join(wantSorted, " ") {
		t.Errorf("items\n got %v\nwant %v", got, wantSorted)
	}
	if c := ds.Counts(); len(c) != 4 || c[0] != 1 || c[1] != 11 || c[2] != 7 || c[3] != 0 {
		t.Errorf("counts %v", c)
	}
}

// TestScanMatchesTorchvision lists the same tree with torchvision's
// ImageFolder (skipped when /usr/bin/python3 has no torchvision).
func TestScanMatchesTorchvision(t *testing.T) {
	root := makeTree(t)
	// torchvision raises on empty classes and loops forever on symlink
	// loops; remove those two for the comparison.
	os.Remove(filepath.Join(root, "empty"))
	os.Remove(filepath.Join(root, "dog", "sub", "loop"))
	script := `import sys, json
from torchvision.datasets.folder import make_dataset, find_classes
c, idx = find_classes(sys.argv[1])
print(json.dumps({"classes": c, "items": [[p[len(sys.argv[1])+1:], l] for p, l in make_dataset(sys.argv[1], idx, extensions=(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"))]}))`
	out, err := exec.Command("/usr/bin/python3", "-c", script, root).Output()
	if err != nil {
		t.Skipf("torchvision reference not available (/usr/bin/python3 + python3-torchvision): %v", err)
	}
	var ref struct {
		Classes []string
		Items   [][2]any
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	ds, err := Scan(root, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ds.Classes, ",") != strings.Join(ref.Classes, ",") {
		t.Fatalf("classes %v, torchvision %v", ds.Classes, ref.Classes)
	}
	if len(ds.Items) != len(ref.Items) {
		t.Fatalf("%d items, torchvision %d: %v", len(ds.Items), len(ref.Items), ref.Items)
	}
	for i, it := range ds.Items {
		if it.Rel != ref.Items[i][0].(string) || float64(it.Label) != ref.Items[i][1].(float64) {
			t.Errorf("item %d: %s/%d, torchvision %v", i, it.Rel, it.Label, ref.Items[i])
		}
	}
}

func TestScanErrors(t *testing.T) {
	if _, err := Scan(t.TempDir(), ScanOptions{}); !errors.Is(err, ErrNoClasses) {
		t.Errorf("empty root: %v", err)
	}
	if _, err := Scan(filepath.Join(t.TempDir(), "missing"), ScanOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
}

func TestScanWithValid(t *testing.T) {
	tr, va := t.TempDir(), t.TempDir()
	for _, f := range []string{"a/1.jpg", "b/2.jpg"} {
		os.MkdirAll(filepath.Join(tr, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(tr, f), nil, 0o644)
	}
	os.MkdirAll(filepath.Join(va, "b"), 0o755)
	os.WriteFile(filepath.Join(va, "b", "3.jpg"), nil, 0o644)
	ds, err := ScanWithValid(tr, va, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Items) != 3 || ds.Items[2].Split != "valid" || ds.Items[2].Label != 1 || ds.Items[0].Split != "train" {
		t.Fatalf("%+v", ds.Items)
	}
	os.MkdirAll(filepath.Join(va, "zzz"), 0o755)
	os.WriteFile(filepath.Join(va, "zzz", "4.jpg"), nil, 0o644)
	if _, err := ScanWithValid(tr, va, ScanOptions{}); !errors.Is(err, ErrNoClasses) {
		t.Errorf("unknown valid class: %v", err)
	}
}

func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ds, err := ReadManifest(write("m.csv", "path,label\nimgs/a.jpg,dog\n\"imgs/b,c.jpg\",cat\n/abs/x.png,dog,valid\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ds.Classes, ",") != "cat,dog" || len(ds.Items) != 3 {
		t.Fatalf("%+v", ds)
	}
	if it := ds.Items[1]; it.Rel != "imgs/b,c.jpg" || it.Label != 0 || it.Path != filepath.Join(dir, "imgs", "b,c.jpg") {
		t.Errorf("%+v", it)
	}
	if it := ds.Items[2]; it.Path != "/abs/x.png" || it.Split != "valid" || it.Class != "dog" {
		t.Errorf("%+v", it)
	}
	ds, err = ReadManifest(write("m.jsonl", `{"path":"a.jpg","label":2}`+"\n\n"+`{"path":"b.jpg","label":0}`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ds.Classes, ",") != "0,1,2" || ds.Items[0].Label != 2 || ds.Items[0].Class != "2" {
		t.Fatalf("%+v", ds)
	}
	ds, err = ReadManifest(write("n.csv", "a.jpg,1\nb.jpg,0\n"), []string{"cat", "dog"})
	if err != nil || ds.Items[0].Class != "dog" {
		t.Fatalf("%v %+v", err, ds)
	}
	for name, body := range map[string]string{
		"bad1.csv":   "a.jpg\n",
		"bad2.csv":   "a.jpg,1,2,3\n",
		"bad3.jsonl": "{\"path\":\"a.jpg\"}\n",
		"bad4.jsonl": "not json\n",
		"bad5.csv":   "a.jpg,-1\n",
		"bad6.csv":   "a.jpg,1,test\n",
		"empty.csv":  "",
		"bad.txt":    "a.jpg,1\n",
	} {
		_, err := ReadManifest(write(name, body), nil)
		if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestHashAndSplit(t *testing.T) {
	dir := t.TempDir()
	var items []Item
	for i := 0; i < 400; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%03d.jpg", i))
		os.WriteFile(p, []byte(fmt.Sprintf("content %d", i)), 0o644)
		items = append(items, Item{Path: p, Rel: filepath.Base(p)})
	}
	items = append(items, Item{Path: filepath.Join(dir, "missing.jpg"), Rel: "missing.jpg"})
	err := Hash(context.Background(), items, 3)
	var ie *ItemError
	if !errors.As(err, &ie) || ie.Path != items[400].Path {
		t.Fatalf("Hash error %v, want an ItemError for missing.jpg", err)
	}
	// sha256("content 0"), from coreutils sha256sum.
	if got, want := items[0].SHA256, "75e0d458fc2da40b5b8b8b614d0192e9da7fffc2d6042f33300fdb0e8a83dfb4"; got != want {
		t.Fatalf("hash %q, want %s", got, want)
	}
	SplitByHash(items, 0.25)
	before := map[string]string{}
	nv := 0
	for _, it := range items {
		before[it.SHA256+it.Rel] = it.Split
		if it.Split == "valid" {
			nv++
		}
	}
	if nv < 70 || nv > 130 {
		t.Errorf("%d of %d valid at fraction 0.25", nv, len(items))
	}
	// Renaming and adding files moves nothing.
	moved := append([]Item(nil), items...)
	for i := range moved {
		moved[i].Rel = "renamed/" + moved[i].Rel
		moved[i].Split = ""
	}
	moved = append(moved, Item{Rel: "new.jpg", SHA256: strings.Repeat("0", 64)})
	SplitByHash(moved, 0.25)
	for i, it := range moved[:400] {
		if it.Split != items[i].Split {
			t.Fatalf("item %d moved from %s to %s", i, items[i].Split, it.Split)
		}
	}
}
