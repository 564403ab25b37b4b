package lowrank

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Layer is a Dense layer factorized as x·W + b ≈ (x·A)·B + b:
//
//	x: batch×In   A = First.W: In×Rank (no bias)   B = Second.W: Rank×Out   b = Second.b: 1×Out
type Layer struct {
	LayerName     string
	First, Second *nn.Dense
	In, Out, Rank int
}

func (l *Layer) Name() string { return l.LayerName }

// Forward: h = x·A;  y = h·B + b.
func (l *Layer) Forward(x nn.Matrix, train bool) nn.Matrix {
	return l.Second.Forward(l.First.Forward(x, train), train)
}

// Backward: dh = dy·Bᵀ (with dB, db), then dx = dh·Aᵀ (with dA).
func (l *Layer) Backward(dy nn.Matrix) nn.Matrix {
	return l.First.Backward(l.Second.Backward(dy))
}

// Params are A, then B and b.
func (l *Layer) Params() []*nn.Param {
	return append(l.First.Params(), l.Second.Params()...)
}

func (l *Layer) Clone() nn.Layer {
	return &Layer{
		LayerName: l.LayerName,
		First:     l.First.Clone().(*nn.Dense),
		Second:    l.Second.Clone().(*nn.Dense),
		In:        l.In, Out: l.Out, Rank: l.Rank,
	}
}

// Stats sums the two factors as stored: Rank·(In+Out) weights plus Out
// biases, Rank·(In+Out) multiply-adds per sample. Bits is the wider of the
// factors' bit widths.
func (l *Layer) Stats() nn.LayerStats {
	a, b := l.First.Stats(), l.Second.Stats()
	return nn.LayerStats{
		Name: l.LayerName, Kind: "lowrank", In: l.In, Out: l.Out,
		Params:    a.Params + b.Params,
		NonZero:   a.NonZero + b.NonZero,
		Weights:   a.Weights + b.Weights,
		NonZeroW:  a.NonZeroW + b.NonZeroW,
		Bits:      max(a.Bits, b.Bits),
		Rank:      l.Rank,
		FullRank:  min(l.In, l.Out),
		SizeBytes: a.SizeBytes + b.SizeBytes,
		FLOPs:     a.FLOPs + b.FLOPs,
	}
}

// Factorize returns the rank-r truncated SVD of d as a Layer named like d.
// With W = U Σ Vᵀ it takes A = U_r Σ_r^½ and B = Σ_r^½ V_rᵀ, splitting √σ
// evenly so both factors are on the same scale and train alike; the bias
// moves to B. The factors are dense float32 (any mask or bit width of d is
// not carried over). rank must be 1..min(In, Out) and must save parameters:
// Rank·(In+Out) < In·Out (see SavesParams); FactorizeWith with AnyRank set
// factorizes at any rank.
func Factorize(d *nn.Dense, rank int) (*Layer, error) {
	return FactorizeWith(d, rank, Options{})
}

// Options tune a factorization. The zero value is Factorize's behaviour:
// exact SVD, and only ranks that save parameters.
type Options struct {
	// AnyRank allows ranks up to min(In, Out) even when the factors hold as
	// many weights as W or more (for checks such as "full rank reconstructs
	// W").
	AnyRank bool
	// Randomized uses the randomized SVD of Halko, Martinsson & Tropp
	// (2011) instead of the exact one: faster for a small rank of a large
	// layer, and accurate when the spectrum decays.
	Randomized bool
	// Oversample is the number of random directions beyond Rank (p in
	// Halko et al.); 0 means 10.
	Oversample int
	// PowerIters is the number of power iterations (q); 0 means 2 and a
	// negative value means none.
	PowerIters int
	// Seed seeds the Gaussian test matrix of the randomized SVD.
	Seed uint64
}

// FactorizeWith is Factorize with options.
func FactorizeWith(d *nn.Dense, rank int, o Options) (*Layer, error) {
	full := min(d.In, d.Out)
	if rank < 1 || rank > full {
		return nil, fmt.Errorf("factorize layer %s (%d→%d): rank %d is out of range: allowed 1–%d", d.LayerName, d.In, d.Out, rank, full)
	}
	if !o.AnyRank && !SavesParams(d.In, d.Out, rank) {
		return nil, fmt.Errorf("factorize layer %s: %w", d.LayerName, noSavingsError(d.In, d.Out, rank))
	}
	if o.Oversample < 0 {
		return nil, fmt.Errorf("factorize layer %s: oversampling %d is negative: allowed 0 (the default, 10) or more", d.LayerName, o.Oversample)
	}
	if o.Randomized {
		oversample, power := o.Oversample, o.PowerIters
		if oversample == 0 {
			oversample = 10
		}
		switch {
		case power == 0:
			power = 2
		case power < 0:
			power = 0
		}
		rng := rand.New(rand.NewPCG(o.Seed, 0x5bd1e995))
		u, sigma, v, ok := randomizedSVD(toFloat64(d), rank, oversample, power, rng)
		if !ok {
			return nil, fmt.Errorf("factorize layer %s: the randomized SVD of its weights did not converge", d.LayerName)
		}
		return (&Decomposition{dense: d, u: u, v: v, sigma: sigma}).cut(rank), nil
	}
	dc, err := Decompose(d)
	if err != nil {
		return nil, err
	}
	return dc.cut(rank), nil
}

