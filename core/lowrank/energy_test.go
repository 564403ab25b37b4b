package lowrank

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func TestRankForEnergyByHand(t *testing.T) {
	// σ² = 16, 9, 4, 1, 0 (Σ = 30): cumulative 16/30, 25/30, 29/30, 1, 1.
	sv := []float64{4, 3, 2, 1, 0}
	cases := []struct {
		energy float64
		want   int
	}{
		{-1, 1}, {0, 1}, {0.5, 1}, {16.0 / 30, 1}, {0.54, 2}, {25.0 / 30, 2},
		{0.9, 3}, {29.0 / 30, 3}, {0.97, 4}, {1, 4}, {2, 4},
	}
	for _, c := range cases {
		if got := RankForEnergy(sv, c.energy); got != c.want {
			t.Errorf("RankForEnergy(%v) = %d, want %d", c.energy, got, c.want)
		}
	}
	if got := RankForEnergy(nil, 0.9); got != 0 {
		t.Errorf("RankForEnergy(nil) = %d, want 0", got)
	}
	if got := RankForEnergy([]float64{0, 0}, 0.9); got != 1 {
		t.Errorf("RankForEnergy(zero matrix) = %d, want 1", got)
	}
	// Its answer agrees with EnergyKept on a real spectrum.
	d := randomDense("fc", 30, 20, 21)
	sv, err := SingularValues(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []float64{0.5, 0.8, 0.95, 0.999} {
		r := RankForEnergy(sv, e)
		if EnergyKept(sv, r) < e || (r > 1 && EnergyKept(sv, r-1) >= e) {
			t.Errorf("energy %v: rank %d keeps %v, rank %d keeps %v", e, r, EnergyKept(sv, r), r-1, EnergyKept(sv, r-1))
		}
	}
}

func TestSavesParamsByHand(t *testing.T) {
	cases := []struct {
		in, out, rank int
		want          bool
	}{
		{784, 300, 216, true},  // 216·1084 = 234,144 < 235,200
		{784, 300, 217, false}, // 217·1084 = 235,228 ≥ 235,200
		{784, 300, 300, false},
		{2, 2, 1, false}, // 4 = 4
		{3, 2, 1, true},  // 5 < 6
		{4, 4, 1, true},  // 8 < 16
		{4, 4, 2, false}, // 16 = 16
	}
	for _, c := range cases {
		if got := SavesParams(c.in, c.out, c.rank); got != c.want {
			t.Errorf("SavesParams(%d, %d, %d) = %v, want %v", c.in, c.out, c.rank, got, c.want)
		}
	}
	for _, c := range []struct{ in, out, want int }{{784, 300, 216}, {300, 100, 74}, {2, 2, 0}, {4, 4, 1}, {100, 10, 9}} {
		if got := MaxSavingRank(c.in, c.out); got != c.want {
			t.Errorf("MaxSavingRank(%d, %d) = %d, want %d", c.in, c.out, got, c.want)
		}
	}
}

func TestFactorizeRefusesRanksThatSaveNothing(t *testing.T) {
	d := randomDense("fc1", 784, 300, 22)
	_, err := Factorize(d, 300)
	if err == nil || err.Error() != "factorize layer fc1: rank 300 saves no parameters for a 784→300 layer: use rank < 217" {
		t.Errorf("rank 300: err = %v", err)
	}
	if _, err := Factorize(d, 216); err != nil {
		t.Errorf("rank 216 saves parameters but: %v", err)
	}
	_, err = Factorize(randomDense("fc", 2, 2, 23), 1)
	if err == nil || !strings.Contains(err.Error(), "no rank does") {
		t.Errorf("2×2 rank 1: err = %v", err)
	}
	m := tinyModel() // fc1 is 6×8: ranks ≤ 3 save
	if err := FactorizeModel(m, "fc1", 4); err == nil || !strings.Contains(err.Error(), "use rank < 4") {
		t.Errorf("FactorizeModel rank 4: err = %v", err)
	}
	if _, ok := m.Layers[0].(*nn.Dense); !ok {
		t.Error("a rejected FactorizeModel changed the model")
	}
	if _, err := FactorizeWith(d, 10, Options{Randomized: true, Oversample: -1}); err == nil || !strings.Contains(err.Error(), "oversampling") {
		t.Errorf("negative oversampling: err = %v", err)
	}
}

// decaying returns an m×n matrix U·diag(σ)·Vᵀ with random orthonormal U, V
// and σ_i = decay^i.
func decaying(m, n int, decay float64, seed uint64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	k := min(m, n)
	gauss := func(r, c int) *mat.Dense {
		g := mat.NewDense(r, c, nil)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				g.Set(i, j, rng.NormFloat64())
			}
		}
		return g
	}
	u, v := orth(gauss(m, k)), orth(gauss(n, k))
	sigma := make([]float64, k)
	for i := range sigma {
		sigma[i] = math.Pow(decay, float64(i))
	}
	var us mat.Dense
	us.Mul(u, mat.NewDiagDense(k, sigma))
	var a mat.Dense
	a.Mul(&us, v.T())
	return &a, sigma
}

