package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// smallNet is a 50-40-30-10 ReLU MLP: big enough for every kernel path,
// small enough for a float64 reference.
func smallNet(rng *rand.Rand) *Sequential {
	m := &Sequential{Layers: []Layer{
		NewDense("fc1", 50, 40, rng), NewReLU("relu1"),
		NewDense("fc2", 40, 30, rng), NewReLU("relu2"),
		NewDense("fc3", 30, 10, rng),
	}}
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			for i := range d.B.Value.Data {
				d.B.Value.Data[i] = float32(rng.NormFloat64() * 0.1)
			}
		}
	}
	return m
}

func randomInput(rng *rand.Rand, rows, cols int) Matrix {
	x := NewMatrix(rows, cols)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

// referenceForward runs m in float64 (Dense and ReLU only) and returns the
// outputs and, per output, the summation error bound of the last layer's
// float32 sums: γ_n·(|b| + Σ|h_i·w_ij|) with n terms, given exact inputs.
func referenceForward(m *Sequential, x Matrix) (y []float64, bound []float64) {
	h := make([]float64, len(x.Data))
	for i, v := range x.Data {
		h[i] = float64(v)
	}
	cols := x.Cols
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *Dense:
			out := make([]float64, x.Rows*l.Out)
			bound = make([]float64, x.Rows*l.Out)
			for r := 0; r < x.Rows; r++ {
				for j := 0; j < l.Out; j++ {
					s := float64(l.B.Value.Data[j])
					mag, n := math.Abs(s), 1
					for i := 0; i < l.In; i++ {
						if w := float64(l.W.Value.At(i, j)); w != 0 {
							s += h[r*cols+i] * w
							mag += math.Abs(h[r*cols+i] * w)
							n++
						}
					}
					u := float64(n) * 0x1p-24
					out[r*l.Out+j], bound[r*l.Out+j] = s, u/(1-u)*mag
				}
			}
			h, cols = out, l.Out
		case *ReLU:
			for i, v := range h {
				h[i] = max(v, 0)
			}
		default:
			panic("referenceForward: unexpected layer " + l.Name())
		}
	}
	return h, bound
}

// TestPrepareInferenceSparseMatchesFloat prunes a model and makes every
// layer run sparse at every batch size, and checks the
// outputs against the float64 reference. The kernels sum in a different
// order than the dense GEMM, so agreement is up to float32 summation: each
// layer's sums are within γ_n·Σ|terms| of exact, and that error passes on
// through the next layers, scaled by |W|. The test allows 4× the last
// layer's bound plus 1e-5 of the output's size for what earlier layers pass
// on; a wrong index or value is off by far more.
func TestPrepareInferenceSparseMatchesFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	defer useCrossovers(alwaysSparse)()
	m := smallNet(rng)
	pruneGlobal(m, 0.9)
	m.PrepareInference()
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			for _, batch := range []int{1, 256} {
				if got := d.InferenceForm(batch); got != "sparse" {
					t.Fatalf("%s at batch %d runs %s, want sparse (sparsity %.3f)", d.LayerName, batch, got, d.Stats().Sparsity())
				}
			}
		}
	}
	for _, batch := range []int{1, 2, 3, 16, 37} {
		x := randomInput(rng, batch, 50)
		y := m.Forward(x, false)
		want, bound := referenceForward(m, x)
		for i, w := range want {
			tol := 4*bound[i] + 1e-5*(math.Abs(w)+1)
			if got := float64(y.Data[i]); math.Abs(got-w) > tol {
				t.Fatalf("batch %d: y[%d] = %v, want %v ± %.3g", batch, i, got, w, tol)
			}
		}
	}
}

