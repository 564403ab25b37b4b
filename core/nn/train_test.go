package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomParams returns parameters of the given sizes (sizes not multiples
// of a vector, so the kernels' Go tails run too) with random values.
func randomParams(rng *rand.Rand, sizes ...int) []*Param {
	var ps []*Param
	for k, n := range sizes {
		p := newParam(string(rune('a'+k)), 1, n)
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(rng.NormFloat64() * 0.1)
		}
		ps = append(ps, p)
	}
	return ps
}

func randomGrads(ps []*Param, rng *rand.Rand) {
	for _, p := range ps {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(5)-5)))
		}
	}
}

// TestAdamMatchesScalarLoop runs Adam for several steps beside the scalar
// float32 loop it replaced (square root in float64, each operation rounded
// to float32) and wants the same bits: the vectorized update changes no
// result.
func TestAdamMatchesScalarLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	ps := randomParams(rng, 300, 37, 1000, 10)
	ref := make([][]float32, len(ps))
	refM, refV := make([][]float32, len(ps)), make([][]float32, len(ps))
	for k, p := range ps {
		ref[k] = append([]float32(nil), p.Value.Data...)
		refM[k], refV[k] = make([]float32, len(ref[k])), make([]float32, len(ref[k]))
	}
	opt := NewAdam(1e-3)
	for step := 1; step <= 5; step++ {
		randomGrads(ps, rng)
		opt.Step(ps)
		b1, b2 := float32(0.9), float32(0.999)
		c1 := 1 - math.Pow(0.9, float64(step))
		c2 := 1 - math.Pow(0.999, float64(step))
		lr := float32(1e-3 * math.Sqrt(c2) / c1)
		eps := float32(1e-8 * math.Sqrt(c2))
		for k, p := range ps {
			w, m, v := ref[k], refM[k], refV[k]
			for i, g := range p.Grad.Data {
				m[i] = float32(b1*m[i]) + float32((1-b1)*g)
				v[i] = float32(b2*v[i]) + float32(float32((1-b2)*g)*g)
				w[i] -= float32(lr*m[i]) / (float32(math.Sqrt(float64(v[i]))) + eps)
			}
			for i := range w {
				if math.Float32bits(p.Value.Data[i]) != math.Float32bits(w[i]) {
					t.Fatalf("step %d, %s[%d] = %v, scalar loop %v", step, p.Name, i, p.Value.Data[i], w[i])
				}
			}
		}
	}
}

// TestSGDMatchesScalarLoop does the same for SGD with momentum.
func TestSGDMatchesScalarLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	ps := randomParams(rng, 300, 37, 5)
	opt := NewSGD(0.05, 0.9)
	ref := make([][]float32, len(ps))
	vel := make([][]float32, len(ps))
	for k, p := range ps {
		ref[k] = append([]float32(nil), p.Value.Data...)
		vel[k] = make([]float32, len(ref[k]))
	}
	for step := 1; step <= 4; step++ {
		randomGrads(ps, rng)
		opt.Step(ps)
		for k, p := range ps {
			for i, g := range p.Grad.Data {
				vel[k][i] = float32(0.9*vel[k][i]) + g
				ref[k][i] -= float32(0.05 * vel[k][i])
				if math.Float32bits(p.Value.Data[i]) != math.Float32bits(ref[k][i]) {
					t.Fatalf("step %d, %s[%d] = %v, scalar loop %v", step, p.Name, i, p.Value.Data[i], ref[k][i])
				}
			}
		}
	}
}

// TestBackwardSkipsOnlyTheInputGradient: Sequential.Backward leaves out the
// first Dense layer's dx and the parameter-free layers before it, and the
// parameter gradients are exactly those of running every layer's Backward.
// A finite-difference check confirms them for a model that starts with a
// ReLU.
func TestBackwardSkipsOnlyTheInputGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 3))
	build := func() *Sequential {
		r := rand.New(rand.NewPCG(9, 4))
		return &Sequential{Layers: []Layer{
			NewReLU("relu0"),
			NewDense("fc1", 6, 9, r), NewReLU("relu1"),
			NewDense("fc2", 9, 5, r), NewReLU("relu2"),
			NewDense("fc3", 5, 3, r),
		}}
	}
	x := NewMatrix(7, 6)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := []int{0, 1, 2, 0, 1, 2, 1}

	gradsOf := func(m *Sequential, every bool) [][]float32 {
		m.ZeroGrad()
		logits := m.Forward(x, true)
		g := NewMatrix(logits.Rows, logits.Cols)
		SoftmaxCrossEntropy(logits, y, g)
		if every {
			dy := g
			for i := len(m.Layers) - 1; i >= 0; i-- {
				dy = m.Layers[i].Backward(dy)
			}
		} else {
			m.Backward(g)
		}
		var out [][]float32
		for _, p := range m.Params() {
			out = append(out, append([]float32(nil), p.Grad.Data...))
		}
		return out
	}
	m := build()
	got := gradsOf(m, false)
	if fc1 := m.Layers[1].(*Dense); fc1.dx.Data != nil {
		t.Error("the first Dense layer computed dL/dx, which nothing reads")
	}
	if relu0 := m.Layers[0].(*ReLU); relu0.dx.Data != nil {
		t.Error("the ReLU before the first Dense layer ran Backward")
	}
	want := gradsOf(build(), true)
	for k := range want {
		for i := range want[k] {
			if math.Float32bits(got[k][i]) != math.Float32bits(want[k][i]) {
				t.Fatalf("param %d [%d]: %v, full backward gives %v", k, i, got[k][i], want[k][i])
			}
		}
	}

	checkGradients(t, m, x, y)
}

// TestReLUHandComputed: forward keeps positives and zeroes the rest (−0
// becomes +0); backward passes dy only where the output is positive.
func TestReLUHandComputed(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	// 19 values: two full 8-lane vectors and a tail, whatever the kernel.
	in := []float32{1, -1, 0, negZero, 2.5, -3, 1e-40, -1e-40, 7, -7, 0.5, -0.5, 3, -3, 4, -4, 5, -5, 6}
	r := NewReLU("relu")
	y := r.Forward(Matrix{Rows: 1, Cols: len(in), Data: in}, true)
	dy := make([]float32, len(in))
	for i := range dy {
		dy[i] = float32(i + 1)
	}
	dx := r.Backward(Matrix{Rows: 1, Cols: len(in), Data: dy})
	for i, v := range in {
		wantY, wantDx := float32(0), float32(0)
		if v > 0 {
			wantY, wantDx = v, float32(i+1)
		}
		if math.Float32bits(y.Data[i]) != math.Float32bits(wantY) || dx.Data[i] != wantDx {
			t.Errorf("x=%v: y=%v dx=%v, want %v and %v", v, y.Data[i], dx.Data[i], wantY, wantDx)
		}
	}
}
