package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/preconv/preconv/store"
)

// Example shows an extraction writing a store and a trainer reading it.
func Example() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	spec := store.Spec{Model: "vgg16", WeightsDigest: "ab12", Arch: "vgg16", Tap: "features",
		DType: "f16", FeatureShape: []int{4}}
	var items []store.ItemRef
	for i, img := range []string{"cat1", "cat2", "dog1"} {
		h := sha256.Sum256([]byte(img)) // in real use: the image file's bytes
		items = append(items, store.ItemRef{Key: hex.EncodeToString(h[:]), Path: img + ".jpg", Label: i / 2, Split: "train"})
	}
	w, plan, err := store.Prepare(context.Background(), dir, spec, []string{"cat", "dog"}, items)
	if err != nil {
		panic(err)
	}
	fmt.Println(plan.Reasons[0])
	for _, p := range plan.Todo {
		feat := []float32{float32(p), 0, 1, 2} // in real use: the CNN's output
		if err := w.Put([]int{p}, feat); err != nil {
			panic(err)
		}
	}
	if err := w.Commit(); err != nil {
		panic(err)
	}
	w.Close()

	s, err := store.Open(dir)
	if err != nil {
		panic(err)
	}
	dst := make([]float32, 2*4)
	s.Read([]int{2, 0}, dst)
	fmt.Println(s.Len(), s.Classes(), s.Label(2), dst)

	// Running the same extraction again computes nothing.
	w, plan, _ = store.Prepare(context.Background(), dir, spec, []string{"cat", "dog"}, items)
	w.Close()
	fmt.Println(len(plan.Todo), plan.Kept)
	// Output:
	// new store: 3 items to compute
	// 3 [cat dog] 1 [2 0 1 2 0 0 1 2]
	// 0 3
}
