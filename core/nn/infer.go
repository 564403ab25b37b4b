package nn

import (
	"math"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// Inference plans.
//
// Pruning only zeroes weights and quantization only snaps them to levels;
// neither makes a Dense layer faster by itself, because the dense GEMM
// multiplies every weight as float32. PrepareInference turns the compressed
// weights into forms that run faster:
//
//   - sparse: the non-zero weights as compressed sparse rows of Wᵀ with
//     16-bit indices (kernels.CSR), when the layer's sparsity is at or above
//     the measured crossover for its shape and batch regime;
//   - int8: per-output-channel int8 codes with int32 sums and activations
//     quantized per row on the fly (kernels.Int8), when Bits is 1 to 8, the
//     layer is not sparse enough for the sparse form, and int8 measured
//     faster than dense for the layer's shape (it is not for 100×10 at
//     batch 256, where quantizing the inputs costs more than it saves);
//   - otherwise the dense GEMM, as in training.
//
// The plan is a cache of the weights as they were when it was built.
// Forward(x, true) drops it (training is about to change the weights), and
// a plan whose weight or bias slice, mask or Bits no longer match is dropped
// on its next use; but a change made in place to the values of W or b
// (pruning again, quantizing, copying weights in) cannot be seen cheaply, so
// call PrepareInference again after changing weights outside training.
// Clone does not copy the plan: call PrepareInference on the clone.

// inferencePlan is what a Dense layer runs for Forward(x, false).
type inferencePlan struct {
	// What the plan was built from, to notice replaced slices and widths.
	w, b, mask *float32
	bits       int

	// The form of each batch regime: single is batches up to
	// kernels.SparseGatherBatchMax, batched the larger ones. Neither sparse
	// nor int8 means the dense GEMM.
	sparseSingle, sparseBatched bool
	int8Single, int8Batched     bool

	sparse *kernels.CSR  // set when a regime runs sparse
	int8   *kernels.Int8 // set when a regime runs int8
}

// PrepareInference builds the inference plan of every layer that has one
// (Dense layers, and any layer with a PrepareInference method) from the
// weights they hold now. Call it again after changing weights outside
// training; Forward(x, true) drops the plans.
func (m *Sequential) PrepareInference() {
	for _, l := range m.Layers {
		if p, ok := l.(interface{ PrepareInference() }); ok {
			p.PrepareInference()
		}
	}
}

// PrepareInference builds d's inference plan from its current weights (see
// Sequential.PrepareInference). For each batch regime it picks sparse when
// the weight sparsity reaches the measured crossover for d's shape
// (sparseCrossovers), else int8 when Bits is 1 to 8 (unless int8 is slower
// than dense for this shape), else the dense GEMM.
func (d *Dense) PrepareInference() {
	d.plan = nil
	nnz := d.W.NonZero()
	sparsity := 1 - float64(nnz)/float64(d.In*d.Out)
	bits := d.bits()
	c := crossoverFor(d.In, d.Out)
	p := &inferencePlan{w: firstElem(d.W.Value.Data), b: firstElem(d.B.Value.Data), mask: firstElem(d.W.Mask), bits: d.Bits}
	// The form each regime runs without sparsity: int8 where Bits ≤ 8 and
	// int8 beats dense for this shape, else dense.
	lowBits := bits >= 1 && bits <= 8
	int8Single, int8Batched := lowBits && c.Int8WinsSingle, lowBits && c.Int8WinsBatched
	p.sparseSingle = sparsity >= pick(int8Single, c.Int8Single, c.DenseSingle)
	p.sparseBatched = sparsity >= pick(int8Batched, c.Int8Batched, c.DenseBatched)
	p.int8Single, p.int8Batched = int8Single && !p.sparseSingle, int8Batched && !p.sparseBatched

	var bias []float32
	if !d.noBias {
		bias = d.B.Value.Data
	}
	if p.sparseSingle || p.sparseBatched {
		s, err := kernels.NewCSR(d.W.Value.Data, bias, d.In, d.Out)
		if err != nil { // too many inputs for 16-bit indices: not sparse
			p.sparseSingle, p.sparseBatched = false, false
		}
		p.sparse = s
	}
	if p.int8Single || p.int8Batched {
		q, err := kernels.NewInt8(d.W.Value.Data, bias, d.In, d.Out, bits)
		if err != nil { // too many inputs for exact int32 sums: stay float
			p.int8Single, p.int8Batched = false, false
		}
		p.int8 = q
	}
	if !p.sparseSingle && !p.sparseBatched && !p.int8Single && !p.int8Batched {
		return // dense everywhere: nothing to cache
	}
	d.plan = p
}

func pick(cond bool, a, b float64) float64 {
	if cond {
		return a
	}
	return b
}

// InferenceForm names what Forward(x, false) runs for a batch of the given
// size: "sparse", "int8" or "dense".
func (d *Dense) InferenceForm(batch int) string {
	switch p := d.livePlan(); {
	case p == nil:
		return "dense"
	case p.runsSparse(batch):
		return "sparse"
	case p.runsInt8(batch):
		return "int8"
	}
	return "dense"
}

func (p *inferencePlan) runsSparse(batch int) bool {
	if batch <= kernels.SparseGatherBatchMax {
		return p.sparseSingle
	}
	return p.sparseBatched
}

func (p *inferencePlan) runsInt8(batch int) bool {
	if batch <= kernels.SparseGatherBatchMax {
		return p.int8Single
	}
	return p.int8Batched
}

// livePlan returns d's plan if it still matches d's slices and bit width,
// nil otherwise. It does not change d, so Stats stays read-only.
func (d *Dense) livePlan() *inferencePlan {
	p := d.plan
	if p == nil || p.w != firstElem(d.W.Value.Data) || p.b != firstElem(d.B.Value.Data) || p.mask != firstElem(d.W.Mask) ||
		p.bits != d.Bits || len(d.W.Value.Data) != d.In*d.Out || len(d.B.Value.Data) != d.Out {
		return nil
	}
	return p
}

// forwardPlan runs Forward through the plan when there is one for this
// call (train false, plan still live, and a sparse or int8 form for this
// batch size), writing d.y; it reports whether it did. Training drops the
// plan.
func (d *Dense) forwardPlan(x Matrix, train bool) bool {
	if train {
		d.plan = nil
		return false
	}
	p := d.livePlan()
	if p == nil {
		d.plan = nil // stale: drop it for good
		return false
	}
	switch {
	case p.runsSparse(x.Rows):
		d.y = ensure(d.y, x.Rows, d.Out)
		p.sparse.Forward(d.y.Data, x.Data, x.Rows)
	case p.runsInt8(x.Rows):
		d.y = ensure(d.y, x.Rows, d.Out)
		p.int8.Forward(d.y.Data, x.Data, x.Rows)
	default:
		return false
	}
	return true
}

// planFLOPs is the multiply-adds per sample that Forward(x, false) runs for
// a single sample: the non-zero weights when the plan runs sparse there,
// else In·Out (int8 multiplies every weight too).
func (d *Dense) planFLOPs() int64 {
	if p := d.livePlan(); p != nil && p.runsSparse(1) {
		return int64(p.sparse.NonZero())
	}
	return int64(d.In) * int64(d.Out)
}

// firstElem returns a pointer to s[0], nil for an empty s: the identity of a
// slice's storage.
func firstElem(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// Sparse crossovers: per layer shape, the weight sparsity from which the
// sparse kernel beats the form it would replace, and whether int8 beats the
// dense GEMM at all (for the smallest layers its per-row quantization costs
// more than it saves). Measured on this project's reference CPU (Intel
// Sapphire Rapids, AVX-512 VNNI, 2 cores shared) by
//
//	PRUNER_TUI_MEASURE=1 go test -run MeasureSparseCrossover -v ./core/kernels/
//
// which prints these rows: random weights at sparsities 0 to 0.99, y = x·W + b
// timed dense (Gemm as Dense.Forward runs it), int8 (kernels.Int8, 8 bits)
// and sparse (kernels.CSR), medians of 7 rounds; the crossover is
// interpolated linearly between the two grid sparsities around the point
// where the times cross (0: sparse always wins; 2: never).
// BenchmarkSparseCrossover in the same package shows the raw times. Single
// is batch 1 (the gathered kernel, batches ≤ kernels.SparseGatherBatchMax),
// Batched is batch 256 (the 16-row panel kernel).
var sparseCrossovers = []crossoverRow{
	{784, 300, 0.22, 0.58, 0.95, 0.89, true, true},
	{300, 100, 0.26, 0.51, 0.93, 0.84, true, true},
	{100, 10, 0.00, 0.27, 0.35, 0.00, true, false},
	{50, 40, 0.20, 0.42, 0.79, 0.46, true, true},
	{784, 32, 0.54, 0.68, 0.80, 0.81, true, true},
	{32, 300, 0.30, 0.51, 0.90, 0.88, true, true},
}

type crossoverRow struct {
	In, Out int
	// Sparsity from which sparse beats dense float32, and beats int8.
	DenseSingle, DenseBatched float64
	Int8Single, Int8Batched   float64
	// Whether int8 beats dense float32.
	Int8WinsSingle, Int8WinsBatched bool
}

// crossoverFor returns the measured row for a layer shape. Shapes not in
// the table take the row nearest in log(In·Out), the number of weights,
// which is what the times scale with.
func crossoverFor(in, out int) crossoverRow {
	best, bestDist := 0, math.Inf(1)
	for i, c := range sparseCrossovers {
		if dist := math.Abs(math.Log(float64(in)*float64(out)) - math.Log(float64(c.In)*float64(c.Out))); dist < bestDist {
			best, bestDist = i, dist
		}
	}
	return sparseCrossovers[best]
}
