package tensor

import "math"

// MaxRelErr returns max_i |got_i - want_i| / max(max_j |want_j|, tiny): the
// error relative to the reference's largest magnitude, the measure used by
// parity tests. It returns +Inf if lengths differ or got has a NaN.
func MaxRelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var scale, worst float64
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	if scale < 1e-30 {
		scale = 1e-30
	}
	for i := range got {
		g := float64(got[i])
		if math.IsNaN(g) {
			return math.Inf(1)
		}
		worst = math.Max(worst, math.Abs(g-float64(want[i])))
	}
	return worst / scale
}
