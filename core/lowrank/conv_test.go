package lowrank

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// TestFactorizeConv: at full rank the factorized convolution computes what
// the convolution does (the SVD reconstructs its filters); at a saving
// rank it stores rank·(K·K·C + F) weights plus F biases, and its factors
// are named for pruning and quantization.
func TestFactorizeConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	c := nn.NewConv2D("conv2", nn.Shape{H: 8, W: 8, C: 6}, 10, 3, 2, 1, nn.He, rng)
	for i := range c.Kernel.B.Value.Data {
		c.Kernel.B.Value.Data[i] = float32(rng.NormFloat64())
	}
	x := nn.NewMatrix(3, c.In.Size())
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	want := c.Forward(x, false).Clone()
	full, err := FactorizeConv(c, 10, Options{AnyRank: true})
	if err != nil {
		t.Fatal(err)
	}
	got := full.Forward(x, false)
	if got.Cols != want.Cols {
		t.Fatalf("output width %d, want %d", got.Cols, want.Cols)
	}
	for i, w := range want.Data {
		if math.Abs(float64(got.Data[i]-w)) > 1e-4*(1+math.Abs(float64(w))) {
			t.Fatalf("y[%d] = %v, full-rank factors give %v", i, w, got.Data[i])
		}
	}
	// 54×10 filters: ranks up to ⌊(540−1)/64⌋ = 8 save parameters.
	if _, err := FactorizeConv(c, 9, Options{}); err == nil {
		t.Error("rank 9 of a 54×10 filter matrix saves nothing, but was accepted")
	}
	f, err := FactorizeConv(c, 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := f.Stats()
	if s.Params != 4*(54+10)+10 || s.Rank != 4 || f.First.Out != (nn.Shape{H: 4, W: 4, C: 4}) || f.Second.K != 1 {
		t.Errorf("rank 4: stats %+v, first out %v, second window %d", s, f.First.Out, f.Second.K)
	}
	if fs := f.Factors(); fs[0].LayerName != "conv2.A" || fs[1].LayerName != "conv2.B" || fs[0].HasBias() || !fs[1].HasBias() {
		t.Errorf("factors %s (bias %v), %s (bias %v)", fs[0].LayerName, fs[0].HasBias(), fs[1].LayerName, fs[1].HasBias())
	}
	m := &nn.Sequential{Layers: []nn.Layer{c.Clone()}}
	if err := FactorizeModel(m, "conv2", 4); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Layers[0].(*ConvLayer); !ok {
		t.Errorf("FactorizeModel left %T", m.Layers[0])
	}
	if ws := nn.WeightLayers(m); len(ws) != 2 || ws[0].LayerName != "conv2.A" {
		t.Errorf("weight layers of the factorized model: %v", ws)
	}
}
