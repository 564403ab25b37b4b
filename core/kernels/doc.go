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
// Compressed layers have their own inference kernels, so compression saves
// time as well as bytes. CSR holds a pruned weight matrix as compressed
// sparse rows with 16-bit indices and multiplies it by a batch of
// activations: one row at a time with lookup or gather kernels for batch 1–3,
// sixteen rows at a time on a transposed panel above that. Int8 holds
// per-output-channel-scaled int8 weights and runs with int32 accumulation
// (AVX512-VNNI VPDPBUSD, or AVX2), quantizing each activation row on the fly
// with a zero point whose correction is precomputed. Each has a pure-Go
// fallback that tests compare against; SparseImpl and Int8Impl name the
// implementation in use.
//
// Training's element-wise work runs on vector kernels too: AdamStep and
// MomentumStep update a parameter in place, ReLU and ReLUBackward apply the
// activation, AddRows sums a gradient over the batch. Each gives exactly the
// bits of its pure-Go version, so results do not depend on the CPU.
//
// Large products, Adam steps and CSR and Int8 forwards of 64 rows or more
// run on several threads, with results bit for bit those of one thread
// (see parallel.go). A product is cut into chunks of whole register tiles
// — row tiles, column panels for Bᵀ, or on two threads, for a large B, the
// two halves of the k blocks of each group of row tiles in a pipeline —
// and every element of C is computed by the same kernel calls with the
// same k blocking and order whoever computes it; a compressed forward is
// cut into chunks of 32 rows. A small persistent pool of GOMAXPROCS−1
// helper goroutines serves one caller at a time; a caller that finds the
// helpers busy computes alone, so concurrent callers neither deadlock nor
// wait, and for 100 ms after that every caller does. Products under
// 1 MFLOP stay on the caller's thread. SetThreads(1) forces one thread;
// Threads reports the count. Measured here (2 vCPU Xeon, AVX-512;
// blaspeer, medians of one run): 64×784·784×300 and 256×784·784×300 at
// 218 and 254 GFLOP/s on two threads, 143 and 142 on one, OpenBLAS 138
// and 211 on its two; a LeNet-300-100 epoch at batch 64 in 0.69 s on two
// threads, 0.79 s on one (pruner-tui bench).
//
// GemmRef is the straightforward triple loop with float64 accumulation that
// tests compare every implementation against. Every kernel is safe for
// concurrent use.
package kernels
