package quant

import (
	"fmt"
	"math"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Options choose a uniform post-training quantizer. The zero value is not
// valid (Bits 0); Options{Bits: b} is the plain quantizer: symmetric, one
// scale per output channel, range from min–max (see QuantizeChannel).
type Options struct {
	// Bits is the bit width of a weight code: 1–8, or 32 for float32.
	Bits int
	// Asymmetric adds an integer zero point, so the codes 0…2^Bits−1 span
	// [lo, hi] rather than a range symmetric about zero: better for weights
	// that lean to one side (see quantizeAsymmetric for the exact rule).
	Asymmetric bool
	// PerTensor uses one scale (and zero point) for the whole matrix
	// instead of one per output channel (column j of W).
	PerTensor bool
	// Percentile sets the range from a percentile of the non-zero weights
	// instead of their extremes, clipping outliers to it: the p-th
	// percentile of |w| (symmetric), or the (100−p)-th and p-th percentiles
	// of w (asymmetric), by nearest rank, so the range ends on a weight.
	// 0 means min–max; otherwise 50–100, e.g. 99.9.
	Percentile float64
}

// Check returns an error that says what is wrong and what is allowed.
func (o Options) Check() error {
	if err := CheckBits(o.Bits); err != nil {
		return err
	}
	if o.Percentile != 0 && (math.IsNaN(o.Percentile) || o.Percentile < 50 || o.Percentile > 100) {
		return fmt.Errorf("percentile %v is out of range: allowed 0 (min–max) or 50–100, e.g. 99.9", o.Percentile)
	}
	return nil
}

// String names the quantizer as a setting, e.g. "bits=4 asym per-tensor p99.9".
func (o Options) String() string {
	s := fmt.Sprintf("bits=%d", o.Bits)
	if o.Asymmetric {
		s += " asym"
	}
	if o.PerTensor {
		s += " per-tensor"
	}
	if o.Percentile != 0 {
		s += fmt.Sprintf(" p%g", o.Percentile)
	}
	return s
}

// Quantize snaps d's weights to a uniform grid chosen by o and sets d.Bits
// (untouched for Bits 32). Each group (a column of W, or all of W when
// PerTensor) gets its own grid; with range end r reached at integer code m
// and step s = r/m (in float64), every weight becomes
//
//	w ← float32(c·s),  c an integer code of at most Bits bits
//
// Symmetric, Bits ≥ 2: r = max|w| (or the percentile), m = qmax = 2^(Bits−1)−1,
// c = clamp(round(w·qmax/r), −qmax, qmax). Symmetric, Bits = 1: w ← sign(w)·mean|w|
// over the group's non-zero weights (Percentile does not apply). Asymmetric:
// see quantizeAsymmetric. Zero (pruned) weights stay exactly zero in every
// mode: zero is always a level. Weights beyond a percentile range are
// clipped to it and counted in Report.Clipped.
//
// Every value is c·s rounded once to float32 from float64, with r a
// float32: the form core/modelfile recognises to store codes and scales
// instead of floats.
func Quantize(d *nn.Dense, o Options) (Report, error) {
	if err := o.Check(); err != nil {
		return Report{}, fmt.Errorf("quantize layer %s: %w", d.LayerName, err)
	}
	r := Report{Layer: d.LayerName, Bits: o.Bits}
	if o.Bits == Float32Bits {
		return r, nil
	}
	w := d.W.Value
	orig := slices.Clone(w.Data)
	r.Clipped, r.Levels = quantizeMatrix(w, o, nil)
	r.MaxAbsError, r.RMSError = distance(orig, w.Data)
	d.Bits = o.Bits
	return r, nil
}

// distance returns max|a−b| and the root-mean-square of a−b.
func distance(a, b []float32) (maxAbs, rms float64) {
	var sumSq float64
	for i := range a {
		e := math.Abs(float64(a[i]) - float64(b[i]))
		maxAbs = max(maxAbs, e)
		sumSq += e * e
	}
	if len(a) > 0 {
		rms = math.Sqrt(sumSq / float64(len(a)))
	}
	return maxAbs, rms
}

// quantizeMatrix quantizes w in place by o (Bits 1–8), group by group. It
// returns how many weights the ranges clipped and how many distinct integer
// codes the matrix stores (q = c + z when asymmetric); outside, when not nil, gets true for each clipped
// weight (row-major like w).
func quantizeMatrix(w nn.Matrix, o Options, outside []bool) (clipped, levels int) {
	used := map[int32]bool{}
	if o.PerTensor {
		codes := make([]int32, len(w.Data))
		clipped = quantizeGroup(w.Data, o, codes, outside)
		for _, c := range codes {
			used[c] = true
		}
		return clipped, len(used)
	}
	group := make([]float32, w.Rows)
	codes := make([]int32, w.Rows)
	var out []bool
	if outside != nil {
		out = make([]bool, w.Rows)
	}
	for j := 0; j < w.Cols; j++ {
		for i := range group {
			group[i] = w.At(i, j)
		}
		clipped += quantizeGroup(group, o, codes, out)
		for i, q := range group {
			w.Set(i, j, q)
			used[codes[i]] = true
			if outside != nil {
				outside[i*w.Cols+j] = out[i]
			}
		}
	}
	return clipped, len(used)
}

// quantizeGroup quantizes v in place by o (Bits 1–8), writes each value's
// integer code into codes (c symmetric, q = c + z asymmetric) and returns how many weights the range clipped,
// marking them in outside when it is not nil.
func quantizeGroup(v []float32, o Options, codes []int32, outside []bool) (clipped int) {
	clear(outside)
	if o.Asymmetric {
		return quantizeAsymmetric(v, o.Bits, o.Percentile, codes, outside)
	}
	if o.Percentile == 0 || o.Bits == 1 {
		c8 := make([]int8, len(v))
		quantizeChannel(v, o.Bits, c8)
		for i, c := range c8 {
			codes[i] = int32(c)
		}
		return 0
	}
	abs := make([]float64, 0, len(v))
	for _, x := range v {
		if x != 0 {
			abs = append(abs, math.Abs(float64(x)))
		}
	}
	if len(abs) == 0 {
		clear(codes)
		return 0
	}
	rng := float64(float32(percentile(abs, o.Percentile)))
	qmax := float64(int(1)<<(o.Bits-1) - 1)
	step := rng / qmax
	for i, x := range v {
		if math.Abs(float64(x)) > rng {
			clipped++
			if outside != nil {
				outside[i] = true
			}
		}
		c := max(-qmax, min(qmax, math.Round(float64(x)*qmax/rng)))
		v[i] = float32(c * step)
		codes[i] = int32(c)
	}
	return clipped
}

// quantizeAsymmetric quantizes v in place with a zero point. With L =
// 2^bits − 1 and codes q = c + z in 0…L (z is the zero point, so code z is
// exactly 0):
//
//	[lo, hi] = [min(0, min w), max(0, max w)]   (or the percentiles): 0 is inside
//	z = argmin_z s(z),  s(z) = max(hi/(L−z), −lo/z)   the finest grid that covers [lo, hi]
//	the side that sets s is exact: r = hi, m = L−z (or r = −lo, m = z),  s = r/m
//	c = clamp(round(w/s), −z, L−z);  w ← float32(c·s)
//
// Keeping zero exact costs a little resolution over the textbook
// s = (hi−lo)/L, at most s ≤ (hi−lo)/(L−1). One bit (L = 1) cannot cover
// weights of both signs: the side with the larger magnitude is kept and the
// other clips to zero. It returns how many weights fall outside the grid's
// ends, marking them in outside when it is not nil.
func quantizeAsymmetric(v []float32, bits int, pct float64, codes []int32, outside []bool) (clipped int) {
	var nonZero []float64
	for _, x := range v {
		if x != 0 {
			nonZero = append(nonZero, float64(x))
		}
	}
	if len(nonZero) == 0 {
		clear(codes)
		return 0
	}
	var lo, hi float64
	if pct == 0 {
		lo, hi = slices.Min(nonZero), slices.Max(nonZero)
	} else {
		lo, hi = percentile(nonZero, 100-pct), percentile(nonZero, pct)
	}
	lo, hi = min(lo, 0), max(hi, 0)
	levels := int(1)<<bits - 1
	z, best := -1, math.Inf(1)
	for cand := 0; cand <= levels; cand++ {
		up, down := levels-cand, cand // codes above and below zero
		if (hi > 0 && up == 0) || (lo < 0 && down == 0) {
			continue
		}
		s := 0.0
		if hi > 0 {
			s = hi / float64(up)
		}
		if lo < 0 {
			s = max(s, -lo/float64(down))
		}
		if s < best {
			z, best = cand, s
		}
	}
	if z < 0 { // one bit, weights of both signs
		z = 0
		if -lo > hi {
			z = 1
		}
	}
	up, down := levels-z, z
	r, m := hi, up
	if up == 0 || (down > 0 && -lo/float64(down) > hi/float64(up)) {
		r, m = -lo, down
	}
	step := float64(float32(r)) / float64(m)
	cmin, cmax := float64(-down), float64(up)
	bottom, top := float32(cmin*step), float32(cmax*step)
	for i, x := range v {
		if x < bottom || x > top {
			clipped++
			if outside != nil {
				outside[i] = true
			}
		}
		c := max(cmin, min(cmax, math.Round(float64(x)/step)))
		v[i] = float32(c * step)
		codes[i] = int32(c) + int32(z) // the stored code q = c + z
	}
	return clipped
}

// percentile returns the p-th percentile (0–100) of x by nearest rank: the
// ⌈p/100·n⌉-th smallest value (at least the smallest). x is not changed.
func percentile(x []float64, p float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	k := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(0, min(len(s)-1, k-1))]
}

// QuantizeModel runs Quantize with o on each weight layer of m named in
// layers (nil or empty: every Dense layer and factor), in model order. On an
// error no layer is changed.
func QuantizeModel(m *nn.Sequential, o Options, layers []string) ([]Report, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	ds, err := nn.SelectWeightLayers(m, layers)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	reports := make([]Report, len(ds))
	for i, d := range ds {
		if reports[i], err = Quantize(d, o); err != nil {
			return nil, err
		}
	}
	return reports, nil
}
