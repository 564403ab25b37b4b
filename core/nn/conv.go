package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

// Images are stored channels-last (NHWC): a sample of H×W pixels with C
// channels is a row of H·W·C values, the channel fastest, so a batch is a
// Matrix of batch rows. An MNIST image (28×28, one channel) is its 784
// pixels in reading order, as the Dense models take it.

// Shape is an image's height, width and channels.
type Shape struct{ H, W, C int }

// Size is H·W·C, the width of the row holding one image.
func (s Shape) Size() int { return s.H * s.W * s.C }

func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.H, s.W, s.C) }

// ConvOut is the output size along one dimension of a convolution or pool
// of window k, stride and zero padding pad over n inputs:
// ⌊(n + 2·pad − k)/stride⌋ + 1, or 0 when the window does not fit.
func ConvOut(n, k, stride, pad int) int {
	if stride < 1 || n+2*pad < k {
		return 0
	}
	return (n+2*pad-k)/stride + 1
}

// Conv2D is a 2-D convolution: Filters filters of K×K×In.C, moved over the
// zero-padded input with a stride. It is a Dense layer applied to every
// patch: im2col lays the K×K×C patch under each output position out as a
// row, and Kernel (In = K·K·C, Out = filters) maps it to the output
// channels; the rows of its result are the output image, channels-last.
//
//	x: batch×(H·W·C)   patches: (batch·Ho·Wo)×(K·K·C)   Kernel.W: (K·K·C)×F   y: batch×(Ho·Wo·F)
//	Ho = ⌊(H + 2·Pad − K)/Stride⌋ + 1, and Wo alike
//
// Row (ki·K + kj)·C + c of Kernel.W is the weight of input channel c at
// kernel offset (ki, kj); column f is filter f. PyTorch's layout
// [out, in, kh, kw] is that matrix transposed and reordered (see
// core/modelfile). Since the filters are a Dense layer's weights, every
// pruning criterion, quantizer and model-file encoding of Dense layers
// applies to them as they are, and their inference plan (sparse, int8)
// runs the patches.
type Conv2D struct {
	LayerName   string
	In, Out     Shape
	K, Stride   int
	Pad         int
	Kernel      *Dense
	patches, dx Matrix
}

// NewConv2D returns a convolution of filters K×K filters over in-shaped
// images, with weights drawn from rng by init (fan-in K·K·C) and zero bias.
// It panics when the window does not fit the padded input: specs check
// shapes before building.
func NewConv2D(name string, in Shape, filters, k, stride, pad int, init Init, rng *rand.Rand) *Conv2D {
	ho, wo := ConvOut(in.H, k, stride, pad), ConvOut(in.W, k, stride, pad)
	if ho < 1 || wo < 1 || filters < 1 || in.C < 1 {
		panic(fmt.Sprintf("nn: Conv2D %s: a %d×%d window (stride %d, pad %d) does not fit a %s input", name, k, k, stride, pad, in))
	}
	c := &Conv2D{LayerName: name, In: in, Out: Shape{ho, wo, filters}, K: k, Stride: stride, Pad: pad,
		Kernel: NewDenseInit(name, k*k*in.C, filters, init, rng)}
	return c
}

func (c *Conv2D) Name() string { return c.LayerName }

// positions is the number of output positions of one image.
func (c *Conv2D) positions() int { return c.Out.H * c.Out.W }

// Forward: the patches of x times the filters, plus the bias.
func (c *Conv2D) Forward(x Matrix, train bool) Matrix {
	if x.Cols != c.In.Size() {
		panic("nn: Conv2D " + c.LayerName + ": input width mismatch")
	}
	n := x.Rows * c.positions()
	if c.pointwise() {
		c.patches = Matrix{Rows: n, Cols: c.In.C, Data: x.Data} // each pixel is its own patch
	} else {
		c.patches = ensure(c.patches, n, c.Kernel.In)
		c.im2col(x, c.patches)
	}
	y := c.Kernel.Forward(c.patches, train)
	return Matrix{Rows: x.Rows, Cols: c.Out.Size(), Data: y.Data}
}

// Backward: the filters' gradients from the patches, then dx by scattering
// the patches' gradients back onto the pixels they came from.
func (c *Conv2D) Backward(dy Matrix) Matrix {
	dp := c.Kernel.Backward(c.asPositions(dy))
	if c.pointwise() {
		return Matrix{Rows: dy.Rows, Cols: c.In.Size(), Data: dp.Data}
	}
	c.dx = ensure(c.dx, dy.Rows, c.In.Size())
	c.col2im(dp, c.dx)
	return c.dx
}

