package modelfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// lenet5 is a LeNet-5 (Caffe variant) with random weights: conv 20@5×5 →
// pool 2 → conv 50@5×5 → pool 2 → flatten → dense 500 → relu → dense 10.
func lenet5(seed uint64) *nn.Sequential {
	rng := rand.New(rand.NewPCG(seed, 5))
	c1 := nn.NewConv2D("conv1", nn.Shape{H: 28, W: 28, C: 1}, 20, 5, 1, 0, nn.He, rng)
	p1 := nn.NewMaxPool2D("pool1", c1.Out, 2, 2)
	c2 := nn.NewConv2D("conv2", p1.Out, 50, 5, 1, 0, nn.He, rng)
	p2 := nn.NewMaxPool2D("pool2", c2.Out, 2, 2)
	m := &nn.Sequential{Layers: []nn.Layer{c1, p1, c2, p2, nn.NewFlatten("flatten1", p2.Out),
		nn.NewDense("fc1", p2.Out.Size(), 500, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 500, 10, rng)}}
	for _, d := range nn.WeightLayers(m) {
		for i := range d.B.Value.Data {
			d.B.Value.Data[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	return m
}

// TestConvModelRoundTrip: LeNet-5 dense, 90% pruned, and pruned then
// quantized to 4 bits, each read back exactly; a compressed convolution's
// filters are stored as codes like any weight matrix.
func TestConvModelRoundTrip(t *testing.T) {
	m := lenet5(1)
	back, _ := roundTrip(t, m, WriteOptions{Uncompressed: true})
	sameModel(t, "dense", m, back)
	c, ok := back.Layers[0].(*nn.Conv2D)
	if !ok || c.In != (nn.Shape{H: 28, W: 28, C: 1}) || c.Out != (nn.Shape{H: 24, W: 24, C: 20}) || c.K != 5 || c.Stride != 1 || c.Pad != 0 {
		t.Fatalf("conv1 read back as %#v", back.Layers[0])
	}
	if p, ok := back.Layers[3].(*nn.MaxPool2D); !ok || p.Out != (nn.Shape{H: 4, W: 4, C: 50}) || p.Size != 2 || p.Stride != 2 {
		t.Fatalf("pool2 read back as %#v", back.Layers[3])
	}
	pruneAll(t, m, 0.9)
	back, _ = roundTrip(t, m, WriteOptions{Huffman: true})
	sameModel(t, "pruned", m, back)
	if _, err := quant.QuantizeModel(m, quant.Options{Bits: 4}, nil); err != nil {
		t.Fatal(err)
	}
	back, file := roundTrip(t, m, WriteOptions{Huffman: true})
	sameModel(t, "pruned and quantized", m, back)
	sum, err := Inspect(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if l := sum.Layers[0]; l.Kind != "conv" || l.In != 1 || l.Out != 20 || l.Tensors[0].Encoding != "uniform" || l.Tensors[0].In != 25 {
		t.Errorf("conv1 in the summary: %+v", l)
	}
	// 10% of 431,080 weights at 4 bits with positions: far below the
	// 1.7 MB of dense float32.
	if len(file) > 431080*4/15 {
		t.Errorf("compressed LeNet-5 is %d bytes", len(file))
	}
}

// TestConvSafetensorsLayout: torch.nn.Conv2d's [out, in, kh, kw], and the
// dense layer after the flatten taking its inputs in PyTorch's
// channels-first order.
func TestConvSafetensorsLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	c := nn.NewConv2D("conv", nn.Shape{H: 4, W: 4, C: 2}, 3, 3, 1, 0, nn.He, rng)
	fc := nn.NewDense("fc", c.Out.Size(), 2, rng)
	m := &nn.Sequential{Layers: []nn.Layer{c, nn.NewFlatten("flat", c.Out), fc}}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, m); err != nil {
		t.Fatal(err)
	}
	ts, err := ReadSafetensors(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	w := ts["conv.weight"]
	if len(w.Shape) != 4 || w.Shape[0] != 3 || w.Shape[1] != 2 || w.Shape[2] != 3 || w.Shape[3] != 3 {
		t.Fatalf("conv.weight shape %v, want [3 2 3 3]", w.Shape)
	}
	// PyTorch's weight[f][c][ki][kj] is Kernel.W row (ki·3 + kj)·2 + c, column f.
	for f := 0; f < 3; f++ {
		for ch := 0; ch < 2; ch++ {
			for ki := 0; ki < 3; ki++ {
				for kj := 0; kj < 3; kj++ {
					got := w.Data[((f*2+ch)*3+ki)*3+kj]
					if want := c.Kernel.W.Value.At((ki*3+kj)*2+ch, f); got != want {
						t.Fatalf("weight[%d][%d][%d][%d] = %v, want %v", f, ch, ki, kj, got, want)
					}
				}
			}
		}
	}
	// fc.weight[o][(ch·2 + y)·2 + x] is W row (y·2 + x)·3 + ch of the 2×2×3 image.
	fw := ts["fc.weight"]
	for o := 0; o < 2; o++ {
		for ch := 0; ch < 3; ch++ {
			for p := 0; p < 4; p++ {
				if got, want := fw.Data[o*12+ch*4+p], fc.W.Value.At(p*3+ch, o); got != want {
					t.Fatalf("fc.weight[%d][%d] = %v, want %v", o, ch*4+p, got, want)
				}
			}
		}
	}
}

// TestConvRecordsCorrupt: a convolution whose window does not fit, or
// whose filters do not match its window, is refused.
func TestConvRecordsCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	c := nn.NewConv2D("conv", nn.Shape{H: 6, W: 6, C: 1}, 2, 3, 1, 0, nn.He, rng)
	good := &nn.Sequential{Layers: []nn.Layer{c}}
	var buf bytes.Buffer
	if _, err := Write(&buf, good, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	bad := c.Clone().(*nn.Conv2D)
	bad.K = 4 // the filters are 3×3
	if _, err := Write(&bytes.Buffer{}, &nn.Sequential{Layers: []nn.Layer{bad}}, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "want 16 inputs") {
		t.Errorf("mismatched filters: %v", err)
	}
	// Header: kind, name "conv", H W C, K stride pad: set K (byte 16+1+1+5+3) to 9, past the 6×6 input.
	file := buf.Bytes()
	at := 16 + 1 + 1 + 1 + 4 + 3
	if file[at] != 3 {
		t.Fatalf("byte %d is %d, want the window 3: the layout changed", at, file[at])
	}
	file[at] = 9
	if _, err := Read(bytes.NewReader(file)); err == nil {
		t.Error("a 9×9 window over a 6×6 image was read")
	}
}

// TestLowrankConvRoundTrip: a factorized convolution, pruned, is read back
// exactly, and safetensors gives its two convolutions.
func TestLowrankConvRoundTrip(t *testing.T) {
	m := lenet5(3)
	if err := lowrank.FactorizeModel(m, "conv2", 8); err != nil {
		t.Fatal(err)
	}
	pruneAll(t, m, 0.5)
	back, _ := roundTrip(t, m, WriteOptions{Huffman: true})
	sameModel(t, "low-rank conv2", m, back)
	l, ok := back.Layers[2].(*lowrank.ConvLayer)
	if !ok || l.Rank != 8 || l.First.Out.C != 8 || l.Second.Out.C != 50 {
		t.Fatalf("conv2 read back as %#v", back.Layers[2])
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, m); err != nil {
		t.Fatal(err)
	}
	ts, err := ReadSafetensors(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ts["conv2.A.weight"], ts["conv2.B.weight"]; fmt.Sprint(a.Shape) != "[8 20 5 5]" || fmt.Sprint(b.Shape) != "[50 8 1 1]" {
		t.Errorf("factor shapes %v and %v, want [8 20 5 5] and [50 8 1 1]", a.Shape, b.Shape)
	}
}
