package backbone

import (
	"fmt"
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
	if len(g.InputShape) == 3 && g.InputShape[1] > 0 && g.InputShape[1] != 224 {
		pre = pre.WithCrop(g.InputShape[1])
	}
	return &Backbone{Name: filepath.Base(path), Arch: "onnx", Source: path, WeightsDigest: d, Preprocess: pre, Full: g}, nil
}
