package quant

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// column returns an n×1 layer holding v, so per-channel and per-tensor agree.
func column(v ...float32) *nn.Dense {
	return dense("fc", len(v), 1, v)
}

func wantValues(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if !near(float64(got[i]), want[i], tol) {
			t.Errorf("%s: W = %v, want %v", what, got, want)
			return
		}
	}
}

func TestQuantizeSymmetricPerTensorByHand(t *testing.T) {
	// 3 bits, one scale: r = max|w| = 2, qmax = 3, s = 2/3;
	// w·3/2 = 1.5, −0.75, 0.375, 3 → codes 2, −1, 0, 3.
	d := dense("fc", 2, 2, []float32{1, -0.5, 0.25, 2})
	r, err := Quantize(d, Options{Bits: 3, PerTensor: true})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "per-tensor", d.W.Value.Data, []float64{4.0 / 3, -2.0 / 3, 0, 2}, 1e-7)
	// Errors 1/3, 1/6, 1/4, 0.
	if r.Levels != 4 || r.Clipped != 0 || d.Bits != 3 ||
		!near(r.MaxAbsError, 1.0/3, 1e-7) || !near(r.RMSError, math.Sqrt((1.0/9+1.0/36+1.0/16)/4), 1e-7) {
		t.Errorf("report %+v, Bits %d", r, d.Bits)
	}
	// Per channel the same matrix has scales 1/3 (column [1, 0.25]) and
	// 2/3 (column [−0.5, 2]): codes 3, 1 and −1, 3.
	d = dense("fc", 2, 2, []float32{1, -0.5, 0.25, 2})
	if _, err := Quantize(d, Options{Bits: 3}); err != nil {
		t.Fatal(err)
	}
	wantValues(t, "per-channel", d.W.Value.Data, []float64{1, -2.0 / 3, 1.0 / 3, 2}, 1e-7)
}

func TestQuantizeSymmetricPercentileByHand(t *testing.T) {
	// |w| sorted 0.125, 0.25, 0.375, 0.5, 8: the 80th percentile by nearest
	// rank is the ⌈0.8·5⌉ = 4th, 0.5. 3 bits: s = 0.5/3, codes round(6w) =
	// 1, 2, 2, 3 and 48 → 3 (clipped).
	d := column(0.125, 0.25, 0.375, 0.5, 8)
	r, err := Quantize(d, Options{Bits: 3, Percentile: 80})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "p80", d.W.Value.Data, []float64{1.0 / 6, 2.0 / 6, 2.0 / 6, 0.5, 0.5}, 1e-7)
	if r.Clipped != 1 || !near(r.MaxAbsError, 7.5, 1e-7) {
		t.Errorf("report %+v, want 1 clipped and max error 7.5", r)
	}
	// Min–max on the same weights: s = 8/3 rounds every small weight to 0.
	d = column(0.125, 0.25, 0.375, 0.5, 8)
	if _, err := Quantize(d, Options{Bits: 3}); err != nil {
		t.Fatal(err)
	}
	wantValues(t, "min-max", d.W.Value.Data, []float64{0, 0, 0, 0, 8}, 0)
}

