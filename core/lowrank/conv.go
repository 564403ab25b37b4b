package lowrank

import (
	"fmt"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// ConvLayer is a convolution factorized through its filter matrix: the
// (K·K·C)×F matrix W of nn.Conv2D split by truncated SVD into A
// ((K·K·C)×Rank) and B (Rank×F), run as a K×K convolution to Rank channels
// (same stride and padding, no bias) followed by a 1×1 convolution to the
// F output channels (with the bias):
//
//	x: batch×(H·W·C) → First (K×K, C→Rank) → batch×(Ho·Wo·Rank) → Second (1×1, Rank→F) → batch×(Ho·Wo·F)
//
// It stores and runs Rank·(K·K·C + F) weights instead of K·K·C·F (Zhang
// et al. 2016's channel decomposition, of rank-1 spatial filters in
// channel space).
type ConvLayer struct {
	LayerName     string
	First, Second *nn.Conv2D
	Rank          int
}

func (l *ConvLayer) Name() string { return l.LayerName }

// Forward runs the two convolutions.
func (l *ConvLayer) Forward(x nn.Matrix, train bool) nn.Matrix {
	return l.Second.Forward(l.First.Forward(x, train), train)
}

// Backward runs back through both.
func (l *ConvLayer) Backward(dy nn.Matrix) nn.Matrix {
	return l.First.Backward(l.Second.Backward(dy))
}

func (l *ConvLayer) Params() []*nn.Param {
	return append(l.First.Params(), l.Second.Params()...)
}

func (l *ConvLayer) Clone() nn.Layer {
	return &ConvLayer{LayerName: l.LayerName, First: l.First.Clone().(*nn.Conv2D), Second: l.Second.Clone().(*nn.Conv2D), Rank: l.Rank}
}

// Factors are A and B, the two convolutions' filter matrices, named
// "conv1.A" and "conv1.B".
func (l *ConvLayer) Factors() []*nn.Dense { return []*nn.Dense{l.First.Kernel, l.Second.Kernel} }

// PrepareInference builds both convolutions' inference plans.
func (l *ConvLayer) PrepareInference() {
	l.First.PrepareInference()
	l.Second.PrepareInference()
}

// Stats sums the two convolutions, as a factorized layer of the
// convolution's channels.
func (l *ConvLayer) Stats() nn.LayerStats {
	a, b := l.First.Stats(), l.Second.Stats()
	in, out := l.First.Kernel.In, l.Second.Kernel.Out
	return nn.LayerStats{
		Name: l.LayerName, Kind: "lowrank-conv", In: l.First.In.C, Out: out,
		Params: a.Params + b.Params, NonZero: a.NonZero + b.NonZero,
		Weights: a.Weights + b.Weights, NonZeroW: a.NonZeroW + b.NonZeroW,
		Bits: max(a.Bits, b.Bits), Rank: l.Rank, FullRank: min(in, out),
		SizeBytes: a.SizeBytes + b.SizeBytes, FLOPs: a.FLOPs + b.FLOPs,
		Window: l.First.K, Map: l.Second.Out,
	}
}

// FactorizeConv returns the rank-r factorization of c (see ConvLayer),
// with the checks and options of FactorizeWith on its filter matrix.
func FactorizeConv(c *nn.Conv2D, rank int, o Options) (*ConvLayer, error) {
	f, err := FactorizeWith(c.Kernel, rank, o)
	if err != nil {
		return nil, err
	}
	return convFactors(c, f), nil
}

// convFactors runs the factor matrices of c's filters as convolutions.
func convFactors(c *nn.Conv2D, f *Layer) *ConvLayer {
	first := &nn.Conv2D{LayerName: f.First.LayerName, In: c.In, Out: nn.Shape{H: c.Out.H, W: c.Out.W, C: f.Rank},
		K: c.K, Stride: c.Stride, Pad: c.Pad, Kernel: f.First}
	second := &nn.Conv2D{LayerName: f.Second.LayerName, In: first.Out, Out: c.Out, K: 1, Stride: 1, Kernel: f.Second}
	return &ConvLayer{LayerName: c.LayerName, First: first, Second: second, Rank: f.Rank}
}

// FactorConv cuts the decomposition of a convolution's filter matrix (see
// Decompose) at rank, as Factor does for a Dense layer.
func (dc *Decomposition) FactorConv(c *nn.Conv2D, rank int, o Options) (*ConvLayer, error) {
	f, err := dc.Factor(rank, o)
	if err != nil {
		return nil, err
	}
	if f.In != c.Kernel.In || f.Out != c.Kernel.Out {
		return nil, fmt.Errorf("factorize convolution %s: the decomposition is of a %d×%d matrix, its filters are %d×%d", c.LayerName, f.In, f.Out, c.Kernel.In, c.Kernel.Out)
	}
	return convFactors(c, f), nil
}
