package nn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// mnistTrainRows is the size of MNIST's training set: the benchmarks below
// time a slice of an epoch and report the whole epoch's seconds.
const mnistTrainRows = 60000

// syntheticImages returns rows×784 values in [0, 1) and labels in 0..9;
// training speed does not depend on the values.
func syntheticImages(rows int, rng *rand.Rand) (Matrix, []int) {
	x := NewMatrix(rows, 784)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	y := make([]int, rows)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	return x, y
}

// BenchmarkTrainEpochLeNet times TrainEpoch of LeNet-300-100 with Adam
// (lr 1e-3) on 6400 synthetic 784-wide rows, and reports s/epoch: the time
// scaled to MNIST's 60 000 training images.
func BenchmarkTrainEpochLeNet(b *testing.B) {
	const rows = 6400
	for _, batch := range []int{64, 256} {
		b.Run(fmt.Sprintf("b%d", batch), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 3))
			m := lenet(rng)
			x, y := syntheticImages(rows, rng)
			opt := NewAdam(1e-3)
			ctx := context.Background()
			// Warm-up so buffers and optimizer state exist before the clock starts.
			if _, err := TrainEpoch(ctx, m, opt, x.Slice(0, batch), y[:batch], batch, rng, nil); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := TrainEpoch(ctx, m, opt, x, y, batch, rng, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*mnistTrainRows/rows, "s/epoch")
		})
	}
}

// BenchmarkAdamStepLeNet times one Adam step over LeNet-300-100's
// parameters (266 610 values).
func BenchmarkAdamStepLeNet(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	m := lenet(rng)
	params := m.Params()
	for _, p := range params {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = float32(rng.NormFloat64()) * 1e-2
		}
	}
	opt := NewAdam(1e-3)
	for b.Loop() {
		opt.Step(params)
	}
}

// BenchmarkReLULeNet times ReLU forward and backward on a 64×300 batch,
// half of whose inputs are negative.
func BenchmarkReLULeNet(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 5))
	x := NewMatrix(64, 300)
	dy := NewMatrix(64, 300)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
		dy.Data[i] = float32(rng.NormFloat64())
	}
	r := NewReLU("relu")
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			r.Forward(x, true)
		}
	})
	b.Run("backward", func(b *testing.B) {
		r.Forward(x, true)
		for b.Loop() {
			r.Backward(dy)
		}
	})
}
