package quant

import (
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func BenchmarkQuantize784x300(b *testing.B) {
	d := nn.NewDense("fc1", 784, 300, rand.New(rand.NewPCG(1, 1)))
	for b.Loop() {
		if _, err := Quantize(d.Clone().(*nn.Dense), Options{Bits: 4}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCluster784x300k32(b *testing.B) {
	d := nn.NewDense("fc1", 784, 300, rand.New(rand.NewPCG(1, 1)))
	for b.Loop() {
		if _, err := Cluster(d.Clone().(*nn.Dense), 32, InitLinear, 20); err != nil {
			b.Fatal(err)
		}
	}
}
