package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// elementwiseKernels writes the element-wise kernels of training (package
// kernels, elementwise.go) in elementwise_kern_amd64.s: the Adam and SGD
// momentum updates, ReLU forward and backward, and the row sums of a bias
// gradient, each for zmm (AVX-512F) and ymm (AVX2) registers.
//
// Every kernel runs over n elements, n a multiple of the vector width (16
// or 8); the Go caller does the last few with the pure-Go loop. Each
// operation is one IEEE-rounded instruction in the order the Go reference
// evaluates it (no FMA), so the results are bit-identical to it.
func elementwiseKernels() {
	for _, wide := range []bool{true, false} {
		adamKernel(wide)
		momentumKernel(wide)
		reluKernel(wide)
		reluBackwardKernel(wide)
		addRowsKernel(wide)
	}
	Generate()
}

// vecSet names the registers and width of one instruction set.
type vecSet struct {
	wide   bool
	suffix string // kernel name suffix: 512 or 256
	width  int    // float32 lanes per vector
}

func newVecSet(wide bool) vecSet {
	if wide {
		return vecSet{wide: true, suffix: "512", width: 16}
	}
	return vecSet{suffix: "256", width: 8}
}

// begin starts kernel base+suffix with the given Go signature and doc
// (doc's %s is the kernel's name, its %d the width, its last %s the
// instruction set), and loads the named integer and pointer arguments into
// registers. A pointer to gradients is called grad, not g: the Go
// assembler reserves g.
func (s vecSet) begin(base, signature, doc string, args ...string) []GPVirtual {
	name := base + s.suffix
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf(doc, name, s.width, s.isa()))
	regs := make([]GPVirtual, len(args))
	for i, a := range args {
		regs[i] = Load(Param(a), GP64()).(GPVirtual)
	}
	return regs
}

// r returns vector register i (0-15): zmm or ymm.
func (s vecSet) r(i int) VecPhysical {
	if s.wide {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}[i]
	}
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// clear zeroes vector register v (VXORPS on zmm would need AVX512DQ).
func (s vecSet) clear(v VecPhysical) {
	if s.wide {
		VPXORD(v, v, v)
	} else {
		VXORPS(v, v, v)
	}
}

func (s vecSet) isa() string {
	if s.wide {
		return "AVX-512F"
	}
	return "AVX2"
}

// unrolledLoop emits the loop over n elements (n a multiple of the width):
// body(u, off) handles vector u of an iteration, at byte offset off from
// index register i. It runs unroll vectors per iteration, then single
// vectors.
func unrolledLoop(s vecSet, n, i GPVirtual, unroll int, body func(u int, at func(base Register) Mem)) {
	step := s.width
	XORQ(i, i)
	Label("wide")
	CMPQ(n, U32(unroll*step))
	JL(LabelRef("single"))
	for u := 0; u < unroll; u++ {
		body(u, func(base Register) Mem { return Mem{Base: base, Index: i, Scale: 1, Disp: 4 * step * u} })
	}
	ADDQ(U32(4*unroll*step), i)
	SUBQ(U32(unroll*step), n)
	JMP(LabelRef("wide"))
	Label("single")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	body(0, func(base Register) Mem { return Mem{Base: base, Index: i, Scale: 1} })
	ADDQ(U32(4*step), i)
	SUBQ(U32(step), n)
	JMP(LabelRef("single"))
	Label("done")
	VZEROUPPER()
	RET()
}

