package nn

import (
	"math"
	"strings"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// Optimizer updates parameters from their gradients. Masked entries stay
// zero: their gradient is ignored and the mask is re-applied after the step.
type Optimizer interface {
	Step(params []*Param)
	// SetLR changes the learning rate (for fine-tuning at a lower rate).
	SetLR(lr float64)
}

// SGD with momentum: v = μ·v + g;  w −= lr·v. With WeightDecay λ the
// gradient of a weight matrix gains λ·w first (L2 regularization); biases
// are not decayed.
type SGD struct {
	LR, Momentum float64
	WeightDecay  float64
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
		if o.WeightDecay != 0 && decays(p) {
			addScaled(p.Grad.Data, p.Value.Data, float32(o.WeightDecay))
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
//
// With WeightDecay λ it is AdamW (Loshchilov & Hutter 2019): each weight
// matrix shrinks by w −= lr·λ·w before the step, apart from the moments;
// biases are not decayed.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	WeightDecay           float64
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
		if o.WeightDecay != 0 && decays(p) {
			scale(p.Value.Data, float32(1-o.LR*o.WeightDecay))
		}
		kernels.AdamStep(p.Value.Data, p.Grad.Data, m, v, b1, b2, step, eps)
		p.ApplyMask()
	}
}

// decays reports whether weight decay applies to p: weight matrices, not
// biases (a layer's bias is its ".b" parameter).
func decays(p *Param) bool { return !strings.HasSuffix(p.Name, ".b") }

// addScaled adds a·x to y.
func addScaled(y, x []float32, a float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// scale multiplies x by a.
func scale(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}
