package torch

import (
	"bytes"
	"os"
	"testing"
)

// FuzzTorchPth feeds arbitrary bytes to LoadReader: it must never panic,
// and must stay within the (small) limits set here.
func FuzzTorchPth(f *testing.F) {
	for _, file := range []string{"testdata/dtypes.pth", "testdata/dtypes_legacy.pth", "testdata/amplify.pth", "testdata/hostile.pth", "testdata/hostile_eval.pkl.pth"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(cyclicPickle)
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := LoadReader(bytes.NewReader(b), int64(len(b)),
			WithMaxTensorElements(1<<20), WithMaxTotalBytes(8<<20), WithMaxPickleBytes(1<<20))
		if err == nil {
			for name, v := range sd {
				if v == nil || len(v.Data) > 1<<20 {
					t.Fatalf("tensor %q beyond limits", name)
				}
			}
		}
	})
}
