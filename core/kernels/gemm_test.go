package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGemmRefHandComputed(t *testing.T) {
	// [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
	a := []float32{1, 2, 3, 4}
	b := []float32{5, 6, 7, 8}
	c := make([]float32, 4)
	GemmRef(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	want := []float32{19, 22, 43, 50}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("c[%d] = %v, want %v", i, c[i], want[i])
		}
	}
	// Aᵀ·B with A = [1 2; 3 4]: Aᵀ = [1 3; 2 4]; Aᵀ·B = [26 30; 38 44]
	GemmRef(true, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	want = []float32{26, 30, 38, 44}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("AᵀB c[%d] = %v, want %v", i, c[i], want[i])
		}
	}
}

func TestGemmMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 7, 33, 300}
	for _, m := range []int{1, 7, 64} {
		for _, n := range sizes {
			for _, k := range []int{1, 33, 784} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
					ta, tb := tr[0], tr[1]
					a := randSlice(rng, m*k)
					b := randSlice(rng, k*n)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					c0 := randSlice(rng, m*n)
					got := append([]float32(nil), c0...)
					want := append([]float32(nil), c0...)
					Gemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2, got, n)
					GemmRef(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2, want, n)
					tol := 1e-5 * math.Sqrt(float64(k)) * 4
					for i := range got {
						if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
							t.Fatalf("m=%d n=%d k=%d ta=%v tb=%v: c[%d]=%v want %v", m, n, k, ta, tb, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}
