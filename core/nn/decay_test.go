package nn

import (
	"math"
	"testing"
)

// AdamW: with a zero gradient Adam's step is zero, so one step leaves
// each weight at w·(1 − lr·λ), and the bias as it was.
func TestAdamWeightDecay(t *testing.T) {
	w, b := newParam("fc.W", 2, 2), newParam("fc.b", 1, 2)
	for i := range w.Value.Data {
		w.Value.Data[i] = float32(i + 1)
	}
	b.Value.Data[0], b.Value.Data[1] = 1, -1
	o := NewAdam(0.1)
	o.WeightDecay = 0.5
	o.Step([]*Param{w, b})
	for i, v := range w.Value.Data {
		if want := float64(i+1) * 0.95; math.Abs(float64(v)-want) > 1e-6 {
			t.Errorf("weight %d: %v, want %v", i, v, want)
		}
	}
	if b.Value.Data[0] != 1 || b.Value.Data[1] != -1 {
		t.Errorf("bias decayed: %v", b.Value.Data)
	}
	// A masked (pruned) weight stays zero.
	w.Mask = []float32{1, 0, 1, 1}
	w.ApplyMask()
	o.Step([]*Param{w, b})
	if w.Value.Data[1] != 0 {
		t.Errorf("pruned weight %v after a decayed step", w.Value.Data[1])
	}
}

// SGD's L2 term: g += λ·w before the step. w = 2, g = 0.5, λ = 0.1,
// lr = 0.1: w = 2 − 0.1·(0.5 + 0.2) = 1.93; the bias: 2 − 0.05 = 1.95.
func TestSGDWeightDecay(t *testing.T) {
	w, b := newParam("fc.W", 1, 1), newParam("fc.b", 1, 1)
	w.Value.Data[0], w.Grad.Data[0] = 2, 0.5
	b.Value.Data[0], b.Grad.Data[0] = 2, 0.5
	o := NewSGD(0.1, 0)
	o.WeightDecay = 0.1
	o.Step([]*Param{w, b})
	if math.Abs(float64(w.Value.Data[0])-1.93) > 1e-6 || math.Abs(float64(b.Value.Data[0])-1.95) > 1e-6 {
		t.Errorf("w %v (want 1.93), b %v (want 1.95)", w.Value.Data[0], b.Value.Data[0])
	}
}
