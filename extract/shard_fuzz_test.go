package extract

import (
	"strings"
	"testing"
)

// FuzzShardManifest: parseShardManifest never panics, and what it accepts
// is self-consistent (positions ascending within [0,total), items match).
func FuzzShardManifest(f *testing.F) {
	d := strings.Repeat("a", 64)
	f.Add([]byte(`{"format":1,"shard":1,"of":4,"spec_digest":"` + d + `","dataset_digest":"` + d + `","total":10,"items":3,"failed":1,"positions":[0,4,9]}`))
	f.Add([]byte(`{"format":1,"shard":0,"of":1,"spec_digest":"` + d + `","dataset_digest":"` + d + `","total":0,"items":0,"positions":[]}`))
	f.Add([]byte(`{"format":1,"shard":4,"of":4}`))
	f.Add([]byte(`{"format":1,"shard":0,"of":2,"spec_digest":"` + d + `","dataset_digest":"` + d + `","total":3,"items":2,"positions":[2,1]}`))
	f.Add([]byte(`{"positions":[-1]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseShardManifest("shard.json", b)
		if err != nil {
			return
		}
		if m.Validate() != nil || len(m.Positions) != m.Items || m.Total < len(m.Positions) {
			t.Fatalf("accepted inconsistent manifest %+v", m)
		}
		for i, p := range m.Positions {
			if p < 0 || p >= m.Total || i > 0 && p <= m.Positions[i-1] {
				t.Fatalf("accepted positions %v of %d", m.Positions, m.Total)
			}
		}
	})
}
