package kernels

// gemmGo is the pure-Go GEMM: C = beta·C first, then alpha·op(A)·op(B) is
// added row by row. For op(B) = B each row of C gets four scaled rows of B
// per pass (an axpy over four k), so C is loaded and stored k/4 times; for
// op(B) = Bᵀ each element of C is a dot product of two contiguous rows.
func gemmGo(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if transB {
		gemmGoDot(transA, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	// A(i, p) is a[i·lda + p], or a[p·lda + i] when transA.
	rs, cs := lda, 1
	if transA {
		rs, cs = 1, lda
	}
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		p := 0
		for ; p+4 <= k; p += 4 {
			s0 := alpha * a[i*rs+p*cs]
			s1 := alpha * a[i*rs+(p+1)*cs]
			s2 := alpha * a[i*rs+(p+2)*cs]
			s3 := alpha * a[i*rs+(p+3)*cs]
			b0 := b[p*ldb : p*ldb+n]
			b1 := b[(p+1)*ldb : (p+1)*ldb+n]
			b2 := b[(p+2)*ldb : (p+2)*ldb+n]
			b3 := b[(p+3)*ldb : (p+3)*ldb+n]
			for j := range crow {
				crow[j] += s0*b0[j] + s1*b1[j] + s2*b2[j] + s3*b3[j]
			}
		}
		for ; p < k; p++ {
			s := alpha * a[i*rs+p*cs]
			brow := b[p*ldb : p*ldb+n]
			for j := range crow {
				crow[j] += s * brow[j]
			}
		}
	}
}

// gemmGoDot handles op(B) = Bᵀ: C[i][j] += alpha·⟨A(i, ·), B[j]⟩.
func gemmGoDot(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	var col []float32
	if transA {
		// A(i, ·) is a column of the stored A; gather it once per i.
		col = make([]float32, k)
	}
	for i := 0; i < m; i++ {
		var arow []float32
		if transA {
			for p := range col {
				col[p] = a[p*lda+i]
			}
			arow = col
		} else {
			arow = a[i*lda : i*lda+k]
		}
		crow := c[i*ldc : i*ldc+n]
		for j := range crow {
			crow[j] += alpha * dot(arow, b[j*ldb:j*ldb+k])
		}
	}
}

// dot is ⟨x, y⟩ with four partial sums, so the loop is not one serial chain.
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	p := 0
	for ; p+4 <= len(x); p += 4 {
		s0 += x[p] * y[p]
		s1 += x[p+1] * y[p+1]
		s2 += x[p+2] * y[p+2]
		s3 += x[p+3] * y[p+3]
	}
	for ; p < len(x); p++ {
		s0 += x[p] * y[p]
	}
	return (s0 + s1) + (s2 + s3)
}
