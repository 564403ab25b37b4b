package kernels

// The assembly kernels run over the whole vectors; the Go loop does the
// rest (fewer than 16 or 8 elements) with the same arithmetic.

func vectorPart(impl, n int) int {
	switch impl {
	case implAVX512:
		return n &^ 15
	case implAVX2:
		return n &^ 7
	}
	return 0
}

func adamWith(impl int, w, g, m, v []float32, b1, b2, step, eps, tiny float32) {
	k := vectorPart(impl, len(w))
	if k > 0 {
		if impl == implAVX512 {
			adamStep512(&w[0], &g[0], &m[0], &v[0], k, b1, 1-b1, b2, 1-b2, step, eps, tiny)
		} else {
			adamStep256(&w[0], &g[0], &m[0], &v[0], k, b1, 1-b1, b2, 1-b2, step, eps, tiny)
		}
	}
	adamGo(w[k:], g[k:], m[k:], v[k:], b1, b2, step, eps, tiny)
}

func momentumWith(impl int, w, g, vel []float32, mu, lr float32) {
	k := vectorPart(impl, len(w))
	if k > 0 {
		if impl == implAVX512 {
			momentumStep512(&w[0], &g[0], &vel[0], k, mu, lr)
		} else {
			momentumStep256(&w[0], &g[0], &vel[0], k, mu, lr)
		}
	}
	momentumGo(w[k:], g[k:], vel[k:], mu, lr)
}

func reluWith(impl int, y, x []float32) {
	k := vectorPart(impl, len(y))
	if k > 0 {
		if impl == implAVX512 {
			relu512(&y[0], &x[0], k)
		} else {
			relu256(&y[0], &x[0], k)
		}
	}
	reluGo(y[k:], x[k:])
}

func reluBackwardWith(impl int, dx, dy, y []float32) {
	k := vectorPart(impl, len(dx))
	if k > 0 {
		if impl == implAVX512 {
			reluBackward512(&dx[0], &dy[0], &y[0], k)
		} else {
			reluBackward256(&dx[0], &dy[0], &y[0], k)
		}
	}
	reluBackwardGo(dx[k:], dy[k:], y[k:])
}

func addRowsWith(impl int, dst, src []float32, rows, ld int) {
	k := vectorPart(impl, len(dst))
	if k > 0 {
		if impl == implAVX512 {
			addRows512(&dst[0], &src[0], k, rows, ld)
		} else {
			addRows256(&dst[0], &src[0], k, rows, ld)
		}
	}
	addRowsGo(dst[k:], src[k:], rows, ld)
}
