package quant

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func dense(name string, in, out int, w []float32) *nn.Dense {
	d := nn.NewDense(name, in, out, rand.New(rand.NewPCG(1, 2)))
	copy(d.W.Value.Data, w)
	return d
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestQuantizeChannelByHand(t *testing.T) {
	// 3 bits: qmax = 3, scale = 1/3; w/scale = 0.3, −1.5, 0.75, 3 round
	// (half away from zero) to the codes 0, −2, 1, 3.
	v := []float32{0.1, -0.5, 0.25, 1.0}
	codes := make([]int8, 4)
	scale := quantizeChannel(v, 3, codes)
	if !near(float64(scale), 1.0/3, 1e-7) {
		t.Errorf("scale = %v, want 1/3", scale)
	}
	if want := []int8{0, -2, 1, 3}; !slices.Equal(codes, want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
	want := []float64{0, -2.0 / 3, 1.0 / 3, 1}
	for i := range v {
		if !near(float64(v[i]), want[i], 1e-7) {
			t.Errorf("v[%d] = %v, want %v", i, v[i], want[i])
		}
	}

	// 8 bits: qmax = 127, scale = 2/127; 0.3/scale = 19.05 → 19.
	v = []float32{2, -0.3}
	scale = QuantizeChannel(v, 8)
	if !near(float64(v[0]), 2, 1e-6) || !near(float64(v[1]), -19*2.0/127, 1e-6) || !near(float64(scale), 2.0/127, 1e-8) {
		t.Errorf("8 bits: v = %v scale %v, want [2 %v] scale %v", v, scale, -19*2.0/127, 2.0/127)
	}
}

func TestQuantizeChannelBinaryByHand(t *testing.T) {
	// Mean |w| over the non-zero weights: (0.5 + 1.5 + 1)/3 = 1.
	v := []float32{0.5, -1.5, 0, 1.0}
	if scale := QuantizeChannel(v, 1); scale != 1 {
		t.Errorf("scale = %v, want 1", scale)
	}
	if want := []float32{1, -1, 0, 1}; !slices.Equal(v, want) {
		t.Errorf("binary = %v, want %v", v, want)
	}
	v = []float32{0.2, -0.4}
	QuantizeChannel(v, 1)
	if !near(float64(v[0]), 0.3, 1e-7) || !near(float64(v[1]), -0.3, 1e-7) {
		t.Errorf("binary = %v, want [0.3 -0.3]", v)
	}
}

func TestQuantizeChannelAllZero(t *testing.T) {
	for bits := 1; bits <= 8; bits++ {
		v := []float32{0, 0, 0}
		if scale := QuantizeChannel(v, bits); scale != 0 || !slices.Equal(v, []float32{0, 0, 0}) {
			t.Errorf("bits %d: all-zero channel gave %v scale %v", bits, v, scale)
		}
	}
}

// On random data, with a fifth of the weights pruned to zero: every weight
// moves by at most scale/2 (plus float32 rounding), zeros stay zero, and a
// channel uses at most 2^bits − 1 distinct values (all of them on this much
// uniform data).
func TestQuantizeChannelBoundsOnRandomData(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for bits := 1; bits <= 8; bits++ {
		orig := make([]float32, 20000)
		for i := range orig {
			if rng.IntN(5) > 0 {
				orig[i] = float32(2*rng.Float64() - 1)
			}
		}
		v := slices.Clone(orig)
		scale := float64(QuantizeChannel(v, bits))
		levels := map[float32]bool{}
		for i, q := range v {
			levels[q] = true
			if orig[i] == 0 && q != 0 {
				t.Errorf("bits %d: zero weight %d became %v", bits, i, q)
			}
			if bits >= 2 {
				if e := math.Abs(float64(orig[i] - q)); e > scale/2+1e-7 {
					t.Errorf("bits %d: |%v − %v| = %v > scale/2 = %v", bits, orig[i], q, e, scale/2)
				}
			}
		}
		want := 1<<bits - 1
		if bits == 1 {
			want = 3 // −α, 0 (pruned), +α
		}
		if len(levels) != want {
			t.Errorf("bits %d: %d distinct values, want %d", bits, len(levels), want)
		}
	}
}

// bitsOnly is the plain quantizer: symmetric, per channel, min–max.
func bitsOnly(bits int) Options { return Options{Bits: bits} }

func TestQuantizeBitsOnlyByHand(t *testing.T) {
	// 2 bits: qmax = 1. Column 0 = [1, 0.25], scale 1 → [1, 0];
	// column 1 = [−0.5, 2], scale 2 → [0, 2] (−0.25 rounds to 0).
	d := dense("fc", 2, 2, []float32{1, -0.5, 0.25, 2})
	bias := slices.Clone(d.B.Value.Data)
	r, err := Quantize(d, bitsOnly(2))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 0, 0, 2}; !slices.Equal(d.W.Value.Data, want) {
		t.Errorf("W = %v, want %v", d.W.Value.Data, want)
	}
	if d.Bits != 2 {
		t.Errorf("Bits = %d, want 2", d.Bits)
	}
	if !slices.Equal(d.B.Value.Data, bias) {
		t.Errorf("bias changed")
	}
	// Errors 0, 0.5, 0.25, 0: max 0.5, RMS √((0.25 + 0.0625)/4).
	want := Report{Layer: "fc", Bits: 2, MaxAbsError: 0.5, RMSError: math.Sqrt(0.3125 / 4), Levels: 2}
	if r.Layer != want.Layer || r.Bits != want.Bits || r.Levels != want.Levels ||
		!near(r.MaxAbsError, want.MaxAbsError, 1e-9) || !near(r.RMSError, want.RMSError, 1e-9) {
		t.Errorf("report = %+v, want %+v", r, want)
	}
}

// Each column has its own scale: multiplying column 1 by 10 leaves column 0's
// result bit for bit and multiplies column 1's by 10.
func TestQuantizeBitsOnlyIsPerChannel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, 6*2)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	a := dense("fc", 6, 2, w)
	scaled := slices.Clone(w)
	for i := 0; i < 6; i++ {
		scaled[i*2+1] *= 10
	}
	b := dense("fc", 6, 2, scaled)
	for _, d := range []*nn.Dense{a, b} {
		if _, err := Quantize(d, bitsOnly(4)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 6; i++ {
		if a.W.Value.At(i, 0) != b.W.Value.At(i, 0) {
			t.Errorf("row %d: column 0 = %v and %v after scaling column 1", i, a.W.Value.At(i, 0), b.W.Value.At(i, 0))
		}
		if !near(float64(b.W.Value.At(i, 1)), 10*float64(a.W.Value.At(i, 1)), 1e-5) {
			t.Errorf("row %d: column 1 = %v, want 10·%v", i, b.W.Value.At(i, 1), a.W.Value.At(i, 1))
		}
	}
}

func TestQuantizeBitsOnlyKeepsPrunedZerosAndMask(t *testing.T) {
	d := dense("fc", 3, 2, []float32{0.7, 0, -0.2, 0.9, 0, -0.4})
	d.W.Mask = []float32{1, 0, 1, 1, 0, 1}
	for _, bits := range []int{1, 2, 4} {
		if _, err := Quantize(d, bitsOnly(bits)); err != nil {
			t.Fatal(err)
		}
		if d.W.Value.Data[1] != 0 || d.W.Value.Data[4] != 0 {
			t.Errorf("bits %d: pruned weights became %v", bits, d.W.Value.Data)
		}
		if d.W.NonZero() != 4 {
			t.Errorf("bits %d: %d non-zero weights, want 4", bits, d.W.NonZero())
		}
	}
}

func TestQuantizeFloat32IsNoOp(t *testing.T) {
	w := []float32{0.123, -4.56, 7.89, 0.001}
	d := dense("fc", 2, 2, w)
	r, err := Quantize(d, bitsOnly(32))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.W.Value.Data, w) || d.Bits != 0 {
		t.Errorf("bits 32 changed the layer: W %v Bits %d", d.W.Value.Data, d.Bits)
	}
	if r != (Report{Layer: "fc", Bits: 32}) {
		t.Errorf("report = %+v", r)
	}
}

