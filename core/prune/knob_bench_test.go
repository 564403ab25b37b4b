package prune

import (
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// testImages is a stand-in for MNIST's 10 000 test images: speed does not
// depend on the values.
func testImages() (nn.Matrix, []int) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := nn.NewMatrix(10000, 784)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	y := make([]int, x.Rows)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	return x, y
}

// BenchmarkKnobLeNet300 times what a knob change in the TUI costs on
// LeNet-300-100, step by step and whole: copy the trained model, compress
// it (Global magnitude pruning to 90%, or 8-bit uniform quantization),
// build its inference plans, and measure test accuracy on 10 000 images at
// batch 256.
func BenchmarkKnobLeNet300(b *testing.B) {
	m := lenet300()
	x, y := testImages()
	pruned := m.Clone()
	if err := Prune(nn.WeightLayers(pruned), 0.9, Options{Scope: ScopeGlobal}); err != nil {
		b.Fatal(err)
	}
	pruned.PrepareInference()
	quantized := m.Clone()
	if _, err := quant.QuantizeModel(quantized, quant.Options{Bits: 8}, nil); err != nil {
		b.Fatal(err)
	}
	quantized.PrepareInference()

	b.Run("clone", func(b *testing.B) {
		for b.Loop() {
			m.Clone()
		}
	})
	b.Run("clone+global90", func(b *testing.B) {
		for b.Loop() {
			if err := Prune(nn.WeightLayers(m.Clone()), 0.9, Options{Scope: ScopeGlobal}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clone+uniform8", func(b *testing.B) {
		for b.Loop() {
			if _, err := quant.QuantizeModel(m.Clone(), quant.Options{Bits: 8}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prepare/sparse90", func(b *testing.B) {
		for b.Loop() {
			pruned.PrepareInference()
		}
	})
	b.Run("prepare/int8", func(b *testing.B) {
		for b.Loop() {
			quantized.PrepareInference()
		}
	})
	b.Run("evaluate10k/sparse90", func(b *testing.B) {
		for b.Loop() {
			nn.Evaluate(pruned, x, y, 256)
		}
	})
	b.Run("evaluate10k/int8", func(b *testing.B) {
		for b.Loop() {
			nn.Evaluate(quantized, x, y, 256)
		}
	})
	b.Run("whole/global90", func(b *testing.B) {
		for b.Loop() {
			c := m.Clone()
			if err := Prune(nn.WeightLayers(c), 0.9, Options{Scope: ScopeGlobal}); err != nil {
				b.Fatal(err)
			}
			c.PrepareInference()
			nn.Evaluate(c, x, y, 256)
		}
	})
	b.Run("whole/uniform8", func(b *testing.B) {
		for b.Loop() {
			c := m.Clone()
			if _, err := quant.QuantizeModel(c, quant.Options{Bits: 8}, nil); err != nil {
				b.Fatal(err)
			}
			c.PrepareInference()
			nn.Evaluate(c, x, y, 256)
		}
	})
}
