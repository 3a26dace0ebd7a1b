package backbone

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/model/onnx"
)

func openONNX(path string) (*Backbone, error) {
	g, err := onnx.Load(path, onnx.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	d, err := digestFiles(path)
	if err != nil {
		return nil, err
	}
	pre, _ := imageset.Named("torchvision")
	if n := g.InputShape; len(n) == 3 && n[1] > 0 && n[1] != 224 {
		// Keep torchvision's resize/crop ratio (256/224) at the model's size.
		pre = pre.WithSize(int(math.Round(float64(n[1]) * 256 / 224))).WithCrop(n[1])
	}
	return &Backbone{Name: filepath.Base(path), Arch: "onnx", Source: path, WeightsDigest: d, Preprocess: pre, Full: g}, nil
}
