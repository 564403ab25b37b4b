package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// lenet is LeNet-300-100: 784-300-100-10 with ReLU.
func lenet(rng *rand.Rand) *Sequential {
	return &Sequential{Layers: []Layer{
		NewDense("fc1", 784, 300, rng), NewReLU("relu1"),
		NewDense("fc2", 300, 100, rng), NewReLU("relu2"),
		NewDense("fc3", 100, 10, rng),
	}}
}

// pruneGlobal zeroes the fraction ratio of all Dense weights of m with the
// smallest |w| under one threshold, as core/prune.Prune does with
// ScopeGlobal (that package imports nn, so its tests here cannot use it).
func pruneGlobal(m *Sequential, ratio float64) {
	var mags []float64
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			for _, v := range d.W.Value.Data {
				mags = append(mags, math.Abs(float64(v)))
			}
		}
	}
	slices.Sort(mags)
	k := int(math.Round(ratio * float64(len(mags))))
	if k == 0 {
		return
	}
	threshold := mags[k-1]
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			for i, v := range d.W.Value.Data {
				if math.Abs(float64(v)) <= threshold {
					d.W.Value.Data[i] = 0
				}
			}
		}
	}
}

// quantizeLayers snaps every Dense layer of m to bits per output channel the
// way core/quant.Quantize with Options{Bits: bits} does and sets Bits.
func quantizeLayers(m *Sequential, bits int) {
	qmax := float64(int(1)<<(bits-1) - 1)
	for _, l := range m.Layers {
		d, ok := l.(*Dense)
		if !ok {
			continue
		}
		for j := 0; j < d.Out; j++ {
			var maxAbs float64
			for i := 0; i < d.In; i++ {
				maxAbs = max(maxAbs, math.Abs(float64(d.W.Value.At(i, j))))
			}
			if maxAbs == 0 {
				continue
			}
			step := maxAbs / qmax
			for i := 0; i < d.In; i++ {
				q := math.Round(float64(d.W.Value.At(i, j)) * qmax / maxAbs)
				d.W.Value.Set(i, j, float32(q*step))
			}
		}
		d.Bits = bits
	}
}

// BenchmarkLeNetInference times Forward(x, false) of LeNet-300-100 after
// PrepareInference: dense, globally pruned to 90% and 95%, and 8-bit.
func BenchmarkLeNetInference(b *testing.B) {
	for _, form := range []string{"dense", "sparse90", "sparse95", "int8"} {
		rng := rand.New(rand.NewPCG(1, 2))
		m := lenet(rng)
		switch form {
		case "sparse90":
			pruneGlobal(m, 0.9)
		case "sparse95":
			pruneGlobal(m, 0.95)
		case "int8":
			quantizeLayers(m, 8)
		}
		m.PrepareInference()
		for _, batch := range []int{1, 256} {
			x := NewMatrix(batch, 784)
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			b.Run(fmt.Sprintf("%s/b%d", form, batch), func(b *testing.B) {
				for b.Loop() {
					m.Forward(x, false)
				}
			})
		}
	}
}