// pointwise reports whether c is a 1×1 convolution with stride 1 and no
// padding, whose patches are the pixels themselves: it runs on the input
// as it is, without im2col.
func (c *Conv2D) pointwise() bool { return c.K == 1 && c.Stride == 1 && c.Pad == 0 }

// backwardParams is Backward without dx, for a first layer (see
// Sequential.Backward).
func (c *Conv2D) backwardParams(dy Matrix) { c.Kernel.backwardParams(c.asPositions(dy)) }

// asPositions views a batch of output images as one row per output
// position.
func (c *Conv2D) asPositions(dy Matrix) Matrix {
	return Matrix{Rows: dy.Rows * c.positions(), Cols: c.Out.C, Data: dy.Data}
}

// im2col writes the patch under each output position of each image of x
// as a row of dst: (image·Ho + oy)·Wo + ox, the window's pixels row by row,
// each pixel's channels in order; pixels in the padding are 0.
func (c *Conv2D) im2col(x, dst Matrix) {
	kernels.Parallel(x.Rows, len(dst.Data), func(lo, hi int) { c.im2colImages(x, dst, lo, hi) })
}

// im2colImages is im2col of images lo..hi-1.
func (c *Conv2D) im2colImages(x, dst Matrix, lo, hi int) {
	in, k, ch := c.In, c.K, c.In.C
	run := k * ch // one window row: k pixels of ch channels
	for b := lo; b < hi; b++ {
		img := x.Row(b)
		for oy := 0; oy < c.Out.H; oy++ {
			for ox := 0; ox < c.Out.W; ox++ {
				row := dst.Row((b*c.Out.H+oy)*c.Out.W + ox)
				x0 := ox*c.Stride - c.Pad
				for ki := 0; ki < k; ki++ {
					seg := row[ki*run : (ki+1)*run]
					iy := oy*c.Stride - c.Pad + ki
					switch {
					case iy < 0 || iy >= in.H:
						clear(seg)
					case x0 >= 0 && x0+k <= in.W:
						copyRun(seg, img[(iy*in.W+x0)*ch:(iy*in.W+x0+k)*ch])
					default:
						for kj := 0; kj < k; kj++ {
							px := seg[kj*ch : (kj+1)*ch]
							if ix := x0 + kj; ix < 0 || ix >= in.W {
								clear(px)
							} else {
								copyRun(px, img[(iy*in.W+ix)*ch:(iy*in.W+ix+1)*ch])
							}
						}
					}
				}
			}
		}
	}
}

// copyRun copies src into dst; a short run (a window row of a one-channel
// image) by a loop, which costs less than a call to memmove.
func copyRun(dst, src []float32) {
	if len(src) > 16 {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i] = v
	}
}

// col2im is im2col's adjoint: dx = Σ over the patches of each patch
// gradient added back onto the pixels it was read from, a window row at a
// time where the row lies inside the image.
func (c *Conv2D) col2im(dp, dx Matrix) {
	kernels.Parallel(dx.Rows, len(dp.Data), func(lo, hi int) { c.col2imImages(dp, dx, lo, hi) })
}

// col2imImages is col2im of images lo..hi-1.
func (c *Conv2D) col2imImages(dp, dx Matrix, lo, hi int) {
	clear(dx.Data[lo*dx.Cols : hi*dx.Cols])
	in, k, ch := c.In, c.K, c.In.C
	run := k * ch
	for b := lo; b < hi; b++ {
		img := dx.Row(b)
		for oy := 0; oy < c.Out.H; oy++ {
			for ox := 0; ox < c.Out.W; ox++ {
				row := dp.Row((b*c.Out.H+oy)*c.Out.W + ox)
				x0 := ox*c.Stride - c.Pad
				for ki := 0; ki < k; ki++ {
					iy := oy*c.Stride - c.Pad + ki
					if iy < 0 || iy >= in.H {
						continue
					}
					seg := row[ki*run : (ki+1)*run]
					if x0 >= 0 && x0+k <= in.W {
						addRun(img[(iy*in.W+x0)*ch:(iy*in.W+x0+k)*ch], seg)
						continue
					}
					for kj := 0; kj < k; kj++ {
						if ix := x0 + kj; ix >= 0 && ix < in.W {
							addRun(img[(iy*in.W+ix)*ch:(iy*in.W+ix+1)*ch], seg[kj*ch:(kj+1)*ch])
						}
					}
				}
			}
		}
	}
}

