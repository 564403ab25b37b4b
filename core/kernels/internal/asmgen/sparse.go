package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// sparseKernels writes the kernels of y = x·W + b with W stored sparse
// (package kernels, sparse.go), in sparse_kern_amd64.s:
//
//   - spmmPanel512/256: W stored as compressed rows of Wᵀ (one row per
//     output j: input indices col and values val) times a panel of 16 batch
//     rows stored transposed (panel[i·16 + r] = x[r][i]). Each non-zero adds
//     val·panel[col] to the 16 lanes of output j, so one weight load serves
//     16 samples and zero weights cost nothing. out[j·16 + r] = y[r][j].
//   - sellGather512/256: W in sliced ELLPACK form (16 outputs per slice,
//     each slice padded to its longest column) times one row x. Lane l of a
//     slice accumulates output 16s+l: val·x[idx] with x[idx] gathered, so
//     no horizontal sums are needed. For batch 1.
//   - lookup512: W in blocked form for one row x: a slice of 16 outputs
//     takes 32 inputs at a time as a table in two registers and picks each
//     lane's input from it with VPERMI2PS, so the row needs no gathers.
//   - transpose512: a 16×16 block transpose with masks, to pack the panel
//     and unpack the transposed outputs.
func sparseKernels() {
	spmmPanel(true)
	spmmPanel(false)
	sellGather(true)
	sellGather(false)
	lookup512()
	transpose512()
	Generate()
}

// spmmPanel writes spmmPanel512 (zmm) or spmmPanel256 (two ymm per panel
// row). For each of nout outputs, with n = rowPtr[j+1] − rowPtr[j]:
//
//	acc = bias[j] + Σ_{p<n} val[p]·panel[col[p]·16 : col[p]·16+16]
//
// summed in four interleaved partial sums (p mod 4) added as (s0+s1)+(s2+s3),
// so four FMA chains run at once. col and val advance across outputs.
func spmmPanel(wide bool) {
	name := "spmmPanel256"
	if wide {
		name = "spmmPanel512"
	}
	TEXT(name, NOSPLIT, "func(panel *float32, rowPtr *int32, col *uint16, val *float32, bias *float32, out *float32, nout int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes out[j·16 + r] = bias[j] + Σ val·panel[col·16 + r] over the non-zeros of output j, for j < nout.", name))

	panel := Load(Param("panel"), GP64())
	rp := Load(Param("rowPtr"), GP64())
	col := Load(Param("col"), GP64())
	val := Load(Param("val"), GP64())
	bias := Load(Param("bias"), GP64())
	out := Load(Param("out"), GP64())
	nout := Load(Param("nout"), GP64())
	n, prev := GP64(), GP64()
	off := []GPVirtual{GP64(), GP64(), GP64(), GP64()}

	// halves: the vector registers of one panel row (one zmm, or two ymm).
	halves := 1
	if !wide {
		halves = 2
	}
	acc := make([][]VecPhysical, 4) // acc[partial][half]
	tmp := make([][]VecPhysical, 4)
	for s := range acc {
		for h := 0; h < halves; h++ {
			if wide {
				acc[s] = append(acc[s], zmm(s))
				tmp[s] = append(tmp[s], zmm(4+s))
			} else {
				acc[s] = append(acc[s], ymm(2*s+h))
			}
		}
	}
	bcast := []VecPhysical{Y8, Y9, Y10, Y11} // AVX2: val broadcasts
	zero := func(v VecPhysical) {
		if wide {
			VPXORD(v, v, v)
		} else {
			VXORPS(v, v, v)
		}
	}
	// step adds val[p+t]·panel[col[p+t]] into partial sum s.
	step := func(t, s int) {
		MOVWQZX(Mem{Base: col, Disp: 2 * t}, off[s])
		SHLQ(U8(6), off[s]) // 16 floats = 64 bytes per panel row
		if wide {
			VMOVUPS(Mem{Base: panel, Index: off[s], Scale: 1}, tmp[s][0])
			VFMADD231PS_BCST(Mem{Base: val, Disp: 4 * t}, tmp[s][0], acc[s][0])
		} else {
			VBROADCASTSS(Mem{Base: val, Disp: 4 * t}, bcast[s])
			VFMADD231PS(Mem{Base: panel, Index: off[s], Scale: 1}, bcast[s], acc[s][0])
			VFMADD231PS(Mem{Base: panel, Index: off[s], Scale: 1, Disp: 32}, bcast[s], acc[s][1])
		}
	}

	MOVLQSX(Mem{Base: rp}, prev)
	Label("output")
	MOVLQSX(Mem{Base: rp, Disp: 4}, n)
	SUBQ(prev, n)
	ADDQ(n, prev)
	for h := 0; h < halves; h++ {
		VBROADCASTSS(Mem{Base: bias}, acc[0][h])
	}
	for s := 1; s < 4; s++ {
		for h := 0; h < halves; h++ {
			zero(acc[s][h])
		}
	}
	CMPQ(n, U8(4))
	JL(LabelRef("tail"))
	Label("quad")
	for t := 0; t < 4; t++ {
		step(t, t)
	}
	ADDQ(U8(8), col)
	ADDQ(U8(16), val)
	SUBQ(U8(4), n)
	CMPQ(n, U8(4))
	JGE(LabelRef("quad"))
	// The last n mod 4 non-zeros go to partial sums 0, 1, 2.
	Label("tail")
	for t := 0; t < 3; t++ {
		CMPQ(n, U8(t))
		JE(LabelRef("sum"))
		step(t, t)
	}
	Label("sum")
	SHLQ(U8(1), n)
	ADDQ(n, col)
	SHLQ(U8(1), n)
	ADDQ(n, val)
	for h := 0; h < halves; h++ {
		VADDPS(acc[1][h], acc[0][h], acc[0][h])
		VADDPS(acc[3][h], acc[2][h], acc[2][h])
		VADDPS(acc[2][h], acc[0][h], acc[0][h])
		VMOVUPS(acc[0][h], Mem{Base: out, Disp: 32 * h})
	}
	ADDQ(U8(64), out)
	ADDQ(U8(4), bias)
	ADDQ(U8(4), rp)
	DECQ(nout)
	JNZ(LabelRef("output"))
	VZEROUPPER()
	RET()
}

