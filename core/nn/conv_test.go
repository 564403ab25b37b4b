package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvForwardHandComputed: a 3×3 one-channel image, a 2×2 filter,
// stride 1, no padding, worked out by hand.
func TestConvForwardHandComputed(t *testing.T) {
	c := NewConv2D("conv", Shape{3, 3, 1}, 1, 2, 1, 0, He, rand.New(rand.NewPCG(1, 1)))
	// Rows of Kernel.W are the window's offsets (0,0), (0,1), (1,0), (1,1).
	copy(c.Kernel.W.Value.Data, []float32{1, 2, 3, 4})
	c.Kernel.B.Value.Data[0] = 0.5
	x := Matrix{Rows: 1, Cols: 9, Data: []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}}
	y := c.Forward(x, false)
	// (0,0): 1·1 + 2·2 + 4·3 + 5·4 = 37;  (0,1): 2 + 6 + 15 + 24 = 47;
	// (1,0): 4 + 10 + 21 + 32 = 67;       (1,1): 5 + 12 + 24 + 36 = 77.
	want := []float32{37.5, 47.5, 67.5, 77.5}
	if y.Rows != 1 || y.Cols != 4 {
		t.Fatalf("y is %d×%d, want 1×4", y.Rows, y.Cols)
	}
	for i, w := range want {
		if y.Data[i] != w {
			t.Fatalf("y = %v, want %v", y.Data, want)
		}
	}
}

// directConv is the textbook convolution, loop by loop, in float64: the
// reference im2col and the GEMM must agree with.
func directConv(c *Conv2D, x Matrix) []float64 {
	in, out, k := c.In, c.Out, c.K
	w, b := c.Kernel.W.Value, c.Kernel.B.Value.Data
	y := make([]float64, x.Rows*out.Size())
	for n := 0; n < x.Rows; n++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				for f := 0; f < out.C; f++ {
					sum := float64(b[f])
					for ki := 0; ki < k; ki++ {
						for kj := 0; kj < k; kj++ {
							iy, ix := oy*c.Stride-c.Pad+ki, ox*c.Stride-c.Pad+kj
							if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
								continue
							}
							for ch := 0; ch < in.C; ch++ {
								sum += float64(x.At(n, (iy*in.W+ix)*in.C+ch)) * float64(w.At((ki*k+kj)*in.C+ch, f))
							}
						}
					}
					y[n*out.Size()+(oy*out.W+ox)*out.C+f] = sum
				}
			}
		}
	}
	return y
}

func randomMatrix(rng *rand.Rand, rows, cols int) Matrix {
	m := NewMatrix(rows, cols)
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	return m
}

// TestConvMatchesDirectConvolution: strides, padding, several channels and
// windows that overlap the padding, against the direct sum.
func TestConvMatchesDirectConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		in                         Shape
		filters, k, stride, pad, n int
	}{
		{Shape{5, 5, 1}, 3, 3, 1, 0, 2},
		{Shape{6, 7, 2}, 4, 3, 2, 1, 3},
		{Shape{4, 4, 3}, 2, 2, 2, 0, 1},
		{Shape{5, 6, 2}, 3, 5, 1, 2, 2},
		{Shape{28, 28, 1}, 20, 5, 1, 0, 2},
	} {
		conv := NewConv2D("conv", c.in, c.filters, c.k, c.stride, c.pad, He, rng)
		for i := range conv.Kernel.B.Value.Data {
			conv.Kernel.B.Value.Data[i] = float32(rng.NormFloat64())
		}
		x := randomMatrix(rng, c.n, c.in.Size())
		got := conv.Forward(x, false)
		want := directConv(conv, x)
		if len(got.Data) != len(want) {
			t.Fatalf("%+v: %d outputs, want %d", c, len(got.Data), len(want))
		}
		for i := range want {
			// Sums of K·K·C float32 products: a few ulps of their magnitude.
			if tol := 1e-5 * float64(c.k*c.k*c.in.C+1); math.Abs(float64(got.Data[i])-want[i]) > tol*(1+math.Abs(want[i])) {
				t.Fatalf("%+v: y[%d] = %v, direct convolution %v", c, i, got.Data[i], want[i])
			}
		}
	}
}

// TestConvGradientsFiniteDifference checks every parameter gradient of
// conv → conv (stride 2, padding 1) → flatten → dense against central
// differences; the second convolution's input gradient (col2im) carries
// the first's. The model is smooth (no ReLU or pooling, whose kinks a
// finite difference straddles), so the bound is tight.
func TestConvGradientsFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	c1 := NewConv2D("conv1", Shape{6, 6, 2}, 3, 3, 1, 0, He, rng)
	c2 := NewConv2D("conv2", c1.Out, 4, 3, 2, 1, He, rng)
	m := &Sequential{Layers: []Layer{c1, c2, NewFlatten("flat", c2.Out),
		NewDense("fc", c2.Out.Size(), 3, rng)}}
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(rng.NormFloat64() * 0.1)
		}
	}
	x := randomMatrix(rng, 3, c1.In.Size())
	y := []int{0, 2, 1}
	m.ZeroGrad()
	logits := m.Forward(x, true)
	g := NewMatrix(logits.Rows, logits.Cols)
	SoftmaxCrossEntropy(logits, y, g)
	m.Backward(g)
	checkGradients(t, m, x, y)
}

