//go:build !amd64

package kernels

// sparseActive: without the amd64 kernels every CPU runs the pure-Go kernel.
var sparseActive = implGeneric

// SparseImpl names the implementation CSR.Forward uses: "generic" here.
func SparseImpl() string { return implNames[sparseActive] }

func sparseWith(impl int, m *CSR, y, x []float32, batch int) { sparseGo(m, y, x, batch) }

func sparsePanels(impl int, m *CSR, y, x []float32, batch int) { sparseGo(m, y, x, batch) }
