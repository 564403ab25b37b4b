package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchShapes are the products one training step of a 784-300-100-10 MLP runs
// at batch 64 and 256: forward (A·B), weight gradient (Aᵀ·B) and input
// gradient (A·Bᵀ).
var benchShapes = []struct {
	name           string
	m, n, k        int
	transA, transB bool
}{
	{"64x784*784x300", 64, 300, 784, false, false},
	{"256x784*784x300", 256, 300, 784, false, false},
	{"64x300*300x100", 64, 100, 300, false, false},
	{"T:784x64*64x300", 784, 300, 64, true, false},
	{"64x300*(784x300)T", 64, 784, 300, false, true},
}

// BenchmarkGemm compares Gemm (each implementation this CPU runs) with
// gonum's blas32.Gemm on the same operands, in GFLOP/s (2·m·n·k per call).
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range benchShapes {
		lda, ldb := sh.k, sh.n
		if sh.transA {
			lda = sh.m
		}
		if sh.transB {
			ldb = sh.k
		}
		a, bm := randSlice(rng, sh.m*sh.k), randSlice(rng, sh.k*sh.n)
		c := make([]float32, sh.m*sh.n)
		flops := 2 * float64(sh.m) * float64(sh.n) * float64(sh.k)
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		for _, impl := range supportedImpls() {
			b.Run(fmt.Sprintf("%s/%s", sh.name, implNames[impl]), func(b *testing.B) {
				defer useImpl(impl)()
				for b.Loop() {
					Gemm(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
				}
				report(b)
			})
		}
		b.Run(sh.name+"/gonum", func(b *testing.B) {
			ta, tb := blas.NoTrans, blas.NoTrans
			ar, ac, br, bc := sh.m, sh.k, sh.k, sh.n
			if sh.transA {
				ta, ar, ac = blas.Trans, sh.k, sh.m
			}
			if sh.transB {
				tb, br, bc = blas.Trans, sh.n, sh.k
			}
			A := blas32.General{Rows: ar, Cols: ac, Stride: lda, Data: a}
			B := blas32.General{Rows: br, Cols: bc, Stride: ldb, Data: bm}
			C := blas32.General{Rows: sh.m, Cols: sh.n, Stride: sh.n, Data: c}
			for b.Loop() {
				blas32.Gemm(ta, tb, 1, A, B, 0, C)
			}
			report(b)
		})
	}
}
