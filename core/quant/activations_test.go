package quant

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func TestFakeQuantizeByHand(t *testing.T) {
	// Asymmetric 8 bits over [0, 2.55]: scale 0.01, zero point 0.
	r := newActivationRange("fc", 8, false, 0, 2.55)
	if !near(float64(r.Scale), 0.01, 1e-9) || r.ZeroPoint != 0 {
		t.Fatalf("range %+v", r)
	}
	for _, c := range []struct {
		x, want float32
		inside  bool
	}{{1.234, 1.23, true}, {0, 0, true}, {3, 2.55, false}, {-0.5, 0, false}, {0.005, 0.01, true}} {
		got, inside := r.FakeQuantize(c.x)
		if !near(float64(got), float64(c.want), 1e-6) || inside != c.inside {
			t.Errorf("x = %v: %v %v, want %v %v", c.x, got, inside, c.want, c.inside)
		}
	}
	// Asymmetric 2 bits over [−1, 3]: scale 4/3, zero point round(0.75) = 1;
	// 2.1 → round(1.575) + 1 = 3 → (3 − 1)·4/3.
	r = newActivationRange("fc", 2, false, -1, 3)
	if r.ZeroPoint != 1 || !near(float64(r.Scale), 4.0/3, 1e-7) {
		t.Fatalf("range %+v", r)
	}
	if got, _ := r.FakeQuantize(2.1); !near(float64(got), 8.0/3, 1e-6) {
		t.Errorf("2.1 → %v, want 8/3", got)
	}
	if got, _ := r.FakeQuantize(0); got != 0 {
		t.Errorf("0 → %v, want exactly 0", got)
	}
	// Symmetric 8 bits, max |x| 1.27: scale 0.01; −0.505 → round(−50.5) = −51.
	r = newActivationRange("fc", 8, true, -0.3, 1.27)
	if !near(float64(r.Scale), 0.01, 1e-9) || r.ZeroPoint != 0 {
		t.Fatalf("range %+v", r)
	}
	if got, _ := r.FakeQuantize(-0.505); !near(float64(got), -0.51, 1e-6) {
		t.Errorf("−0.505 → %v, want −0.51", got)
	}
	// A range that saw only zeros maps everything to 0.
	r = newActivationRange("fc", 8, false, 0, 0)
	if got, inside := r.FakeQuantize(3); got != 0 || inside {
		t.Errorf("zero range: 3 → %v %v", got, inside)
	}
}

// twoByTwo: fc1 = identity, ReLU, fc2 = identity; so fc1 sees x and fc2
// sees max(x, 0).
func twoByTwo() *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 2, 2, []float32{1, 0, 0, 1}), nn.NewReLU("relu"), dense("fc2", 2, 2, []float32{1, 0, 0, 1}),
	}}
}

func zeroBias(m *nn.Sequential) {
	for _, d := range nn.WeightLayers(m) {
		clear(d.B.Value.Data)
	}
}

