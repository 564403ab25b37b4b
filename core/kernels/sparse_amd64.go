package kernels

import "unsafe"

// sparseActive is the implementation CSR.Forward uses; it needs the same
// CPU features as the GEMM of the same name.
var sparseActive = bestImpl()

// SparseImpl names the implementation CSR.Forward uses on this CPU:
// "avx512", "avx2+fma" or "generic".
func SparseImpl() string { return implNames[sparseActive] }

// lanes16[16−v:32−v] holds v int32 lane masks (−1) followed by zeros: the
// AVX2 store mask of the first v of 16 outputs.
var lanes16 = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// sliceData returns a pointer to s[0], or nil for an empty s (kernels never
// read it then).
func sliceData[T any](s []T) *T { return unsafe.SliceData(s) }

func sparseWith(impl int, m *CSR, y, x []float32, batch int) {
	if impl == implGeneric {
		sparseGo(m, y, x, batch)
		return
	}
	if batch <= sellBatchMax {
		for r := 0; r < batch; r++ {
			sellRow(impl, m, y[r*m.Out:(r+1)*m.Out], x[r*m.In:(r+1)*m.In])
		}
		return
	}
	sparsePanels(impl, m, y, x, batch)
}

// sparsePanels is sparseWith for a batch above sellBatchMax (or a part of
// one): transposed panels of 16 rows.
func sparsePanels(impl int, m *CSR, y, x []float32, batch int) {
	if impl == implGeneric {
		sparseGo(m, y, x, batch)
		return
	}
	s := sparsePool.Get().(*sparseScratch)
	defer sparsePool.Put(s)
	s.ensure(m.In, m.Out)
	for b0 := 0; b0 < batch; b0 += 16 {
		nb := min(16, batch-b0)
		xs, ys := x[b0*m.In:(b0+nb)*m.In], y[b0*m.Out:(b0+nb)*m.Out]
		packPanel(impl, s.panel, xs, m.In, nb)
		if impl == implAVX512 {
			spmmPanel512(&s.panel[0], &m.rowPtr[0], sliceData(m.col), sliceData(m.val), &m.bias[0], &s.out[0], m.Out)
		} else {
			spmmPanel256(&s.panel[0], &m.rowPtr[0], sliceData(m.col), sliceData(m.val), &m.bias[0], &s.out[0], m.Out)
		}
		unpackPanel(impl, ys, s.out, m.Out, nb)
	}
}

// sellRow computes one row y = x·W + b: with AVX-512 on the lookup or the
// gather kernel, whichever m.rowLookup says is cheaper for m; with AVX2 on
// the gather kernel. AVX2 has no scatter: its kernel writes
// the outputs in sorted order to scratch, and they are put in place here.
func sellRow(impl int, m *CSR, y, x []float32) {
	slices := len(m.sellWidth)
	last := m.Out - sellWidth*(slices-1) // outputs in the last slice
	if impl == implAVX512 && !m.rowLookup {
		sellGather512(&x[0], &m.sellWidth[0], sliceData(m.sellIdx), sliceData(m.sellVal), &m.sellBias[0], &m.sellPerm[0], &y[0], slices, uint32(1)<<last-1)
		return
	}
	if impl == implAVX512 {
		if m.In < lookupTable {
			// The tables read 32 inputs: pad short rows.
			var padded [lookupTable]float32
			copy(padded[:], x)
			x = padded[:]
		}
		lookup512(&x[0], &m.lookGroups[0], sliceData(m.lookStart), sliceData(m.lookIdx), sliceData(m.lookVal), &m.bias[0], &y[0], slices, uint32(1)<<last-1)
		return
	}
	s := sparsePool.Get().(*sparseScratch)
	defer sparsePool.Put(s)
	s.ensure(m.In, m.Out)
	sorted := s.out[:m.Out]
	sellGather256(&x[0], &m.sellWidth[0], sliceData(m.sellIdx), sliceData(m.sellVal), &m.sellBias[0], &m.sellPerm[0], &sorted[0], slices, &lanes16[16-last])
	for k, j := range m.sellPerm[:m.Out] {
		y[j] = sorted[k]
	}
}

// packPanel writes rows x[0:nb] (each in values) transposed into panel:
// panel[i·16 + r] = x[r][i], zero for nb ≤ r < 16.
func packPanel(impl int, panel, x []float32, in, nb int) {
	if impl != implAVX512 {
		transposeGo(x, in, panel, 16, nb, in, 16)
		return
	}
	for c0 := 0; c0 < in; c0 += 16 {
		cols := min(16, in-c0)
		transpose512(&x[c0], in, &panel[c0*16], 16, nb, cols, uint32(1)<<cols-1, 0xffff)
	}
}

// unpackPanel writes the transposed outputs back: y[r][j] = out[j·16 + r]
// for r < nb.
func unpackPanel(impl int, y, out []float32, nout, nb int) {
	if impl != implAVX512 {
		transposeGo(out, 16, y, nout, nout, nb, 0)
		return
	}
	for j0 := 0; j0 < nout; j0 += 16 {
		rows := min(16, nout-j0)
		transpose512(&out[j0*16], 16, &y[j0], nout, rows, nb, uint32(1)<<nb-1, uint32(1)<<rows-1)
	}
}
