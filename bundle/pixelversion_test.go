package bundle_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/imageset"
)

// TestPredictOlderPixelVersion: a run whose features were extracted under
// an earlier imageset.PixelVersion still predicts, with the current
// decoder and a note saying so; an unknown (newer) version is refused.
func TestPredictOlderPixelVersion(t *testing.T) {
	f := trained(t, "pixels", backbone.Options{}, "f32", 4)
	path := filepath.Join(f.run, "run.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	setVersion := func(v int) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		spec := m["spec"].(map[string]any)
		spec["preprocess"].(map[string]any)["version"] = v
		b, _ := json.MarshalIndent(m, "", "  ")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setVersion(imageset.PixelVersion - 1)
	p, err := bundle.NewPredictor(ctx, f.run, "pixels", backbone.Options{})
	if err != nil {
		t.Fatalf("older pixel version refused: %v", err)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "pixel version") || p.Pre.Version != imageset.PixelVersion {
		t.Errorf("notes %q, version %d", p.Notes, p.Pre.Version)
	}
	setVersion(imageset.PixelVersion + 1)
	if _, err := bundle.NewPredictor(ctx, f.run, "pixels", backbone.Options{}); err == nil {
		t.Error("a newer pixel version was accepted")
	}
}
