package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// crossoverShapes are the layers of LeNet-300-100 (784-300-100-10), the
// shapes the inference plan's crossover table in core/nn is measured on.
var crossoverShapes = [][2]int{{784, 300}, {300, 100}, {100, 10}}

// denseAffine is what nn.Dense.Forward runs: y = b (row by row), then
// y += x·W with Gemm.
func denseAffine(y, x, w, b []float32, batch, in, out int) {
	for r := 0; r < batch; r++ {
		copy(y[r*out:(r+1)*out], b)
	}
	Gemm(false, false, batch, out, in, 1, x, in, w, out, 1, y, out)
}

// BenchmarkSparseCrossover times y = x·W + b on each LeNet layer shape at
// batch 1 and 256, dense (Gemm, as nn.Dense runs it) and sparse (CSR) at
// sparsities 0.3 to 0.99, and int8 (Int8, 8 bits) where noted. The lowest
// sparsity at which sparse beats the dense (or int8) time is the crossover
// stored in core/nn's plan table (see core/nn/infer.go).
//
//	go test -run '^$' -bench SparseCrossover -benchtime 200ms ./core/kernels/
func BenchmarkSparseCrossover(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sh := range crossoverShapes {
		in, out := sh[0], sh[1]
		for _, batch := range []int{1, 256} {
			x := randSlice(rng, batch*in)
			y := make([]float32, batch*out)
			bias := randSlice(rng, out)
			name := fmt.Sprintf("%dx%d/b%d", in, out, batch)
			w := randSlice(rng, in*out)
			b.Run(name+"/dense", func(b *testing.B) {
				for b.Loop() {
					denseAffine(y, x, w, bias, batch, in, out)
				}
			})
			q, err := NewInt8(w, bias, in, out, 8)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(name+"/int8", func(b *testing.B) {
				for b.Loop() {
					q.Forward(y, x, batch)
				}
			})
			for _, sparsity := range []float64{0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99} {
				m, err := NewCSR(sparseWeights(rng, in, out, sparsity), bias, in, out)
				if err != nil {
					b.Fatal(err)
				}
				b.Run(fmt.Sprintf("%s/sparse%.2f", name, sparsity), func(b *testing.B) {
					for b.Loop() {
						m.Forward(y, x, batch)
					}
				})
			}
		}
	}
}