// Decomposition is the thin SVD of a Dense layer's weights, W = U·diag(σ)·Vᵀ,
// computed once so that the layer can be cut at any rank without another
// SVD (the rank knob turns in milliseconds).
type Decomposition struct {
	dense *nn.Dense // a copy of the layer: its name, shape and bias
	u, v  *mat.Dense
	sigma []float64
}

// Decompose computes the exact thin SVD of d's weights.
func Decompose(d *nn.Dense) (*Decomposition, error) {
	var svd mat.SVD
	if !svd.Factorize(toFloat64(d), mat.SVDThin) {
		return nil, fmt.Errorf("factorize layer %s: the SVD of its weights did not converge", d.LayerName)
	}
	dc := &Decomposition{dense: d.Clone().(*nn.Dense), u: new(mat.Dense), v: new(mat.Dense), sigma: svd.Values(nil)}
	svd.UTo(dc.u) // In×full
	svd.VTo(dc.v) // Out×full
	return dc, nil
}

// Values returns the singular values, largest first.
func (dc *Decomposition) Values() []float64 { return append([]float64(nil), dc.sigma...) }

// Factor cuts the decomposition at rank, with the same checks as
// FactorizeWith (o.Randomized is ignored: the SVD is already exact).
func (dc *Decomposition) Factor(rank int, o Options) (*Layer, error) {
	d := dc.dense
	full := min(d.In, d.Out)
	if rank < 1 || rank > full {
		return nil, fmt.Errorf("factorize layer %s (%d→%d): rank %d is out of range: allowed 1–%d", d.LayerName, d.In, d.Out, rank, full)
	}
	if !o.AnyRank && !SavesParams(d.In, d.Out, rank) {
		return nil, fmt.Errorf("factorize layer %s: %w", d.LayerName, noSavingsError(d.In, d.Out, rank))
	}
	return dc.cut(rank), nil
}

// cut builds the rank-r factors, splitting √σ evenly between them:
// A = U_r·Σ_r^½ (In×r), B = Σ_r^½·V_rᵀ (r×Out), B carrying the bias.
func (dc *Decomposition) cut(rank int) *Layer {
	d, u, v, sigma := dc.dense, dc.u, dc.v, dc.sigma
	first := nn.NewDenseNoBias(d.LayerName+".A", d.In, rank)
	second := &nn.Dense{
		LayerName: d.LayerName + ".B", In: rank, Out: d.Out,
		W: &nn.Param{Name: d.LayerName + ".B.W", Value: nn.NewMatrix(rank, d.Out), Grad: nn.NewMatrix(rank, d.Out)},
		B: &nn.Param{Name: d.LayerName + ".B.b", Value: d.B.Value.Clone(), Grad: nn.NewMatrix(1, d.Out)},
	}
	for r := 0; r < rank; r++ {
		root := math.Sqrt(sigma[r])
		for i := 0; i < d.In; i++ {
			first.W.Value.Set(i, r, float32(u.At(i, r)*root))
		}
		for j := 0; j < d.Out; j++ {
			second.W.Value.Set(r, j, float32(root*v.At(j, r)))
		}
	}
	return &Layer{LayerName: d.LayerName, First: first, Second: second, In: d.In, Out: d.Out, Rank: rank}
}

// SavesParams reports whether a rank-r factorization of an in×out layer
// stores fewer weights than the layer: r·(in+out) < in·out. The bias is the
// same either way.
func SavesParams(in, out, rank int) bool {
	return int64(rank)*int64(in+out) < int64(in)*int64(out)
}

// MaxSavingRank is the largest rank that saves parameters for an in×out
// layer (see SavesParams), or 0 when no rank does (a 2×2 layer).
func MaxSavingRank(in, out int) int {
	if in <= 0 || out <= 0 {
		return 0
	}
	prod, sum := int64(in)*int64(out), int64(in+out)
	return int((prod - 1) / sum) // largest r with r·sum ≤ prod−1
}

