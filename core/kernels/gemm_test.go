package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// useImpl makes Gemm run impl until the returned function restores the
// previous choice.
func useImpl(impl int) (restore func()) {
	prev := active
	active = impl
	return func() { active = prev }
}

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

// TestGemmHandComputed checks every implementation on small products
// worked out by hand, with alpha and beta, for all three transposes.
func TestGemmHandComputed(t *testing.T) {
	a := []float32{1, 2, 3, 4} // [1 2; 3 4]
	b := []float32{5, 6, 7, 8} // [5 6; 7 8]
	cases := []struct {
		name           string
		transA, transB bool
		alpha, beta    float32
		want           []float32
	}{
		// A·B = [19 22; 43 50]; 2·A·B + 1·[1 1; 1 1]
		{"AB", false, false, 2, 1, []float32{39, 45, 87, 101}},
		// Aᵀ·B = [26 30; 38 44]; beta 0 ignores the NaN in C
		{"AtB", true, false, 1, 0, []float32{26, 30, 38, 44}},
		// A·Bᵀ = [1·5+2·6 1·7+2·8; 3·5+4·6 3·7+4·8] = [17 23; 39 53]; −1·A·Bᵀ + 0.5·C
		{"ABt", false, true, -1, 0.5, []float32{-16.5, -22.5, -38.5, -52.5}},
		// Aᵀ·Bᵀ = (B·A)ᵀ; B·A = [23 34; 31 46] so Aᵀ·Bᵀ = [23 31; 34 46]
		{"AtBt", true, true, 1, 0, []float32{23, 31, 34, 46}},
	}
	for _, impl := range supportedImpls() {
		restore := useImpl(impl)
		for _, tc := range cases {
			c := []float32{1, 1, 1, 1}
			if tc.beta == 0 {
				c = []float32{float32(math.NaN()), 1, 1, 1}
			}
			Gemm(tc.transA, tc.transB, 2, 2, 2, tc.alpha, a, 2, b, 2, tc.beta, c, 2)
			for i := range tc.want {
				if c[i] != tc.want[i] {
					t.Errorf("%s %s: c = %v, want %v", implNames[impl], tc.name, c, tc.want)
					break
				}
			}
		}
		restore()
	}
}

type gemmCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
	pad            int // extra elements at the end of each row of A, B and C
}

func (g gemmCase) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v pad=%d",
		g.m, g.n, g.k, g.transA, g.transB, g.alpha, g.beta, g.pad)
}

// gemmFunc is the signature of Gemm, GemmGo and GemmRef.
type gemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// checkAgainstRef runs impl on g and compares with GemmRef (see checkProduct).
func checkAgainstRef(t *testing.T, rng *rand.Rand, impl int, g gemmCase) {
	t.Helper()
	checkProduct(t, rng, implNames[impl], func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		restore := useImpl(impl)
		defer restore()
		Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}, g)
}

// checkProduct runs gemm on g and compares with GemmRef, the plain triple
// loop accumulating in float64. The bound is the standard one for a float32
// sum of k products in any order (with or without FMA), plus the alpha and
// beta roundings: |err| ≤ (k+3)·u·(|alpha|·Σ|a||b| + |beta·c|) with u =
// 2⁻²⁴. A wrong index or a lost term is off by the size of a whole product,
// far beyond it. It also checks that the padding between rows of C was not
// written.
func checkProduct(t *testing.T, rng *rand.Rand, name string, gemm gemmFunc, g gemmCase) {
	t.Helper()
	rowsA, colsA := g.m, g.k
	if g.transA {
		rowsA, colsA = g.k, g.m
	}
	rowsB, colsB := g.k, g.n
	if g.transB {
		rowsB, colsB = g.n, g.k
	}
	lda, ldb, ldc := colsA+g.pad, colsB+g.pad, g.n+g.pad
	a := randSlice(rng, max(0, rowsA*lda-g.pad))
	b := randSlice(rng, max(0, rowsB*ldb-g.pad))
	c0 := randSlice(rng, g.m*ldc)
	const sentinel = float32(-12345)
	for i := 0; i < g.m; i++ {
		for j := g.n; j < ldc; j++ {
			c0[i*ldc+j] = sentinel
		}
	}
	got := append([]float32(nil), c0...)
	want := append([]float32(nil), c0...)
	gemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, got, ldc)
	GemmRef(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, want, ldc)

	absA, absB, bound := abs(a), abs(b), abs(c0)
	GemmRef(g.transA, g.transB, g.m, g.n, g.k, float32(math.Abs(float64(g.alpha))), absA, lda, absB, ldb, float32(math.Abs(float64(g.beta))), bound, ldc)
	u := math.Ldexp(1, -24)
	for i := 0; i < g.m; i++ {
		for j := 0; j < ldc; j++ {
			x := i*ldc + j
			if j >= g.n {
				if got[x] != sentinel {
					t.Fatalf("%s %v: padding c[%d][%d] overwritten with %v", name, g, i, j, got[x])
				}
				continue
			}
			tol := float64(g.k+3)*u*float64(bound[x]) + 1e-30
			if d := math.Abs(float64(got[x]) - float64(want[x])); !(d <= tol) {
				t.Fatalf("%s %v: c[%d][%d] = %v, want %v (|diff| %.3g > tolerance %.3g)",
					name, g, i, j, got[x], want[x], d, tol)
			}
		}
	}
}

