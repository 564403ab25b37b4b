package quant

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// toyData returns n points of three interleaved spiral arms in the plane,
// labelled by arm, with a little noise: a problem a small MLP learns well
// but only with finely tuned weights.
func toyData(n int, seed uint64) (nn.Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 77))
	x := nn.NewMatrix(n, 2)
	y := make([]int, n)
	for i := range y {
		arm := i % 3
		r := rng.Float64()
		theta := 4*r + 2*math.Pi*float64(arm)/3 + 0.15*rng.NormFloat64()
		x.Set(i, 0, float32(r*math.Cos(theta)))
		x.Set(i, 1, float32(r*math.Sin(theta)))
		y[i] = arm
	}
	return x, y
}

// toyModel is 2 → 32 → 32 → 3 with ReLUs.
func toyModel(seed uint64) *nn.Sequential {
	rng := rand.New(rand.NewPCG(seed, 3))
	return &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 2, 32, rng), nn.NewReLU("relu1"),
		nn.NewDense("fc2", 32, 32, rng), nn.NewReLU("relu2"),
		nn.NewDense("fc3", 32, 3, rng),
	}}
}

func trainFloat(t *testing.T, m *nn.Sequential, x nn.Matrix, y []int, epochs int) {
	t.Helper()
	opt := nn.NewAdam(0.01)
	rng := rand.New(rand.NewPCG(4, 4))
	for range epochs {
		if _, err := nn.TrainEpoch(context.Background(), m, opt, x, y, 32, rng, nil); err != nil {
			t.Fatal(err)
		}
	}
}