// addRun adds src into dst: a long run with the vector kernel, a short
// one (a window row of a one-channel image) by a loop.
func addRun(dst, src []float32) {
	dst = dst[:len(src)]
	if len(src) >= 16 {
		kernels.AddRows(dst, src, 1, len(src))
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}

func (c *Conv2D) Params() []*Param { return c.Kernel.Params() }

// Clone copies the layer without its buffers or inference plan.
func (c *Conv2D) Clone() Layer {
	return &Conv2D{LayerName: c.LayerName, In: c.In, Out: c.Out, K: c.K, Stride: c.Stride, Pad: c.Pad,
		Kernel: c.Kernel.Clone().(*Dense)}
}

// PrepareInference builds the filters' inference plan (see
// Dense.PrepareInference): the patches run on the sparse or int8 kernels
// when they pay.
func (c *Conv2D) PrepareInference() { c.Kernel.PrepareInference() }

// Stats reports the filters as the Dense layer they are, named and sized
// as a convolution: FLOPs are the filters' multiply-adds per patch times
// the output positions.
func (c *Conv2D) Stats() LayerStats {
	s := c.Kernel.Stats()
	s.Kind = "conv"
	s.In, s.Out = c.In.C, c.Out.C
	s.FLOPs *= int64(c.positions())
	s.Window, s.Map = c.K, c.Out
	return s
}

// MaxPool2D takes the largest value of each Size×Size window of each
// channel, moved by Stride (channels-last images, see Conv2D).
//
//	x: batch×(H·W·C)   y: batch×(Ho·Wo·C),  Ho = ⌊(H − Size)/Stride⌋ + 1
type MaxPool2D struct {
	LayerName    string
	In, Out      Shape
	Size, Stride int
	argmax       []int32 // the input index each output took, for Backward
	y, dx        Matrix
}

// NewMaxPool2D returns a max-pooling layer; it panics when the window does
// not fit.
func NewMaxPool2D(name string, in Shape, size, stride int) *MaxPool2D {
	ho, wo := ConvOut(in.H, size, stride, 0), ConvOut(in.W, size, stride, 0)
	if ho < 1 || wo < 1 {
		panic(fmt.Sprintf("nn: MaxPool2D %s: a %d×%d window (stride %d) does not fit a %s input", name, size, size, stride, in))
	}
	return &MaxPool2D{LayerName: name, In: in, Out: Shape{ho, wo, in.C}, Size: size, Stride: stride}
}

func (p *MaxPool2D) Name() string { return p.LayerName }

// Forward: each output is the max of its window; ties go to the first in
// reading order (NaN is never taken over a number after the first pixel).
func (p *MaxPool2D) Forward(x Matrix, train bool) Matrix {
	if x.Cols != p.In.Size() {
		panic("nn: MaxPool2D " + p.LayerName + ": input width mismatch")
	}
	p.y = ensure(p.y, x.Rows, p.Out.Size())
	if n := len(p.y.Data); cap(p.argmax) < n {
		p.argmax = make([]int32, n)
	} else {
		p.argmax = p.argmax[:n]
	}
	kernels.Parallel(x.Rows, len(x.Data), func(lo, hi int) { p.forwardImages(x, lo, hi) })
	return p.y
}

// forwardImages is Forward of images lo..hi-1.
func (p *MaxPool2D) forwardImages(x Matrix, lo, hi int) {
	in, out, ch := p.In, p.Out, p.In.C
	for b := lo; b < hi; b++ {
		img, dst, arg := x.Row(b), p.y.Row(b), p.argmax[b*out.Size():(b+1)*out.Size()]
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				o := (oy*out.W + ox) * ch
				best, at := dst[o:o+ch:o+ch], arg[o:o+ch:o+ch]
				// The window's first pixel, then the others in reading
				// order, each channel at once: a later pixel wins only
				// when larger.
				first := (oy*p.Stride*in.W + ox*p.Stride) * ch
				if p.Size == 2 {
					max2x2(best, at, img, first, in.W*ch, ch)
					continue
				}
				copy(best, img[first:first+ch])
				for c := range at {
					at[c] = int32(first + c)
				}
				for ki := 0; ki < p.Size; ki++ {
					for kj := 0; kj < p.Size; kj++ {
						if ki == 0 && kj == 0 {
							continue
						}
						i := ((oy*p.Stride+ki)*in.W + ox*p.Stride + kj) * ch
						takeLarger(best, at, img[i:i+ch:i+ch], int32(i))
					}
				}
			}
		}
	}
}

