// Package kernels holds the float32 matrix kernels every layer runs on.
//
// Gemm is the one seam: C = alpha·op(A)·op(B) + beta·C on row-major slices,
// for the three products training needs (A·B forward, Aᵀ·B weight gradient,
// A·Bᵀ input gradient) and Aᵀ·Bᵀ.
//
// On amd64 Gemm runs register-blocked micro-kernels written in Go assembly
// (generated with avo by the nested module internal/asmgen; see gen.go):
// 12×32 tiles in zmm registers where the CPU has AVX-512F, 6×16 tiles in ymm
// registers with AVX2 and FMA. A and B are read in place with strides; only
// Bᵀ is packed, one cache-sized panel at a time, and with few rows of A
// (batch ≤ 8) A·Bᵀ runs as dot products instead. Edges are masked, so any
// size works. The implementation is chosen once at start-up from
// golang.org/x/sys/cpu; Impl names it. Other CPUs and architectures run
// GemmGo, the pure-Go implementation.
//
// GemmRef is the straightforward triple loop with float64 accumulation that
// tests compare every implementation against. Gemm is single-threaded and
// safe for concurrent use.
package kernels
