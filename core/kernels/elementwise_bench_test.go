package kernels

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkAdamStep times AdamStep on LeNet-300-100's 784×300 weight
// matrix (235 200 values) with each implementation. The gradients are
// normal numbers, so m and v stay normal: subnormal operands (from
// gradients that stay exactly zero for a while, as m decays by β1 each
// step) cost a microcode assist per instruction in both the Go loop and
// the assembly.
func BenchmarkAdamStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 784 * 300
	w := fill(n, func(int) float32 { return float32(rng.NormFloat64() * 0.05) })
	g := fill(n, func(int) float32 { return float32(rng.NormFloat64() * 1e-3) })
	m, v := make([]float32, n), make([]float32, n)
	prev := elementwiseActive
	defer func() { elementwiseActive = prev }()
	for _, impl := range supportedImpls() {
		elementwiseActive = impl
		b.Run(implNames[impl], func(b *testing.B) {
			for b.Loop() {
				AdamStep(w, g, m, v, 0.9, 0.999, 1e-3, 1e-8)
			}
		})
	}
}

// BenchmarkReLU times ReLU forward and backward on a 64×300 batch.
func BenchmarkReLU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, dy := reluInputs(64*300, rng), reluInputs(64*300, rng)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	ReLU(y, x)
	prev := elementwiseActive
	defer func() { elementwiseActive = prev }()
	for _, impl := range supportedImpls() {
		elementwiseActive = impl
		b.Run("forward/"+implNames[impl], func(b *testing.B) {
			for b.Loop() {
				ReLU(y, x)
			}
		})
		b.Run("backward/"+implNames[impl], func(b *testing.B) {
			for b.Loop() {
				ReLUBackward(dx, dy, y)
			}
		})
	}
}
