package nn

import (
	"math/rand/v2"
	"testing"
)

// lenet5 is LeNet-5 (Caffe variant) with random weights.
func lenet5(rng *rand.Rand) *Sequential {
	c1 := NewConv2D("conv1", Shape{28, 28, 1}, 20, 5, 1, 0, He, rng)
	p1 := NewMaxPool2D("pool1", c1.Out, 2, 2)
	c2 := NewConv2D("conv2", p1.Out, 50, 5, 1, 0, He, rng)
	p2 := NewMaxPool2D("pool2", c2.Out, 2, 2)
	return &Sequential{Layers: []Layer{c1, p1, c2, p2, NewFlatten("flatten1", p2.Out),
		NewDense("fc1", p2.Out.Size(), 500, rng), NewReLU("relu1"), NewDense("fc2", 500, 10, rng)}}
}

// BenchmarkLeNet5Forward times inference at batch 1 and 256:
//
//	go test -run XXX -bench LeNet5 ./core/nn/
func BenchmarkLeNet5Forward(b *testing.B) {
	for _, batch := range []int{1, 256} {
		rng := rand.New(rand.NewPCG(1, 1))
		m := lenet5(rng)
		x := randomMatrix(rng, batch, 784)
		m.PrepareInference()
		b.Run(map[int]string{1: "b1", 256: "b256"}[batch], func(b *testing.B) {
			for b.Loop() {
				m.Forward(x, false)
			}
		})
	}
}

// BenchmarkLeNet5TrainStep times one Adam step at batch 64.
func BenchmarkLeNet5TrainStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := lenet5(rng)
	x := randomMatrix(rng, 64, 784)
	y := make([]int, 64)
	for i := range y {
		y[i] = i % 10
	}
	opt := NewAdam(1e-3)
	g := NewMatrix(64, 10)
	for b.Loop() {
		m.ZeroGrad()
		logits := m.Forward(x, true)
		SoftmaxCrossEntropy(logits, y, g)
		m.Backward(g)
		opt.Step(m.Params())
	}
}

// BenchmarkMaxPool times LeNet-5's first pooling (64×24×24×20 → 12×12×20)
// forward and backward.
func BenchmarkMaxPool(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	p := NewMaxPool2D("pool1", Shape{24, 24, 20}, 2, 2)
	x := randomMatrix(rng, 64, p.In.Size())
	dy := randomMatrix(rng, 64, p.Out.Size())
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			p.Forward(x, true)
		}
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			p.Backward(dy)
		}
	})
}
