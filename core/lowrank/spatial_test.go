package lowrank

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// A filter tensor that is separable — W[c,ki,kj,f] = a[c,ki]·b[kj,f] —
// is rank one as the (C·K)×(K·F) matrix: the rank-1 spatial factorization
// gives it back exactly, and its sizes are those of a K×1 and a 1×K
// convolution.
func TestSpatialSeparableExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const k, ch, f = 3, 2, 4
	c := nn.NewConv2D("conv", nn.Shape{H: 8, W: 8, C: ch}, f, k, 1, 0, nn.He, rng)
	a := make([]float64, ch*k)
	b := make([]float64, k*f)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	w := c.Kernel.W.Value.Data
	for ki := range k {
		for kj := range k {
			for cc := range ch {
				for ff := range f {
					w[((ki*k+kj)*ch+cc)*f+ff] = float32(a[cc*k+ki] * b[kj*f+ff])
				}
			}
		}
	}
	s, err := SpatialFactorize(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range s.Weights {
		if math.Abs(float64(v-w[i])) > 1e-5 {
			t.Fatalf("weight %d: %v, want %v", i, v, w[i])
		}
	}
	// 1·3·(2+4) weights; on 8×8: 6·8 positions of 3·2 then 6·6 of 3·4.
	if s.Params() != 18 || s.MultiplyAdds(8, 8) != 6*8*6+6*6*12 {
		t.Errorf("params %d, multiply-adds %d", s.Params(), s.MultiplyAdds(8, 8))
	}
}

// At full rank the factorization is the filters themselves, and below it
// the error falls as the rank grows.
func TestSpatialFullRankAndError(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := nn.NewConv2D("conv", nn.Shape{H: 12, W: 12, C: 3}, 5, 5, 1, 0, nn.He, rng)
	w := c.Kernel.W.Value.Data
	prev := math.Inf(1)
	for r := 1; r <= 15; r++ { // min(3·5, 5·5)
		s, err := SpatialFactorize(c, r)
		if err != nil {
			t.Fatal(err)
		}
		var e float64
		for i, v := range s.Weights {
			e += float64(v-w[i]) * float64(v-w[i])
		}
		if e > prev+1e-9 {
			t.Errorf("rank %d: squared error %v above rank %d's %v", r, e, r-1, prev)
		}
		prev = e
	}
	if prev > 1e-8 {
		t.Errorf("full rank: squared error %v", prev)
	}
	if _, err := SpatialFactorize(c, 16); err == nil {
		t.Error("rank 16 of a 15-rank tensor: no error")
	}
}
