package imageset

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func writeTestImages(t *testing.T, n int) []Item {
	t.Helper()
	dir := t.TempDir()
	var items []Item
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		m := testImage(20+i, 17+2*i)
		m.Pix[0] = uint8(i)
		if err := png.Encode(f, m); err != nil {
			t.Fatal(err)
		}
		f.Close()
		items = append(items, Item{Path: p, Rel: filepath.Base(p), Label: i % 2})
	}
	if err := Hash(context.Background(), items, 2); err != nil {
		t.Fatal(err)
	}
	return items
}

func collect(t *testing.T, seq func(func(*Batch, error) bool)) ([]int, []float32) {
	t.Helper()
	var idx []int
	var x []float32
	for b, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		idx = append(idx, b.Index...)
		x = append(x, b.X.Data...)
	}
	return idx, x
}

// TestLoadViews: view 0 is byte-identical to Load, and every view is
// byte-identical for any worker count and batch size.
func TestLoadViews(t *testing.T) {
	ctx := context.Background()
	items := writeTestImages(t, 5)
	pre, _ := Named("unit")
	pre = pre.WithSize(16)
	a, err := ParseAugment("flip,crop,rotate,jitter")
	if err != nil {
		t.Fatal(err)
	}
	var views []View
	for i, it := range items {
		for k := 0; k < 3; k++ {
			views = append(views, View{Item: i, K: k, Key: ViewKey(it.SHA256, a, k)})
		}
	}
	_, plain := collect(t, Load(ctx, items, pre, LoadOptions{Batch: 2, Workers: 2}))
	var ref []float32
	for _, o := range []LoadOptions{{Batch: 1, Workers: 1}, {Batch: 8, Workers: 2}, {Batch: 5, Workers: 3}} {
		idx, x := collect(t, LoadViews(ctx, items, views, pre, a, o))
		if len(idx) != len(views) {
			t.Fatalf("%+v: %d rows, want %d", o, len(idx), len(views))
		}
		if ref == nil {
			ref = x
			continue
		}
		for i := range x {
			if x[i] != ref[i] {
				t.Fatalf("batch %d workers %d: value %d differs from batch 1 workers 1", o.Batch, o.Workers, i)
			}
		}
	}
	per := 3 * 16 * 16
	for i := range items {
		v0 := ref[(3*i)*per : (3*i+1)*per]
		for j, v := range v0 {
			if v != plain[i*per+j] {
				t.Fatalf("item %d: view 0 differs from Load at %d", i, j)
			}
		}
		same := true
		v1 := ref[(3*i+1)*per : (3*i+2)*per]
		for j := range v1 {
			if v1[j] != v0[j] {
				same = false
				break
			}
		}
		if same {
			t.Errorf("item %d: view 1 equals view 0", i)
		}
	}
}
