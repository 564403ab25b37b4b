//go:build !amd64

package kernels

// Without the amd64 kernels the element-wise kernels run in Go.

func adamWith(impl int, w, g, m, v []float32, b1, b2, step, eps, tiny float32) {
	adamGo(w, g, m, v, b1, b2, step, eps, tiny)
}

func momentumWith(impl int, w, g, vel []float32, mu, lr float32) {
	momentumGo(w, g, vel, mu, lr)
}

func reluWith(impl int, y, x []float32) { reluGo(y, x) }

func reluBackwardWith(impl int, dx, dy, y []float32) { reluBackwardGo(dx, dy, y) }

func addRowsWith(impl int, dst, src []float32, rows, ld int) { addRowsGo(dst, src, rows, ld) }
