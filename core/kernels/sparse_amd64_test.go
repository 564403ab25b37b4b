package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSparseBatchRegime times the two sparse kernels on 784×300 at
// sparsities 0.9 and 0.95 for small batches, to place sellBatchMax: the
// gathered row-by-row kernel (sell) against the 16-row transposed panel.
//
//	go test -run '^$' -bench SparseBatchRegime -benchtime 200ms ./core/kernels/
func BenchmarkSparseBatchRegime(b *testing.B) {
	if sparseActive == implGeneric {
		b.Skip("the generic kernel has one regime")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	const in, out = 784, 300
	for _, sparsity := range []float64{0.9, 0.95} {
		m, err := NewCSR(sparseWeights(rng, in, out, sparsity), randSlice(rng, out), in, out)
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 2, 3, 4, 6, 8, 16} {
			x := randSlice(rng, batch*in)
			y := make([]float32, batch*out)
			b.Run(fmt.Sprintf("%.2f/b%d/sell", sparsity, batch), func(b *testing.B) {
				for b.Loop() {
					for r := 0; r < batch; r++ {
						sellRow(sparseActive, m, y[r*out:(r+1)*out], x[r*in:(r+1)*in])
					}
				}
			})
			b.Run(fmt.Sprintf("%.2f/b%d/panel", sparsity, batch), func(b *testing.B) {
				s := sparsePool.Get().(*sparseScratch)
				defer sparsePool.Put(s)
				s.ensure(in, out)
				for b.Loop() {
					for b0 := 0; b0 < batch; b0 += 16 {
						nb := min(16, batch-b0)
						packPanel(sparseActive, s.panel, x[b0*in:(b0+nb)*in], in, nb)
						if sparseActive == implAVX512 {
							spmmPanel512(&s.panel[0], &m.rowPtr[0], sliceData(m.col), sliceData(m.val), &m.bias[0], &s.out[0], out)
						} else {
							spmmPanel256(&s.panel[0], &m.rowPtr[0], sliceData(m.col), sliceData(m.val), &m.bias[0], &s.out[0], out)
						}
						unpackPanel(sparseActive, y[b0*out:(b0+nb)*out], s.out, out, nb)
					}
				}
			})
		}
	}
}

// BenchmarkRowKernels times the two AVX-512 single-row kernels on the
// same matrices: sliced ELLPACK with gathers and the blocked lookup. Each
// name ends with the kernel's number of entries; time over entries gives
// the per-entry costs rowCostGather and rowCostLookup.
//
//	go test -run '^$' -bench RowKernels -benchtime 200ms ./core/kernels/
func BenchmarkRowKernels(b *testing.B) {
	if sparseActive != implAVX512 {
		b.Skip("AVX-512 kernels")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for _, sh := range [][2]int{{784, 300}, {300, 100}} {
		in, out := sh[0], sh[1]
		for _, sp := range []float64{0.8, 0.9, 0.95} {
			m, _ := NewCSR(sparseWeights(rng, in, out, sp), randSlice(rng, out), in, out)
			x := randSlice(rng, in)
			y := make([]float32, out)
			slices := len(m.sellWidth)
			last := m.Out - 16*(slices-1)
			ent := 0
			for _, g := range m.lookGroups {
				ent += int(g) * 4
			}
			sell := 0
			for _, w := range m.sellWidth {
				sell += int(w)
			}
			b.Run(fmt.Sprintf("%dx%d/%.2f/gather-%d", in, out, sp, sell), func(b *testing.B) {
				for b.Loop() {
					sellGather512(&x[0], &m.sellWidth[0], sliceData(m.sellIdx), sliceData(m.sellVal), &m.sellBias[0], &m.sellPerm[0], &y[0], slices, uint32(1)<<last-1)
				}
			})
			b.Run(fmt.Sprintf("%dx%d/%.2f/lookup-%d", in, out, sp, ent), func(b *testing.B) {
				for b.Loop() {
					lookup512(&x[0], &m.lookGroups[0], sliceData(m.lookStart), sliceData(m.lookIdx), sliceData(m.lookVal), &m.bias[0], &y[0], slices, uint32(1)<<last-1)
				}
			})
		}
	}
}
