package prune

import (
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// lenet300 is LeNet-300-100's Dense layers: 266 200 weights.
func lenet300() *nn.Sequential {
	rng := rand.New(rand.NewPCG(1, 1))
	return &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 784, 300, rng), nn.NewReLU("relu1"),
		nn.NewDense("fc2", 300, 100, rng), nn.NewReLU("relu2"),
		nn.NewDense("fc3", 100, 10, rng),
	}}
}

func BenchmarkGlobalLeNet300(b *testing.B) {
	m := lenet300()
	for b.Loop() {
		if err := Prune(nn.WeightLayers(m.Clone()), 0.9, Options{Scope: ScopeGlobal}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToBudgetLeNet300(b *testing.B) {
	m := lenet300()
	budget := Budget{MaxBytes: m.Totals().SizeBytes / 10}
	for b.Loop() {
		if _, err := ToBudget(m.Clone(), budget, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStructuredLeNet300(b *testing.B) {
	m := lenet300()
	for b.Loop() {
		if _, err := Structured(m.Clone(), 0.5, L1, nil); err != nil {
			b.Fatal(err)
		}
	}
}