// sellGather writes sellGather512 or sellGather256: for each slice s of 16
// outputs with padded width w = width[s],
//
//	y[perm[16s + l]] = bias[16s + l] + Σ_{p<w} val[p][l]·x[idx[p][l]]   (l < 16)
//
// where padding entries have val 0 and idx 0. The outputs are sorted by
// their number of non-zeros so slices need little padding; AVX-512 scatters
// the sums to their outputs through perm, AVX2 (no scatter) ignores perm and
// stores slice order, y[16s + l], for the caller to permute. The last slice
// is stored through the tail mask (bits for AVX-512, 16 int32 lane masks for
// AVX2). The AVX-512 kernel keeps two gathers in flight with two partial
// sums (even and odd p).
func sellGather(wide bool) {
	name, tailType := "sellGather256", "*int32"
	if wide {
		name, tailType = "sellGather512", "uint32"
	}
	TEXT(name, NOSPLIT, "func(x *float32, width *int32, idx *uint16, val *float32, bias *float32, perm *int32, y *float32, slices int, tail "+tailType+")")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes y = x·W + bias for one row x with W in sliced ELLPACK form (16 outputs per slice).", name))
	perm := Load(Param("perm"), GP64())

	x := Load(Param("x"), GP64())
	width := Load(Param("width"), GP64())
	idx := Load(Param("idx"), GP64())
	val := Load(Param("val"), GP64())
	bias := Load(Param("bias"), GP64())
	y := Load(Param("y"), GP64())
	slices := Load(Param("slices"), GP64())
	w := GP64()

	if wide {
		tail := Load(Param("tail"), GP32())
		KMOVW(tail, K2)
		acc := []VecPhysical{Z0, Z1}
		ix := []VecPhysical{Z2, Z3}
		g := []VecPhysical{Z4, Z5}
		gather := func(t int) {
			VPMOVZXWD(Mem{Base: idx, Disp: 32 * t}, ix[t])
			KXNORW(K1, K1, K1)
			VPXORD(g[t], g[t], g[t])
			VGATHERDPS(Mem{Base: x, Index: ix[t], Scale: 4}, K1, g[t])
			VFMADD231PS(Mem{Base: val, Disp: 64 * t}, g[t], acc[t])
		}
		Label("slice")
		MOVLQSX(Mem{Base: width}, w)
		VMOVUPS(Mem{Base: bias}, acc[0])
		VPXORD(acc[1], acc[1], acc[1])
		CMPQ(w, U8(2))
		JL(LabelRef("odd"))
		Label("pair")
		gather(0)
		gather(1)
		ADDQ(U8(64), idx)
		ADDQ(U32(128), val)
		SUBQ(U8(2), w)
		CMPQ(w, U8(2))
		JGE(LabelRef("pair"))
		Label("odd")
		TESTQ(w, w)
		JZ(LabelRef("store"))
		gather(0)
		ADDQ(U8(32), idx)
		ADDQ(U8(64), val)
		// Lane l of the slice is output perm[l]: scatter the sums there.
		Label("store")
		VADDPS(acc[1], acc[0], acc[0])
		VMOVDQU32(Mem{Base: perm}, ix[0])
		CMPQ(slices, U8(1))
		JE(LabelRef("last"))
		KXNORW(K3, K3, K3)
		VSCATTERDPS(acc[0], K3, Mem{Base: y, Index: ix[0], Scale: 4})
		ADDQ(U8(64), perm)
		ADDQ(U8(64), bias)
		ADDQ(U8(4), width)
		DECQ(slices)
		JMP(LabelRef("slice"))
		Label("last")
		KMOVW(K2, K3)
		VSCATTERDPS(acc[0], K3, Mem{Base: y, Index: ix[0], Scale: 4})
		VZEROUPPER()
		RET()
		return
	}

	// AVX2: a slice is two ymm halves (outputs 16s..16s+7 and 16s+8..16s+15),
	// each gathered with its own 8 indices.
	acc := []VecPhysical{Y0, Y1}
	ix := []VecPhysical{Y2, Y3}
	g := []VecPhysical{Y4, Y5}
	m := []VecPhysical{Y6, Y7}
	Label("slice")
	MOVLQSX(Mem{Base: width}, w)
	VMOVUPS(Mem{Base: bias}, acc[0])
	VMOVUPS(Mem{Base: bias, Disp: 32}, acc[1])
	TESTQ(w, w)
	JZ(LabelRef("store"))
	Label("entry")
	for h := 0; h < 2; h++ {
		VPMOVZXWD(Mem{Base: idx, Disp: 16 * h}, ix[h])
		VPCMPEQD(m[h], m[h], m[h])
		VXORPS(g[h], g[h], g[h])
		VGATHERDPS(m[h], Mem{Base: x, Index: ix[h], Scale: 4}, g[h])
		VFMADD231PS(Mem{Base: val, Disp: 32 * h}, g[h], acc[h])
	}
	ADDQ(U8(32), idx)
	ADDQ(U8(64), val)
	DECQ(w)
	JNZ(LabelRef("entry"))
	Label("store")
	CMPQ(slices, U8(1))
	JE(LabelRef("last"))
	VMOVUPS(acc[0], Mem{Base: y})
	VMOVUPS(acc[1], Mem{Base: y, Disp: 32})
	ADDQ(U8(64), y)
	ADDQ(U8(64), bias)
	ADDQ(U8(4), width)
	DECQ(slices)
	JMP(LabelRef("slice"))
	Label("last")
	tail := Load(Param("tail"), GP64())
	VMOVDQU(Mem{Base: tail}, m[0])
	VMOVDQU(Mem{Base: tail, Disp: 32}, m[1])
	VMASKMOVPS(acc[0], m[0], Mem{Base: y})
	VMASKMOVPS(acc[1], m[1], Mem{Base: y, Disp: 32})
	VZEROUPPER()
	RET()
}