// max2x2 is a 2×2 window's maximum, channel by channel, in one pass: the
// four pixels start at img[first], first+ch, first+row and first+row+ch;
// ties go to the first in reading order, as takeLarger's do.
func max2x2(best []float32, at []int32, img []float32, first, row, ch int) {
	p0, p1 := img[first:first+ch], img[first+ch:first+2*ch]
	p2, p3 := img[first+row:first+row+ch], img[first+row+ch:first+row+2*ch]
	at = at[:len(best)]
	p0, p1, p2, p3 = p0[:len(best)], p1[:len(best)], p2[:len(best)], p3[:len(best)]
	offsets := [4]int32{0, int32(ch), int32(row), int32(row + ch)}
	for c := range best {
		m, k := p0[c], int32(0)
		for j, v := range [3]float32{p1[c], p2[c], p3[c]} {
			var take uint32
			if v > m {
				take = ^uint32(0)
			}
			m = math.Float32frombits(math.Float32bits(v)&take | math.Float32bits(m)&^take)
			k = int32(uint32(offsets[j+1])&take | uint32(k)&^take)
		}
		best[c], at[c] = m, int32(first+c)+k
	}
}

// takeLarger sets best[c] to px[c], and at[c] to i+c, where px[c] is
// larger: without a branch, as a larger value is a coin toss to predict.
func takeLarger(best []float32, at []int32, px []float32, i int32) {
	at = at[:len(best)]
	px = px[:len(best)]
	for c, v := range px {
		m, k := best[c], at[c]
		var take uint32
		if v > m {
			take = ^uint32(0)
		}
		bits := math.Float32bits(v)&take | math.Float32bits(m)&^take
		best[c] = math.Float32frombits(bits)
		at[c] = int32(uint32(i+int32(c))&take | uint32(k)&^take)
	}
}

// Backward: each output's gradient goes to the input it took, in a
// cleared dx; where windows overlap, an input taken by several outputs
// gets their sum.
func (p *MaxPool2D) Backward(dy Matrix) Matrix {
	p.dx = ensure(p.dx, dy.Rows, p.In.Size())
	kernels.Parallel(dy.Rows, len(p.dx.Data), func(lo, hi int) { p.backwardImages(dy, lo, hi) })
	return p.dx
}

// backwardImages is Backward of images lo..hi-1.
func (p *MaxPool2D) backwardImages(dy Matrix, lo, hi int) {
	clear(p.dx.Data[lo*p.dx.Cols : hi*p.dx.Cols])
	n := p.Out.Size()
	tiled := p.Stride >= p.Size // no input is in two windows
	for b := lo; b < hi; b++ {
		g, dst, arg := dy.Row(b), p.dx.Row(b), p.argmax[b*n:(b+1)*n]
		if tiled {
			for o, v := range g {
				dst[arg[o]] = v
			}
			continue
		}
		for o, v := range g {
			dst[arg[o]] += v
		}
	}
}

func (p *MaxPool2D) Params() []*Param { return nil }

func (p *MaxPool2D) Clone() Layer {
	return &MaxPool2D{LayerName: p.LayerName, In: p.In, Out: p.Out, Size: p.Size, Stride: p.Stride}
}

func (p *MaxPool2D) Stats() LayerStats {
	return LayerStats{Name: p.LayerName, Kind: "maxpool", In: p.In.C, Out: p.Out.C, Window: p.Size, Map: p.Out}
}

// Flatten marks where images become vectors for the Dense layers after it.
// Channels-last images are already rows of H·W·C values, so it changes no
// data: y = x, dx = dy.
type Flatten struct {
	LayerName string
	In        Shape
}

func NewFlatten(name string, in Shape) *Flatten { return &Flatten{LayerName: name, In: in} }

func (f *Flatten) Name() string                    { return f.LayerName }
func (f *Flatten) Forward(x Matrix, _ bool) Matrix { return x }
func (f *Flatten) Backward(dy Matrix) Matrix       { return dy }
func (f *Flatten) Params() []*Param                { return nil }
func (f *Flatten) Clone() Layer                    { return &Flatten{LayerName: f.LayerName, In: f.In} }
func (f *Flatten) Stats() LayerStats {
	return LayerStats{Name: f.LayerName, Kind: "flatten", In: f.In.Size(), Out: f.In.Size()}
}