func TestQuantizeAsymmetricByHand(t *testing.T) {
	cases := []struct {
		name    string
		w       []float32
		bits    int
		want    []float64
		clipped int
	}{
		// L = 3. z = 1: s = max(1.2/2, 0.4/1) = 0.6 (z = 2 gives 1.2);
		// codes −0.67 → −1, 0.17 → 0, 0.83 → 1, 2.
		{"mixed", []float32{-0.4, 0.1, 0.5, 1.2}, 2, []float64{-0.6, 0, 0.6, 1.2}, 0},
		// All positive: z = 0, s = 0.8/3; codes 0.75 → 1, 1.5 → 2, 2.25 → 2, 3.
		{"positive", []float32{0.2, 0.4, 0.6, 0.8}, 2, []float64{0.8 / 3, 1.6 / 3, 1.6 / 3, 0.8}, 0},
		// Leaning negative: z = 2, s = max(0.4/1, 1.2/2) = 0.6.
		{"negative", []float32{-1.2, -0.5, 0.1, 0.4}, 2, []float64{-1.2, -0.6, 0, 0.6}, 0},
		// One bit: levels {0, 0.9}.
		{"1 bit", []float32{0.3, 0.9}, 1, []float64{0, 0.9}, 0},
		// One bit, both signs: the larger side (0.9) stays, −0.5 clips to 0.
		{"1 bit both signs", []float32{-0.5, 0.9}, 1, []float64{0, 0.9}, 1},
		// Pruned zeros stay zero.
		{"zeros", []float32{0, -0.4, 0, 1.2}, 2, []float64{0, -0.6, 0, 1.2}, 0},
	}
	for _, c := range cases {
		d := column(c.w...)
		r, err := Quantize(d, Options{Bits: c.bits, Asymmetric: true})
		if err != nil {
			t.Fatal(err)
		}
		wantValues(t, c.name, d.W.Value.Data, c.want, 1e-7)
		if r.Clipped != c.clipped {
			t.Errorf("%s: clipped %d, want %d", c.name, r.Clipped, c.clipped)
		}
	}
	// Symmetric 2-bit on the all-positive weights wastes half the codes:
	// s = 0.8, so 0.2 → 0 and 0.4, 0.6 → 0.8.
	d := column(0.2, 0.4, 0.6, 0.8)
	sym, _ := Quantize(d, Options{Bits: 2})
	wantValues(t, "symmetric", d.W.Value.Data, []float64{0, 0.8, 0.8, 0.8}, 1e-7)
	asym, _ := Quantize(column(0.2, 0.4, 0.6, 0.8), Options{Bits: 2, Asymmetric: true})
	if !(asym.RMSError < sym.RMSError/2) {
		t.Errorf("asymmetric RMS %v, symmetric %v: want asymmetric much better on one-sided weights", asym.RMSError, sym.RMSError)
	}
}

func TestQuantizeAsymmetricPercentileByHand(t *testing.T) {
	// Ten weights −5.1, 0.1…0.9: the 10th and 90th percentiles by nearest
	// rank are the 1st and 9th smallest: −5.1 and 0.8.
	w := []float32{-5.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}
	d := column(w...)
	r, err := Quantize(d, Options{Bits: 4, Asymmetric: true, Percentile: 90})
	if err != nil {
		t.Fatal(err)
	}
	// L = 15: s(z) = max(0.8/(15−z), 5.1/z) is smallest at z = 13: max(0.4, 0.392) = 0.4
	// (z = 12 gives 0.425). So s = 0.4 from the top; codes −5.1/0.4 = −12.75 → −13 (≥ −13, kept),
	// 0.9/0.4 = 2.25 → 2 (0.9 > 0.8: clipped by the range, inside the grid).
	if got := d.W.Value.Data[0]; !near(float64(got), -5.2, 1e-6) {
		t.Errorf("−5.1 → %v, want −13·0.4 = −5.2", got)
	}
	if got := d.W.Value.Data[9]; !near(float64(got), 0.8, 1e-7) {
		t.Errorf("0.9 → %v, want 0.8", got)
	}
	if r.Clipped != 1 {
		t.Errorf("clipped %d, want 1 (0.9 is above the grid's top, 2·0.4)", r.Clipped)
	}
}

