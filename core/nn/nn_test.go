package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestDenseForwardHandComputed(t *testing.T) {
	d := &Dense{LayerName: "fc", In: 2, Out: 3, W: newParam("W", 2, 3), B: newParam("b", 1, 3)}
	copy(d.W.Value.Data, []float32{1, 2, 3, 4, 5, 6}) // W = [1 2 3; 4 5 6]
	copy(d.B.Value.Data, []float32{0.5, -1, 0})
	x := Matrix{Rows: 2, Cols: 2, Data: []float32{1, 1, 2, -1}}
	y := d.Forward(x, false)
	// [1 1]·W = [5 7 9] + b = [5.5 6 9];  [2 -1]·W = [-2 -1 0] + b = [-1.5 -2 0]
	want := []float32{5.5, 6, 9, -1.5, -2, 0}
	for i := range want {
		if y.Data[i] != want[i] {
			t.Fatalf("y[%d] = %v, want %v", i, y.Data[i], want[i])
		}
	}
}

func TestSoftmaxCrossEntropyHandComputed(t *testing.T) {
	// logits [0, ln 3] → p = [1/4, 3/4]; label 1 → loss = −ln(3/4).
	z := Matrix{Rows: 1, Cols: 2, Data: []float32{0, float32(math.Log(3))}}
	g := NewMatrix(1, 2)
	loss := SoftmaxCrossEntropy(z, []int{1}, g)
	if math.Abs(loss+math.Log(0.75)) > 1e-6 {
		t.Fatalf("loss = %v, want %v", loss, -math.Log(0.75))
	}
	if math.Abs(float64(g.Data[0])-0.25) > 1e-6 || math.Abs(float64(g.Data[1])+0.25) > 1e-6 {
		t.Fatalf("grad = %v, want [0.25 -0.25]", g.Data)
	}
}

// lossOf runs the model forward (no dropout) and returns the mean CE loss.
func lossOf(m *Sequential, x Matrix, y []int) float64 {
	return SoftmaxCrossEntropy(m.Forward(x, false), y, Matrix{})
}

// TestGradientsFiniteDifference checks every analytic gradient of a
// Dense-ReLU-Dense-softmax model against central differences in float64
// terms: (L(w+h) − L(w−h)) / 2h.
func TestGradientsFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m := &Sequential{Layers: []Layer{
		NewDense("fc1", 5, 7, rng), NewReLU("relu1"),
		NewDense("fc2", 7, 4, rng),
	}}
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(rng.NormFloat64() * 0.1) // non-zero biases too
		}
	}
	x := NewMatrix(6, 5)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := []int{0, 1, 2, 3, 1, 2}

	m.ZeroGrad()
	logits := m.Forward(x, true)
	g := NewMatrix(logits.Rows, logits.Cols)
	SoftmaxCrossEntropy(logits, y, g)
	m.Backward(g)

	checkGradients(t, m, x, y)
}

// checkGradients compares every parameter's Grad with central differences
// of the loss: (L(w+h) − L(w−h)) / 2h.
func checkGradients(t *testing.T, m *Sequential, x Matrix, y []int) {
	t.Helper()
	const h = 1e-2
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			orig := p.Value.Data[i]
			p.Value.Data[i] = orig + h
			lp := lossOf(m, x, y)
			p.Value.Data[i] = orig - h
			lm := lossOf(m, x, y)
			p.Value.Data[i] = orig
			num := (lp - lm) / (2 * h)
			ana := float64(p.Grad.Data[i])
			if math.Abs(num-ana) > 2e-3+1e-2*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %.6f, finite difference %.6f", p.Name, i, ana, num)
			}
		}
	}
}

