// Command blaspeer measures kernels.Gemm against OpenBLAS's cblas_sgemm on
// the shapes training LeNet-300-100 needs, interleaved in one run so the
// machine's noise hits both alike, and prints medians and the ratio.
//
// It is a nested module (cgo, linked against the system OpenBLAS) so the
// main module never needs a C toolchain or OpenBLAS. On Debian:
//
//	apt-get install -y libopenblas-dev
//	cd core/kernels/internal/blaspeer && go run . [-threads 1]
package main

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
*/
import "C"

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

type shape struct {
	name           string
	m, n, k        int
	transA, transB bool
}

func main() {
	threads := flag.Int("threads", 0, "OpenBLAS threads (0: its default)")
	reps := flag.Int("reps", 9, "timed rounds per implementation and shape")
	flag.Parse()
	if *threads > 0 {
		C.openblas_set_num_threads(C.int(*threads))
	}
	shapes := []shape{
		{"64x784·784x300", 64, 300, 784, false, false},
		{"256x784·784x300", 256, 300, 784, false, false},
		{"64x300·300x100", 64, 100, 300, false, false},
		{"784x64ᵀ·64x300 (dW)", 784, 300, 64, true, false},
		{"64x300·(784x300)ᵀ (dx)", 64, 784, 300, false, true},
	}
	fmt.Printf("kernels.Impl() = %s\n", kernels.Impl())
	fmt.Printf("%-26s %12s %12s %8s\n", "shape", "ours GF/s", "OpenBLAS", "ratio")
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		a := randSlice(rng, s.m*s.k)
		b := randSlice(rng, s.k*s.n)
		c := make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		ours := func() {
			kernels.Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
		}
		ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
		if s.transA {
			ta = C.CblasTrans
		}
		if s.transB {
			tb = C.CblasTrans
		}
		blas := func() {
			C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.int(s.m), C.int(s.n), C.int(s.k), 1,
				(*C.float)(&a[0]), C.int(lda), (*C.float)(&b[0]), C.int(ldb), 0, (*C.float)(&c[0]), C.int(s.n))
		}
		var g1, g2 []float64
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		for range *reps {
			g1 = append(g1, gflops(ours, flops))
			g2 = append(g2, gflops(blas, flops))
		}
		m1, m2 := median(g1), median(g2)
		fmt.Printf("%-26s %12.1f %12.1f %7.0f%%\n", s.name, m1, m2, 100*m1/m2)
	}
}

// gflops runs f repeatedly for about 0.2 s and returns its rate.
func gflops(f func(), flops float64) float64 {
	f()
	n := 0
	start := time.Now()
	for time.Since(start) < 200*time.Millisecond {
		f()
		n++
	}
	return flops * float64(n) / time.Since(start).Seconds() / 1e9
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()
	}
	return s
}
