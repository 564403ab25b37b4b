package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Implementations Int8.Forward can run on.
const (
	int8Generic = iota // pure Go
	int8AVX2           // AVX2: VPMADDUBSW + VPMADDWD, activations ≤ 127
	int8VNNI           // AVX-512 VNNI: VPDPBUSD
)

var int8Names = [...]string{int8Generic: "generic", int8AVX2: "avx2", int8VNNI: "avx512vnni"}

// int8Active is the implementation Int8.Forward uses.
var int8Active = bestInt8()

// Int8Impl names the implementation Int8.Forward uses on this CPU:
// "avx512vnni", "avx2" or "generic".
func Int8Impl() string { return int8Names[int8Active] }

func bestInt8() int {
	impls := supportedInt8()
	return impls[len(impls)-1]
}

// supportedInt8 lists the int8 implementations this CPU runs, best last.
func supportedInt8() []int {
	impls := []int{int8Generic}
	if cpu.X86.HasAVX2 {
		impls = append(impls, int8AVX2)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI {
		impls = append(impls, int8VNNI)
	}
	return impls
}

// activationLevels is the largest activation code impl multiplies exactly.
func activationLevels(impl int) int32 {
	if impl == int8AVX2 {
		return levelsU7
	}
	return levelsU8
}

// quantizeRow quantizes one row of x into codes (len kp ≥ len(x), the rest
// zeroed) and returns its scale and zero point.
func quantizeRow(impl int, x []float32, codes []uint8) (float32, int32) {
	levels := activationLevels(impl)
	n := len(x)
	switch impl {
	case int8VNNI:
		lo, hi := minMax512(&x[0], n, uint32(1)<<(n%16)-1)
		scale, inv, zp := activationParams(lo, hi, levels)
		quantRow512(&x[0], n, &codes[0], inv, zp, levels, uint32(1)<<(n%16)-1)
		clear(codes[n:])
		return scale, zp
	case int8AVX2:
		body := n - n%8
		var lo, hi float32
		if body > 0 {
			lo, hi = minMax256(&x[0], body, 0)
		}
		for _, v := range x[body:] {
			lo, hi = min(lo, v), max(hi, v)
		}
		scale, inv, zp := activationParams(lo, hi, levels)
		body = n - n%32
		if body > 0 {
			quantRow256(&x[0], body, &codes[0], inv, zp, levels)
		}
		for i := body; i < n; i++ {
			codes[i] = quantCode(x[i], inv, zp, levels)
		}
		clear(codes[n:])
		return scale, zp
	}
	return quantizeRowGo(x, codes, levels)
}

// int8Product runs the int8 product of rows quantized rows (codes, row
// stride kp) with m into y (row stride m.Out), or with raw the int32 sums
// into y reinterpreted as int32.
func int8Product(impl int, m *Int8, codes []uint8, kp, rows int, y []float32, rowScale []float32, rowZero []int32, raw bool) {
	if impl == int8Generic {
		var rawOut []int32
		if raw {
			rawOut = unsafe.Slice((*int32)(unsafe.Pointer(&y[0])), len(y))
		}
		int8Go(m, codes, kp, rows, y, rowScale, rowZero, rawOut)
		return
	}
	rawFlag := 0
	if raw {
		rawFlag = 1
	}
	maxRows, nvMax := int8Rows512, int8Vecs512
	if impl == int8AVX2 {
		maxRows, nvMax = int8Rows256, 1
	}
	// Rows are split into tiles of nearly equal height, as in gemmTiled.
	tiles := (rows + maxRows - 1) / maxRows
	tileRows, tall := rows/tiles, rows%tiles
	tileStart := func(t int) int { return t*tileRows + min(t, tall) }
	bstride := m.kq * 64
	lastCols := m.Out - 16*(m.blocks-1)
	for jb := 0; jb < m.blocks; jb += nvMax {
		nv := min(nvMax, m.blocks-jb)
		cols := 16
		if jb+nv == m.blocks {
			cols = lastCols
		}
		b := &m.packed[jb*bstride]
		for t := 0; t < tiles; t++ {
			i0 := tileStart(t)
			mr := tileStart(t+1) - i0
			a, c := &codes[i0*kp], &y[i0*m.Out+jb*16]
			if impl == int8VNNI {
				int8Tile512(mr, nv, a, kp, b, bstride, m.kq, c, m.Out, &rowScale[i0], &rowZero[i0],
					&m.scale[jb*16], &m.colSum[jb*16], &m.bias[jb*16], rawFlag, uint32(1)<<cols-1)
			} else {
				int8Tile256(mr, a, kp, b, bstride, m.kq, c, m.Out, &rowScale[i0], &rowZero[i0],
					&m.scale[jb*16], &m.colSum[jb*16], &m.bias[jb*16], rawFlag, &lanes16[16-cols])
			}
		}
	}
}
