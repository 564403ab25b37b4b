package quant

import (
	"fmt"
	"math"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Float32Bits is the bit width that means "leave the weights as float32".
const Float32Bits = 32

// Report says how far quantization moved one layer's weights.
type Report struct {
	Layer string
	Bits  int
	// MaxAbsError and RMSError compare each weight before and after, over
	// all In·Out weights of the layer.
	MaxAbsError, RMSError float64
	// Levels is the number of distinct integer codes used across the layer,
	// zero included: at most 2^Bits − 1 for symmetric Bits ≥ 2, at most 3
	// (−1, 0 for pruned weights, +1) for binary, and at most 2^Bits for
	// asymmetric codes (counted as stored, q = c + zero point). It is 0 when
	// Bits is 32.
	Levels int
	// Clipped counts the weights outside a percentile range (Options.
	// Percentile), which were clipped to its ends; 0 for min–max.
	Clipped int
}

// CheckBits returns an error unless bits is a width Uniform accepts: 1 to 8,
// or 32 for float32.
func CheckBits(bits int) error {
	if (bits < 1 || bits > 8) && bits != Float32Bits {
		return fmt.Errorf("bit width %d is out of range: allowed 1–8, or 32 for float32", bits)
	}
	return nil
}

// Uniform quantizes d's weights to bits bits, one scale per output channel
// (column j of W), and sets d.Bits:
//
//	bits ≥ 2: qmax = 2^(bits−1) − 1,  scale_j = max|W[:,j]| / qmax,
//	          w ← clamp(round(w/scale_j), −qmax, qmax)·scale_j
//	bits = 1: w ← sign(w)·mean|W[:,j]|, the mean over the channel's non-zero weights
//
// Zero (pruned) weights stay exactly zero. bits = 32 leaves the layer
// untouched, as float32.
func Uniform(d *nn.Dense, bits int) (Report, error) {
	if err := CheckBits(bits); err != nil {
		return Report{}, fmt.Errorf("quantize layer %s: %w", d.LayerName, err)
	}
	r := Report{Layer: d.LayerName, Bits: bits}
	if bits == Float32Bits {
		return r, nil
	}
	w := d.W.Value
	channel := make([]float32, w.Rows)
	codes := make([]int8, w.Rows)
	var used [256]bool // by code, offset so −128 is index 0
	var sumSq float64
	for j := 0; j < w.Cols; j++ {
		for i := range channel {
			channel[i] = w.At(i, j)
		}
		quantizeChannel(channel, bits, codes)
		for i, q := range channel {
			e := math.Abs(float64(w.At(i, j)) - float64(q))
			r.MaxAbsError = max(r.MaxAbsError, e)
			sumSq += e * e
			used[int(codes[i])+128] = true
			w.Set(i, j, q)
		}
	}
	if n := len(w.Data); n > 0 {
		r.RMSError = math.Sqrt(sumSq / float64(n))
	}
	for _, u := range used {
		if u {
			r.Levels++
		}
	}
	d.Bits = bits
	return r, nil
}

// UniformLayers runs Uniform on each Dense layer of m named in layers (nil or
// empty: every Dense layer), in model order. On an error no layer is changed.
func UniformLayers(m *nn.Sequential, bits int, layers []string) ([]Report, error) {
	if err := CheckBits(bits); err != nil {
		return nil, err
	}
	ds, err := m.DenseLayers(layers)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	reports := make([]Report, len(ds))
	for i, d := range ds {
		if reports[i], err = Uniform(d, bits); err != nil {
			return nil, err
		}
	}
	return reports, nil
}

// QuantizeChannel quantizes the weights of one channel in place by the rule
// of Uniform and returns the channel's scale (0 for an all-zero channel): each
// value becomes code·scale with an integer code in [−qmax, qmax], or ±1 for
// binary. bits must be 1 to 8; callers check user input with CheckBits.
func QuantizeChannel(v []float32, bits int) (scale float32) {
	return quantizeChannel(v, bits, nil)
}

// quantizeChannel is QuantizeChannel that also writes each value's integer
// code into codes when codes is not nil. Codes come from w·qmax/max|w| in
// float64, so a weight exactly halfway between two levels rounds as the math
// says (away from zero) rather than as the float32 scale's rounding would.
func quantizeChannel(v []float32, bits int, codes []int8) (scale float32) {
	if bits < 1 || bits > 8 {
		panic(fmt.Sprintf("quant: bit width %d, want 1–8", bits))
	}
	var maxAbs, sumAbs float64
	nonZero := 0
	for _, x := range v {
		a := math.Abs(float64(x))
		maxAbs = max(maxAbs, a)
		if x != 0 {
			sumAbs += a
			nonZero++
		}
	}
	if nonZero == 0 {
		clear(codes)
		return 0
	}
	qmax := float64(int(1)<<(bits-1) - 1)
	step := maxAbs / qmax
	if bits == 1 {
		// Binary: one magnitude for the channel; the mean |w| minimizes the
		// squared error of sign(w)·α over the kept weights.
		step = sumAbs / float64(nonZero)
	}
	for i, x := range v {
		var q float64
		if bits == 1 {
			q = sign(float64(x))
		} else {
			q = max(-qmax, min(qmax, math.Round(float64(x)*qmax/maxAbs)))
		}
		v[i] = float32(q * step)
		if codes != nil {
			codes[i] = int8(q)
		}
	}
	return float32(step)
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
