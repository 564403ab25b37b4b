package prune

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// convNet is conv1 (4 filters) → relu → pool → conv2 (3 filters) → pool →
// flatten → fc (2 classes): every link filter pruning must follow.
func convNet(rng *rand.Rand) *nn.Sequential {
	c1 := nn.NewConv2D("conv1", nn.Shape{H: 8, W: 8, C: 1}, 4, 3, 1, 1, nn.He, rng)
	p1 := nn.NewMaxPool2D("pool1", c1.Out, 2, 2)
	c2 := nn.NewConv2D("conv2", p1.Out, 3, 3, 1, 0, nn.He, rng)
	p2 := nn.NewMaxPool2D("pool2", c2.Out, 2, 1)
	return &nn.Sequential{Layers: []nn.Layer{c1, nn.NewReLU("relu1"), p1, c2, p2, nn.NewFlatten("flat", p2.Out),
		nn.NewDense("fc", p2.Out.Size(), 2, rng)}}
}

// silence sets filter f of a convolution to zero weights and a bias of
// -1000: after the ReLU (or the pool of a conv2 whose channel no one
// reads) it contributes nothing, so removing it must leave the model's
// output unchanged.
func silence(c *nn.Conv2D, f int) {
	for r := 0; r < c.Kernel.In; r++ {
		c.Kernel.W.Value.Set(r, f, 0)
	}
	c.Kernel.B.Value.Data[f] = -1000
}

// TestFilterPruningKeepsTheOutput: conv1's weakest filter (all zero
// weights) is removed with conv2's matching input channel; conv2's
// weakest filter with the dense layer's inputs at every pixel of its
// channel. With the removed filters contributing nothing (a dead ReLU
// unit; a channel whose weights into fc are zero), the pruned model
// computes the same outputs.
func TestFilterPruningKeepsTheOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	m := convNet(rng)
	c1, c2, fc := m.Layers[0].(*nn.Conv2D), m.Layers[3].(*nn.Conv2D), m.Layers[6].(*nn.Dense)
	silence(c1, 2)
	// conv2's filter 1: zero weights, and zero weights into fc at every
	// pixel of its channel (rows p·3 + 1), so it contributes nothing.
	for r := 0; r < c2.Kernel.In; r++ {
		c2.Kernel.W.Value.Set(r, 1, 0)
	}
	for p := 0; p < fc.In/3; p++ {
		for o := 0; o < 2; o++ {
			fc.W.Value.Set(p*3+1, o, 0)
		}
	}
	x := nn.NewMatrix(3, 64)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	want := m.Forward(x, false).Clone()
	report, err := Structured(m, 0.34, L1, []string{"conv1", "conv2"})
	if err != nil {
		t.Fatal(err)
	}
	// round(0.34·4) = 1 of conv1's filters, round(0.34·3) = 1 of conv2's.
	if len(report.Layers) != 2 || !slices.Equal(report.Layers[0].Removed, []int{2}) || !slices.Equal(report.Layers[1].Removed, []int{1}) {
		t.Fatalf("report %+v, want conv1's filter 2 and conv2's filter 1 removed", report)
	}
	nc1, np1, nc2 := m.Layers[0].(*nn.Conv2D), m.Layers[2].(*nn.MaxPool2D), m.Layers[3].(*nn.Conv2D)
	np2, nf, nfc := m.Layers[4].(*nn.MaxPool2D), m.Layers[5].(*nn.Flatten), m.Layers[6].(*nn.Dense)
	if nc1.Out.C != 3 || nc1.Kernel.Out != 3 || np1.Out.C != 3 || nc2.In.C != 3 || nc2.Kernel.In != 27 || nc2.Out.C != 2 ||
		np2.Out.C != 2 || nf.In.C != 2 || nfc.In != np2.Out.Size() {
		t.Fatalf("shapes after pruning: conv1 %v, pool1 %v, conv2 %v→%v (%d rows), pool2 %v, flat %v, fc %d inputs",
			nc1.Out, np1.Out, nc2.In, nc2.Out, nc2.Kernel.In, np2.Out, nf.In, nfc.In)
	}
	got := m.Forward(x, false)
	for i, w := range want.Data {
		if math.Abs(float64(got.Data[i]-w)) > 1e-5*(1+math.Abs(float64(w))) {
			t.Fatalf("output %d: %v after pruning, %v before", i, got.Data[i], w)
		}
	}
	// The kept filters' weights are exactly the old ones: conv2's filter 2
	// became filter 1, reading conv1's channels 0, 1, 3.
	for _, off := range []int{0, 4, 8} {
		for k, c := range []int{0, 1, 3} {
			if nc2.Kernel.W.Value.At(off*3+k, 1) != c2.Kernel.W.Value.At(off*4+c, 2) {
				t.Fatalf("conv2 row (offset %d, channel %d) changed", off, c)
			}
		}
	}
}

// TestFilterPruningByDefault: with no layers named, every hidden weight
// layer — both convolutions here, not the output layer — loses filters.
func TestFilterPruningByDefault(t *testing.T) {
	m := convNet(rand.New(rand.NewPCG(3, 3)))
	report, err := Structured(m, 0.5, L2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// round(0.5·4) = 2 and round(0.5·3) = 2 (halves round away from zero).
	if len(report.Layers) != 2 || report.Layers[0].After != 2 || report.Layers[1].After != 1 || report.Removed() != 4 {
		t.Fatalf("report %+v, want conv1 4→2 and conv2 3→1", report)
	}
	if _, err := Structured(m, 0.5, L2, []string{"fc"}); err == nil {
		t.Error("the output layer: no error")
	}
}
