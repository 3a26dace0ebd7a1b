package imageset_test

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/imageset"
)

func ExampleNamed() {
	p, err := imageset.Named("torchvision")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.OutShape())
	fmt.Println(p.WithSize(342).WithCrop(299).OutShape())
	// Output:
	// [3 224 224]
	// [3 299 299]
}

func ExampleLoad() {
	ds, err := imageset.Scan("testdata/bad", imageset.ScanOptions{})
	if err != nil {
		panic(err)
	}
	pre, _ := imageset.ParsePreprocess("torchvision")
	good, bad := 0, 0
	for b, err := range imageset.Load(context.Background(), ds.Items, pre, imageset.LoadOptions{Batch: 8, Workers: 2}) {
		if err != nil {
			panic(err)
		}
		good += b.X.Shape[0]
		bad += len(b.Errors) // each is an *ItemError: "path: reason"
	}
	fmt.Println(ds.Classes, good, "loaded,", bad, "bad")
	// Output: [broken good] 11 loaded, 6 bad
}