// The quantized layer's stored size is what nn.WeightBytes says at its bit
// width: 4-bit codes plus one float32 scale per channel, biases in float32.
func TestQuantizeSizeBytes(t *testing.T) {
	w := make([]float32, 40)
	for i := range w {
		w[i] = 0.5 + float32(i)/80 // 0.5 … 0.9875: no weight rounds to zero
	}
	d := dense("fc", 10, 4, w)
	if got := d.Stats().SizeBytes; got != 176 { // 40·4 + 4·4
		t.Fatalf("float32 SizeBytes = %d, want 176", got)
	}
	if _, err := Quantize(d, bitsOnly(4)); err != nil {
		t.Fatal(err)
	}
	// 40 codes · 4 bits = 20 B, 4 scales · 4 B = 16 B, biases 16 B.
	if got := nn.WeightBytes(10, 4, 40, 4); got != 36 {
		t.Errorf("nn.WeightBytes(10, 4, 40, 4) = %d, want 36", got)
	}
	if s := d.Stats(); s.SizeBytes != 52 || s.Bits != 4 {
		t.Errorf("4-bit SizeBytes %d Bits %d, want 52 and 4", s.SizeBytes, s.Bits)
	}
}

func twoLayerModel() *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 2, 2, []float32{1, -0.5, 0.25, 2}),
		nn.NewReLU("relu1"),
		dense("fc2", 2, 2, []float32{0.3, 0.6, -0.9, 0.1}),
	}}
}

