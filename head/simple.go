package head

// ReLU computes y = max(x, 0).
type ReLU struct {
	dim   int
	y, dx []float32
	n     int
}

// NewReLU returns a ReLU over dim features.
func NewReLU(dim int) *ReLU { return &ReLU{dim: dim} }

func (r *ReLU) Kind() string     { return "ReLU" }
func (r *ReLU) In() int          { return r.dim }
func (r *ReLU) Out() int         { return r.dim }
func (r *ReLU) Params() []*Param { return nil }

func (r *ReLU) Forward(e *Exec, x []float32, n int) []float32 {
	r.y = grow(r.y, n*r.dim)
	for i, v := range x[:n*r.dim] {
		if v > 0 {
			r.y[i] = v
		} else {
			r.y[i] = 0
		}
	}
	r.n = n
	return r.y
}

// Backward: dx = dy where y > 0, else 0 (the subgradient at 0 is 0, as in torch).
func (r *ReLU) Backward(e *Exec, dy []float32, needDX bool) []float32 {
	if !needDX {
		return nil
	}
	r.dx = grow(r.dx, r.n*r.dim)
	for i, v := range r.y[:r.n*r.dim] {
		if v > 0 {
			r.dx[i] = dy[i]
		} else {
			r.dx[i] = 0
		}
	}
	return r.dx
}

// Flatten is the identity on flat batches; it exists so head specs mirror
// torch's nn.Flatten (N,C,H,W → N,C·H·W, row-major, which is already how
// features are stored).
type Flatten struct{ dim int }

// NewFlatten returns a Flatten over dim = C·H·W features.
func NewFlatten(dim int) *Flatten { return &Flatten{dim: dim} }

func (f *Flatten) Kind() string                                  { return "Flatten" }
func (f *Flatten) In() int                                       { return f.dim }
func (f *Flatten) Out() int                                      { return f.dim }
func (f *Flatten) Params() []*Param                              { return nil }
func (f *Flatten) Forward(e *Exec, x []float32, n int) []float32 { return x[:n*f.dim] }
func (f *Flatten) Backward(e *Exec, dy []float32, need bool) []float32 {
	if !need {
		return nil
	}
	return dy
}

// Dropout zeroes each element with probability P in training mode and
// scales the survivors by 1/(1-P) (inverted dropout); in eval mode it is the
// identity. The mask of element j of item i is a pure function of
// (Seed, Exec.Step, i·In+j).
type Dropout struct {
	P    float64
	Seed uint64
	dim  int
	mask []float32 // 0 or 1/(1-P); nil when the last forward was the identity
	y    []float32
	dx   []float32
	n    int
}

// NewDropout returns a Dropout over dim features.
func NewDropout(dim int, p float64, seed uint64) *Dropout {
	return &Dropout{P: p, Seed: seed, dim: dim}
}

func (d *Dropout) Kind() string     { return "Dropout" }
func (d *Dropout) In() int          { return d.dim }
func (d *Dropout) Out() int         { return d.dim }
func (d *Dropout) Params() []*Param { return nil }

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (d *Dropout) Forward(e *Exec, x []float32, n int) []float32 {
	d.n = n
	if !e.Train || d.P <= 0 {
		d.mask = nil
		return x[:n*d.dim]
	}
	m := n * d.dim
	d.mask = grow(d.mask, m)
	d.y = grow(d.y, m)
	keep := float32(1 / (1 - d.P))
	thr := uint64(d.P * (1 << 53))
	base := splitmix(d.Seed ^ splitmix(uint64(e.Step)))
	for i := 0; i < m; i++ {
		if splitmix(base+uint64(i))>>11 < thr {
			d.mask[i] = 0
		} else {
			d.mask[i] = keep
		}
		d.y[i] = x[i] * d.mask[i]
	}
	return d.y
}

func (d *Dropout) Backward(e *Exec, dy []float32, need bool) []float32 {
	if !need {
		return nil
	}
	if d.mask == nil {
		return dy
	}
	d.dx = grow(d.dx, d.n*d.dim)
	for i := range d.dx {
		d.dx[i] = dy[i] * d.mask[i]
	}
	return d.dx
}
