package nn

import (
	"math"
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// Dense is a fully connected layer: y = x·W + b.
//
//	x: batch×In   W: In×Out   b: 1×Out   y: batch×Out
//
// Bits records the bit width its weights are stored at (0 or 32 means
// float32); a quantizer sets it after snapping the weights to its levels.
type Dense struct {
	LayerName string
	In, Out   int
	W, B      *Param
	Bits      int

	x      Matrix // input of the last Forward, for Backward
	y, dx  Matrix
	noBias bool
	plan   *inferencePlan // set by PrepareInference, see infer.go
}

// Init names a weight initialization.
type Init int

const (
	// He (Kaiming) normal: std √(2/In), which keeps the activation variance
	// constant through ReLU layers (He et al. 2015).
	He Init = iota
	// Glorot (Xavier) normal: std √(2/(In+Out)), for layers without a ReLU
	// after them (Glorot & Bengio 2010).
	Glorot
)

// NewDense returns a Dense layer with He-normal weights and zero bias, drawn
// from rng.
func NewDense(name string, in, out int, rng *rand.Rand) *Dense {
	return NewDenseInit(name, in, out, He, rng)
}

// NewDenseInit returns a Dense layer with weights drawn from rng by init and
// zero bias.
func NewDenseInit(name string, in, out int, init Init, rng *rand.Rand) *Dense {
	d := &Dense{LayerName: name, In: in, Out: out, W: newParam(name+".W", in, out), B: newParam(name+".b", 1, out)}
	std := math.Sqrt(2 / float64(in))
	if init == Glorot {
		std = math.Sqrt(2 / float64(in+out))
	}
	for i := range d.W.Value.Data {
		d.W.Value.Data[i] = float32(rng.NormFloat64() * std)
	}
	return d
}

// NewDenseNoBias returns a Dense layer without a bias (b stays zero and is
// neither trained nor stored), as the first factor of a low-rank pair.
func NewDenseNoBias(name string, in, out int) *Dense {
	d := &Dense{LayerName: name, In: in, Out: out, W: newParam(name+".W", in, out), B: newParam(name+".b", 1, out), noBias: true}
	return d
}

// HasBias reports whether the layer has a trained, stored bias.
func (d *Dense) HasBias() bool { return !d.noBias }

func (d *Dense) Name() string { return d.LayerName }

// Forward: y = x·W + b. With train false it runs the inference plan
// PrepareInference built, if any; with train true it drops the plan.
func (d *Dense) Forward(x Matrix, train bool) Matrix {
	if x.Cols != d.In {
		panic("nn: Dense " + d.LayerName + ": input width mismatch")
	}
	d.x = x
	if d.forwardPlan(x, train) {
		return d.y
	}
	d.y = ensure(d.y, x.Rows, d.Out)
	fillRows(d.y.Data[:x.Rows*d.Out], d.B.Value.Data)
	kernels.Gemm(false, false, x.Rows, d.Out, d.In, 1, x.Data, d.In, d.W.Value.Data, d.Out, 1, d.y.Data, d.Out)
	return d.y
}

// fillRows fills dst with copies of row, doubling the filled part with
// each copy: a few calls even for a convolution's thousands of rows.
func fillRows(dst, row []float32) {
	if len(dst) == 0 {
		return
	}
	n := copy(dst, row)
	for n < len(dst) {
		n += copy(dst[n:], dst[:n])
	}
}

// Backward: dW += xᵀ·dy, db += Σ_rows dy, dx = dy·Wᵀ.
func (d *Dense) Backward(dy Matrix) Matrix {
	d.backwardParams(dy)
	d.dx = ensure(d.dx, dy.Rows, d.In)
	kernels.Gemm(false, true, dy.Rows, d.In, d.Out, 1, dy.Data, d.Out, d.W.Value.Data, d.Out, 0, d.dx.Data, d.In)
	return d.dx
}

// backwardParams is Backward without dx: dW += xᵀ·dy, db += Σ_rows dy.
// Sequential uses it for the first layer with parameters, whose input
// gradient nothing reads (for LeNet's 784-wide input that is a third of
// the backward pass's multiply-adds).
func (d *Dense) backwardParams(dy Matrix) {
	kernels.Gemm(true, false, d.In, d.Out, dy.Rows, 1, d.x.Data, d.In, dy.Data, d.Out, 1, d.W.Grad.Data, d.Out)
	if !d.noBias {
		kernels.AddRows(d.B.Grad.Data, dy.Data, dy.Rows, d.Out)
	}
}

func (d *Dense) Params() []*Param {
	if d.noBias {
		return []*Param{d.W}
	}
	return []*Param{d.W, d.B}
}

// Clone copies the layer without its inference plan.
func (d *Dense) Clone() Layer {
	return &Dense{LayerName: d.LayerName, In: d.In, Out: d.Out, W: d.W.Clone(), B: d.B.Clone(), Bits: d.Bits, noBias: d.noBias}
}

// Stats reports the layer in its stored form. The weights are stored either
// densely or, when smaller, as compressed sparse rows over the output
// channels (non-zero values, a 16-bit input index per value, a 32-bit row
// pointer per channel); values take Bits bits each, and a quantized layer
// also stores one float32 scale per output channel. Biases stay float32.
// FLOPs are the multiply-adds of one sample as run: the non-zero weights
// when the inference plan runs it sparse, In·Out otherwise.
func (d *Dense) Stats() LayerStats {
	nnzW := d.W.NonZero()
	nnzB := 0
	params := d.In * d.Out
	if !d.noBias {
		nnzB = d.B.NonZero()
		params += d.Out
	}
	s := LayerStats{
		Name: d.LayerName, Kind: "dense", In: d.In, Out: d.Out,
		Params: params, NonZero: nnzW + nnzB, Weights: d.In * d.Out, NonZeroW: nnzW, Bits: d.bits(),
		FullRank: min(d.In, d.Out),
		FLOPs:    d.planFLOPs(),
	}
	s.SizeBytes = WeightBytes(d.In, d.Out, nnzW, s.Bits)
	if !d.noBias {
		s.SizeBytes += int64(d.Out) * 4
	}
	return s
}

func (d *Dense) bits() int {
	if d.Bits <= 0 || d.Bits > 32 {
		return 32
	}
	return d.Bits
}

// WeightBytes is the stored size of an In×Out weight matrix with nnz
// non-zeros at bits per value: the smaller of the dense and the sparse form,
// plus one float32 scale per output channel when bits < 32. A 1-bit code
// has no zero level (±α), so a dense 1-bit matrix with pruned weights needs
// 2 bits per value; the sparse form stores zeros by leaving them out.
func WeightBytes(in, out, nnz, bits int) int64 {
	denseBits := int64(bits)
	if bits == 1 && nnz < in*out {
		denseBits = 2
	}
	dense := (int64(in)*int64(out)*denseBits + 7) / 8
	idx := int64(2)
	if in > 1<<16 {
		idx = 4
	}
	sparse := (int64(nnz)*int64(bits)+7)/8 + int64(nnz)*idx + int64(out+1)*4
	size := min(dense, sparse)
	if bits < 32 {
		size += int64(out) * 4
	}
	return size
}
