package quant

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// smoothModel is 3 → 4 → 3 without an activation, so the loss is smooth in
// every weight and finite differences are valid everywhere.
func smoothModel() *nn.Sequential {
	rng := rand.New(rand.NewPCG(31, 31))
	return &nn.Sequential{Layers: []nn.Layer{nn.NewDense("fc1", 3, 4, rng), nn.NewDense("fc2", 4, 3, rng)}}
}

func smoothBatch() (nn.Matrix, []int) {
	x := nn.NewMatrix(4, 3)
	copy(x.Data, []float32{0.5, -1.2, 0.3, 1.1, 0.4, -0.7, -0.2, 0.9, 1.5, 0.8, -0.6, 0.1})
	return x, []int{2, 0, 1, 1}
}

// The straight-through estimator: after a backward pass the shadow's
// gradient is the loss gradient with respect to the quantized weights the
// forward pass used, which central finite differences on the quantized
// model (a plain float model with W = Q(S)) confirm.
func TestQATShadowGradientIsStraightThrough(t *testing.T) {
	for _, bits := range []int{1, 2, 4} {
		m := smoothModel()
		q, err := NewQAT(m, nn.NewSGD(0, 0), QATOptions{Quant: Options{Bits: bits}})
		if err != nil {
			t.Fatal(err)
		}
		x, y := smoothBatch()
		m.ZeroGrad()
		logits := m.Forward(x, true)
		dl := nn.NewMatrix(logits.Rows, logits.Cols)
		nn.SoftmaxCrossEntropy(logits, y, dl)
		m.Backward(dl)
		for _, l := range q.layers {
			l.straightThrough(false)
			w := l.dense.W.Value.Data
			for i := range w {
				const eps = 1e-3
				orig := w[i]
				w[i] = orig + eps
				up := nn.SoftmaxCrossEntropy(m.Forward(x, false), y, nn.Matrix{})
				w[i] = orig - eps
				down := nn.SoftmaxCrossEntropy(m.Forward(x, false), y, nn.Matrix{})
				w[i] = orig
				num := (up - down) / (2 * eps)
				if g := float64(l.shadow.Grad.Data[i]); math.Abs(g-num) > 1e-4+1e-3*math.Abs(num) {
					t.Errorf("bits %d %s[%d]: shadow gradient %v, finite difference on Q(S) %v", bits, l.dense.LayerName, i, g, num)
				}
			}
		}
	}
}

// With ClipGradient, shadow weights outside a percentile range get no
// gradient; the others get the quantized weights' gradient.
func TestQATClipGradient(t *testing.T) {
	d := column(0.1, 0.2, 0.3, 5, -0.25)
	m := &nn.Sequential{Layers: []nn.Layer{d}}
	q, err := NewQAT(m, nn.NewSGD(0, 0), QATOptions{Quant: Options{Bits: 3, Percentile: 80}, ClipGradient: true})
	if err != nil {
		t.Fatal(err)
	}
	// |w| 0.1 0.2 0.25 0.3 5: the 80th percentile is 0.3, so 5 is clipped.
	copy(d.W.Grad.Data, []float32{1, 2, 3, 4, 5})
	q.layers[0].straightThrough(true)
	if got := q.Shadow("fc").Grad.Data; !slices.Equal(got, []float32{1, 2, 3, 0, 5}) {
		t.Errorf("clipped STE gradient %v, want [1 2 3 0 5]", got)
	}
	q.layers[0].straightThrough(false)
	if got := q.Shadow("fc").Grad.Data; !slices.Equal(got, []float32{1, 2, 3, 4, 5}) {
		t.Errorf("plain STE gradient %v", got)
	}
}

