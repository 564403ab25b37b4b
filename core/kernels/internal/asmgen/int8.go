package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// int8 GEMM tiles: AVX-512 VNNI runs up to int8Rows512 rows × int8Vecs512
// vectors of 16 columns; AVX2 runs up to int8Rows256 rows × one 16-column
// block (two ymm).
const (
	int8Rows512 = 6
	int8Vecs512 = 4
	int8Rows256 = 4
)

// int8Kernels writes the kernels of the int8 layer (package kernels,
// int8.go), in int8_kern_amd64.s, and their dispatch in int8_tiles_amd64.go.
//
// The product is C = A·B with A u8 (quantized activations, rows of kp bytes,
// kp a multiple of 4) and B s8 packed in blocks of 16 columns: block jb holds,
// for each group q of 4 rows of W, 16 columns × 4 bytes (64 bytes), so
// B[4q+t][16jb+c] is at b[jb·bstride + 64q + 4c + t]. A 4-byte group of a row
// of A is broadcast and multiplied into 16 columns at once: VPDPBUSD adds
// the four u8·s8 products of each 32-bit lane to an int32 accumulator
// (AVX-512 VNNI); AVX2 does the same with VPMADDUBSW (pairs to int16) and
// VPMADDWD by ones (to int32), which is exact while activations are ≤ 127.
//
// The epilogue turns each int32 sum into the float output
//
//	y[r][j] = ((float32(acc − zp_r·colSum_j)·rowScale_r)·colScale_j) + bias_j
//
// (asymmetric activations a = x/rowScale + zp_r, weights w = colScale·q), or,
// when raw ≠ 0, stores acc itself as int32 for tests.
func int8Kernels() {
	for nv := 1; nv <= int8Vecs512; nv++ {
		for mr := 1; mr <= int8Rows512; mr++ {
			int8Kernel512(mr, nv)
		}
	}
	for mr := 1; mr <= int8Rows256; mr++ {
		int8Kernel256(mr)
	}
	minMax(true)
	minMax(false)
	quantRow512()
	quantRow256()
	Generate()
	if *dispatchOut != "" {
		if err := writeInt8Dispatch(*dispatchOut); err != nil {
			panic(err)
		}
	}
}

const int8Signature = "func(a *uint8, lda int, b *int8, bstride int, kq int, c *float32, ldc int, rowScale *float32, rowZero *int32, colScale *float32, colSum *int32, bias *float32, raw int, mask %s)"