func noSavingsError(in, out, rank int) error {
	if r := MaxSavingRank(in, out); r > 0 {
		return fmt.Errorf("rank %d saves no parameters for a %d→%d layer: use rank < %d", rank, in, out, r+1)
	}
	return fmt.Errorf("rank %d saves no parameters for a %d→%d layer: no rank does (r·(in+out) ≥ in·out for every r ≥ 1)", rank, in, out)
}

// Factors returns the two factors, A (In×Rank, no bias) then B (Rank×Out,
// with the bias), so pruning and quantization can act on them as on any
// Dense layer: prune.Prune(l.Factors(), ratio, o) or quant.Quantize(f, o)
// for each f.
func (l *Layer) Factors() []*nn.Dense { return []*nn.Dense{l.First, l.Second} }

// PrepareInference builds both factors' inference plans (see
// nn.Sequential.PrepareInference), so pruned or quantized factors run on the
// sparse or int8 kernels.
func (l *Layer) PrepareInference() {
	l.First.PrepareInference()
	l.Second.PrepareInference()
}

// FactorizeModel replaces the Dense layer or convolution of m named layer
// ("" means the first Dense layer) by its rank-r factorization (a Layer,
// or a ConvLayer), in place. On an error m is unchanged.
func FactorizeModel(m *nn.Sequential, layer string, rank int) error {
	return FactorizeModelWith(m, layer, rank, Options{})
}

// FactorizeModelWith is FactorizeModel with options.
func FactorizeModelWith(m *nn.Sequential, layer string, rank int, o Options) error {
	var denseNames []string
	for i, l := range m.Layers {
		if c, ok := l.(*nn.Conv2D); ok && layer != "" && c.LayerName == layer {
			f, err := FactorizeConv(c, rank, o)
			if err != nil {
				return err
			}
			m.Layers[i] = f
			return nil
		}
		d, isDense := l.(*nn.Dense)
		if isDense {
			denseNames = append(denseNames, d.LayerName)
		}
		if layer != "" && l.Name() == layer && !isDense {
			return fmt.Errorf("cannot factorize layer %q: it is a %s layer; only Dense layers and convolutions can be factorized", layer, l.Stats().Kind)
		}
		if isDense && (layer == "" || d.LayerName == layer) {
			f, err := FactorizeWith(d, rank, o)
			if err != nil {
				return err
			}
			m.Layers[i] = f
			return nil
		}
	}
	if len(denseNames) == 0 {
		return fmt.Errorf("the model has no Dense layer to factorize")
	}
	return fmt.Errorf("cannot factorize layer %q: the model has no such layer; Dense layers are %s", layer, strings.Join(denseNames, ", "))
}

// SingularValues returns the singular values of d's weights, largest first.
func SingularValues(d *nn.Dense) ([]float64, error) {
	if d.In == 0 || d.Out == 0 {
		return nil, nil // an empty matrix has no singular values
	}
	var svd mat.SVD
	if !svd.Factorize(toFloat64(d), mat.SVDNone) {
		return nil, fmt.Errorf("singular values of layer %s: the SVD did not converge", d.LayerName)
	}
	return svd.Values(nil), nil
}

// EnergyKept is the fraction of Σσ² that the first rank singular values
// hold: Σ_{i<rank} σ_i² / Σ_i σ_i². A zero matrix keeps all of its (zero)
// energy at any rank.
func EnergyKept(sv []float64, rank int) float64 {
	var kept, total float64
	for i, s := range sv {
		if i < rank {
			kept += s * s
		}
		total += s * s
	}
	if total == 0 {
		return 1
	}
	return kept / total
}

// RankForEnergy is the smallest rank r ≥ 1 whose singular values keep at
// least the fraction energy of Σσ² (EnergyKept(sv, r) ≥ energy), at most
// len(sv); 0 when sv is empty. energy ≤ 0 gives 1, energy ≥ 1 the number of
// singular values up to the last non-zero one. A relative slack of 1e-12
// absorbs rounding in the sums, so energy 1 is met by the full spectrum.
func RankForEnergy(sv []float64, energy float64) int {
	if len(sv) == 0 {
		return 0
	}
	var total float64
	for _, s := range sv {
		total += s * s
	}
	if total == 0 {
		return 1
	}
	need := min(energy, 1) * total * (1 - 1e-12)
	var kept float64
	for r, s := range sv {
		kept += s * s
		if kept >= need {
			return r + 1
		}
	}
	return len(sv)
}

// toFloat64 copies d's In×Out weights into a float64 matrix for the SVD.
func toFloat64(d *nn.Dense) *mat.Dense {
	data := make([]float64, len(d.W.Value.Data))
	for i, w := range d.W.Value.Data {
		data[i] = float64(w)
	}
	return mat.NewDense(d.In, d.Out, data)
}
