package quant

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// ActivationOptions choose how CalibrateActivations sets input ranges.
type ActivationOptions struct {
	// Bits of an activation code: 2–8; 0 means 8.
	Bits int
	// Symmetric uses signed codes ±(2^(Bits−1)−1) about zero. The default,
	// asymmetric, uses unsigned codes 0…2^Bits−1 with a zero point: right
	// for pixels and ReLU outputs, which are never negative.
	Symmetric bool
	// Percentile clips the range to the p-th percentile of the observed
	// inputs (of |x| when symmetric, both tails when asymmetric); 0 means
	// min–max, otherwise 50–100.
	Percentile float64
	// Batch is the number of rows per forward pass; 0 means 256.
	Batch int
}

// ActivationRange is the calibrated fake-quantizer of one weight layer's
// input. Asymmetric, with L = 2^Bits − 1:
//
//	Scale = (Max − Min)/L,  ZeroPoint = clamp(round(−Min/Scale), 0, L)
//	q = clamp(round(x/Scale) + ZeroPoint, 0, L),  x̂ = (q − ZeroPoint)·Scale
//
// Symmetric, with qmax = 2^(Bits−1) − 1: Scale = max(|Min|, |Max|)/qmax,
// ZeroPoint = 0, q = clamp(round(x/Scale), −qmax, qmax), x̂ = q·Scale.
// [Min, Max] always contains 0, so zero is exact.
type ActivationRange struct {
	Layer     string // the weight layer whose input this is
	Bits      int
	Symmetric bool
	Min, Max  float32
	Scale     float32
	ZeroPoint int32
}

// newActivationRange derives Scale and ZeroPoint from [lo, hi] ∋ 0.
func newActivationRange(layer string, bits int, symmetric bool, lo, hi float64) ActivationRange {
	lo, hi = min(lo, 0), max(hi, 0)
	r := ActivationRange{Layer: layer, Bits: bits, Symmetric: symmetric, Min: float32(lo), Max: float32(hi)}
	if symmetric {
		qmax := float64(int(1)<<(bits-1) - 1)
		r.Scale = float32(max(-lo, hi) / qmax)
		return r
	}
	levels := float64(int(1)<<bits - 1)
	r.Scale = float32((hi - lo) / levels)
	if r.Scale > 0 {
		r.ZeroPoint = int32(max(0, min(levels, math.Round(-lo/float64(r.Scale)))))
	}
	return r
}

// codeRange is the range of q.
func (r ActivationRange) codeRange() (qmin, qmax float64) {
	if r.Symmetric {
		m := float64(int(1)<<(r.Bits-1) - 1)
		return -m, m
	}
	return 0, float64(int(1)<<r.Bits - 1)
}

// FakeQuantize returns x̂, x rounded to the nearest representable
// activation (see ActivationRange), and whether x was inside the range.
func (r ActivationRange) FakeQuantize(x float32) (xq float32, inside bool) {
	if r.Scale == 0 {
		return 0, x == 0
	}
	qmin, qmax := r.codeRange()
	s, z := float64(r.Scale), float64(r.ZeroPoint)
	q := math.Round(float64(x)/s) + z
	inside = q >= qmin && q <= qmax
	q = max(qmin, min(qmax, q))
	return float32((q - z) * s), inside
}

// CalibrateActivations runs the sample x through m (inference mode, in
// batches) and records the range of the input of every weight layer (a
// Dense layer, or the first factor of a factorized layer; the inner
// activation between two factors stays float32), in model order. m is not
// changed. Feed a few hundred representative rows.
func CalibrateActivations(m *nn.Sequential, x nn.Matrix, o ActivationOptions) ([]ActivationRange, error) {
	if o.Bits == 0 {
		o.Bits = 8
	}
	if o.Bits < 2 || o.Bits > 8 {
		return nil, fmt.Errorf("activation bit width %d is out of range: allowed 2–8 (0 means 8)", o.Bits)
	}
	if o.Percentile != 0 && (math.IsNaN(o.Percentile) || o.Percentile < 50 || o.Percentile > 100) {
		return nil, fmt.Errorf("activation percentile %v is out of range: allowed 0 (min–max) or 50–100, e.g. 99.99", o.Percentile)
	}
	if o.Batch < 0 {
		return nil, fmt.Errorf("calibration batch %d is negative: allowed 0 (256) or more", o.Batch)
	}
	if o.Batch == 0 {
		o.Batch = 256
	}
	if x.Rows == 0 {
		return nil, fmt.Errorf("calibration needs at least one sample row")
	}
	var weightAt []int // indices of the weight layers in m.Layers
	for i, l := range m.Layers {
		if isWeightLayer(l) {
			weightAt = append(weightAt, i)
		}
	}
	if len(weightAt) == 0 {
		return nil, fmt.Errorf("the model has no weight layers (Dense or factorized) to calibrate")
	}
	lo := make([]float64, len(m.Layers))
	hi := make([]float64, len(m.Layers))
	var seen [][]float64 // all inputs per layer, for percentiles
	if o.Percentile != 0 {
		seen = make([][]float64, len(m.Layers))
	}
	for from := 0; from < x.Rows; from += o.Batch {
		a := x.Slice(from, min(from+o.Batch, x.Rows))
		for i, l := range m.Layers {
			if isWeightLayer(l) {
				for _, v := range a.Data {
					lo[i], hi[i] = min(lo[i], float64(v)), max(hi[i], float64(v))
					if seen != nil {
						seen[i] = append(seen[i], float64(v))
					}
				}
			}
			a = l.Forward(a, false)
		}
	}
	ranges := make([]ActivationRange, len(weightAt))
	for k, i := range weightAt {
		l, h := lo[i], hi[i]
		if seen != nil {
			if o.Symmetric {
				abs := slices.Clone(seen[i])
				for j, v := range abs {
					abs[j] = math.Abs(v)
				}
				h = percentile(abs, o.Percentile)
				l = -h
			} else {
				l, h = percentile(seen[i], 100-o.Percentile), percentile(seen[i], o.Percentile)
			}
		}
		ranges[k] = newActivationRange(m.Layers[i].Name(), o.Bits, o.Symmetric, l, h)
	}
	return ranges, nil
}

