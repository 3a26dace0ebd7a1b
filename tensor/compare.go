package tensor

import "math"

// MaxRelErr returns max_i |got_i - want_i| / max(max_j |want_j|, tiny): the
// error relative to the reference's largest magnitude, the measure used by
// parity tests. It returns +Inf if lengths differ, either side has a NaN, or the
// reference has an infinity.
func MaxRelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var scale, worst float64
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	if math.IsNaN(scale) || math.IsInf(scale, 0) {
		return math.Inf(1) // a reference with NaN/Inf cannot vouch for anything
	}
	if scale < 1e-30 {
		scale = 1e-30
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	return worst / scale
}