// adamKernel writes adamStep512/256. With c1 = 1−b1 and c2 = 1−b2 (passed
// in, rounded to float32 by the caller as the Go loop rounds them):
//
//	m = b1·m + c1·g, set to ±0 when |m| < tiny
//	v = b2·v + (c2·g)·g
//	w = w − (step·m)/(√v + eps)
//
// Registers: the broadcast constants (0-7 with AVX2; zmm16-23 with
// AVX-512, which leaves zmm0-15 to the loop), then four per unrolled
// vector: g (reused for w), m, v (reused for √v + eps) and a temporary.
func adamKernel(wide bool) {
	s := newVecSet(wide)
	r := s.begin("adamStep", "func(w, grad, m, v *float32, n int, b1, c1, b2, c2, step, eps, tiny float32)",
		"%s runs the Adam update on n elements (n a multiple of %d) with %s.", "w", "grad", "m", "v", "n")
	w, g, m, v, n := r[0], r[1], r[2], r[3], r[4]
	i := GP64()
	consts := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	if wide {
		consts = []VecPhysical{Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23}
	}
	b1, c1, b2, c2, step, eps, absMask, tiny := consts[0], consts[1], consts[2], consts[3], consts[4], consts[5], consts[6], consts[7]
	for k, name := range []string{"b1", "c1", "b2", "c2", "step", "eps"} {
		VBROADCASTSS(paramAddr(name), consts[k])
	}
	VBROADCASTSS(paramAddr("tiny"), tiny)
	bits := GP32()
	MOVL(U32(0x7fffffff), bits)
	broadcastGP(s, bits, absMask)
	first := 8
	if wide {
		first = 0
	}
	masks := []OpmaskPhysical{K1, K2}
	unrolledLoop(s, n, i, 2, func(u int, at func(Register) Mem) {
		gv, mv, vv, t := s.r(first+4*u), s.r(first+4*u+1), s.r(first+4*u+2), s.r(first+4*u+3)
		VMOVUPS(at(g), gv)
		VMULPS(at(m), b1, mv) // b1·m
		VMULPS(gv, c1, t)     // c1·g
		VADDPS(t, mv, mv)
		// Set m to a zero of its sign below tiny (≥ 2⁻¹²⁶), so that neither
		// it nor b1·m or step·m is ever subnormal: a subnormal operand or
		// result costs a microcode assist in each instruction. Non-negative
		// floats compare as their bits do as integers; NaN is never below.
		if wide {
			VPANDD(absMask, mv, t)
			VPCMPUD(U8(1), tiny, t, masks[u])  // |m| < tiny
			VPANDND(mv, absMask, masks[u], mv) // keep only the sign bit there
		} else {
			VANDPS(absMask, mv, t)
			VPCMPGTD(t, tiny, t) // tiny > |m|
			VANDPS(absMask, t, t)
			VANDNPS(mv, t, mv) // clear all but the sign bit there
		}
		VMOVUPS(mv, at(m))
		VMULPS(gv, c2, t) // c2·g
		VMULPS(gv, t, t)  // (c2·g)·g
		VMULPS(at(v), b2, vv)
		VADDPS(t, vv, vv)
		VMOVUPS(vv, at(v))
		VSQRTPS(vv, vv)
		VADDPS(eps, vv, vv)
		VMULPS(mv, step, t) // step·m
		VDIVPS(vv, t, t)    // (step·m) / (√v + eps)
		VMOVUPS(at(w), gv)
		VSUBPS(t, gv, gv)
		VMOVUPS(gv, at(w))
	})
}

// broadcastGP fills every 32-bit lane of vector register dst with the
// general-purpose register src.
func broadcastGP(s vecSet, src GPVirtual, dst VecPhysical) {
	if s.wide {
		VPBROADCASTD(src, dst)
		return
	}
	VMOVD(src, dst.AsX())
	VPBROADCASTD(dst.AsX(), dst)
}

// momentumKernel writes momentumStep512/256: vel = mu·vel + g;
// w = w − lr·vel.
func momentumKernel(wide bool) {
	s := newVecSet(wide)
	r := s.begin("momentumStep", "func(w, grad, vel *float32, n int, mu, lr float32)",
		"%s runs the SGD momentum update on n elements (n a multiple of %d) with %s.", "w", "grad", "vel", "n")
	w, g, vel, n := r[0], r[1], r[2], r[3]
	i := GP64()
	mu, lr := s.r(0), s.r(1)
	VBROADCASTSS(paramAddr("mu"), mu)
	VBROADCASTSS(paramAddr("lr"), lr)
	unrolledLoop(s, n, i, 4, func(u int, at func(Register) Mem) {
		vv, t, wv := s.r(2+3*u), s.r(3+3*u), s.r(4+3*u)
		VMULPS(at(vel), mu, vv)
		VADDPS(at(g), vv, vv)
		VMOVUPS(vv, at(vel))
		VMULPS(vv, lr, t)
		VMOVUPS(at(w), wv)
		VSUBPS(t, wv, wv)
		VMOVUPS(wv, at(w))
	})
}