func TestRandomizedSVDMatchesExactTopValues(t *testing.T) {
	a, sigma := decaying(120, 80, 0.8, 24)
	const rank = 10
	u, s, v, ok := randomizedSVD(a, rank, 10, 2, rand.New(rand.NewPCG(1, 1)))
	if !ok {
		t.Fatal("randomized SVD did not converge")
	}
	for i := 0; i < rank; i++ {
		if rel := math.Abs(s[i]-sigma[i]) / sigma[i]; rel > 1e-6 {
			t.Errorf("σ_%d = %v, exact %v (relative error %.1e)", i, s[i], sigma[i], rel)
		}
	}
	// U and V are orthonormal and reproduce the best rank-r approximation:
	// ‖A − U Σ Vᵀ‖_F ≈ √(Σ_{i≥r} σ_i²).
	var utu mat.Dense
	utu.Mul(u.T(), u)
	for i := 0; i < rank; i++ {
		for j := 0; j < rank; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(utu.At(i, j)-want) > 1e-9 {
				t.Fatalf("UᵀU[%d,%d] = %v, want %v", i, j, utu.At(i, j), want)
			}
		}
	}
	var us, approx, diff mat.Dense
	us.Mul(u, mat.NewDiagDense(rank, s))
	approx.Mul(&us, v.T())
	diff.Sub(a, &approx)
	var tail float64
	for _, x := range sigma[rank:] {
		tail += x * x
	}
	if got := mat.Norm(&diff, 2); math.Abs(got-math.Sqrt(tail)) > 1e-3*math.Sqrt(tail) {
		t.Errorf("‖A − UΣVᵀ‖ = %v, want √tail = %v", got, math.Sqrt(tail))
	}
}

// The randomized path of Factorize gives the same Frobenius error as the
// exact one on a layer with a decaying spectrum, and without power
// iterations it is still close.
func TestFactorizeRandomized(t *testing.T) {
	a, _ := decaying(60, 40, 0.7, 25)
	d := nn.NewDenseNoBias("fc", 60, 40)
	for i := 0; i < 60; i++ {
		for j := 0; j < 40; j++ {
			d.W.Value.Set(i, j, float32(a.At(i, j)))
		}
	}
	exact, err := Factorize(d, 8)
	if err != nil {
		t.Fatal(err)
	}
	diffExact, norm := frobeniusDiff(d, exact)
	for _, power := range []int{0, -1, 3} {
		l, err := FactorizeWith(d, 8, Options{Randomized: true, PowerIters: power, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		diff, _ := frobeniusDiff(d, l)
		if diff > diffExact*1.01+1e-6*norm {
			t.Errorf("power iterations %d: ‖W − A·B‖ = %v, exact SVD %v", power, diff, diffExact)
		}
	}
}

func TestFactorsArePrunableDenseLayers(t *testing.T) {
	l, err := Factorize(randomDense("fc", 10, 8, 26), 2)
	if err != nil {
		t.Fatal(err)
	}
	f := l.Factors()
	if len(f) != 2 || f[0] != l.First || f[1] != l.Second {
		t.Fatalf("Factors() = %v, want [First Second]", f)
	}
	// Pruning a factor through its Dense is seen by the layer's Stats.
	f[0].W.Mask = make([]float32, len(f[0].W.Value.Data))
	f[0].W.ApplyMask()
	if s := l.Stats(); s.NonZero != l.Second.Stats().NonZero {
		t.Errorf("after zeroing A: NonZero %d, want B's %d", s.NonZero, l.Second.Stats().NonZero)
	}
}

// TestDecompositionCutsLikeFactorize: one SVD cut at several ranks gives the
// same factors, bit for bit, as a fresh factorization at each rank.
func TestDecompositionCutsLikeFactorize(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	d := nn.NewDense("fc", 30, 20, rng)
	for i := range d.B.Value.Data {
		d.B.Value.Data[i] = float32(i) / 10
	}
	dc, err := Decompose(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{1, 5, 11} {
		got, err := dc.Factor(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Factorize(d, r)
		if err != nil {
			t.Fatal(err)
		}
		for k, p := range got.Params() {
			q := want.Params()[k]
			for i := range p.Value.Data {
				if p.Value.Data[i] != q.Value.Data[i] {
					t.Fatalf("rank %d: %s[%d] = %v, Factorize gives %v", r, p.Name, i, p.Value.Data[i], q.Value.Data[i])
				}
			}
		}
	}
	// The decomposition keeps its own copy: changing the layer later does
	// not change the cut.
	d.B.Value.Data[0] = 99
	l, _ := dc.Factor(1, Options{})
	if l.Second.B.Value.Data[0] == 99 {
		t.Error("the decomposition shares the layer's bias")
	}
	if _, err := dc.Factor(12, Options{}); err == nil || !strings.Contains(err.Error(), "saves no parameters") {
		t.Errorf("rank 12 of 30×20: %v, want a no-savings error", err)
	}
	if _, err := dc.Factor(0, Options{}); err == nil || !strings.Contains(err.Error(), "allowed 1–20") {
		t.Errorf("rank 0: %v", err)
	}
	if sv := dc.Values(); len(sv) != 20 || sv[0] < sv[19] {
		t.Errorf("values %v, want 20 in decreasing order", sv)
	}
}