// lookup512 writes lookup512: for each slice s of 16 outputs, made of
// 4·groups[s] entries e, each with a block start b_e (an input offset) and
// per lane l a local index i_el < 32 and a value v_el,
//
//	y[16s + l] = bias[16s + l] + Σ_e v_el·x[b_e + i_el]
//
// Entry e looks up its 16 inputs in the 32-float table x[b_e : b_e+32]
// with VPERMI2PS (one register and one memory operand), which reads only
// the low 5 bits of each 32-bit index; so the indices of four consecutive
// entries share one 64-byte vector, byte t of each lane for entry t, and
// entry t shifts them down by 8t. Padding entries have value 0. Entries go
// round-robin to four partial sums, added as (s0+s1)+(s2+s3). The loop has
// no data-dependent branches. The last slice is stored through tail.
func lookup512() {
	TEXT("lookup512", NOSPLIT, "func(x *float32, groups *int32, start *uint16, idx *uint8, val *float32, bias *float32, y *float32, slices int, tail uint32)")
	Pragma("noescape")
	Doc("lookup512 computes y = x·W + bias for one row x with W in blocked lookup form (16 outputs per slice, 32-input tables).")
	x := Load(Param("x"), GP64())
	groups := Load(Param("groups"), GP64())
	start := Load(Param("start"), GP64())
	idx := Load(Param("idx"), GP64())
	val := Load(Param("val"), GP64())
	bias := Load(Param("bias"), GP64())
	y := Load(Param("y"), GP64())
	slices := Load(Param("slices"), GP64())
	tail := Load(Param("tail"), GP32())
	KMOVW(tail, K2)
	n := GP64()
	acc := []VecPhysical{Z0, Z1, Z2, Z3}
	lo := []VecPhysical{Z4, Z5, Z6, Z7}
	ix := []VecPhysical{Z8, Z9, Z10, Z11}
	off := []GPVirtual{GP64(), GP64(), GP64(), GP64()}

	Label("slice")
	MOVLQSX(Mem{Base: groups}, n)
	VMOVUPS(Mem{Base: bias}, acc[0])
	for _, a := range acc[1:] {
		VPXORD(a, a, a)
	}
	TESTQ(n, n)
	JZ(LabelRef("store"))
	Label("group")
	for t := 0; t < 4; t++ {
		MOVWQZX(Mem{Base: start, Disp: 2 * t}, off[t])
		VMOVUPS(Mem{Base: x, Index: off[t], Scale: 4}, lo[t])
		if t == 0 {
			VMOVDQU32(Mem{Base: idx}, ix[t])
		} else {
			VPSRLD(U8(8*t), Mem{Base: idx}, ix[t])
		}
		VPERMI2PS(Mem{Base: x, Index: off[t], Scale: 4, Disp: 64}, lo[t], ix[t])
		VFMADD231PS(Mem{Base: val, Disp: 64 * t}, ix[t], acc[t])
	}
	ADDQ(U8(8), start)
	ADDQ(U8(64), idx)
	ADDQ(U32(256), val)
	DECQ(n)
	JNZ(LabelRef("group"))
	Label("store")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	CMPQ(slices, U8(1))
	JE(LabelRef("last"))
	VMOVUPS(acc[0], Mem{Base: y})
	ADDQ(U8(64), y)
	ADDQ(U8(64), bias)
	ADDQ(U8(4), groups)
	DECQ(slices)
	JMP(LabelRef("slice"))
	Label("last")
	VMOVUPS(acc[0], K2, Mem{Base: y})
	VZEROUPPER()
	RET()
}

