package lowrank

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// anyRank factorizes at ranks that save no parameters, for exactness checks.
var anyRank = Options{AnyRank: true}

// dense returns an in×out Dense layer with the given row-major weights and
// bias.
func dense(name string, in, out int, w, b []float32) *nn.Dense {
	d := nn.NewDense(name, in, out, rand.New(rand.NewPCG(1, 2)))
	copy(d.W.Value.Data, w)
	copy(d.B.Value.Data, b)
	return d
}

func randomDense(name string, in, out int, seed uint64) *nn.Dense {
	rng := rand.New(rand.NewPCG(seed, 99))
	d := nn.NewDense(name, in, out, rng)
	for j := range d.B.Value.Data {
		d.B.Value.Data[j] = float32(rng.NormFloat64())
	}
	return d
}

// product returns A·B of the layer's factors in float64, row-major In×Out.
func product(l *Layer) []float64 {
	a, b := l.First.W.Value, l.Second.W.Value
	p := make([]float64, l.In*l.Out)
	for i := 0; i < l.In; i++ {
		for j := 0; j < l.Out; j++ {
			for r := 0; r < l.Rank; r++ {
				p[i*l.Out+j] += float64(a.At(i, r)) * float64(b.At(r, j))
			}
		}
	}
	return p
}

// frobeniusDiff returns ‖W − A·B‖_F and ‖W‖_F.
func frobeniusDiff(d *nn.Dense, l *Layer) (diff, norm float64) {
	for i, p := range product(l) {
		w := float64(d.W.Value.Data[i])
		diff += (w - p) * (w - p)
		norm += w * w
	}
	return math.Sqrt(diff), math.Sqrt(norm)
}

