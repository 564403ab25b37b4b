package kernels

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

//go:generate go run -C internal/asmgen . -set sparse -out ../../sparse_kern_amd64.s -stubs ../../sparse_kern_stubs_amd64.go -pkg kernels

// MaxSparseInputs is the widest layer CSR stores: input indices are 16 bits.
const MaxSparseInputs = 1 << 16

// SparseGatherBatchMax is the largest batch CSR.Forward runs row by row
// (the "single" regime: the lookup or gather kernel, one row of x at a
// time); larger batches run 16 rows at a time on the transposed panel (the
// "batched" regime). Measured by BenchmarkSparseBatchRegime (AVX-512,
// 784×300): one row costs about a quarter of a whole 16-row panel (2.9 µs
// against 11.4 µs at 90% sparsity, 1.8 µs against 6.9 µs at 95%), so three
// rows still run row by row (9.0 µs, 6.5 µs) and from four on the panel
// is as fast or faster.
const SparseGatherBatchMax = sellBatchMax

const sellBatchMax = 3

// sellWidth is the number of outputs in one slice of the sliced-ELLPACK form.
const sellWidth = 16

// CSR is a weight matrix W (In×Out, row-major as nn.Dense stores it) with
// most entries zero, stored for y = x·W + b as compressed sparse rows of Wᵀ:
// row j lists the inputs feeding output j and their weights, with 16-bit
// input indices. Only non-zeros are stored and multiplied.
//
// Batches of more than SparseGatherBatchMax rows run on the compressed rows,
// 16 rows of x at a time. Single rows run on one of two forms built beside
// them, each for 16 outputs at a time in the lanes of a vector: sliced
// ELLPACK (the columns of W sorted by their number of non-zeros, in slices
// of 16, each slice padded to its longest column; its inputs are gathered)
// and, with AVX-512, a blocked lookup form (inputs in tables of 32 that a
// permute picks from; see buildLookup). NewCSR keeps whichever is cheaper
// for W. A CSR is read-only after NewCSR and safe for concurrent use.
type CSR struct {
	In, Out int

	rowPtr []int32 // Out+1: output j's non-zeros are [rowPtr[j], rowPtr[j+1])
	col    []uint16
	val    []float32
	bias   []float32 // padded with zeros to a multiple of 16

	// Blocked lookup form (AVX-512 single rows), see buildLookup; rowLookup
	// says whether it is cheaper than the sliced ELLPACK form for this W.
	rowLookup  bool
	lookGroups []int32   // per slice: entries / 4
	lookStart  []uint16  // per entry: first input of its 32-input table
	lookIdx    []uint8   // per 4 entries: byte 4l+t = lane l's index in entry t's table
	lookVal    []float32 // per entry: 16 values

	sellPerm  []int32   // lane k of the sliced form is output sellPerm[k]
	sellBias  []float32 // bias in that order
	sellWidth []int32   // per slice: padded non-zeros per output
	sellIdx   []uint16  // per slice, per entry p: 16 input indices (padding: 0)
	sellVal   []float32
}

