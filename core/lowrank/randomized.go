package lowrank

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// randomizedSVD returns the top-rank singular triplets of a (m×n) by the
// randomized range finder of Halko, Martinsson & Tropp (2011), Algorithms
// 4.4 and 5.1:
//
//	Ω: n×ℓ Gaussian, ℓ = rank + oversample (at most min(m, n))
//	Q = orth(A·Ω);  q times: Q = orth(A·orth(Aᵀ·Q))    (power iterations)
//	B = Qᵀ·A (ℓ×n) = Ũ Σ Vᵀ;  U = Q·Ũ
//
// The power iterations sharpen the spectrum (σ^(2q+1)), so the range of Q
// catches the top singular vectors even when the tail decays slowly;
// re-orthonormalizing after each product keeps the small σ from drowning in
// rounding. It returns U (m×rank), σ (rank values, largest first) and V
// (n×rank); ok is false when the small SVD did not converge.
func randomizedSVD(a *mat.Dense, rank, oversample, powerIters int, rng *rand.Rand) (u *mat.Dense, sigma []float64, v *mat.Dense, ok bool) {
	m, n := a.Dims()
	l := min(rank+oversample, m, n)
	omega := mat.NewDense(n, l, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < l; j++ {
			omega.Set(i, j, rng.NormFloat64())
		}
	}
	var y mat.Dense
	y.Mul(a, omega)
	q := orth(&y)
	for range powerIters {
		var z mat.Dense
		z.Mul(a.T(), q)
		var y mat.Dense
		y.Mul(a, orth(&z))
		q = orth(&y)
	}
	var b mat.Dense
	b.Mul(q.T(), a) // ℓ×n
	var svd mat.SVD
	if !svd.Factorize(&b, mat.SVDThin) {
		return nil, nil, nil, false
	}
	var ub, vb mat.Dense
	svd.UTo(&ub) // ℓ×ℓ
	svd.VTo(&vb) // n×ℓ
	var full mat.Dense
	full.Mul(q, &ub) // m×ℓ
	return sliceCols(&full, rank), svd.Values(nil)[:rank], sliceCols(&vb, rank), true
}

// orth returns an orthonormal basis of the columns of y (m×ℓ, m ≥ ℓ): the
// first ℓ columns of Q in y = Q·R.
func orth(y *mat.Dense) *mat.Dense {
	_, l := y.Dims()
	var qr mat.QR
	qr.Factorize(y)
	var q mat.Dense
	qr.QTo(&q)
	return sliceCols(&q, l)
}

// sliceCols copies the first c columns of x.
func sliceCols(x *mat.Dense, c int) *mat.Dense {
	r, _ := x.Dims()
	return mat.DenseCopyOf(x.Slice(0, r, 0, c))
}
