package jpegdec

import "math"

var sqrt2 = math.Sqrt2

// cosTab[x][u] = cos((2x+1)uπ/16).
var cosTab = func() (t [8][8]float64) {
	for x := 0; x < 8; x++ {
		for u := 0; u < 8; u++ {
			t[x][u] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / 16)
		}
	}
	return
}()
