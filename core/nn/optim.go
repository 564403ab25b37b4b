package nn

import (
	"math"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// Optimizer updates parameters from their gradients. Masked entries stay
// zero: their gradient is ignored and the mask is re-applied after the step.
type Optimizer interface {
	Step(params []*Param)
	// SetLR changes the learning rate (for fine-tuning at a lower rate).
	SetLR(lr float64)
}

// SGD with momentum: v = μ·v + g;  w −= lr·v.
type SGD struct {
	LR, Momentum float64
	velocity     map[*Param][]float32
}

func NewSGD(lr, momentum float64) *SGD {
	return &SGD{LR: lr, Momentum: momentum, velocity: map[*Param][]float32{}}
}

func (o *SGD) SetLR(lr float64) { o.LR = lr }

func (o *SGD) Step(params []*Param) {
	lr, mu := float32(o.LR), float32(o.Momentum)
	for _, p := range params {
		v := o.velocity[p]
		if v == nil {
			v = make([]float32, len(p.Value.Data))
			o.velocity[p] = v
		}
		kernels.MomentumStep(p.Value.Data, p.Grad.Data, v, mu, lr)
		p.ApplyMask()
	}
}

// Adam (Kingma & Ba 2015):
//
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	w −= lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)
//
// in float32 by kernels.AdamStep, which stores as zero an m below
// kernels.MomentFloor (about 1e-35: its step could only move a weight
// smaller than about 1e-20), so that dead units do not fill the moments
// with slow subnormal numbers.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	t                     int
	m, v                  map[*Param][]float32
}

func NewAdam(lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, m: map[*Param][]float32{}, v: map[*Param][]float32{}}
}

func (o *Adam) SetLR(lr float64) { o.LR = lr }

func (o *Adam) Step(params []*Param) {
	o.t++
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1 := 1 - math.Pow(o.Beta1, float64(o.t))
	c2 := 1 - math.Pow(o.Beta2, float64(o.t))
	// Fold the bias corrections into the step size: lr·√c2/c1 · m/(√v + ε√c2).
	step := float32(o.LR * math.Sqrt(c2) / c1)
	eps := float32(o.Eps * math.Sqrt(c2))
	for _, p := range params {
		m, v := o.m[p], o.v[p]
		if m == nil {
			m = make([]float32, len(p.Value.Data))
			v = make([]float32, len(p.Value.Data))
			o.m[p], o.v[p] = m, v
		}
		kernels.AdamStep(p.Value.Data, p.Grad.Data, m, v, b1, b2, step, eps)
		p.ApplyMask()
	}
}
