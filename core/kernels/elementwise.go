package kernels

import (
	"fmt"
	"math"
)

//go:generate go run -C internal/asmgen . -set elementwise -out ../../elementwise_kern_amd64.s -stubs ../../elementwise_kern_stubs_amd64.go -pkg kernels

// The element-wise kernels of training: the optimizer updates and ReLU.
// Each runs in assembly over whole vectors (16 lanes with AVX-512F, 8 with
// AVX2) and in Go over the last few elements and on other CPUs. The
// assembly does every operation of the Go loop, in the same order, as one
// correctly rounded instruction (no fused multiply-add, VSQRTPS and VDIVPS
// rather than reciprocal approximations), so both give bit-identical
// results: training does not depend on the CPU's instruction set.

// elementwiseActive is the implementation the element-wise kernels use.
// Tests switch it to run every implementation on the same inputs.
var elementwiseActive = bestImpl()

// AdamStep runs one Adam update on every element, with the bias
// corrections already folded into step and eps by the caller:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	w = w − step·m / (√v + eps)
//
// in float32, each operation rounded: (1−β1)·g and ((1−β2)·g)·g are
// computed in that order, and √v is the correctly rounded square root.
//
// One departure from plain float32 arithmetic: m is stored as a zero of
// its sign when |m| < MomentFloor(β1, step), the level below which β1·m or
// step·m would be subnormal (|m| < 2⁻¹²⁶/min(β1, step), about 1.2e-35 at
// step 1e-3). On x86 every instruction with a subnormal operand or result
// takes a microcode assist of about a hundred cycles, and the m of a weight
// whose gradient stays zero (the weights of a dead ReLU unit) decays by β1
// a step through that range for some 200 steps. The update such an m
// would have made, step·m/(√v + eps), is below 2⁻¹²⁶·max(1, step/β1)/eps:
// under 1e-28 with the eps nn.Adam passes (ε·√(1−β2ᵗ) ≥ 3e-10 for
// ε = 1e-8). That is under half an ulp of any weight above about 1e-20, so
// in practice w comes out bit for bit as without the floor (LeNet-300-100
// trained on MNIST for 4 epochs: identical weights).
//
// Long slices are split over threads (see SetThreads), in chunks that each
// get the same arithmetic, so the result does not depend on the split.
//
// It panics when the slices differ in length.
func AdamStep(w, g, m, v []float32, beta1, beta2, step, eps float32) {
	if len(g) != len(w) || len(m) != len(w) || len(v) != len(w) {
		panic(fmt.Sprintf("kernels: AdamStep with slices of lengths w=%d g=%d m=%d v=%d", len(w), len(g), len(m), len(v)))
	}
	tiny := MomentFloor(beta1, step)
	if threads := Threads(); len(w) >= adamMinParallel {
		if owned, _ := workers.tryOwn(threads); owned {
			workers.adam = adamTask{w, g, m, v, elementwiseActive, beta1, beta2, step, eps, tiny}
			workers.run(&workers.adam, (len(w)+adamChunk-1)/adamChunk, threads-1, nil)
			workers.adam = adamTask{}
			workers.mu.Unlock()
			return
		}
	}
	adamWith(elementwiseActive, w, g, m, v, beta1, beta2, step, eps, tiny)
}

// MomentFloor is the smallest |m| AdamStep keeps: for |m| at or above it,
// β1·m and step·m are normal floats (or zero when β1 or step is). It is
// 2⁻¹²⁶/min(|β1|, |step|, 1) over the non-zero ones, rounded up.
func MomentFloor(beta1, step float32) float32 {
	lo := 1.0
	for _, f := range []float32{beta1, step} {
		if a := math.Abs(float64(f)); a > 0 {
			lo = min(lo, a)
		}
	}
	floor := float32(0x1p-126 / lo)
	if float64(floor)*lo < 0x1p-126 {
		floor = math.Nextafter32(floor, float32(math.Inf(1)))
	}
	return floor
}