// TestPoolGradientsFiniteDifference: conv → maxpool → flatten → dense, the
// pool's gradient routed to each window's maximum. The seed is fixed, and
// with it the inputs: no window's two largest lie within the check's step
// of each other, where a finite difference would straddle the kink.
func TestPoolGradientsFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c := NewConv2D("conv", Shape{6, 6, 1}, 2, 3, 1, 1, He, rng)
	pool := NewMaxPool2D("pool", c.Out, 2, 2)
	m := &Sequential{Layers: []Layer{c, pool, NewFlatten("flat", pool.Out), NewDense("fc", pool.Out.Size(), 3, rng)}}
	x := randomMatrix(rng, 2, c.In.Size())
	y := []int{1, 2}
	m.ZeroGrad()
	logits := m.Forward(x, true)
	g := NewMatrix(logits.Rows, logits.Cols)
	SoftmaxCrossEntropy(logits, y, g)
	m.Backward(g)
	checkGradients(t, m, x, y)
}

// TestConvInputGradient: col2im is the adjoint of im2col, so for any dy,
// ⟨conv(x), dy⟩ − ⟨conv(0), dy⟩ = ⟨x, dx⟩ with dx = Backward(dy).
func TestConvInputGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := NewConv2D("conv", Shape{7, 5, 3}, 2, 3, 2, 1, He, rng)
	x := randomMatrix(rng, 2, c.In.Size())
	dy := randomMatrix(rng, 2, c.Out.Size())
	dot := func(a, b []float32) float64 {
		s := 0.0
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	y := c.Forward(x, true)
	lhs := dot(y.Data, dy.Data)
	zero := c.Clone().(*Conv2D).Forward(NewMatrix(2, c.In.Size()), false)
	lhs -= dot(zero.Data, dy.Data)
	dx := c.Backward(dy)
	if rhs := dot(x.Data, dx.Data); math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
		t.Fatalf("⟨conv(x) − conv(0), dy⟩ = %v, ⟨x, dx⟩ = %v", lhs, rhs)
	}
}

// TestMaxPoolHandComputed: 2×2 windows with stride 2 over a 4×4 image of
// two channels; the gradient goes to each window's largest input.
func TestMaxPoolHandComputed(t *testing.T) {
	p := NewMaxPool2D("pool", Shape{4, 4, 2}, 2, 2)
	x := NewMatrix(1, 32)
	for i := 0; i < 16; i++ {
		x.Data[2*i] = float32(i)        // channel 0: 0…15 in reading order
		x.Data[2*i+1] = float32(-i % 5) // channel 1: 0, -1, -2, -3, -4, 0, -1, ...
	}
	y := p.Forward(x, true)
	// Channel 0 windows: max of {0,1,4,5} = 5, {2,3,6,7} = 7, {8,9,12,13} = 13, {10,11,14,15} = 15.
	// Channel 1 (−(i mod 5)): pixels 0,1,4,5 → 0,−1,−4,0: max 0 (the first,
	// pixel 0); 2,3,6,7 → −2,−3,−1,−2: −1; 8,9,12,13 → −3,−4,−2,−3: −2;
	// 10,11,14,15 → 0,−1,−4,0: 0.
	want := []float32{5, 0, 7, -1, 13, -2, 15, 0}
	for i, w := range want {
		if y.Data[i] != w {
			t.Fatalf("y = %v, want %v", y.Data, want)
		}
	}
	dy := Matrix{Rows: 1, Cols: 8, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8}}
	dx := p.Backward(dy)
	// Channel 0's maxima sit at pixels 5, 7, 13, 15; channel 1's first at pixel 0.
	for px, g := range map[int]float32{5: 1, 7: 3, 13: 5, 15: 7} {
		if dx.Data[2*px] != g {
			t.Errorf("dx at pixel %d channel 0 = %v, want %v", px, dx.Data[2*px], g)
		}
	}
	if dx.Data[1] != 2 {
		t.Errorf("dx at pixel 0 channel 1 = %v, want 2", dx.Data[1])
	}
	sum := float32(0)
	for _, v := range dx.Data {
		sum += v
	}
	if sum != 36 {
		t.Errorf("dx sums to %v, want every output's gradient once: 36", sum)
	}
}

// TestConvIsAWeightLayer: the filters are found, selected and counted as
// the Dense layer they are.
func TestConvIsAWeightLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := NewConv2D("conv1", Shape{28, 28, 1}, 20, 5, 1, 0, He, rng)
	m := &Sequential{Layers: []Layer{c, NewFlatten("flat", c.Out), NewDense("fc1", c.Out.Size(), 10, rng)}}
	ws := WeightLayers(m)
	if len(ws) != 2 || ws[0] != c.Kernel || ws[0].LayerName != "conv1" || ws[0].In != 25 || ws[0].Out != 20 {
		t.Fatalf("weight layers %v", ws)
	}
	sel, err := SelectWeightLayers(m, []string{"conv1"})
	if err != nil || len(sel) != 1 || sel[0] != c.Kernel {
		t.Fatalf("SelectWeightLayers(conv1) = %v, %v", sel, err)
	}
	s := c.Stats()
	// 24×24 positions × 25 weights × 20 filters; 25·20 weights + 20 biases.
	if s.Kind != "conv" || s.FLOPs != 24*24*25*20 || s.Params != 520 || s.In != 1 || s.Out != 20 {
		t.Errorf("stats %+v", s)
	}
}