// TestPrepareInferenceInt8 quantizes a model to 8 bits and checks that the
// int8 plan agrees with the float path: every layer's output within its
// activation-rounding bound (one step s_r = (max−min)/255 of its input row
// per weight, times Σ|W[:,j]|), and the predicted class of random inputs
// the same for at least 99% of them.
func TestPrepareInferenceInt8(t *testing.T) {
	defer useCrossovers(alwaysInt8)()
	rng := rand.New(rand.NewPCG(2, 2))
	m := smallNet(rng)
	quantizeLayers(m, 8)
	float := m.Clone()
	m.PrepareInference()
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok && d.InferenceForm(64) != "int8" {
			t.Fatalf("%s runs %s, want int8", d.LayerName, d.InferenceForm(64))
		}
	}

	// One layer: the bound is exact arithmetic, checked row by row.
	d := m.Layers[0].(*Dense)
	x := randomInput(rng, 20, d.In)
	y := d.Forward(x, false)
	for r := 0; r < x.Rows; r++ {
		var lo, hi float64
		for _, v := range x.Row(r) {
			lo, hi = min(lo, float64(v)), max(hi, float64(v))
		}
		step := (hi - lo) / 255
		for j := 0; j < d.Out; j++ {
			want := float64(d.B.Value.Data[j])
			var sumW float64
			for i := 0; i < d.In; i++ {
				want += float64(x.At(r, i)) * float64(d.W.Value.At(i, j))
				sumW += math.Abs(float64(d.W.Value.At(i, j)))
			}
			tol := step*sumW*1.001 + 1e-5*(math.Abs(want)+1)
			if got := float64(y.At(r, j)); math.Abs(got-want) > tol {
				t.Fatalf("fc1 row %d: y[%d] = %v, want %v ± %.3g", r, j, got, want, tol)
			}
		}
	}

	// The model: predictions on random inputs.
	const n = 2000
	xs := randomInput(rng, n, 50)
	got, want := Predict(m, xs, 256), Predict(float, xs, 256)
	same := 0
	for i := range got {
		if got[i] == want[i] {
			same++
		}
	}
	if same < n*99/100 {
		t.Fatalf("int8 plan agrees with float on %d of %d predictions, want ≥ 99%%", same, n)
	}
}

// TestPlanDroppedByTraining: Forward(x, true) drops the plan, and after a
// training step inference runs the dense GEMM on the new weights.
func TestPlanDroppedByTraining(t *testing.T) {
	defer useCrossovers(alwaysSparse)()
	rng := rand.New(rand.NewPCG(3, 3))
	m := smallNet(rng)
	pruneGlobal(m, 0.97)
	m.PrepareInference()
	d := m.Layers[0].(*Dense)
	if d.plan == nil {
		t.Fatal("no plan after PrepareInference")
	}
	x := randomInput(rng, 32, 50)
	labels := make([]int, 32)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	if _, err := TrainEpoch(context.Background(), m, NewSGD(0.1, 0), x, labels, 32, rng, nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok && (d.plan != nil || d.InferenceForm(1) != "dense") {
			t.Fatalf("%s still has a plan after training", d.LayerName)
		}
	}
	// Inference now matches a plan-less copy bit for bit (same dense path).
	fresh := m.Clone()
	a, b := m.Forward(x, false), fresh.Forward(x, false)
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			t.Fatalf("y[%d] = %v, plan-less copy %v", i, a.Data[i], b.Data[i])
		}
	}
}

// TestStalePlanNotUsed: replacing the weight slice or changing Bits after
// PrepareInference must not run the old plan.
func TestStalePlanNotUsed(t *testing.T) {
	defer useCrossovers(alwaysSparse)()
	rng := rand.New(rand.NewPCG(4, 4))
	for _, change := range []string{"weights", "bits", "mask"} {
		m := smallNet(rng)
		pruneGlobal(m, 0.97)
		m.PrepareInference()
		d := m.Layers[0].(*Dense)
		switch change {
		case "weights":
			d.W.Value = randomInput(rng, d.In, d.Out) // dense new weights
		case "bits":
			d.Bits = 8
		case "mask":
			d.W.Mask = make([]float32, d.In*d.Out)
			d.W.ApplyMask()
		}
		x := randomInput(rng, 4, 50)
		y := d.Forward(x, false)
		if d.plan != nil {
			t.Fatalf("%s: plan kept after the change", change)
		}
		want := NewMatrix(4, d.Out)
		for r := 0; r < 4; r++ {
			copy(want.Row(r), d.B.Value.Data)
		}
		kernels.Gemm(false, false, 4, d.Out, d.In, 1, x.Data, d.In, d.W.Value.Data, d.Out, 1, want.Data, d.Out)
		for i := range want.Data {
			if y.Data[i] != want.Data[i] {
				t.Fatalf("%s: y[%d] = %v, dense %v", change, i, y.Data[i], want.Data[i])
			}
		}
	}
}

// TestCloneDropsPlan: a clone has no plan until PrepareInference, and the
// original keeps its own.
func TestCloneDropsPlan(t *testing.T) {
	defer useCrossovers(alwaysSparse)()
	rng := rand.New(rand.NewPCG(5, 5))
	m := smallNet(rng)
	pruneGlobal(m, 0.97)
	m.PrepareInference()
	c := m.Clone()
	for i, l := range c.Layers {
		if d, ok := l.(*Dense); ok {
			if d.plan != nil {
				t.Fatalf("clone of %s has a plan", d.LayerName)
			}
			if m.Layers[i].(*Dense).plan == nil {
				t.Fatalf("original %s lost its plan", d.LayerName)
			}
		}
	}
}