// NewCSR stores w (in×out, row-major) and bias (out values, or nil for no
// bias) sparse. Zero weights (±0) are left out. It returns an error when the
// shape does not fit w or bias, or in is more than MaxSparseInputs.
func NewCSR(w, bias []float32, in, out int) (*CSR, error) {
	switch {
	case in < 1 || out < 1:
		return nil, fmt.Errorf("sparse weights %d×%d: both sizes must be at least 1", in, out)
	case in > MaxSparseInputs:
		return nil, fmt.Errorf("sparse weights %d×%d: at most %d inputs fit 16-bit indices", in, out, MaxSparseInputs)
	case len(w) != in*out:
		return nil, fmt.Errorf("sparse weights %d×%d: got %d values, want %d", in, out, len(w), in*out)
	case bias != nil && len(bias) != out:
		return nil, fmt.Errorf("sparse weights %d×%d: got %d biases, want %d", in, out, len(bias), out)
	}
	m := &CSR{In: in, Out: out, rowPtr: make([]int32, out+1)}
	nnz := 0
	for _, v := range w {
		if v != 0 {
			nnz++
		}
	}
	if nnz > math.MaxInt32 {
		return nil, fmt.Errorf("sparse weights %d×%d: %d non-zeros overflow 32-bit offsets", in, out, nnz)
	}
	m.col = make([]uint16, 0, nnz)
	m.val = make([]float32, 0, nnz)
	for j := 0; j < out; j++ {
		for i := 0; i < in; i++ {
			if v := w[i*out+j]; v != 0 {
				m.col = append(m.col, uint16(i))
				m.val = append(m.val, v)
			}
		}
		m.rowPtr[j+1] = int32(len(m.col))
	}
	nslices := (out + sellWidth - 1) / sellWidth
	m.bias = make([]float32, nslices*sellWidth)
	copy(m.bias, bias)

	// Sliced ELLPACK over the outputs sorted by non-zeros, most first (ties
	// by index), so the 16 outputs of a slice need about the same width.
	m.sellPerm = make([]int32, nslices*sellWidth)
	for k := range m.sellPerm {
		m.sellPerm[k] = int32(k)
	}
	count := func(j int32) int32 { return m.rowPtr[j+1] - m.rowPtr[j] }
	slices.SortStableFunc(m.sellPerm[:out], func(a, b int32) int { return int(count(b) - count(a)) })
	m.sellBias = make([]float32, nslices*sellWidth)
	m.sellWidth = make([]int32, nslices)
	entries := 0
	for s := range m.sellWidth {
		for k := s * sellWidth; k < min(out, (s+1)*sellWidth); k++ {
			m.sellWidth[s] = max(m.sellWidth[s], count(m.sellPerm[k]))
			m.sellBias[k] = m.bias[m.sellPerm[k]]
		}
		entries += int(m.sellWidth[s])
	}
	m.sellIdx = make([]uint16, entries*sellWidth)
	m.sellVal = make([]float32, entries*sellWidth)
	base := 0
	for s, width := range m.sellWidth {
		for l := 0; l < sellWidth && s*sellWidth+l < out; l++ {
			j := m.sellPerm[s*sellWidth+l]
			for p := m.rowPtr[j]; p < m.rowPtr[j+1]; p++ {
				e := (base+int(p-m.rowPtr[j]))*sellWidth + l
				m.sellIdx[e] = m.col[p]
				m.sellVal[e] = m.val[p]
			}
		}
		base += int(width)
	}
	m.buildLookup()
	m.rowLookup = rowCostLookup*float64(len(m.lookStart)) < rowCostGather*float64(len(m.sellIdx)/sellWidth)
	return m, nil
}

// Time per entry of the two AVX-512 single-row kernels, in ns, measured by
// BenchmarkRowKernels on 784×300 and 300×100 at sparsities 0.8 to 0.95: a
// gather entry (16 gathered inputs) costs about 2.65 ns, a lookup entry
// (16 inputs from a 32-input table) about 0.94 ns. Both kernels stream
// their entries from L2, so the cost is close to linear in the entries.
const (
	rowCostGather = 2.65
	rowCostLookup = 0.94
)

// lookupTable is the number of inputs one lookup entry picks from.
const lookupTable = 32

// buildLookup builds the blocked lookup form: inputs split into tables of
// 32 (the last table ends at In, overlapping the one before, so no read
// passes the end of x; with In < 32 the row is copied into 32 zero-padded
// floats first). For each slice of 16 outputs and each table, the slice
// gets as many entries as its lane with the most non-zeros in that table
// needs; lane l's k-th non-zero in the table goes to the k-th entry.
// Each slice's entries are padded with zero entries to a multiple of 4.
func (m *CSR) buildLookup() {
	tables := max(1, (m.In+lookupTable-1)/lookupTable)
	tableStart := func(t int) int {
		if m.In < lookupTable {
			return 0
		}
		return min(t*lookupTable, m.In-lookupTable)
	}
	tableOf := func(i int) int { return min(i/lookupTable, tables-1) }
	nslices := len(m.sellWidth)
	m.lookGroups = make([]int32, nslices)
	type entry struct {
		start int
		idx   [16]uint8
		val   [16]float32
	}
	var all []entry
	counts := make([][16]int, tables) // counts[t][l]: non-zeros of lane l in table t
	for s := 0; s < nslices; s++ {
		clear(counts)
		for l := 0; l < 16 && 16*s+l < m.Out; l++ {
			j := 16*s + l
			for p := m.rowPtr[j]; p < m.rowPtr[j+1]; p++ {
				counts[tableOf(int(m.col[p]))][l]++
			}
		}
		first := len(all)
		base := make([]int, tables) // first entry of each table in this slice
		for t := range counts {
			base[t] = len(all)
			width := 0
			for _, c := range counts[t] {
				width = max(width, c)
			}
			for range width {
				all = append(all, entry{start: tableStart(t)})
			}
		}
		for l := 0; l < 16 && 16*s+l < m.Out; l++ {
			j := 16*s + l
			next := make([]int, tables)
			for p := m.rowPtr[j]; p < m.rowPtr[j+1]; p++ {
				i := int(m.col[p])
				t := tableOf(i)
				e := &all[base[t]+next[t]]
				next[t]++
				e.idx[l] = uint8(i - e.start)
				e.val[l] = m.val[p]
			}
		}
		for (len(all)-first)%4 != 0 {
			all = append(all, entry{})
		}
		m.lookGroups[s] = int32((len(all) - first) / 4)
	}
	m.lookStart = make([]uint16, len(all))
	m.lookIdx = make([]uint8, len(all)*16)
	m.lookVal = make([]float32, len(all)*16)
	for e, en := range all {
		m.lookStart[e] = uint16(en.start)
		for l := 0; l < 16; l++ {
			m.lookIdx[(e/4)*64+4*l+e%4] = en.idx[l]
		}
		copy(m.lookVal[e*16:], en.val[:])
	}
}