// TestPointwiseConvIsADenseLayerPerPixel: a 1×1 convolution runs each
// pixel's channels through its filters, as the direct sum says, forward
// and (by the adjoint identity) backward.
func TestPointwiseConvIsADenseLayerPerPixel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	c := NewConv2D("pw", Shape{3, 4, 5}, 2, 1, 1, 0, He, rng)
	if !c.pointwise() {
		t.Fatal("a 1×1 stride-1 unpadded convolution should run without im2col")
	}
	x := randomMatrix(rng, 2, c.In.Size())
	got := c.Forward(x, true)
	want := directConv(c, x)
	for i := range want {
		if math.Abs(float64(got.Data[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("y[%d] = %v, want %v", i, got.Data[i], want[i])
		}
	}
	dy := randomMatrix(rng, 2, c.Out.Size())
	dot := func(a, b []float32) (s float64) {
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	y0 := c.Clone().(*Conv2D).Forward(NewMatrix(2, c.In.Size()), false)
	lhs := dot(got.Data, dy.Data) - dot(y0.Data, dy.Data)
	if rhs := dot(x.Data, c.Backward(dy).Data); math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
		t.Fatalf("⟨conv(x) − conv(0), dy⟩ = %v, ⟨x, dx⟩ = %v", lhs, rhs)
	}
}

// TestMaxPoolBackwardBothPaths: windows that tile the image write dx in
// place; windows that overlap (stride 1) or leave pixels out (a 5×5 image
// in 2×2 windows) add into a cleared dx. Both give each input the sum of
// the gradients of the outputs that took it.
func TestMaxPoolBackwardBothPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, c := range []struct {
		in           Shape
		size, stride int
	}{{Shape{4, 6, 3}, 2, 2}, {Shape{5, 5, 2}, 2, 2}, {Shape{5, 5, 2}, 2, 1}, {Shape{6, 6, 1}, 3, 3}} {
		p := NewMaxPool2D("pool", c.in, c.size, c.stride)
		x := randomMatrix(rng, 2, c.in.Size())
		y := p.Forward(x, true)
		dy := randomMatrix(rng, 2, p.Out.Size())
		dx := p.Backward(dy)
		// The reference: every output's gradient to its window's maximum,
		// found again here by brute force.
		want := make([]float64, len(dx.Data))
		for b := 0; b < 2; b++ {
			for oy := 0; oy < p.Out.H; oy++ {
				for ox := 0; ox < p.Out.W; ox++ {
					for ch := 0; ch < c.in.C; ch++ {
						best, at := float32(0), -1
						for ki := 0; ki < c.size; ki++ {
							for kj := 0; kj < c.size; kj++ {
								i := ((oy*c.stride+ki)*c.in.W+ox*c.stride+kj)*c.in.C + ch
								if v := x.At(b, i); at < 0 || v > best {
									best, at = v, i
								}
							}
						}
						o := (oy*p.Out.W+ox)*c.in.C + ch
						if y.At(b, o) != best {
							t.Fatalf("%+v: y[%d][%d] = %v, the window's max is %v", c, b, o, y.At(b, o), best)
						}
						want[b*c.in.Size()+at] += float64(dy.At(b, o))
					}
				}
			}
		}
		for i, w := range want {
			if math.Abs(float64(dx.Data[i])-w) > 1e-6 {
				t.Fatalf("%+v: dx[%d] = %v, want %v", c, i, dx.Data[i], w)
			}
		}
	}
}

// TestMaxPoolNaN: a NaN in a window's first pixel stays (nothing compares
// larger than it); a NaN after the first pixel is never taken.
func TestMaxPoolNaN(t *testing.T) {
	nan := float32(math.NaN())
	p := NewMaxPool2D("pool", Shape{2, 4, 1}, 2, 2)
	// Window 0: pixels (0,0)=NaN (0,1)=5 (1,0)=1 (1,1)=2; window 1: 3, NaN, 4, 1.
	x := Matrix{Rows: 1, Cols: 8, Data: []float32{nan, 5, 3, nan, 1, 2, 4, 1}}
	y := p.Forward(x, true)
	if !math.IsNaN(float64(y.Data[0])) || y.Data[1] != 4 {
		t.Fatalf("y = %v, want [NaN 4]", y.Data)
	}
	dx := p.Backward(Matrix{Rows: 1, Cols: 2, Data: []float32{1, 2}})
	want := []float32{1, 0, 0, 0, 0, 0, 2, 0}
	for i, w := range want {
		if dx.Data[i] != w {
			t.Fatalf("dx = %v, want %v", dx.Data, want)
		}
	}
}