// reluKernel writes relu512/256: y = max(x, 0) with Go's semantics. MAXPS
// returns its second source when the first is not greater, so
// max(0, x) keeps a NaN x; adding +0 then turns −0 into +0 and changes
// nothing else.
func reluKernel(wide bool) {
	s := newVecSet(wide)
	r := s.begin("relu", "func(y, x *float32, n int)",
		"%s computes y = max(x, 0) on n elements (n a multiple of %d) with %s.", "y", "x", "n")
	y, x, n := r[0], r[1], r[2]
	i := GP64()
	zero := s.r(0)
	s.clear(zero)
	unrolledLoop(s, n, i, 4, func(u int, at func(Register) Mem) {
		t := s.r(1 + u)
		VMAXPS(at(x), zero, t) // 0 > x ? 0 : x
		VADDPS(zero, t, t)
		VMOVUPS(t, at(y))
	})
}

// reluBackwardKernel writes reluBackward512/256: dx = dy where y > 0, +0
// elsewhere (also where y is NaN). AVX-512 compares into a mask register
// and loads dy zero-masked; AVX2 ands dy with the compare's lane mask.
func reluBackwardKernel(wide bool) {
	s := newVecSet(wide)
	r := s.begin("reluBackward", "func(dx, dy, y *float32, n int)",
		"%s computes dx = dy where y > 0, else 0, on n elements (n a multiple of %d) with %s.", "dx", "dy", "y", "n")
	dx, dy, y, n := r[0], r[1], r[2], r[3]
	i := GP64()
	zero := s.r(0)
	s.clear(zero)
	const ltOQ = 0x11 // ordered, quiet: false when y is NaN
	masks := []OpmaskPhysical{K1, K2, K3, K4}
	unrolledLoop(s, n, i, 4, func(u int, at func(Register) Mem) {
		t := s.r(1 + u)
		if wide {
			VCMPPS(U8(ltOQ), at(y), zero, masks[u]) // 0 < y
			VMOVUPS_Z(at(dy), masks[u], t)
		} else {
			VCMPPS(U8(ltOQ), at(y), zero, t)
			VANDPS(at(dy), t, t)
		}
		VMOVUPS(t, at(dx))
	})
}

// addRowsKernel writes addRows512/256: dst[j] += src[0][j] + src[1][j] + …
// for j < n (n a multiple of the width), rows of src ld floats apart, added
// one row at a time in order. Four column vectors run at once, so four
// independent add chains hide the adds' latency.
func addRowsKernel(wide bool) {
	s := newVecSet(wide)
	args := s.begin("addRows", "func(dst, src *float32, n, rows, ld int)",
		"%s adds rows rows of src (ld floats apart) into dst[0:n] (n a multiple of %d) with %s.", "dst", "src", "n", "rows", "ld")
	dst, src, n, rows, ld := args[0], args[1], args[2], args[3], args[4]
	SHLQ(U8(2), ld)
	p, r := GP64(), GP64()
	const unroll = 4
	vec := 4 * s.width // bytes per vector
	block := func(label string, nv int) {
		Label(label)
		CMPQ(n, U32(nv*s.width))
		JL(LabelRef(label + "done"))
		for u := 0; u < nv; u++ {
			VMOVUPS(Mem{Base: dst, Disp: u * vec}, s.r(u))
		}
		MOVQ(src, p)
		MOVQ(rows, r)
		TESTQ(r, r)
		JZ(LabelRef(label + "store"))
		Label(label + "row")
		for u := 0; u < nv; u++ {
			VADDPS(Mem{Base: p, Disp: u * vec}, s.r(u), s.r(u))
		}
		ADDQ(ld, p)
		DECQ(r)
		JNZ(LabelRef(label + "row"))
		Label(label + "store")
		for u := 0; u < nv; u++ {
			VMOVUPS(s.r(u), Mem{Base: dst, Disp: u * vec})
		}
		ADDQ(U32(nv*vec), dst)
		ADDQ(U32(nv*vec), src)
		SUBQ(U32(nv*s.width), n)
		JMP(LabelRef(label))
		Label(label + "done")
	}
	block("quad", unroll)
	block("single", 1)
	VZEROUPPER()
	RET()
}
