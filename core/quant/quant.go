package quant

import (
	"fmt"
	"math"
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

// CheckBits returns an error unless bits is a width Quantize accepts: 1 to
// 8, or 32 for float32.
func CheckBits(bits int) error {
	if (bits < 1 || bits > 8) && bits != Float32Bits {
		return fmt.Errorf("bit width %d is out of range: allowed 1–8, or 32 for float32", bits)
	}
	return nil
}

// QuantizeChannel quantizes the weights of one channel in place by the rule
// of Quantize with Options{Bits: bits} (symmetric, min–max) and returns the
// channel's scale (0 for an all-zero channel):
//
//	bits ≥ 2: qmax = 2^(bits−1) − 1,  scale = max|v| / qmax,
//	          v ← clamp(round(v/scale), −qmax, qmax)·scale
//	bits = 1: v ← sign(v)·mean|v|, the mean over the channel's non-zero values
//
// Zero (pruned) values stay exactly zero. bits must be 1 to 8; callers
// check user input with CheckBits.
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