// MomentumStep runs one SGD-with-momentum update on every element:
//
//	vel = μ·vel + g;  w = w − lr·vel
//
// It panics when the slices differ in length.
func MomentumStep(w, g, vel []float32, momentum, lr float32) {
	if len(g) != len(w) || len(vel) != len(w) {
		panic(fmt.Sprintf("kernels: MomentumStep with slices of lengths w=%d g=%d vel=%d", len(w), len(g), len(vel)))
	}
	momentumWith(elementwiseActive, w, g, vel, momentum, lr)
}

// ReLU writes y = max(x, 0) as Go's max computes it: −0 becomes +0 and
// NaN stays NaN. It panics when the slices differ in length.
func ReLU(y, x []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("kernels: ReLU with slices of lengths y=%d x=%d", len(y), len(x)))
	}
	reluWith(elementwiseActive, y, x)
}

// ReLUBackward writes dx = dy where y > 0 and +0 elsewhere (also where y is
// NaN), y being ReLU's output. It panics when the slices differ in length.
func ReLUBackward(dx, dy, y []float32) {
	if len(dy) != len(dx) || len(y) != len(dx) {
		panic(fmt.Sprintf("kernels: ReLUBackward with slices of lengths dx=%d dy=%d y=%d", len(dx), len(dy), len(y)))
	}
	reluBackwardWith(elementwiseActive, dx, dy, y)
}

// AddRows adds rows rows of src, each len(dst) wide and ld floats apart,
// into dst one row at a time, first row first:
//
//	dst[j] = (…((dst[j] + src[0·ld+j]) + src[1·ld+j]) + …) + src[(rows−1)·ld+j]
//
// as a bias gradient db += Σ_rows dy is summed. It panics when ld is
// shorter than dst or src is too short for the rows.
func AddRows(dst, src []float32, rows, ld int) {
	if rows < 0 || ld < len(dst) || (rows > 0 && len(src) < (rows-1)*ld+len(dst)) {
		panic(fmt.Sprintf("kernels: AddRows of %d rows, %d apart, %d wide, from %d values", rows, ld, len(dst), len(src)))
	}
	if rows == 0 {
		return
	}
	addRowsWith(elementwiseActive, dst, src, rows, ld)
}

// adamGo is AdamStep in Go. The float32 conversions round each product, so
// the compiler cannot fuse them into an FMA (which GOAMD64=v3 would allow)
// and the result stays the same as the assembly's.
func adamGo(w, g, m, v []float32, b1, b2, step, eps, tiny float32) {
	c1, c2 := 1-b1, 1-b2
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i]
		mi := float32(b1*m[i]) + float32(c1*gi)
		if b := math.Float32bits(mi); b&0x7fffffff < math.Float32bits(tiny) {
			mi = math.Float32frombits(b & 0x80000000) // a zero of m's sign
		}
		vi := float32(b2*v[i]) + float32(float32(c2*gi)*gi)
		m[i], v[i] = mi, vi
		w[i] -= float32(step*mi) / (float32(math.Sqrt(float64(vi))) + eps)
	}
}

// momentumGo is MomentumStep in Go.
func momentumGo(w, g, vel []float32, mu, lr float32) {
	g, vel = g[:len(w)], vel[:len(w)]
	for i := range w {
		vi := float32(mu*vel[i]) + g[i]
		vel[i] = vi
		w[i] -= float32(lr * vi)
	}
}

// addRowsGo is AddRows in Go.
func addRowsGo(dst, src []float32, rows, ld int) {
	for r := 0; r < rows; r++ {
		row := src[r*ld : r*ld+len(dst)]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// reluGo is ReLU in Go.
func reluGo(y, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// reluBackwardGo is ReLUBackward in Go, without a branch per element (the
// sign of y is as good as random, so a branch would be mispredicted half
// the time). y > 0 exactly when its bits b, read as an integer, lie in
// [1, 0x7f800000] (positive subnormals to +Inf; +0, negatives and NaNs lie
// outside): then b−1 < 0x7f800000 unsigned, and the sign of
// (b−1) − 0x7f800000, computed in 64 bits, gives the mask.
func reluBackwardGo(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, v := range y {
		b := math.Float32bits(v)
		keep := uint32((int64(b-1) - 0x7f800000) >> 63)
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
}