// transpose512 writes transpose512, a masked 16×16 block transpose:
//
//	dst[c·ldd + r] = src[r·lds + c]   for r < rows, c < cols
//
// Row r < rows of src is read through loadMask (its first cols bits; the
// columns beyond read as zero), rows ≥ rows are zero. Row c < cols of dst is
// written through storeMask: rows bits to leave the rest of dst alone, or
// all 16 to write zeros into lanes ≥ rows (as packing a panel does).
// Strides are in elements; 1 ≤ rows, cols ≤ 16.
//
// The transpose is the usual four rounds of shuffles: unpack pairs of rows
// (2×2 blocks of floats), shuffle pairs of those (4×4 blocks inside each
// 128-bit lane), then two rounds of 128-bit lane shuffles across four and
// then eight rows.
func transpose512() {
	TEXT("transpose512", NOSPLIT, "func(src *float32, lds int, dst *float32, ldd int, rows int, cols int, loadMask uint32, storeMask uint32)")
	Pragma("noescape")
	Doc("transpose512 writes the transpose of a rows×cols block of src (≤ 16×16) into dst with AVX-512.")
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	rows := Load(Param("rows"), GP64())
	lm := Load(Param("loadMask"), GP32())
	KMOVW(lm, K1)

	r := func(i int) VecPhysical { return zmm32(i) }
	t := func(i int) VecPhysical { return zmm32(16 + i) }
	for i := 0; i < 16; i++ {
		if i > 0 {
			CMPQ(rows, U8(i))
			JLE(LabelRef(fmt.Sprintf("zero%d", i)))
		}
		VMOVUPS_Z(Mem{Base: src}, K1, r(i))
		if i < 15 {
			ADDQ(lds, src)
		}
	}
	JMP(LabelRef("transpose"))
	for i := 1; i < 16; i++ {
		Label(fmt.Sprintf("zero%d", i))
		VPXORD(r(i), r(i), r(i))
	}
	Label("transpose")
	for i := 0; i < 8; i++ {
		VUNPCKLPS(r(2*i+1), r(2*i), t(2*i))
		VUNPCKHPS(r(2*i+1), r(2*i), t(2*i+1))
	}
	for g := 0; g < 4; g++ {
		b := 4 * g
		VSHUFPS(U8(0x44), t(b+2), t(b), r(b))
		VSHUFPS(U8(0xee), t(b+2), t(b), r(b+1))
		VSHUFPS(U8(0x44), t(b+3), t(b+1), r(b+2))
		VSHUFPS(U8(0xee), t(b+3), t(b+1), r(b+3))
	}
	for h := 0; h < 2; h++ {
		b := 8 * h
		for i := 0; i < 4; i++ {
			VSHUFF32X4(U8(0x88), r(b+i+4), r(b+i), t(b+i))
			VSHUFF32X4(U8(0xdd), r(b+i+4), r(b+i), t(b+4+i))
		}
	}
	for i := 0; i < 8; i++ {
		VSHUFF32X4(U8(0x88), t(i+8), t(i), r(i))
		VSHUFF32X4(U8(0xdd), t(i+8), t(i), r(i+8))
	}

	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd)
	cols := Load(Param("cols"), GP64())
	sm := Load(Param("storeMask"), GP32())
	KMOVW(sm, K2)
	for c := 0; c < 16; c++ {
		if c > 0 {
			CMPQ(cols, U8(c))
			JLE(LabelRef("done"))
		}
		VMOVUPS(r(c), K2, Mem{Base: dst})
		if c < 15 {
			ADDQ(ldd, dst)
		}
	}
	Label("done")
	VZEROUPPER()
	RET()
}

func zmm32(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}