func TestQuantizeModelLayers(t *testing.T) {
	m := twoLayerModel()
	reports, err := QuantizeModel(m, bitsOnly(2), []string{"fc1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].Layer != "fc1" {
		t.Fatalf("reports = %+v, want one for fc1", reports)
	}
	fc1, fc2 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
	if fc1.Bits != 2 || fc2.Bits != 0 {
		t.Errorf("Bits fc1 %d fc2 %d, want 2 and 0", fc1.Bits, fc2.Bits)
	}
	if !slices.Equal(fc2.W.Value.Data, []float32{0.3, 0.6, -0.9, 0.1}) {
		t.Errorf("fc2 was not selected but changed: %v", fc2.W.Value.Data)
	}

	m = twoLayerModel()
	reports, err = QuantizeModel(m, bitsOnly(8), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 || reports[0].Layer != "fc1" || reports[1].Layer != "fc2" {
		t.Errorf("reports = %+v, want fc1 then fc2", reports)
	}
}

func TestErrors(t *testing.T) {
	d := dense("fc", 2, 2, []float32{1, 2, 3, 4})
	for _, bits := range []int{-1, 0, 9, 12, 16, 31, 64} {
		_, err := Quantize(d, bitsOnly(bits))
		if err == nil {
			t.Errorf("bits %d: no error", bits)
			continue
		}
		if !strings.Contains(err.Error(), "allowed 1–8, or 32 for float32") {
			t.Errorf("bits %d: error %q does not say what is allowed", bits, err)
		}
		if _, err := QuantizeModel(twoLayerModel(), bitsOnly(bits), nil); err == nil {
			t.Errorf("QuantizeModel bits %d: no error", bits)
		}
	}
	if err := CheckBits(12); err == nil || err.Error() != "bit width 12 is out of range: allowed 1–8, or 32 for float32" {
		t.Errorf("CheckBits(12) = %v", err)
	}
	if !slices.Equal(d.W.Value.Data, []float32{1, 2, 3, 4}) || d.Bits != 0 {
		t.Errorf("a rejected call changed the layer")
	}

	for _, layers := range [][]string{{"fc9"}, {"relu1"}, {"fc2", "fc2"}} {
		m := twoLayerModel()
		_, err := QuantizeModel(m, bitsOnly(4), layers)
		if err == nil {
			t.Errorf("layers %v: no error", layers)
			continue
		}
		if !strings.Contains(err.Error(), layers[0]) {
			t.Errorf("layers %v: error %q does not name the layer", layers, err)
		}
		if m.Layers[0].(*nn.Dense).Bits != 0 || m.Layers[2].(*nn.Dense).Bits != 0 {
			t.Errorf("layers %v: a rejected call quantized the model", layers)
		}
	}
	_, err := QuantizeModel(twoLayerModel(), bitsOnly(4), []string{"fc9"})
	if err == nil || !strings.Contains(err.Error(), "fc1, fc2") {
		t.Errorf("unknown layer: error %v does not list the weight layers", err)
	}
}