func TestSingularValuesByHand(t *testing.T) {
	// WᵀW = [[25 20] [20 25]] has eigenvalues 45 and 5.
	d := dense("fc", 2, 2, []float32{3, 0, 4, 5}, nil)
	sv, err := SingularValues(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(sv) != 2 || math.Abs(sv[0]-3*math.Sqrt(5)) > 1e-12 || math.Abs(sv[1]-math.Sqrt(5)) > 1e-12 {
		t.Errorf("singular values = %v, want [3√5 √5]", sv)
	}
	for rank, want := range map[int]float64{0: 0, 1: 0.9, 2: 1, 3: 1} {
		if got := EnergyKept(sv, rank); math.Abs(got-want) > 1e-12 {
			t.Errorf("EnergyKept(rank %d) = %v, want %v", rank, got, want)
		}
	}
	if got := EnergyKept([]float64{0, 0}, 1); got != 1 {
		t.Errorf("EnergyKept of a zero matrix = %v, want 1", got)
	}
}

func TestFactorizeDiagonalByHand(t *testing.T) {
	// W = diag(3, 1): rank 1 keeps σ = 3, and √3 goes to each factor.
	d := dense("fc", 2, 2, []float32{3, 0, 0, 1}, []float32{0.5, -0.5})
	l, err := FactorizeWith(d, 1, anyRank)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{3, 0, 0, 0}
	for i, p := range product(l) {
		if math.Abs(p-want[i]) > 1e-6 {
			t.Errorf("A·B = %v, want %v", product(l), want)
			break
		}
	}
	a, b := l.First.W.Value.Data, l.Second.W.Value.Data
	r3 := math.Sqrt(3)
	if math.Abs(math.Abs(float64(a[0]))-r3) > 1e-6 || math.Abs(float64(a[1])) > 1e-6 ||
		math.Abs(math.Abs(float64(b[0]))-r3) > 1e-6 || math.Abs(float64(b[1])) > 1e-6 {
		t.Errorf("A = %v, B = %v, want ±[√3 0] each", a, b)
	}
	if bias := l.Second.B.Value.Data; bias[0] != 0.5 || bias[1] != -0.5 {
		t.Errorf("bias = %v, want [0.5 -0.5]", bias)
	}
	if l.First.HasBias() {
		t.Error("the first factor has a bias")
	}
}

func TestFactorizeRankOneIsExact(t *testing.T) {
	// W = u·vᵀ with u = (1, 2, 3), v = (2, −1): σ₁ = ‖u‖‖v‖ = √70, σ₂ = 0.
	d := dense("fc", 3, 2, []float32{2, -1, 4, -2, 6, -3}, nil)
	sv, err := SingularValues(d)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sv[0]-math.Sqrt(70)) > 1e-12 || math.Abs(sv[1]) > 1e-12 {
		t.Errorf("singular values = %v, want [√70 0]", sv)
	}
	l, err := Factorize(d, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range product(l) {
		if w := float64(d.W.Value.Data[i]); math.Abs(p-w) > 1e-5 {
			t.Errorf("A·B[%d] = %v, want %v", i, p, w)
		}
	}
}

func TestFullRankReconstructs(t *testing.T) {
	for _, shape := range [][2]int{{7, 5}, {5, 7}, {6, 6}} {
		d := randomDense("fc", shape[0], shape[1], 3)
		l, err := FactorizeWith(d, min(shape[0], shape[1]), anyRank)
		if err != nil {
			t.Fatal(err)
		}
		if diff, norm := frobeniusDiff(d, l); diff > 1e-4*norm {
			t.Errorf("%v: ‖W − A·B‖ = %v, want ≤ 1e-4·‖W‖ = %v", shape, diff, 1e-4*norm)
		}
	}
}

// Eckart–Young: the rank-r truncation misses exactly √(Σ_{i≥r} σ_i²).
func TestEckartYoung(t *testing.T) {
	d := randomDense("fc", 8, 6, 4)
	sv, err := SingularValues(d)
	if err != nil {
		t.Fatal(err)
	}
	for r := 1; r <= 6; r++ {
		l, err := FactorizeWith(d, r, anyRank)
		if err != nil {
			t.Fatal(err)
		}
		var tail float64
		for _, s := range sv[r:] {
			tail += s * s
		}
		diff, norm := frobeniusDiff(d, l)
		if math.Abs(diff-math.Sqrt(tail)) > 1e-5*norm {
			t.Errorf("rank %d: ‖W − A·B‖ = %v, want √(Σ_{i≥r} σ_i²) = %v", r, diff, math.Sqrt(tail))
		}
		if got, want := EnergyKept(sv, r), 1-tail/(norm*norm); math.Abs(got-want) > 1e-5 {
			t.Errorf("rank %d: EnergyKept = %v, want 1 − tail/‖W‖² = %v", r, got, want)
		}
	}
}

// Forward computes x·(A·B) + b.
func TestForward(t *testing.T) {
	d := randomDense("fc", 5, 4, 5)
	l, err := Factorize(d, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	x := nn.NewMatrix(3, 5)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := l.Forward(x, false)
	ab := product(l)
	for n := 0; n < 3; n++ {
		for j := 0; j < 4; j++ {
			want := float64(d.B.Value.Data[j])
			for i := 0; i < 5; i++ {
				want += float64(x.At(n, i)) * ab[i*4+j]
			}
			if got := float64(y.At(n, j)); math.Abs(got-want) > 1e-5 {
				t.Errorf("y[%d,%d] = %v, want %v", n, j, got, want)
			}
		}
	}
}

// Backward's gradients of A, B, b and x match central finite differences of
// the softmax cross-entropy loss.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	l, err := FactorizeWith(randomDense("fc", 3, 4, 7), 2, anyRank)
	if err != nil {
		t.Fatal(err)
	}
	x := nn.NewMatrix(2, 3)
	copy(x.Data, []float32{0.5, -1.2, 0.3, 1.1, 0.4, -0.7})
	labels := []int{2, 0}
	loss := func() float64 {
		return nn.SoftmaxCrossEntropy(l.Forward(x, false), labels, nn.Matrix{})
	}

	logits := l.Forward(x, true)
	dlogits := nn.NewMatrix(logits.Rows, logits.Cols)
	nn.SoftmaxCrossEntropy(logits, labels, dlogits)
	dx := l.Backward(dlogits).Clone()

	check := func(name string, values, grads []float32) {
		const eps = 1e-2
		for i := range values {
			orig := values[i]
			values[i] = orig + eps
			up := loss()
			values[i] = orig - eps
			down := loss()
			values[i] = orig
			num := (up - down) / (2 * eps)
			if math.Abs(num-float64(grads[i])) > 5e-4+1e-3*math.Abs(num) {
				t.Errorf("d%s[%d] = %v, finite difference %v", name, i, grads[i], num)
			}
		}
	}
	ps := l.Params()
	if len(ps) != 3 {
		t.Fatalf("%d params, want A, B and b", len(ps))
	}
	for _, p := range ps {
		check(p.Name, p.Value.Data, p.Grad.Data)
	}
	check("x", x.Data, dx.Data)
}

func TestRankErrors(t *testing.T) {
	d := randomDense("fc1", 6, 4, 8)
	for _, rank := range []int{0, -1, 5, 100} {
		_, err := Factorize(d, rank)
		if err == nil {
			t.Errorf("rank %d: no error", rank)
			continue
		}
		if !strings.Contains(err.Error(), "allowed 1–4") || !strings.Contains(err.Error(), "fc1") {
			t.Errorf("rank %d: error %q does not name the layer and the allowed ranks", rank, err)
		}
	}
}

func TestStatsByHand(t *testing.T) {
	d := randomDense("fc1", 784, 300, 9)
	l, err := Factorize(d, 20)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	// A: 784·20 weights, no bias; B: 20·300 weights + 300 biases, all float32 and dense.
	want := nn.LayerStats{
		Name: "fc1", Kind: "lowrank", In: 784, Out: 300,
		Params: 20*(784+300) + 300, NonZero: 20*(784+300) + 300, Bits: 32,
		Weights: 20 * (784 + 300), NonZeroW: 20 * (784 + 300),
		Rank: 20, FullRank: 300,
		SizeBytes: 784*20*4 + 20*300*4 + 300*4,
		FLOPs:     20 * (784 + 300),
	}
	if s != want {
		t.Errorf("Stats = %+v\nwant    %+v", s, want)
	}
	if s.Params != 21980 || s.SizeBytes != 87920 {
		t.Errorf("Params %d SizeBytes %d, want 21980 and 87920", s.Params, s.SizeBytes)
	}
}

func TestCloneIsDeep(t *testing.T) {
	l, err := FactorizeWith(randomDense("fc", 4, 3, 10), 2, anyRank)
	if err != nil {
		t.Fatal(err)
	}
	c := l.Clone().(*Layer)
	before := l.First.W.Value.Data[0]
	c.First.W.Value.Data[0] += 1
	c.Second.B.Value.Data[0] += 1
	if l.First.W.Value.Data[0] != before || l.Second.B.Value.Data[0] == c.Second.B.Value.Data[0] {
		t.Error("changing the clone changed the original")
	}
	if c.Stats().Params != l.Stats().Params || c.Name() != "fc" {
		t.Errorf("clone stats %+v differ from %+v", c.Stats(), l.Stats())
	}
}

func tinyModel() *nn.Sequential {
	rng := rand.New(rand.NewPCG(11, 11))
	return &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 6, 8, rng),
		nn.NewReLU("relu1"),
		nn.NewDense("fc2", 8, 3, rng),
	}}
}