// On random data, in every mode, each weight inside the range moves by at
// most half a step, where the step is max|w|/qmax symmetric and at most
// (hi−lo)/(L−1) asymmetric; zeros stay zero; codes fit the bit width.
func TestQuantizeErrorBoundsOnRandomData(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const in, out = 50, 6
	orig := make([]float32, in*out)
	for i := range orig {
		if rng.IntN(4) > 0 {
			orig[i] = float32(rng.NormFloat64() + 0.3)
		}
	}
	for bits := 2; bits <= 8; bits++ {
		for _, asym := range []bool{false, true} {
			for _, perTensor := range []bool{false, true} {
				o := Options{Bits: bits, Asymmetric: asym, PerTensor: perTensor}
				d := dense("fc", in, out, orig)
				r, err := Quantize(d, o)
				if err != nil {
					t.Fatal(err)
				}
				groups := out
				if perTensor {
					groups = 1
				}
				for g := 0; g < groups; g++ {
					var idx []int
					for i := range orig {
						if perTensor || i%out == g {
							idx = append(idx, i)
						}
					}
					lo, hi, maxAbs := 0.0, 0.0, 0.0
					for _, i := range idx {
						x := float64(orig[i])
						lo, hi, maxAbs = min(lo, x), max(hi, x), max(maxAbs, math.Abs(x))
					}
					step := maxAbs / float64(int(1)<<(bits-1)-1)
					if asym {
						step = (hi - lo) / float64(int(1)<<bits-2)
					}
					for _, i := range idx {
						q := float64(d.W.Value.Data[i])
						if orig[i] == 0 && q != 0 {
							t.Fatalf("%v: zero weight became %v", o, q)
						}
						if e := math.Abs(float64(orig[i]) - q); e > step/2+1e-6 {
							t.Fatalf("%v: |%v − %v| = %v > step/2 = %v", o, orig[i], q, e, step/2)
						}
					}
				}
				if r.Levels > 1<<bits || r.Clipped != 0 {
					t.Errorf("%v: %d levels (at most %d), %d clipped", o, r.Levels, 1<<bits, r.Clipped)
				}
			}
		}
	}
}

// Options{Bits: b} follows the rule Quantize documents, bit for bit,
// checked against that rule written out here in float64 on every column:
// with r = max|w| and qmax = 2^(b−1) − 1, code c = clamp(round(w·qmax/r),
// ±qmax) and w ← float32(c·s), s = r/qmax; for b = 1, c = sign(w) and s =
// the mean |w| of the column's non-zero weights. Levels counts the distinct
// codes over the layer, MaxAbsError is exact, RMSError is equal up to the
// order of the sum (relative 1e-12).
func TestQuantizeBitsOnlyMatchesTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const rows, cols = 30, 4
	w := make([]float32, rows*cols)
	for i := range w {
		if rng.IntN(6) > 0 { // some pruned zeros
			w[i] = float32(rng.NormFloat64())
		}
	}
	for bits := 1; bits <= 8; bits++ {
		want := slices.Clone(w)
		codes := map[int]bool{}
		for j := 0; j < cols; j++ {
			var r, sumAbs float64
			nonZero := 0
			for i := 0; i < rows; i++ {
				a := math.Abs(float64(w[i*cols+j]))
				r = max(r, a)
				if a != 0 {
					sumAbs += a
					nonZero++
				}
			}
			qmax := float64(int(1)<<(bits-1) - 1)
			step := r / qmax
			if bits == 1 {
				step = sumAbs / float64(nonZero)
			}
			for i := 0; i < rows; i++ {
				x := float64(w[i*cols+j])
				c := math.Max(-qmax, math.Min(qmax, math.Round(x*qmax/r)))
				if bits == 1 {
					c = 0
					if x > 0 {
						c = 1
					} else if x < 0 {
						c = -1
					}
				}
				codes[int(c)] = true
				want[i*cols+j] = float32(c * step)
			}
		}
		var maxAbs, sumSq float64
		for i := range w {
			e := math.Abs(float64(w[i]) - float64(want[i]))
			maxAbs = max(maxAbs, e)
			sumSq += e * e
		}
		rms := math.Sqrt(sumSq / float64(len(w)))

		d := dense("fc", rows, cols, w)
		r, err := Quantize(d, Options{Bits: bits})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Float32bits(d.W.Value.Data[i]) != math.Float32bits(want[i]) {
				t.Fatalf("bits %d: W[%d] = %v, the rule gives %v", bits, i, d.W.Value.Data[i], want[i])
			}
		}
		if r.Levels != len(codes) || r.MaxAbsError != maxAbs || !near(r.RMSError, rms, 1e-12*rms) || d.Bits != bits {
			t.Errorf("bits %d: report %+v Bits %d, want %d levels, max error %v, RMS %v, Bits %d",
				bits, r, d.Bits, len(codes), maxAbs, rms, bits)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Bits: 0}, "allowed 1–8, or 32"},
		{Options{Bits: 9}, "allowed 1–8, or 32"},
		{Options{Bits: 4, Percentile: 40}, "allowed 0 (min–max) or 50–100"},
		{Options{Bits: 4, Percentile: 100.5}, "allowed 0 (min–max) or 50–100"},
		{Options{Bits: 4, Percentile: math.NaN()}, "allowed 0 (min–max) or 50–100"},
	}
	for _, c := range cases {
		d := dense("fc1", 2, 2, []float32{1, 2, 3, 4})
		_, err := Quantize(d, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "fc1") {
			t.Errorf("%+v: err = %v, want it to name fc1 and say %q", c.o, err, c.want)
		}
		if !slices.Equal(d.W.Value.Data, []float32{1, 2, 3, 4}) || d.Bits != 0 {
			t.Errorf("%+v: a rejected call changed the layer", c.o)
		}
	}
	if s := (Options{Bits: 4, Asymmetric: true, PerTensor: true, Percentile: 99.9}).String(); s != "bits=4 asym per-tensor p99.9" {
		t.Errorf("String() = %q", s)
	}
}