func TestCalibrateActivationsByHand(t *testing.T) {
	m := twoByTwo()
	zeroBias(m)
	x := nn.NewMatrix(3, 2)
	copy(x.Data, []float32{1, -2, 3, 0.5, 0.25, 0})
	ranges, err := CalibrateActivations(m, x, ActivationOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 2 || ranges[0].Layer != "fc1" || ranges[1].Layer != "fc2" {
		t.Fatalf("ranges %+v", ranges)
	}
	// fc1 sees [−2, 3]: scale 5/255, zero point round(2·255/5) = 102.
	r := ranges[0]
	if r.Min != -2 || r.Max != 3 || !near(float64(r.Scale), 5.0/255, 1e-9) || r.ZeroPoint != 102 || r.Bits != 8 {
		t.Errorf("fc1 range %+v", r)
	}
	// fc2 sees ReLU(x) in [0, 3]: scale 3/255, zero point 0.
	r = ranges[1]
	if r.Min != 0 || r.Max != 3 || !near(float64(r.Scale), 3.0/255, 1e-9) || r.ZeroPoint != 0 {
		t.Errorf("fc2 range %+v", r)
	}
	// Percentile 80 (symmetric) of |x| = 1, 2, 3, 0.5, 0.25, 0: the 5th
	// smallest of six, 2.
	ranges, err = CalibrateActivations(m, x, ActivationOptions{Symmetric: true, Percentile: 80, Bits: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r := ranges[0]; r.Min != -2 || r.Max != 2 || !near(float64(r.Scale), 2.0/7, 1e-7) {
		t.Errorf("p80 symmetric fc1 range %+v", r)
	}
}

func TestWithActivationQuantEvaluates(t *testing.T) {
	m := twoByTwo()
	zeroBias(m)
	x := nn.NewMatrix(2, 2)
	copy(x.Data, []float32{0.3, -1, 2, 0.71})
	// 2-bit ranges so rounding shows: fc1 input over [−1, 2] has scale 1,
	// zero point 1: 0.3 → 0, −1 → −1, 2 → 2, 0.71 → 1.
	ranges := []ActivationRange{newActivationRange("fc1", 2, false, -1, 2)}
	q, err := WithActivationQuant(m, ranges)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Layers) != 4 || q.Layers[0].Name() != "fc1.actquant" || q.Layers[0].Stats().Kind != "actquant" {
		t.Fatalf("layers %v", q.Layers)
	}
	y := q.Forward(x, false)
	// Identity layers: y = ReLU(x̂) = [0 0; 2 1].
	if !slices.Equal(y.Data, []float32{0, 0, 2, 1}) {
		t.Errorf("y = %v, want [0 0 2 1]", y.Data)
	}
	if got := m.Forward(x, false); !slices.Equal(got.Data, []float32{0.3, 0, 2, 0.71}) {
		t.Errorf("the original model changed: %v", got.Data)
	}
	// Backward is straight through inside the range, zero where clipped.
	a := NewActQuant(newActivationRange("fc1", 2, false, 0, 3))
	a.Forward(nn.Matrix{Rows: 1, Cols: 3, Data: []float32{1, 5, -2}}, true)
	if dx := a.Backward(nn.Matrix{Rows: 1, Cols: 3, Data: []float32{1, 1, 1}}); !slices.Equal(dx.Data, []float32{1, 0, 0}) {
		t.Errorf("STE dx = %v, want [1 0 0]", dx.Data)
	}
	for _, bad := range [][]ActivationRange{
		{{Layer: "relu", Bits: 8}},
		{{Layer: "fc1", Bits: 8}, {Layer: "fc1", Bits: 8}},
		{{Layer: "fc1", Bits: 12}},
	} {
		if _, err := WithActivationQuant(m, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// 8-bit activations on the trained spiral model cost almost nothing; 2-bit
// activations cost a lot. Both are measured through nn.Evaluate.
func TestInt8ActivationsKeepAccuracy(t *testing.T) {
	x, y := toyData(600, 1)
	xt, yt := toyData(600, 2)
	m := toyModel(2)
	trainFloat(t, m, x, y, 60)
	_, floatAcc := nn.Evaluate(m, xt, yt, 256)
	acc := func(bits int) float64 {
		ranges, err := CalibrateActivations(m, x.Slice(0, 200), ActivationOptions{Bits: bits})
		if err != nil {
			t.Fatal(err)
		}
		q, err := WithActivationQuant(m, ranges)
		if err != nil {
			t.Fatal(err)
		}
		_, a := nn.Evaluate(q, xt, yt, 256)
		return a
	}
	a8, a2 := acc(8), acc(2)
	t.Logf("float %.3f, 8-bit activations %.3f, 2-bit %.3f", floatAcc, a8, a2)
	if math.Abs(a8-floatAcc) > 0.01 {
		t.Errorf("8-bit activations: accuracy %.3f, float %.3f: want within 1 pp", a8, floatAcc)
	}
	if !(a2 < floatAcc-0.05) {
		t.Errorf("2-bit activations: accuracy %.3f, float %.3f: want a clear loss", a2, floatAcc)
	}
}

func TestCalibrateActivationsErrors(t *testing.T) {
	m := twoByTwo()
	x := nn.NewMatrix(1, 2)
	for _, c := range []struct {
		o    ActivationOptions
		want string
	}{
		{ActivationOptions{Bits: 1}, "allowed 2–8"},
		{ActivationOptions{Bits: 9}, "allowed 2–8"},
		{ActivationOptions{Percentile: 20}, "50–100"},
		{ActivationOptions{Batch: -1}, "negative"},
	} {
		if _, err := CalibrateActivations(m, x, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v", c.o, err)
		}
	}
	if _, err := CalibrateActivations(m, nn.NewMatrix(0, 2), ActivationOptions{}); err == nil {
		t.Error("no rows: no error")
	}
	if _, err := CalibrateActivations(&nn.Sequential{Layers: []nn.Layer{nn.NewReLU("r")}}, x, ActivationOptions{}); err == nil {
		t.Error("no weight layers: no error")
	}
}
