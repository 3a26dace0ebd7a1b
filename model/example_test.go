package model_test

import (
	"fmt"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/model/torch"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Example loads a torchvision-style VGG checkpoint, fuses it for inference
// and reads the "features" tap for a batch of two images.
func Example() {
	g, err := model.NewVGG(model.VGGConfig{Name: "vggs", Layers: []int{8, model.M, 16, model.M, 32, 32, model.M}, Hidden: 16, NumClasses: 10})
	if err != nil {
		panic(err)
	}
	sd, err := torch.Load("testdata/vggs.pth") // or model.LoadWeightsFile for .safetensors too
	if err != nil {
		panic(err)
	}
	if err := g.LoadStateDict(sd, true); err != nil {
		panic(err)
	}
	fused, err := g.Fuse("features")
	if err != nil {
		panic(err)
	}
	x := tensor.New(2, 3, 32, 32)
	y, err := fused.Forward(&nn.Exec{Threads: 2}, x, "features")
	if err != nil {
		panic(err)
	}
	fmt.Println(y.Shape)
	// Output: [2 32 4 4]
}