// TestGemmMatchesReference runs every implementation this CPU supports on
// odd and typical shapes, all transposes, several alpha/beta pairs, and
// packed and padded rows.
func TestGemmMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := gemmCases()
	for _, impl := range supportedImpls() {
		for _, g := range cases {
			checkAgainstRef(t, rng, impl, g)
		}
	}
}

// gemmCases are odd and typical shapes, all transposes, several alpha/beta
// pairs, and packed and padded rows.
func gemmCases() []gemmCase {
	small := []int{1, 7, 13, 33}
	var cases []gemmCase
	trans := [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}
	scales := [][2]float32{{1, 0}, {1, 1}, {0.5, 2}, {-1.5, -0.25}}
	i := 0
	for _, m := range small {
		for _, n := range append(small, 16, 17, 32, 100) {
			for _, k := range small {
				for _, tr := range trans {
					s := scales[i%len(scales)]
					cases = append(cases, gemmCase{m, n, k, tr[0], tr[1], s[0], s[1], i % 3})
					i++
				}
			}
		}
	}
	// Training shapes, k blocking (k > kcMax), several row blocks (m > mcMax).
	for _, sh := range [][3]int{{64, 300, 784}, {64, 784, 300}, {300, 100, 64}, {64, 10, 100}, {1, 300, 784}, {5, 33, 513}, {500, 20, 9}, {12, 32, 256}, {24, 64, 257}} {
		for _, tr := range trans[:3] {
			s := scales[i%len(scales)]
			cases = append(cases, gemmCase{sh[0], sh[1], sh[2], tr[0], tr[1], s[0], s[1], i % 2})
			i++
		}
	}
	return cases
}

// TestGemmConcurrent runs A·Bᵀ (which borrows a packing buffer from a pool)
// from several goroutines at once; each must get its own product.
func TestGemmConcurrent(t *testing.T) {
	const m, n, k, workers = 33, 40, 50, 4
	type job struct{ a, b, got, want []float32 }
	jobs := make([]job, workers)
	rng := rand.New(rand.NewPCG(7, 8))
	for w := range jobs {
		jobs[w] = job{randSlice(rng, m*k), randSlice(rng, n*k), make([]float32, m*n), make([]float32, m*n)}
		GemmRef(false, true, m, n, k, 1, jobs[w].a, k, jobs[w].b, k, 0, jobs[w].want, n)
	}
	done := make(chan struct{})
	for w := range jobs {
		go func(j job) {
			defer func() { done <- struct{}{} }()
			for range 20 {
				Gemm(false, true, m, n, k, 1, j.a, k, j.b, k, 0, j.got, n)
			}
		}(jobs[w])
	}
	for range jobs {
		<-done
	}
	for w, j := range jobs {
		for i := range j.got {
			if d := math.Abs(float64(j.got[i] - j.want[i])); d > 1e-4 {
				t.Fatalf("worker %d: c[%d] = %v, want %v", w, i, j.got[i], j.want[i])
			}
		}
	}
}

// TestGemmGoMatchesReference checks GemmGo, the pure-Go GEMM on every CPU,
// against GemmRef on the cases of TestGemmMatchesReference, with the same
// tolerance (see checkProduct).
func TestGemmGoMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range gemmCases() {
		checkProduct(t, rng, "GemmGo", GemmGo, g)
	}
}

func TestGemmTrivialSizes(t *testing.T) {
	for _, impl := range supportedImpls() {
		restore := useImpl(impl)
		// k = 0: C = beta·C.
		c := []float32{1, 2, 3, 4}
		Gemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 3, c, 2)
		if want := []float32{3, 6, 9, 12}; fmt.Sprint(c) != fmt.Sprint(want) {
			t.Errorf("%s k=0: c = %v, want %v", implNames[impl], c, want)
		}
		// alpha = 0, beta = 0: C = 0 without reading A, B or C.
		c = []float32{float32(math.NaN()), 2}
		Gemm(false, false, 1, 2, 1, 0, []float32{float32(math.Inf(1))}, 1, []float32{1, 1}, 2, 0, c, 2)
		if c[0] != 0 || c[1] != 0 {
			t.Errorf("%s alpha=0 beta=0: c = %v, want zeros", implNames[impl], c)
		}
		// m = 0 or n = 0: nothing to do, nil slices allowed.
		Gemm(false, false, 0, 3, 4, 1, nil, 4, make([]float32, 12), 3, 0, nil, 3)
		Gemm(false, false, 3, 0, 4, 1, make([]float32, 12), 4, nil, 1, 0, nil, 1)
		restore()
	}
}

func TestGemmPanicsOnBadShape(t *testing.T) {
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"short A", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}, "A has 3 elements, want ≥ 4"},
		{"short C", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}, "C has 3 elements"},
		{"stride of transposed B", func() {
			Gemm(false, true, 2, 3, 2, 1, make([]float32, 4), 2, make([]float32, 6), 1, 0, make([]float32, 6), 3)
		}, "stride of B is 1, want ≥ 2"},
		{"negative size", func() {
			GemmGo(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2)
		}, "negative size"},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("%s: panic %v, want one containing %q", tc.name, r, tc.want)
				}
			}()
			tc.call()
		}()
	}
}

func TestImplNamesTheActiveImplementation(t *testing.T) {
	impls := supportedImpls()
	if got, want := Impl(), implNames[impls[len(impls)-1]]; got != want {
		t.Errorf("Impl() = %q, want the best supported %q", got, want)
	}
	restore := useImpl(implGeneric)
	defer restore()
	if Impl() != "generic" {
		t.Errorf("Impl() = %q after forcing the generic kernel", Impl())
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func abs(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(math.Abs(float64(v)))
	}
	return out
}
