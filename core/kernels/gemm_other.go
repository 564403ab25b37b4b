//go:build !amd64

package kernels

// bestImpl: without the amd64 kernels every CPU runs the pure-Go GEMM.
func bestImpl() int { return implGeneric }

// supportedImpls lists the implementations this CPU can run.
func supportedImpls() []int { return []int{implGeneric} }

func gemmWith(impl int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmGo(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// panelScratch is the per-thread scratch of the amd64 kernels; the pure-Go
// ones need none.
type panelScratch struct{}