func TestDropoutTrainAndInference(t *testing.T) {
	d := NewDropout("drop", 0.5, 1)
	x := NewMatrix(100, 100)
	for i := range x.Data {
		x.Data[i] = 1
	}
	if y := d.Forward(x, false); &y.Data[0] != &x.Data[0] {
		t.Fatal("inference dropout should be the identity")
	}
	y := d.Forward(x, true)
	zeros, sum := 0, 0.0
	for _, v := range y.Data {
		if v == 0 {
			zeros++
		} else if v != 2 {
			t.Fatalf("kept value %v, want 1/(1−0.5) = 2", v)
		}
		sum += float64(v)
	}
	if frac := float64(zeros) / 1e4; frac < 0.45 || frac > 0.55 {
		t.Fatalf("dropped fraction %.3f, want ≈ 0.5", frac)
	}
	// The mean is preserved in expectation: 1 ± a few standard errors.
	if mean := sum / 1e4; math.Abs(mean-1) > 0.05 {
		t.Fatalf("mean after dropout %.3f, want ≈ 1", mean)
	}
	dx := d.Backward(y)
	for i := range dx.Data {
		if (dx.Data[i] == 0) != (y.Data[i] == 0) {
			t.Fatal("backward must pass gradients only through kept units")
		}
	}
}

func TestAdamFirstStepIsLRTimesSign(t *testing.T) {
	// With bias correction, Adam's first step is lr·g/(|g|+ε) ≈ lr·sign(g).
	p := newParam("w", 1, 3)
	copy(p.Value.Data, []float32{1, 1, 1})
	copy(p.Grad.Data, []float32{0.5, -2, 1e-3})
	NewAdam(0.1).Step([]*Param{p})
	want := []float32{0.9, 1.1, 0.9}
	for i := range want {
		if math.Abs(float64(p.Value.Data[i]-want[i])) > 1e-4 {
			t.Fatalf("w = %v, want %v", p.Value.Data, want)
		}
	}
}

func TestSGDMomentumHandComputed(t *testing.T) {
	p := newParam("w", 1, 1)
	p.Value.Data[0] = 1
	o := NewSGD(0.1, 0.9)
	p.Grad.Data[0] = 1
	o.Step([]*Param{p}) // v=1, w=0.9
	o.Step([]*Param{p}) // v=1.9, w=0.71
	if math.Abs(float64(p.Value.Data[0])-0.71) > 1e-6 {
		t.Fatalf("w = %v, want 0.71", p.Value.Data[0])
	}
}

func TestMaskStaysAppliedDuringTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	fc := NewDense("fc", 4, 3, rng)
	m := &Sequential{Layers: []Layer{fc}}
	fc.W.Mask = make([]float32, 12)
	for i := range fc.W.Mask {
		fc.W.Mask[i] = float32(i % 2)
	}
	fc.W.ApplyMask()
	x := NewMatrix(8, 4)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := []int{0, 1, 2, 0, 1, 2, 0, 1}
	for _, opt := range []Optimizer{NewAdam(0.01), NewSGD(0.1, 0.9)} {
		for e := 0; e < 3; e++ {
			if _, err := TrainEpoch(context.Background(), m, opt, x, y, 4, rng, nil); err != nil {
				t.Fatal(err)
			}
		}
		for i, v := range fc.W.Value.Data {
			if i%2 == 0 && v != 0 {
				t.Fatalf("pruned weight %d regrew to %v", i, v)
			}
		}
	}
}

func TestTrainingLearnsSeparableData(t *testing.T) {
	// Two Gaussian blobs at ±2 on every axis: a small MLP must reach > 95%.
	rng := rand.New(rand.NewPCG(1, 1))
	n, dim := 400, 4
	x := NewMatrix(n, dim)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		y[i] = i % 2
		c := float64(4*y[i] - 2)
		for j := 0; j < dim; j++ {
			x.Set(i, j, float32(c+rng.NormFloat64()))
		}
	}
	m := &Sequential{Layers: []Layer{NewDense("fc1", dim, 16, rng), NewReLU("r"), NewDense("fc2", 16, 2, rng)}}
	opt := NewAdam(0.01)
	_, acc0 := Evaluate(m, x, y, 64)
	var last float64
	for e := 0; e < 5; e++ {
		l, err := TrainEpoch(context.Background(), m, opt, x, y, 32, rng, nil)
		if err != nil {
			t.Fatal(err)
		}
		last = l
	}
	loss, acc := Evaluate(m, x, y, 64)
	if acc < 0.95 {
		t.Fatalf("accuracy %.3f after training (was %.3f), want > 0.95; loss %.3f, last epoch %.3f", acc, acc0, loss, last)
	}
}

func TestTrainEpochCancelledStopsWithinABatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := &Sequential{Layers: []Layer{NewDense("fc", 3, 2, rng)}}
	x := NewMatrix(100, 3)
	y := make([]int, 100)
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, err := TrainEpoch(ctx, m, NewSGD(0.1, 0), x, y, 10, rng, func(step int, loss float64) error {
		steps++
		if step == 2 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if steps != 3 {
		t.Fatalf("ran %d steps after cancelling at step 3, want exactly 3", steps)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := &Sequential{Layers: []Layer{NewDense("fc", 3, 2, rng), NewDropout("d", 0.5, 9)}}
	c := m.Clone()
	c.Params()[0].Value.Data[0] = 42
	if m.Params()[0].Value.Data[0] == 42 {
		t.Fatal("clone shares weights with the original")
	}
}

func TestWeightBytes(t *testing.T) {
	// 784×300 dense fp32: 784·300·4 bytes.
	if got := WeightBytes(784, 300, 784*300, 32); got != 940800 {
		t.Fatalf("dense fp32 = %d, want 940800", got)
	}
	// 10% non-zeros: 23520 values ·4 + 23520 indices ·2 + 301 row pointers ·4.
	if got := WeightBytes(784, 300, 23520, 32); got != 23520*4+23520*2+301*4 {
		t.Fatalf("sparse fp32 = %d", got)
	}
	// 4-bit dense: 784·300/2 bytes + 300 scales ·4.
	if got := WeightBytes(784, 300, 784*300, 4); got != 117600+1200 {
		t.Fatalf("4-bit = %d, want %d", got, 117600+1200)
	}
	// 1-bit with one pruned weight in a 4×4 layer: dense needs 2 bits → 4
	// bytes, sparse 15·(1 bit) → 2 bytes + 30 index bytes + 20; plus 4 scales.
	if got := WeightBytes(4, 4, 15, 1); got != 4+16 {
		t.Fatalf("1-bit with zeros = %d, want %d", got, 4+16)
	}
}

func TestInitVariance(t *testing.T) {
	// Sample variance of 400×600 weights must be within 2% of the formula.
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []struct {
		init Init
		want float64
	}{{He, 2.0 / 400}, {Glorot, 2.0 / 1000}} {
		d := NewDenseInit("fc", 400, 600, c.init, rng)
		var sum, sq float64
		for _, w := range d.W.Value.Data {
			sum += float64(w)
			sq += float64(w) * float64(w)
		}
		n := float64(len(d.W.Value.Data))
		v := sq/n - (sum/n)*(sum/n)
		if math.Abs(v/c.want-1) > 0.02 {
			t.Errorf("init %d: variance %.6g, want %.6g", c.init, v, c.want)
		}
	}
}

// A layer's weight counts leave the biases out: sparsity of the weights
// is what a prune ratio names, whatever the biases hold.
func TestStatsWeightsWithoutBiases(t *testing.T) {
	d := NewDense("fc1", 4, 3, rand.New(rand.NewPCG(1, 1)))
	for i := range 6 {
		d.W.Value.Data[i] = 0
	}
	s := d.Stats()
	if s.Weights != 12 || s.NonZeroW != 6 || s.WeightSparsity() != 0.5 {
		t.Errorf("weights %d, non-zero %d, sparsity %v; want 12, 6, 0.5", s.Weights, s.NonZeroW, s.WeightSparsity())
	}
	// Zero biases (as at initialization) would count in Sparsity.
	if s.Params != 15 || s.Sparsity() == s.WeightSparsity() {
		t.Errorf("params %d, sparsity %v (biases counted) vs %v", s.Params, s.Sparsity(), s.WeightSparsity())
	}
	m := &Sequential{Layers: []Layer{d, NewReLU("relu1"), NewDense("fc2", 3, 2, rand.New(rand.NewPCG(1, 2)))}}
	if tot := m.Totals(); tot.Weights != 18 || tot.NonZeroW != 12 {
		t.Errorf("totals: %d weights, %d non-zero", tot.Weights, tot.NonZeroW)
	}
}
