package head

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/safetensors"
)

// FuzzLoad: Load on arbitrary files never panics; it returns a head or an error.
func FuzzLoad(f *testing.F) {
	h, _ := New(Spec{Preset: "mlp", Hidden: []int{3}, BatchNorm: true}, []int{2}, 2, 1, nil)
	var buf bytes.Buffer
	safetensors.Write(&buf, h.Entries(false), h.Metadata([]string{"a", "b"}, nil))
	f.Add(buf.Bytes())
	buf.Reset()
	safetensors.Write(&buf, nil, map[string]string{MetaKey: `{"spec":{"preset":"linear"},"in_shape":[1000000000,1000000000],"classes":["a","b"]}`})
	f.Add(buf.Bytes())
	buf.Reset()
	safetensors.Write(&buf, nil, map[string]string{MetaKey: `{"spec":{"preset":"vgg-classifier"},"in_shape":[25088],"classes":["a","b"]}`})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "h.safetensors")
		os.WriteFile(path, data, 0o644)
		h, classes, _, err := Load(path)
		if err != nil {
			return
		}
		if len(classes) != h.Classes {
			t.Fatalf("%d classes, head has %d", len(classes), h.Classes)
		}
	})
}