// vpdpbusd emits VPDPBUSD w, a, acc: acc += Σ u8(a)·s8(w) per 32-bit lane
// (avo has no constructor for it; the Go assembler knows it).
func vpdpbusd(w, a, acc Op) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPBUSD",
		Operands: []Op{w, a, acc},
		Inputs:   []Op{w, a, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// int8Kernel512 writes int8m{mr}n{16·nv}: an mr×(16·nv) tile with VNNI.
func int8Kernel512(mr, nv int) {
	name := fmt.Sprintf("int8m%dn%d", mr, 16*nv)
	TEXT(name, NOSPLIT, fmt.Sprintf(int8Signature, "uint32"))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of the int8 product with AVX-512 VNNI.", name, mr, 16*nv))

	acc := make([][]VecPhysical, mr)
	for r := range acc {
		for v := 0; v < nv; v++ {
			acc[r] = append(acc[r], zmm32(r*nv+v))
		}
	}
	bv := []VecPhysical{Z24, Z25, Z26, Z27}
	bc := []VecPhysical{Z28, Z29}

	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	bs := Load(Param("bstride"), GP64())
	kq := Load(Param("kq"), GP64())
	var bs3 GPVirtual
	if nv == 4 {
		bs3 = GP64()
		LEAQ(Mem{Base: bs, Index: bs, Scale: 2}, bs3)
	}
	bAddr := func(v int) Mem {
		switch v {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: bs, Scale: 1}
		case 2:
			return Mem{Base: b, Index: bs, Scale: 2}
		default:
			return Mem{Base: b, Index: bs3, Scale: 1}
		}
	}
	ra := newByteRows(a, lda, mr)
	for r := range acc {
		for _, z := range acc[r] {
			VPXORD(z, z, z)
		}
	}
	Label("loop")
	for v := 0; v < nv; v++ {
		VMOVDQU32(bAddr(v), bv[v])
	}
	for r := 0; r < mr; r++ {
		t := bc[r%2]
		VPBROADCASTD(ra.addr(r), t)
		for v := 0; v < nv; v++ {
			vpdpbusd(bv[v], t, acc[r][v])
		}
	}
	ADDQ(U8(64), b)
	ra.advance(4)
	DECQ(kq)
	JNZ(LabelRef("loop"))

	m := Load(Param("mask"), GP32())
	KMOVW(m, K1)
	KXNORW(K2, K2, K2)
	masks := func(v int) Register {
		if v == nv-1 {
			return K1
		}
		return K2
	}
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	raw := Load(Param("raw"), GP64())
	TESTQ(raw, raw)
	JNZ(LabelRef("raw"))

	rowScale := Load(Param("rowScale"), GP64())
	rowZero := Load(Param("rowZero"), GP64())
	colScale := Load(Param("colScale"), GP64())
	colSum := Load(Param("colSum"), GP64())
	bias := Load(Param("bias"), GP64())
	zr, sr, t := Z28, Z29, Z30
	for r := range acc {
		VPBROADCASTD(Mem{Base: rowZero, Disp: 4 * r}, zr)
		VBROADCASTSS(Mem{Base: rowScale, Disp: 4 * r}, sr)
		for v, z := range acc[r] {
			VPMULLD(Mem{Base: colSum, Disp: 64 * v}, zr, t)
			VPSUBD(t, z, z)
			VCVTDQ2PS(z, z)
			VMULPS(sr, z, z)
			VMULPS(Mem{Base: colScale, Disp: 64 * v}, z, z)
			VADDPS(Mem{Base: bias, Disp: 64 * v}, z, z)
			VMOVUPS(z, masks(v), Mem{Base: c, Disp: 64 * v})
		}
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("raw")
	for r := range acc {
		for v, z := range acc[r] {
			VMOVDQU32(z, masks(v), Mem{Base: c, Disp: 64 * v})
		}
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// int8Kernel256 writes int8avx2m{mr}: an mr×16 tile with AVX2. mask points
// at 16 int32 lane masks for the columns to store.
func int8Kernel256(mr int) {
	name := fmt.Sprintf("int8avx2m%d", mr)
	TEXT(name, NOSPLIT, fmt.Sprintf(int8Signature, "*int32"))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×16 tile of the int8 product with AVX2 (activations ≤ 127).", name, mr))

	acc := make([][]VecPhysical, mr)
	for r := range acc {
		acc[r] = []VecPhysical{ymm(2 * r), ymm(2*r + 1)}
	}
	bv := []VecPhysical{Y8, Y9}
	ya, ones := Y10, Y11
	tmp := []VecPhysical{Y12, Y13}

	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	kq := Load(Param("kq"), GP64())
	ra := newByteRows(a, lda, mr)
	for r := range acc {
		for _, y := range acc[r] {
			VPXOR(y, y, y)
		}
	}
	VPCMPEQW(ones, ones, ones)
	VPSRLW(U8(15), ones, ones) // int16 ones
	Label("loop")
	VMOVDQU(Mem{Base: b}, bv[0])
	VMOVDQU(Mem{Base: b, Disp: 32}, bv[1])
	for r := 0; r < mr; r++ {
		VPBROADCASTD(ra.addr(r), ya)
		for v := 0; v < 2; v++ {
			VPMADDUBSW(bv[v], ya, tmp[v])
			VPMADDWD(ones, tmp[v], tmp[v])
			VPADDD(tmp[v], acc[r][v], acc[r][v])
		}
	}
	ADDQ(U8(64), b)
	ra.advance(4)
	DECQ(kq)
	JNZ(LabelRef("loop"))

	mp := Load(Param("mask"), GP64())
	lanes := []VecPhysical{Y14, Y15}
	VMOVDQU(Mem{Base: mp}, lanes[0])
	VMOVDQU(Mem{Base: mp, Disp: 32}, lanes[1])
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	raw := Load(Param("raw"), GP64())
	TESTQ(raw, raw)
	JNZ(LabelRef("raw"))

	rowScale := Load(Param("rowScale"), GP64())
	rowZero := Load(Param("rowZero"), GP64())
	colScale := Load(Param("colScale"), GP64())
	colSum := Load(Param("colSum"), GP64())
	bias := Load(Param("bias"), GP64())
	zr, sr, t := Y8, Y9, Y10
	for r := range acc {
		VPBROADCASTD(Mem{Base: rowZero, Disp: 4 * r}, zr)
		VBROADCASTSS(Mem{Base: rowScale, Disp: 4 * r}, sr)
		for v, y := range acc[r] {
			VPMULLD(Mem{Base: colSum, Disp: 32 * v}, zr, t)
			VPSUBD(t, y, y)
			VCVTDQ2PS(y, y)
			VMULPS(sr, y, y)
			VMULPS(Mem{Base: colScale, Disp: 32 * v}, y, y)
			VADDPS(Mem{Base: bias, Disp: 32 * v}, y, y)
			VMASKMOVPS(y, lanes[v], Mem{Base: c, Disp: 32 * v})
		}
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("raw")
	for r := range acc {
		for v, y := range acc[r] {
			VMASKMOVPS(y, lanes[v], Mem{Base: c, Disp: 32 * v})
		}
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// byteRows addresses up to 8 rows of a byte matrix: rows come in groups of
// four sharing one pointer (g, g+lda, g+2lda, g+3lda).
type byteRows struct {
	groups    []GPVirtual
	lda, lda3 Register
}

func newByteRows(a, lda Register, mr int) *byteRows {
	br := &byteRows{lda: lda}
	if mr >= 4 {
		br.lda3 = GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, br.lda3)
	}
	for g := 0; g*4 < mr; g++ {
		p := GP64()
		if g == 0 {
			MOVQ(a, p)
		} else {
			LEAQ(Mem{Base: br.groups[g-1], Index: lda, Scale: 4}, p)
		}
		br.groups = append(br.groups, p)
	}
	return br
}

func (br *byteRows) addr(r int) Mem {
	base := br.groups[r/4]
	switch r % 4 {
	case 0:
		return Mem{Base: base}
	case 1:
		return Mem{Base: base, Index: br.lda, Scale: 1}
	case 2:
		return Mem{Base: base, Index: br.lda, Scale: 2}
	default:
		return Mem{Base: base, Index: br.lda3, Scale: 1}
	}
}

func (br *byteRows) advance(n int) {
	for _, g := range br.groups {
		ADDQ(U8(n), g)
	}
}

// minMax writes minMax512 (all n elements, the tail masked) or minMax256
// (the first n − n mod 8; the caller folds in the rest; tail is unused): lo = min(0, x...),
// hi = max(0, x...). Starting from 0 keeps zero inside the range, so a
// quantized zero is exact.
func minMax(wide bool) {
	name := "minMax256"
	if wide {
		name = "minMax512"
	}
	TEXT(name, NOSPLIT, "func(x *float32, n int, tail uint32) (lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s returns min(0, x...) and max(0, x...) over x[:n].", name))
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	if wide {
		lo, hi, v := []VecPhysical{Z0, Z1}, []VecPhysical{Z2, Z3}, []VecPhysical{Z4, Z5}
		for i := 0; i < 2; i++ {
			VPXORD(lo[i], lo[i], lo[i])
			VPXORD(hi[i], hi[i], hi[i])
		}
		CMPQ(n, U8(32))
		JL(LabelRef("single"))
		Label("pair")
		for i := 0; i < 2; i++ {
			VMOVUPS(Mem{Base: x, Disp: 64 * i}, v[i])
			VMINPS(v[i], lo[i], lo[i])
			VMAXPS(v[i], hi[i], hi[i])
		}
		ADDQ(U32(128), x)
		SUBQ(U8(32), n)
		CMPQ(n, U8(32))
		JGE(LabelRef("pair"))
		Label("single")
		CMPQ(n, U8(16))
		JL(LabelRef("tail"))
		VMOVUPS(Mem{Base: x}, v[0])
		VMINPS(v[0], lo[0], lo[0])
		VMAXPS(v[0], hi[0], hi[0])
		ADDQ(U8(64), x)
		SUBQ(U8(16), n)
		// The last n mod 16 through the tail mask; zeros beyond n are harmless.
		Label("tail")
		TESTQ(n, n)
		JZ(LabelRef("reduce"))
		tail := Load(Param("tail"), GP32())
		KMOVW(tail, K1)
		VMOVUPS_Z(Mem{Base: x}, K1, v[1])
		VMINPS(v[1], lo[1], lo[1])
		VMAXPS(v[1], hi[1], hi[1])
		Label("reduce")
		VMINPS(lo[1], lo[0], lo[0])
		VMAXPS(hi[1], hi[0], hi[0])
		for _, op := range []struct {
			r   VecPhysical
			ins func(...Op)
		}{{lo[0], VMINPS}, {hi[0], VMAXPS}} {
			t := Z6
			VSHUFF32X4(U8(0x4e), op.r, op.r, t)
			op.ins(t, op.r, op.r)
			VSHUFF32X4(U8(0xb1), op.r, op.r, t)
			op.ins(t, op.r, op.r)
			VPERMILPS(U8(0x4e), op.r, t)
			op.ins(t, op.r, op.r)
			VPERMILPS(U8(0xb1), op.r, t)
			op.ins(t, op.r, op.r)
		}
		Store(lo[0].AsX(), ReturnIndex(0))
		Store(hi[0].AsX(), ReturnIndex(1))
		VZEROUPPER()
		RET()
		return
	}
	lo, hi, v := Y0, Y1, Y2
	VXORPS(lo, lo, lo)
	VXORPS(hi, hi, hi)
	SHRQ(U8(3), n)
	JZ(LabelRef("reduce"))
	Label("loop")
	VMOVUPS(Mem{Base: x}, v)
	VMINPS(v, lo, lo)
	VMAXPS(v, hi, hi)
	ADDQ(U8(32), x)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("reduce")
	for _, op := range []struct {
		r   VecPhysical
		ins func(...Op)
	}{{lo, VMINPS}, {hi, VMAXPS}} {
		t := X3
		VEXTRACTF128(U8(1), op.r, t)
		op.ins(t, op.r.AsX(), op.r.AsX())
		VPERMILPS(U8(0x4e), op.r.AsX(), t)
		op.ins(t, op.r.AsX(), op.r.AsX())
		VPERMILPS(U8(0xb1), op.r.AsX(), t)
		op.ins(t, op.r.AsX(), op.r.AsX())
	}
	Store(lo.AsX(), ReturnIndex(0))
	Store(hi.AsX(), ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// quantRow512 writes quantRow512: dst[i] = clamp(rne(x[i]·inv) + zp, 0, levels)
// for i < n, 16 at a time, the last n mod 16 through the tail mask (rne: round half to even, the
// VCVTPS2DQ default).
func quantRow512() {
	TEXT("quantRow512", NOSPLIT, "func(x *float32, n int, dst *uint8, inv float32, zp int32, levels int32, tail uint32)")
	Pragma("noescape")
	Doc("quantRow512 quantizes x[:n] to bytes clamp(rne(x·inv) + zp, 0, levels) with AVX-512.")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	dst := Load(Param("dst"), GP64())
	inv, zp, top, zero, v := Z0, Z1, Z2, Z3, Z4
	VBROADCASTSS(paramAddr("inv"), inv)
	VBROADCASTSS(paramAddr("zp"), zp) // the int32 bits; vet rejects VPBROADCASTD of a param
	VBROADCASTSS(paramAddr("levels"), top)
	VPXORD(zero, zero, zero)
	KXNORW(K1, K1, K1)
	body := func() {
		VMULPS_Z(Mem{Base: x}, inv, K1, v)
		VCVTPS2DQ(v, v)
		VPADDD(zp, v, v)
		VPMAXSD(zero, v, v)
		VPMINSD(top, v, v)
		VPMOVDB(v, K1, Mem{Base: dst})
	}
	CMPQ(n, U8(16))
	JL(LabelRef("tail"))
	Label("loop")
	body()
	ADDQ(U8(64), x)
	ADDQ(U8(16), dst)
	SUBQ(U8(16), n)
	CMPQ(n, U8(16))
	JGE(LabelRef("loop"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	tail := Load(Param("tail"), GP32())
	KMOVW(tail, K1)
	body()
	Label("done")
	VZEROUPPER()
	RET()
}

// quantRow256 writes quantRow256, the AVX2 form of quantRow512 for the
// first n − n mod 32 elements (the caller does the rest): four vectors of
// int32 codes are packed to 32 bytes with saturating packs, whose lane
// interleaving VPERMD undoes.
func quantRow256() {
	perm := GLOBL("quantPackOrder", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
	TEXT("quantRow256", NOSPLIT, "func(x *float32, n int, dst *uint8, inv float32, zp int32, levels int32)")
	Pragma("noescape")
	Doc("quantRow256 quantizes x[:n−n%32] to bytes clamp(rne(x·inv) + zp, 0, levels) with AVX2.")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	dst := Load(Param("dst"), GP64())
	inv, zp, top, zero, order := Y0, Y1, Y2, Y3, Y4
	d := []VecPhysical{Y5, Y6, Y7, Y8}
	VBROADCASTSS(paramAddr("inv"), inv)
	VBROADCASTSS(paramAddr("zp"), zp) // the int32 bits; vet rejects VPBROADCASTD of a param
	VBROADCASTSS(paramAddr("levels"), top)
	VPXOR(zero, zero, zero)
	VMOVDQU(perm, order)
	SHRQ(U8(5), n)
	JZ(LabelRef("done"))
	Label("loop")
	for i, v := range d {
		VMULPS(Mem{Base: x, Disp: 32 * i}, inv, v)
		VCVTPS2DQ(v, v)
		VPADDD(zp, v, v)
		VPMAXSD(zero, v, v)
		VPMINSD(top, v, v)
	}
	VPACKSSDW(d[1], d[0], d[0])
	VPACKSSDW(d[3], d[2], d[2])
	VPACKUSWB(d[2], d[0], d[0])
	VPERMD(d[0], order, d[0])
	VMOVDQU(d[0], Mem{Base: dst})
	ADDQ(U32(128), x)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// writeInt8Dispatch writes int8Tile512 and int8Tile256, which call the
// kernel for a tile shape directly.
func writeInt8Dispatch(path string) error {
	var w bytes.Buffer
	fmt.Fprintf(&w, "// Code generated by command: go run . -set int8 (core/kernels/internal/asmgen). DO NOT EDIT.\n\n")
	fmt.Fprintf(&w, "package kernels\n\n")
	fmt.Fprintf(&w, "const (\n\tint8Rows512 = %d\n\tint8Vecs512 = %d\n\tint8Rows256 = %d\n)\n\n", int8Rows512, int8Vecs512, int8Rows256)
	args := "a, lda, b, bstride, kq, c, ldc, rowScale, rowZero, colScale, colSum, bias, raw, mask"
	params := "a *uint8, lda int, b *int8, bstride int, kq int, c *float32, ldc int, rowScale *float32, rowZero *int32, colScale *float32, colSum *int32, bias *float32, raw int"
	fmt.Fprintf(&w, "// int8Tile512 runs the VNNI kernel for an mr×(16·nv) tile.\n")
	fmt.Fprintf(&w, "func int8Tile512(mr, nv int, %s, mask uint32) {\n\tswitch nv*100 + mr {\n", params)
	for nv := 1; nv <= int8Vecs512; nv++ {
		for mr := 1; mr <= int8Rows512; mr++ {
			fmt.Fprintf(&w, "\tcase %d:\n\t\tint8m%dn%d(%s)\n", nv*100+mr, mr, 16*nv, args)
		}
	}
	fmt.Fprintf(&w, "\tdefault:\n\t\tpanic(\"kernels: no int8 AVX-512 kernel for this shape\")\n\t}\n}\n\n")
	fmt.Fprintf(&w, "// int8Tile256 runs the AVX2 kernel for an mr×16 tile.\n")
	fmt.Fprintf(&w, "func int8Tile256(mr int, %s, mask *int32) {\n\tswitch mr {\n", params)
	for mr := 1; mr <= int8Rows256; mr++ {
		fmt.Fprintf(&w, "\tcase %d:\n\t\tint8avx2m%d(%s)\n", mr, mr, args)
	}
	fmt.Fprintf(&w, "\tdefault:\n\t\tpanic(\"kernels: no int8 AVX2 kernel for this shape\")\n\t}\n}\n")
	src, err := format.Source(w.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}