// factoredLayer stands in for a lowrank.Layer: two Dense factors.
type factoredLayer struct {
	nn.Layer
	name string
	a, b *nn.Dense
}

func (f *factoredLayer) Name() string         { return f.name }
func (f *factoredLayer) Factors() []*nn.Dense { return []*nn.Dense{f.a, f.b} }
func (f *factoredLayer) Clone() nn.Layer {
	return &factoredLayer{name: f.name, a: f.a.Clone().(*nn.Dense), b: f.b.Clone().(*nn.Dense)}
}
func (f *factoredLayer) Stats() nn.LayerStats { return nn.LayerStats{Name: f.name, Kind: "lowrank"} }
func (f *factoredLayer) Params() []*nn.Param  { return append(f.a.Params(), f.b.Params()...) }
func (f *factoredLayer) Forward(x nn.Matrix, train bool) nn.Matrix {
	return f.b.Forward(f.a.Forward(x, train), train)
}

func factoredModel() *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		&factoredLayer{name: "fc1",
			a: dense("fc1.A", 2, 1, []float32{0.3, -0.7}),
			b: dense("fc1.B", 1, 2, []float32{0.9, -0.2})},
		nn.NewReLU("relu1"),
		dense("fc2", 2, 2, []float32{0.3, 0.6, -0.9, 0.1}),
	}}
}

func TestQuantizeModelReachesFactors(t *testing.T) {
	m := factoredModel()
	var names []string
	for _, d := range nn.WeightLayers(m) {
		names = append(names, d.LayerName)
	}
	if !slices.Equal(names, []string{"fc1.A", "fc1.B", "fc2"}) {
		t.Errorf("WeightLayers = %v", names)
	}
	reports, err := QuantizeModel(m, Options{Bits: 2}, []string{"fc1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 || reports[0].Layer != "fc1.A" || reports[1].Layer != "fc1.B" {
		t.Errorf("quantizing fc1 reported %+v, want both factors", reports)
	}
	if nn.WeightLayers(m)[2].Bits != 0 {
		t.Error("fc2 was quantized but not named")
	}
	_, err = QuantizeModel(m, Options{Bits: 2}, []string{"relu1"})
	if err == nil || !strings.Contains(err.Error(), "fc1.A, fc1.B, fc2") {
		t.Errorf("naming a ReLU: err = %v, want the weight layers listed", err)
	}
	_, err = QuantizeModel(m, Options{Bits: 2}, []string{"fc1", "fc1.A"})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("fc1 and fc1.A: err = %v", err)
	}
}