func isWeightLayer(l nn.Layer) bool {
	switch l.(type) {
	case *nn.Dense, *nn.Conv2D, nn.Factored:
		return true
	}
	return false
}

// ActQuant is a layer that fake-quantizes its input to an ActivationRange:
// y = x̂. Backward is the straight-through estimator, dx = dy inside the
// range and 0 where x was clipped.
type ActQuant struct {
	LayerName string
	Range     ActivationRange
	inside    []bool
	y, dx     nn.Matrix
}

// NewActQuant returns a fake-quant layer for r, named after its layer.
func NewActQuant(r ActivationRange) *ActQuant {
	return &ActQuant{LayerName: r.Layer + ".actquant", Range: r}
}

func (a *ActQuant) Name() string { return a.LayerName }

func (a *ActQuant) Forward(x nn.Matrix, train bool) nn.Matrix {
	a.y = resize(a.y, x.Rows, x.Cols)
	if cap(a.inside) < len(x.Data) {
		a.inside = make([]bool, len(x.Data))
	}
	a.inside = a.inside[:len(x.Data)]
	for i, v := range x.Data {
		a.y.Data[i], a.inside[i] = a.Range.FakeQuantize(v)
	}
	return a.y
}

func (a *ActQuant) Backward(dy nn.Matrix) nn.Matrix {
	a.dx = resize(a.dx, dy.Rows, dy.Cols)
	for i, v := range dy.Data {
		if a.inside[i] {
			a.dx.Data[i] = v
		} else {
			a.dx.Data[i] = 0
		}
	}
	return a.dx
}

func (a *ActQuant) Params() []*nn.Param { return nil }
func (a *ActQuant) Clone() nn.Layer     { return &ActQuant{LayerName: a.LayerName, Range: a.Range} }

// Stats: no weights; Bits is the activation width.
func (a *ActQuant) Stats() nn.LayerStats {
	return nn.LayerStats{Name: a.LayerName, Kind: "actquant", Bits: a.Range.Bits}
}

func resize(m nn.Matrix, rows, cols int) nn.Matrix {
	if cap(m.Data) < rows*cols {
		m.Data = make([]float32, rows*cols)
	}
	return nn.Matrix{Rows: rows, Cols: cols, Data: m.Data[:rows*cols]}
}

// WithActivationQuant returns a copy of m with an ActQuant layer before each
// weight layer named in ranges, so nn.Evaluate on it measures accuracy with
// quantized activations (and quantized weights, if m's are). m is not
// changed. Every range must name a weight layer of m.
func WithActivationQuant(m *nn.Sequential, ranges []ActivationRange) (*nn.Sequential, error) {
	byLayer := map[string]ActivationRange{}
	for _, r := range ranges {
		if r.Bits < 2 || r.Bits > 8 {
			return nil, fmt.Errorf("activation range of layer %q: bit width %d is out of range: allowed 2–8", r.Layer, r.Bits)
		}
		if _, dup := byLayer[r.Layer]; dup {
			return nil, fmt.Errorf("activation range of layer %q is given twice", r.Layer)
		}
		byLayer[r.Layer] = r
	}
	c := m.Clone()
	out := &nn.Sequential{}
	var names []string
	for _, l := range c.Layers {
		if isWeightLayer(l) {
			names = append(names, l.Name())
			if r, ok := byLayer[l.Name()]; ok {
				out.Layers = append(out.Layers, NewActQuant(r))
				delete(byLayer, l.Name())
			}
		}
		out.Layers = append(out.Layers, l)
	}
	for name := range byLayer {
		return nil, fmt.Errorf("activation range names layer %q, which is not a weight layer of the model; weight layers are %s", name, strings.Join(names, ", "))
	}
	return out, nil
}
