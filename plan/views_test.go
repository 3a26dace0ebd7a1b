package plan_test

import (
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/plan"
)

// TestMakeViews: with K views, sizes and times scale with the rows (K per
// training image, one per held-out image), not the images.
func TestMakeViews(t *testing.T) {
	b, err := backbone.Open(ctx, tfjsSmall, backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := images(t, 5)
	items[4].Split = "valid"
	o := plan.Options{Sample: 2, Threads: 1, Pools: []string{"avg"}, DTypes: []string{"f32"}, Taps: []string{b.Tap}}
	p1, err := plan.Make(ctx, b, items, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Views = 4
	p4, err := plan.Make(ctx, b, items, o)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Rows != 5 || p4.Rows != 4*4+1 || p4.Views != 4 {
		t.Fatalf("rows %d and %d (views %d), want 5 and 17", p1.Rows, p4.Rows, p4.Views)
	}
	c1, c4 := p1.Candidates[0], p4.Candidates[0]
	if c4.RawBytes != c1.RawBytes/5*17 {
		t.Errorf("raw bytes %d with 4 views, %d without: want ×17/5", c4.RawBytes, c1.RawBytes)
	}
	if c4.ExtractSec <= 0 || c4.ExtractSec/c4.SecPerImage < 16.9 {
		t.Errorf("extract %.3gs for %.3gs per image: want 17 rows' worth", c4.ExtractSec, c4.SecPerImage)
	}
}
