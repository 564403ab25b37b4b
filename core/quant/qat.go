package quant

import (
	"fmt"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// QATOptions choose quantization-aware training.
type QATOptions struct {
	// Quant is the quantizer applied on every step; Bits must be 1–8.
	Quant Options
	// ClipGradient zeroes the straight-through gradient of shadow weights
	// outside the clip range (only a Percentile range clips), so weights
	// already clipped are not pushed further out.
	ClipGradient bool
	// Layers names the weight layers to train quantized (nil: every Dense
	// layer and factor of the model).
	Layers []string
}

// QAT is quantization-aware training (fake quantization with a
// straight-through estimator, Bengio et al. 2013; Jacob et al. 2018) as an
// nn.Optimizer that wraps another one. For each chosen layer it keeps float
// "shadow" weights S and keeps the layer's W = Q(S), the quantizer of
// Quantize with one scale per output channel (unless PerTensor), so every
// forward pass runs on quantized weights. On Step it
//
//	∂L/∂S ← ∂L/∂W        straight through Q (zero outside the clip range with ClipGradient)
//	Inner.Step(S, …)     the other parameters pass through unchanged
//	W ← Q(S)             re-quantize, so the next forward sees the new codes
//
// Q is a staircase with zero gradient almost everywhere; the STE treats it
// as the identity, so small updates accumulate in S until a weight crosses
// to the next level. Use it as the optimizer of nn.TrainEpoch; call Finalize
// when done. The shadow carries the layer's pruning mask, so pruned weights
// stay zero.
type QAT struct {
	Inner  nn.Optimizer
	opts   QATOptions
	layers []*qatLayer
}

type qatLayer struct {
	dense   *nn.Dense
	shadow  *nn.Param
	outside []bool // shadow weights outside the clip range at the last Q
}

// NewQAT starts quantization-aware training of m's chosen layers: it copies
// each layer's weights into a shadow and quantizes the layer. On an error m
// is unchanged.
func NewQAT(m *nn.Sequential, inner nn.Optimizer, o QATOptions) (*QAT, error) {
	if err := o.Quant.Check(); err != nil {
		return nil, fmt.Errorf("quantization-aware training: %w", err)
	}
	if o.Quant.Bits == Float32Bits {
		return nil, fmt.Errorf("quantization-aware training needs a bit width of 1–8, got 32 (float32)")
	}
	if inner == nil {
		return nil, fmt.Errorf("quantization-aware training needs an optimizer for the shadow weights: inner is nil")
	}
	ds, err := nn.SelectWeightLayers(m, o.Layers)
	if err != nil {
		return nil, fmt.Errorf("quantization-aware training: %w", err)
	}
	q := &QAT{Inner: inner, opts: o}
	for _, d := range ds {
		s := d.W.Clone()
		s.Name = d.W.Name + ".shadow"
		clear(s.Grad.Data)
		l := &qatLayer{dense: d, shadow: s, outside: make([]bool, len(s.Value.Data))}
		l.quantize(o.Quant)
		q.layers = append(q.layers, l)
	}
	return q, nil
}

// quantize sets W = Q(S) and Bits, and remembers which weights were clipped.
func (l *qatLayer) quantize(o Options) (clipped, levels int) {
	copy(l.dense.W.Value.Data, l.shadow.Value.Data)
	clipped, levels = quantizeMatrix(l.dense.W.Value, o, l.outside)
	l.dense.Bits = o.Bits
	return clipped, levels
}

// straightThrough writes ∂L/∂S = ∂L/∂W into the shadow's gradient, zero for
// clipped weights when ClipGradient is set.
func (l *qatLayer) straightThrough(clip bool) {
	g := l.shadow.Grad.Data
	copy(g, l.dense.W.Grad.Data)
	if clip {
		for i, out := range l.outside {
			if out {
				g[i] = 0
			}
		}
	}
}

func (q *QAT) SetLR(lr float64) { q.Inner.SetLR(lr) }

// Step updates the shadows of the layers whose weights are in params (and
// every other parameter) with Inner, then re-quantizes those layers.
func (q *QAT) Step(params []*nn.Param) {
	list := make([]*nn.Param, 0, len(params))
	var touched []*qatLayer
	for _, p := range params {
		l := q.layer(p)
		if l == nil {
			list = append(list, p)
			continue
		}
		l.straightThrough(q.opts.ClipGradient)
		list = append(list, l.shadow)
		touched = append(touched, l)
	}
	q.Inner.Step(list)
	for _, l := range touched {
		l.quantize(q.opts.Quant)
	}
}

func (q *QAT) layer(p *nn.Param) *qatLayer {
	for _, l := range q.layers {
		if l.dense.W == p {
			return l
		}
	}
	return nil
}

// Shadow returns the float shadow weights of the named layer, or nil.
func (q *QAT) Shadow(layer string) *nn.Param {
	for _, l := range q.layers {
		if l.dense.LayerName == layer {
			return l.shadow
		}
	}
	return nil
}

// Layers names the layers under quantization-aware training, in model order.
func (q *QAT) Layers() []string {
	names := make([]string, len(q.layers))
	for i, l := range q.layers {
		names[i] = l.dense.LayerName
	}
	return names
}

// Finalize snaps each layer to Q(shadow) for good, with Bits set, and
// reports how far that moved the weights from their shadows. The layers are
// then ordinary quantized Dense layers; the QAT must not be used again.
func (q *QAT) Finalize() []Report {
	reports := make([]Report, len(q.layers))
	for i, l := range q.layers {
		r := Report{Layer: l.dense.LayerName, Bits: q.opts.Quant.Bits}
		r.Clipped, r.Levels = l.quantize(q.opts.Quant)
		r.MaxAbsError, r.RMSError = distance(l.shadow.Value.Data, l.dense.W.Value.Data)
		reports[i] = r
	}
	q.layers = slices.Clip(q.layers[:0])
	return reports
}
