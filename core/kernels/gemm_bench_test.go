package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
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

// BenchmarkGemmThreads times Gemm on one thread and on the default
// threads (GOMAXPROCS) on the training shapes, in GFLOP/s. The two run in
// alternation when -count > 1; compare them within one run.
//
//	go test -run XXX -bench GemmThreads -count 5 ./core/kernels/
func BenchmarkGemmThreads(b *testing.B) {
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
		for _, threads := range []int{1, 0} {
			name := fmt.Sprintf("%s/threads=%d", sh.name, threads)
			if threads == 0 {
				name = fmt.Sprintf("%s/threads=%d", sh.name, Threads())
			}
			b.Run(name, func(b *testing.B) {
				defer SetThreads(SetThreads(threads))
				for b.Loop() {
					Gemm(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmTwoCallers runs 256×784·784×300 from two goroutines at
// once, as the TUI's two knob previews do, on one thread each and on the
// default threads (where one caller gets the helpers and the other runs
// alone): GFLOP/s of both together.
func BenchmarkGemmTwoCallers(b *testing.B) {
	const m, n, k = 256, 300, 784
	rng := rand.New(rand.NewPCG(7, 8))
	var ops [2][3][]float32
	for i := range ops {
		ops[i] = [3][]float32{randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)}
	}
	for _, threads := range []int{1, 0} {
		name := "threads=1"
		if threads == 0 {
			name = fmt.Sprintf("threads=%d", Threads())
		}
		b.Run(name, func(b *testing.B) {
			defer SetThreads(SetThreads(threads))
			for b.Loop() {
				var wg sync.WaitGroup
				for i := range ops {
					wg.Add(1)
					go func() {
						defer wg.Done()
						Gemm(false, false, m, n, k, 1, ops[i][0], k, ops[i][1], n, 0, ops[i][2], n)
					}()
				}
				wg.Wait()
			}
			b.ReportMetric(2*2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