// NonZero is the number of stored weights: the multiply-adds per row of x.
func (m *CSR) NonZero() int { return len(m.val) }

// Forward computes y = x·W + b for batch rows: x is batch×In and y is
// batch×Out, both row-major and contiguous. Each output sums its non-zeros
// in a fixed order (which depends on the batch regime, see sellBatchMax),
// so results are bit-identical from run to run. Large batches are split
// over threads in chunks of whole panels, in the same regime.
//
// Forward panics when x or y is too short: a programming error, as in Gemm.
func (m *CSR) Forward(y, x []float32, batch int) {
	m.check(y, x, batch)
	if batch == 0 {
		return
	}
	if batch >= rowsMinParallel && forwardRows(m, nil, y, x, batch) {
		return
	}
	sparseWith(sparseActive, m, y, x, batch)
}

func (m *CSR) check(y, x []float32, batch int) {
	if batch < 0 || len(x) < batch*m.In || len(y) < batch*m.Out {
		panic(fmt.Sprintf("kernels: CSR.Forward of a %d×%d matrix with batch %d: x has %d values (want ≥ %d), y has %d (want ≥ %d)",
			m.In, m.Out, batch, len(x), batch*m.In, len(y), batch*m.Out))
	}
}

// sparseGo is the pure-Go kernel: every output is its bias plus a dot
// product of its non-zeros with the gathered inputs, summed in storage order.
func sparseGo(m *CSR, y, x []float32, batch int) {
	for r := 0; r < batch; r++ {
		xr := x[r*m.In : (r+1)*m.In]
		yr := y[r*m.Out : (r+1)*m.Out]
		for j := range yr {
			s := m.bias[j]
			cols := m.col[m.rowPtr[j]:m.rowPtr[j+1]]
			vals := m.val[m.rowPtr[j]:m.rowPtr[j+1]]
			vals = vals[:len(cols)]
			for p, i := range cols {
				s += vals[p] * xr[i]
			}
			yr[j] = s
		}
	}
}

// sparseScratch holds the panel of 16 transposed input rows and the
// transposed outputs of one panel.
type sparseScratch struct {
	panel, out []float32
}

var sparsePool = sync.Pool{New: func() any { return new(sparseScratch) }}

func (s *sparseScratch) ensure(in, out int) {
	if cap(s.panel) < in*16 {
		s.panel = make([]float32, in*16)
	}
	if cap(s.out) < out*16 {
		s.out = make([]float32, out*16)
	}
	s.panel, s.out = s.panel[:in*16], s.out[:out*16]
}

// transposeGo writes dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols,
// and zeros into dst[c·ldd + r] for rows ≤ r < fill: the pure-Go form of
// transpose512 with its store mask covering fill lanes.
func transposeGo(src []float32, lds int, dst []float32, ldd, rows, cols, fill int) {
	for c := 0; c < cols; c++ {
		d := dst[c*ldd : c*ldd+max(rows, fill)]
		for r := 0; r < rows; r++ {
			d[r] = src[r*lds+c]
		}
		clear(d[rows:])
	}
}
