package lowrank

import (
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func BenchmarkFactorize784x300(b *testing.B) {
	d := nn.NewDense("fc1", 784, 300, rand.New(rand.NewPCG(1, 1)))
	for b.Loop() {
		if _, err := Factorize(d, 20); err != nil {
			b.Fatal(err)
		}
	}
}