// One step: the shadow moves by the inner optimizer's rule with the STE
// gradient, and W becomes Q(shadow) again, on a grid of at most 3 values
// per channel at 2 bits, with pruned weights still zero.
func TestQATStepUpdatesShadowAndRequantizes(t *testing.T) {
	m := smoothModel()
	fc1 := m.Layers[0].(*nn.Dense)
	fc1.W.Mask = []float32{1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1}
	fc1.W.ApplyMask()
	q, err := NewQAT(m, nn.NewSGD(0.5, 0), QATOptions{Quant: Options{Bits: 2}, Layers: []string{"fc1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Layers(), []string{"fc1"}) || fc1.Bits != 2 {
		t.Fatalf("layers %v Bits %d", q.Layers(), fc1.Bits)
	}
	shadow0 := slices.Clone(q.Shadow("fc1").Value.Data)
	x, y := smoothBatch()
	m.ZeroGrad()
	logits := m.Forward(x, true)
	dl := nn.NewMatrix(logits.Rows, logits.Cols)
	nn.SoftmaxCrossEntropy(logits, y, dl)
	m.Backward(dl)
	grad := slices.Clone(fc1.W.Grad.Data)
	fc2Before := slices.Clone(m.Layers[1].(*nn.Dense).W.Value.Data)
	q.Step(m.Params())
	s := q.Shadow("fc1").Value.Data
	for i := range s {
		want := (shadow0[i] - 0.5*grad[i]) * fc1.W.Mask[i]
		if !near(float64(s[i]), float64(want), 1e-6) {
			t.Errorf("shadow[%d] = %v, want %v", i, s[i], want)
		}
	}
	want := nn.Matrix{Rows: 3, Cols: 4, Data: slices.Clone(s)}
	quantizeMatrix(want, Options{Bits: 2}, nil)
	if !slices.Equal(fc1.W.Value.Data, want.Data) {
		t.Errorf("W = %v, want Q(shadow) = %v", fc1.W.Value.Data, want.Data)
	}
	for j := 0; j < 4; j++ {
		levels := map[float32]bool{}
		for i := 0; i < 3; i++ {
			levels[fc1.W.Value.At(i, j)] = true
		}
		if len(levels) > 3 {
			t.Errorf("channel %d has %d levels at 2 bits", j, len(levels))
		}
	}
	if fc1.W.Value.Data[2] != 0 || fc1.W.Value.Data[7] != 0 || s[2] != 0 || s[7] != 0 {
		t.Error("a pruned weight came back")
	}
	// fc2 is not under QAT: a plain SGD step.
	fc2 := m.Layers[1].(*nn.Dense)
	for i, w := range fc2.W.Value.Data {
		if want := fc2Before[i] - 0.5*fc2.W.Grad.Data[i]; !near(float64(w), float64(want), 1e-6) {
			t.Fatalf("fc2[%d] = %v, want a plain SGD step %v", i, w, want)
		}
	}
	reports := q.Finalize()
	if len(reports) != 1 || reports[0].Layer != "fc1" || reports[0].Bits != 2 || !slices.Equal(fc1.W.Value.Data, want.Data) {
		t.Errorf("Finalize: %+v, W %v", reports, fc1.W.Value.Data)
	}
}

// The point of QAT: on the spirals, 2-bit post-training quantization of a
// trained model loses most of its accuracy, while a few epochs of 2-bit
// quantization-aware training from the same model recover it.
func TestQATBeatsPTQAtTwoBits(t *testing.T) {
	x, y := toyData(600, 1)
	xt, yt := toyData(600, 2)
	m := toyModel(2)
	trainFloat(t, m, x, y, 60)
	_, floatAcc := nn.Evaluate(m, xt, yt, 256)

	ptq := m.Clone()
	if _, err := QuantizeModel(ptq, Options{Bits: 2}, nil); err != nil {
		t.Fatal(err)
	}
	_, ptqAcc := nn.Evaluate(ptq, xt, yt, 256)

	qm := m.Clone()
	q, err := NewQAT(qm, nn.NewAdam(0.003), QATOptions{Quant: Options{Bits: 2}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20 {
		if _, err := nn.TrainEpoch(context.Background(), qm, q, x, y, 32, rng, nil); err != nil {
			t.Fatal(err)
		}
	}
	q.Finalize()
	_, qatAcc := nn.Evaluate(qm, xt, yt, 256)
	t.Logf("test accuracy: float %.3f, 2-bit PTQ %.3f, 2-bit QAT %.3f", floatAcc, ptqAcc, qatAcc)
	if !(qatAcc > ptqAcc+0.2) || qatAcc < floatAcc-0.05 {
		t.Errorf("2-bit QAT %.3f vs PTQ %.3f (float %.3f): want QAT ≥ PTQ + 20 pp and within 5 pp of float", qatAcc, ptqAcc, floatAcc)
	}
	for _, d := range nn.WeightLayers(qm) {
		if d.Bits != 2 {
			t.Errorf("%s: Bits %d after Finalize", d.LayerName, d.Bits)
		}
	}
}

func TestQATErrors(t *testing.T) {
	cases := []struct {
		o     QATOptions
		inner nn.Optimizer
		want  string
	}{
		{QATOptions{Quant: Options{Bits: 32}}, nn.NewSGD(0.1, 0), "1–8"},
		{QATOptions{Quant: Options{Bits: 0}}, nn.NewSGD(0.1, 0), "allowed 1–8"},
		{QATOptions{Quant: Options{Bits: 2}}, nil, "inner is nil"},
		{QATOptions{Quant: Options{Bits: 2}, Layers: []string{"fc7"}}, nn.NewSGD(0.1, 0), "fc1, fc2"},
	}
	for _, c := range cases {
		m := smoothModel()
		before := slices.Clone(m.Layers[0].(*nn.Dense).W.Value.Data)
		_, err := NewQAT(m, c.inner, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.o, err, c.want)
		}
		if !slices.Equal(before, m.Layers[0].(*nn.Dense).W.Value.Data) {
			t.Errorf("%+v: a rejected call changed the model", c.o)
		}
	}
}