func tinyData() (nn.Matrix, []int) {
	rng := rand.New(rand.NewPCG(12, 12))
	x := nn.NewMatrix(32, 6)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := make([]int, 32)
	for i := range y {
		y[i] = i % 3
	}
	return x, y
}

// A full-rank factorization changes nothing the model computes; a model with
// a factorized layer trains, and training moves both factors.
func TestFactorizeModelEvaluatesAndTrains(t *testing.T) {
	x, y := tinyData()
	m := tinyModel()
	lossDense, accDense := nn.Evaluate(m, x, y, 8)
	if err := FactorizeModelWith(m, "", 6, anyRank); err != nil {
		t.Fatal(err)
	}
	l, ok := m.Layers[0].(*Layer)
	if !ok || l.Name() != "fc1" || l.Rank != 6 {
		t.Fatalf("layer 0 = %#v, want fc1 factorized at rank 6", m.Layers[0])
	}
	loss, acc := nn.Evaluate(m, x, y, 8)
	if math.Abs(loss-lossDense) > 1e-5 || acc != accDense {
		t.Errorf("full-rank model: loss %v acc %v, dense %v %v", loss, acc, lossDense, accDense)
	}
	if n := len(m.Params()); n != 5 { // A; B, b; fc2 W, b
		t.Errorf("%d params, want 5", n)
	}

	m = tinyModel()
	if err := FactorizeModel(m, "fc1", 2); err != nil {
		t.Fatal(err)
	}
	l = m.Layers[0].(*Layer)
	a0, b0 := l.First.W.Value.Clone(), l.Second.W.Value.Clone()
	opt := nn.NewAdam(0.01)
	rng := rand.New(rand.NewPCG(13, 13))
	lossBefore, _ := nn.Evaluate(m, x, y, 8)
	for range 5 {
		if _, err := nn.TrainEpoch(context.Background(), m, opt, x, y, 8, rng, nil); err != nil {
			t.Fatal(err)
		}
	}
	lossAfter, _ := nn.Evaluate(m, x, y, 8)
	if !(lossAfter < lossBefore) {
		t.Errorf("loss %v → %v: fine-tuning did not lower it", lossBefore, lossAfter)
	}
	if equal(a0.Data, l.First.W.Value.Data) || equal(b0.Data, l.Second.W.Value.Data) {
		t.Error("a factor did not change during training")
	}
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFactorizeModelPicksNamedLayer(t *testing.T) {
	m := tinyModel()
	if err := FactorizeModel(m, "fc2", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Layers[0].(*nn.Dense); !ok {
		t.Error("fc1 was replaced")
	}
	if l, ok := m.Layers[2].(*Layer); !ok || l.Rank != 1 || l.In != 8 || l.Out != 3 {
		t.Errorf("layer 2 = %#v, want fc2 at rank 1", m.Layers[2])
	}
}

func TestFactorizeModelErrors(t *testing.T) {
	cases := []struct {
		layer string
		rank  int
		want  []string
	}{
		{"fc9", 2, []string{`"fc9"`, "fc1, fc2"}},
		{"relu1", 2, []string{`"relu1"`, "relu", "only Dense"}},
		{"fc2", 4, []string{"fc2", "allowed 1–3"}},
		{"", 0, []string{"fc1", "allowed 1–6"}},
	}
	for _, c := range cases {
		m := tinyModel()
		err := FactorizeModel(m, c.layer, c.rank)
		if err == nil {
			t.Errorf("layer %q rank %d: no error", c.layer, c.rank)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("layer %q rank %d: error %q does not mention %q", c.layer, c.rank, err, w)
			}
		}
		for _, l := range m.Layers {
			if _, ok := l.(*Layer); ok {
				t.Errorf("layer %q rank %d: a rejected call changed the model", c.layer, c.rank)
			}
		}
	}

	m := tinyModel()
	if err := FactorizeModel(m, "fc1", 2); err != nil {
		t.Fatal(err)
	}
	if err := FactorizeModel(m, "fc1", 1); err == nil || !strings.Contains(err.Error(), "lowrank") {
		t.Errorf("factorizing fc1 twice: err = %v", err)
	}
	noDense := &nn.Sequential{Layers: []nn.Layer{nn.NewReLU("relu")}}
	if err := FactorizeModel(noDense, "", 2); err == nil || !strings.Contains(err.Error(), "no Dense layer") {
		t.Errorf("model without Dense layers: err = %v", err)
	}
}