// TestStatsFLOPsFollowPlan: FLOPs are the non-zero weights when the plan
// runs sparse for a single sample, In·Out for int8 and dense.
func TestStatsFLOPsFollowPlan(t *testing.T) {
	defer useCrossovers(alwaysSparse)()
	rng := rand.New(rand.NewPCG(6, 6))
	m := smallNet(rng)
	pruneGlobal(m, 0.97)
	d := m.Layers[0].(*Dense)
	if got := d.Stats().FLOPs; got != 50*40 {
		t.Fatalf("before PrepareInference FLOPs = %d, want %d", got, 50*40)
	}
	m.PrepareInference()
	if got, want := d.Stats().FLOPs, int64(d.W.NonZero()); got != want {
		t.Fatalf("sparse plan FLOPs = %d, want the %d non-zeros", got, want)
	}
	defer useCrossovers(alwaysInt8)()
	q := smallNet(rng)
	quantizeLayers(q, 8)
	q.PrepareInference()
	if got := q.Layers[0].(*Dense).Stats().FLOPs; got != 50*40 {
		t.Fatalf("int8 plan FLOPs = %d, want %d", got, 50*40)
	}
}

// TestPlanDeterministic: the same input gives the same bits every call, on
// every path.
func TestPlanDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, form := range []string{"sparse", "int8"} {
		m := smallNet(rng)
		table := alwaysSparse
		if form == "sparse" {
			pruneGlobal(m, 0.9)
		} else {
			quantizeLayers(m, 8)
			table = alwaysInt8
		}
		restore := useCrossovers(table)
		m.PrepareInference()
		restore()
		for _, batch := range []int{1, 40} {
			x := randomInput(rng, batch, 50)
			a := m.Forward(x, false).Clone()
			b := m.Forward(x, false)
			for i := range a.Data {
				if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
					t.Fatalf("%s batch %d: y[%d] = %v then %v", form, batch, i, a.Data[i], b.Data[i])
				}
			}
		}
	}
}

// TestCrossoverLookup: measured shapes get their own row, others the row
// nearest by weight count.
func TestCrossoverLookup(t *testing.T) {
	for _, c := range sparseCrossovers {
		if got := crossoverFor(c.In, c.Out); got != c {
			t.Errorf("%d×%d: got the row of %d×%d", c.In, c.Out, got.In, got.Out)
		}
	}
	// 1000×1000 has 1e6 weights: nearest is 784×300 (235 200); 2×3 has 6:
	// nearest is 100×10 (1000).
	for _, c := range []struct{ in, out, wantIn, wantOut int }{{1000, 1000, 784, 300}, {2, 3, 100, 10}} {
		if got := crossoverFor(c.in, c.out); got.In != c.wantIn || got.Out != c.wantOut {
			t.Errorf("%d×%d: got the row of %d×%d, want %d×%d", c.in, c.out, got.In, got.Out, c.wantIn, c.wantOut)
		}
	}
}

// TestPlanFollowsTable: the plan picks per regime what the table says.
func TestPlanFollowsTable(t *testing.T) {
	defer useCrossovers([]crossoverRow{{50, 40, 0.6, 0.8, 0.9, 0.95, true, false}})()
	rng := rand.New(rand.NewPCG(8, 8))
	cases := []struct {
		ratio         float64
		bits          int
		single, batch string
	}{
		{0, 0, "dense", "dense"},
		{0.7, 0, "sparse", "dense"},
		{0.85, 0, "sparse", "sparse"},
		{0, 8, "int8", "dense"}, // int8 loses to dense at batch for this row
		{0.75, 8, "int8", "dense"},
		{0.92, 8, "sparse", "sparse"}, // beats int8 (0.9) at 1, dense (0.8) at 64
	}
	for _, c := range cases {
		d := NewDense("fc", 50, 40, rng)
		m := &Sequential{Layers: []Layer{d}}
		pruneGlobal(m, c.ratio)
		if c.bits != 0 {
			quantizeLayers(m, c.bits)
		}
		m.PrepareInference()
		if got1, got2 := d.InferenceForm(1), d.InferenceForm(64); got1 != c.single || got2 != c.batch {
			t.Errorf("ratio %.2f bits %d: runs %s at batch 1 and %s at 64, want %s and %s", c.ratio, c.bits, got1, got2, c.single, c.batch)
		}
	}
}

// useCrossovers replaces the crossover table until restore is called.
func useCrossovers(rows []crossoverRow) (restore func()) {
	prev := sparseCrossovers
	sparseCrossovers = rows
	return func() { sparseCrossovers = prev }
}

// alwaysSparse and alwaysInt8 make every shape run that form.
var (
	alwaysSparse = []crossoverRow{{1, 1, 0, 0, 0, 0, true, true}}
	alwaysInt8   = []crossoverRow{{1, 1, 2, 2, 2, 2, true, true}}
)
