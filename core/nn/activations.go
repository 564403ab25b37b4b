package nn

import (
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// ReLU: y = max(x, 0); dx = dy where x > 0, else 0.
type ReLU struct {
	LayerName string
	y, dx     Matrix
}

func NewReLU(name string) *ReLU { return &ReLU{LayerName: name} }

func (r *ReLU) Name() string { return r.LayerName }

func (r *ReLU) Forward(x Matrix, train bool) Matrix {
	r.y = ensure(r.y, x.Rows, x.Cols)
	kernels.ReLU(r.y.Data, x.Data)
	return r.y
}

func (r *ReLU) Backward(dy Matrix) Matrix {
	r.dx = ensure(r.dx, dy.Rows, dy.Cols)
	kernels.ReLUBackward(r.dx.Data, dy.Data, r.y.Data)
	return r.dx
}

func (r *ReLU) Params() []*Param  { return nil }
func (r *ReLU) Clone() Layer      { return &ReLU{LayerName: r.LayerName} }
func (r *ReLU) Stats() LayerStats { return LayerStats{Name: r.LayerName, Kind: "relu"} }

// Dropout (inverted): in training each input is kept with probability 1−Rate
// and scaled by 1/(1−Rate), so inference is the identity.
type Dropout struct {
	LayerName string
	Rate      float32
	src       rand.PCG
	rng       *rand.Rand
	keep      []float32
	y, dx     Matrix
}

// NewDropout returns a Dropout layer whose masks come from its own seeded
// stream, so runs are reproducible.
func NewDropout(name string, rate float32, seed uint64) *Dropout {
	d := &Dropout{LayerName: name, Rate: rate}
	d.src = *rand.NewPCG(seed, 0x5eed)
	d.rng = rand.New(&d.src)
	return d
}

func (d *Dropout) Name() string { return d.LayerName }

func (d *Dropout) Forward(x Matrix, train bool) Matrix {
	if !train || d.Rate == 0 {
		d.keep = d.keep[:0]
		return x
	}
	d.y = ensure(d.y, x.Rows, x.Cols)
	if cap(d.keep) < len(x.Data) {
		d.keep = make([]float32, len(x.Data))
	}
	d.keep = d.keep[:len(x.Data)]
	scale := 1 / (1 - d.Rate)
	for i, v := range x.Data {
		if d.rng.Float32() >= d.Rate {
			d.keep[i] = scale
		} else {
			d.keep[i] = 0
		}
		d.y.Data[i] = v * d.keep[i]
	}
	return d.y
}

func (d *Dropout) Backward(dy Matrix) Matrix {
	if len(d.keep) == 0 {
		return dy
	}
	d.dx = ensure(d.dx, dy.Rows, dy.Cols)
	for i, v := range dy.Data {
		d.dx.Data[i] = v * d.keep[i]
	}
	return d.dx
}

func (d *Dropout) Params() []*Param { return nil }

func (d *Dropout) Clone() Layer {
	c := &Dropout{LayerName: d.LayerName, Rate: d.Rate, src: d.src}
	c.rng = rand.New(&c.src)
	return c
}

func (d *Dropout) Stats() LayerStats { return LayerStats{Name: d.LayerName, Kind: "dropout"} }
