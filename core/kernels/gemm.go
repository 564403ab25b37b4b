package kernels

import "fmt"

// Implementations Gemm can run on; the best one the CPU supports is chosen
// at start-up (see gemm_amd64.go).
const (
	implGeneric = iota // pure Go, every architecture
	implAVX2           // amd64 with AVX2 and FMA: 6×16 ymm tiles
	implAVX512         // amd64 with AVX-512F: 12×32 zmm tiles
)

var implNames = [...]string{
	implGeneric: "generic",
	implAVX2:    "avx2+fma",
	implAVX512:  "avx512",
}

// active is the implementation Gemm uses. Tests switch it to run every
// implementation the CPU supports on the same inputs.
var active = bestImpl()

// Impl names the implementation Gemm uses on this CPU: "avx512", "avx2+fma"
// or "generic".
func Impl() string { return implNames[active] }

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices.
// op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb, ldc are row strides.
// When transA is true A is stored k×m, when transB is true B is stored n×k.
// When beta is 0, C is only written, so it may hold anything (even NaN).
//
// Gemm panics when a stride is shorter than its row or a slice is too short
// for the shape: those are programming errors, as in BLAS.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	gemmWith(active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmGo is Gemm computed by the pure-Go implementation on every CPU. It is
// what Gemm runs where no assembly kernel applies.
func GemmGo(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	gemmGo(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkGemm panics with a message naming the argument when the shape does
// not fit the slices; the assembly kernels rely on it to stay in bounds.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Gemm with negative size m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkMatrix("A", rowsA, colsA, a, lda)
	checkMatrix("B", rowsB, colsB, b, ldb)
	checkMatrix("C", m, n, c, ldc)
}

func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels: Gemm stride of %s is %d, want ≥ %d (its stored columns)", name, ld, max(1, cols)))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("kernels: Gemm %s has %d elements, want ≥ %d for %d×%d with stride %d", name, len(s), need, rows, cols, ld))
	}
}

// scaleC sets C = beta·C; beta = 0 writes zeros without reading C.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// GemmRef is the reference triple loop for Gemm, accumulating in float64.
func GemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			cv := float64(alpha) * s
			if beta != 0 {
				cv += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(cv)
		}
	}
}
