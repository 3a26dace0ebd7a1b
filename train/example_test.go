package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/train"
)

// ExampleRun trains a linear head (logistic regression) on an in-memory
// two-class dataset and evaluates it.
func ExampleRun() {
	rng := rand.New(rand.NewPCG(1, 2))
	ds := &train.MemDataset{Shape: []int{4}, ClassNames: []string{"cat", "dog"}}
	for i := 0; i < 200; i++ {
		y := i % 2
		for j := 0; j < 4; j++ {
			ds.X = append(ds.X, float32(rng.NormFloat64()+2*float64(y)))
		}
		ds.Labels = append(ds.Labels, y)
	}
	cfg := train.Config{Head: head.Spec{Preset: "linear"}, Optimizer: "adam", LR: 0.05, Epochs: 5, Threads: 1}
	res, err := train.Run(context.Background(), cfg, ds, ds)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := train.Evaluate(context.Background(), res.Head, ds, nil)
	fmt.Println(len(res.History), "epochs; accuracy above 0.9:", m.Accuracy > 0.9)
	// Output: 5 epochs; accuracy above 0.9: true
}
