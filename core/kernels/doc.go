// Package kernels holds the float32 matrix kernels every layer runs on.
//
// Gemm is the one seam: C = alpha·op(A)·op(B) + beta·C on row-major slices.
// Today it calls gonum's blas32 (pure Go); GemmRef is the straightforward
// triple loop that tests compare any faster kernel against.
package kernels