// Mixed precision is QuantizeModel (or Quantize) once per layer at its own
// width: the other layers keep theirs, a factorized layer's name covers
// both factors, and a rejected call changes nothing.
func TestQuantizeModelMixedPrecision(t *testing.T) {
	m := factoredModel()
	var reports []Report
	for _, layer := range []struct {
		name string
		bits int
	}{{"fc1.B", 2}, {"fc2", 4}} {
		r, err := QuantizeModel(m, Options{Bits: layer.bits, Asymmetric: true}, []string{layer.name})
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, r...)
	}
	if len(reports) != 2 || reports[0].Layer != "fc1.B" || reports[0].Bits != 2 || reports[1].Layer != "fc2" || reports[1].Bits != 4 {
		t.Errorf("reports %+v", reports)
	}
	ws := nn.WeightLayers(m)
	if ws[0].Bits != 0 || ws[1].Bits != 2 || ws[2].Bits != 4 {
		t.Errorf("Bits = %d %d %d, want 0 2 4", ws[0].Bits, ws[1].Bits, ws[2].Bits)
	}
	m = factoredModel()
	if _, err := QuantizeModel(m, Options{Bits: 3}, []string{"fc1"}); err != nil {
		t.Fatal(err)
	}
	if ws := nn.WeightLayers(m); ws[0].Bits != 3 || ws[1].Bits != 3 || ws[2].Bits != 0 {
		t.Errorf("a factorized layer's name quantizes both factors: Bits %d %d %d, want 3 3 0", ws[0].Bits, ws[1].Bits, ws[2].Bits)
	}
	m = factoredModel()
	for _, bad := range []struct {
		bits   int
		layers []string
	}{{12, []string{"fc1.A"}}, {4, []string{"fc9"}}, {4, []string{"fc2", "fc1.A", "fc2"}}} {
		if _, err := QuantizeModel(m, Options{Bits: bad.bits}, bad.layers); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	for _, d := range nn.WeightLayers(m) {
		if d.Bits != 0 {
			t.Errorf("a rejected call quantized %s", d.LayerName)
		}
	}
}

func TestBitSensitivityAndPickBits(t *testing.T) {
	m := factoredModel()
	before := slices.Clone(nn.WeightLayers(m)[2].W.Value.Data)
	// eval: minus the total absolute change of the weights, so fewer bits
	// score lower; it sees only the layer under test changed.
	eval := func(c *nn.Sequential) float64 {
		var diff float64
		for i, d := range nn.WeightLayers(c) {
			ref := nn.WeightLayers(factoredModel())[i]
			for j := range d.W.Value.Data {
				diff += math.Abs(float64(d.W.Value.Data[j] - ref.W.Value.Data[j]))
			}
		}
		return -diff
	}
	rows, err := BitSensitivity(m, []string{"fc2"}, []int{2, 8}, Options{}, eval)
	if err != nil {
		t.Fatal(err)
	}
	// fc2 at 2 bits (per channel): columns [0.3, −0.9] and [0.6, 0.1] →
	// [0, −0.9] and [0.6, 0]: total change 0.3 + 0.1 = 0.4.
	if len(rows) != 2 || rows[0].Layer != "fc2" || rows[0].Bits != 2 || !near(rows[0].Accuracy, -0.4, 1e-6) || rows[1].Bits != 8 {
		t.Errorf("rows %+v", rows)
	}
	if !slices.Equal(nn.WeightLayers(m)[2].W.Value.Data, before) {
		t.Error("BitSensitivity changed the model")
	}
	picked := PickBits([]BitSensitivityRow{
		{"fc1", 2, 0.90}, {"fc1", 4, 0.97}, {"fc1", 8, 0.98},
		{"fc2", 2, 0.50}, {"fc2", 4, 0.60},
	}, 0.98, 0.01)
	if picked["fc1"] != 4 || picked["fc2"] != 32 {
		t.Errorf("PickBits = %v, want fc1 4 and fc2 32", picked)
	}
	if _, err := BitSensitivity(m, nil, []int{3, 33}, Options{}, eval); err == nil {
		t.Error("bit width 33: no error")
	}
	if _, err := BitSensitivity(m, nil, []int{3}, Options{}, nil); err == nil {
		t.Error("nil eval: no error")
	}
}
