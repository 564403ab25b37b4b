package kernels

import (
	"math"
	"sync"

	"golang.org/x/sys/cpu"
)

// Cache blocking for the tiled driver (measured on a Sapphire Rapids core,
// 48 KiB L1d and 2 MiB L2): a kc×32 panel of B (≤ 32 KiB) stays in L1 while
// every row tile of a block of A (≤ mcMax×kc floats, in L2) runs over it.
const (
	kcMax = 256
	mcMax = 480
)

// dotMaxRows is the most rows of A for which A·Bᵀ runs on dot-product
// kernels instead of packing Bᵀ: packing costs about as much as 16 rows of
// products, so with few rows it dominates.
const dotMaxRows = 8

func bestImpl() int {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return implAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return implAVX2
	}
	return implGeneric
}

// supportedImpls lists the implementations this CPU can run, best last.
func supportedImpls() []int {
	impls := []int{implGeneric}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		impls = append(impls, implAVX2)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		impls = append(impls, implAVX512)
	}
	return impls
}

func gemmWith(impl int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if impl == implGeneric {
		gemmGo(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if transB && !transA && m <= dotMaxRows {
		gemmDot(impl, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmTiled(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// laneMask[8-v:16-v] is the AVX2 mask of the first v lanes of a ymm vector.
var laneMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// panelScratch holds a packed kc×nr panel of Bᵀ and the gather offsets.
type panelScratch struct {
	panel []float32
	idx   [32]int32 // idx[j] = j·ldb: offset of column j of the panel in B
	lanes [32]int32 // AVX2 gather mask: -1 for columns inside B
}

var panelPool = sync.Pool{New: func() any {
	return &panelScratch{panel: make([]float32, kcMax*32)}
}}

// gemmTiled runs the assembly micro-kernels over register tiles of C.
//
// Loops, outermost first: blocks of ≤ mcMax rows of C; blocks of ≤ kcMax
// of k (the first applies beta, the rest add to C); nr-column panels of B;
// row tiles. A and B are read in place: a tile of op(A) is addressed with
// strides (rs, cs) whether A is transposed or not, and a panel of op(B) is
// rows of B. Only op(B) = Bᵀ is packed, one kc×nr panel at a time, by a
// gather. Rows are split into tiles of nearly equal height (64 rows become
// 11,11,11,11,10,10 rather than 12,12,12,12,12,4) so no tile runs mostly
// empty.
func gemmTiled(impl int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	maxRows, nr := maxRows512, 32
	if impl == implAVX2 {
		maxRows, nr = maxRows256, 16
	}
	rs, cs := lda, 1
	if transA {
		rs, cs = 1, lda
	}
	kBlocks := (k + kcMax - 1) / kcMax
	kc := (k + kBlocks - 1) / kBlocks
	tiles := (m + maxRows - 1) / maxRows
	tileRows, tallTiles := m/tiles, m%tiles // the first tallTiles tiles have one row more
	tileStart := func(t int) int { return t*tileRows + min(t, tallTiles) }
	tilesPerBlock := max(1, mcMax/maxRows)

	var scratch *panelScratch
	gather := transB && (nr-1)*ldb <= math.MaxInt32
	if transB {
		scratch = panelPool.Get().(*panelScratch)
		defer panelPool.Put(scratch)
		if gather {
			for j := range scratch.idx {
				scratch.idx[j] = int32(j * ldb)
			}
		}
	}

	for t0 := 0; t0 < tiles; t0 += tilesPerBlock {
		t1 := min(tiles, t0+tilesPerBlock)
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			betaBlock := beta
			if pc > 0 {
				betaBlock = 1
			}
			for jr := 0; jr < n; jr += nr {
				cols := min(nr, n-jr)
				var panel *float32
				bs := ldb
				if transB {
					packTransposed(impl, gather, scratch, b[jr*ldb+pc:], ldb, kcur, cols)
					panel, bs = &scratch.panel[0], nr
				} else {
					panel = &b[pc*ldb+jr]
				}
				for t := t0; t < t1; t++ {
					i0, rows := tileStart(t), tileStart(t+1)-tileStart(t)
					ap, cp := &a[i0*rs+pc*cs], &c[i0*ldc+jr]
					if impl == implAVX512 {
						nv := 2
						if cols <= 16 {
							nv = 1
						}
						tile512(rows, nv, ap, panel, cp, kcur, rs, cs, bs, ldc, alpha, betaBlock, uint32(uint64(1)<<cols-1))
					} else {
						nv := 2
						if cols <= 8 {
							nv = 1
						}
						last := cols - 8*(nv-1) // columns in the last vector
						tile256(rows, nv, last < 8, ap, panel, cp, kcur, rs, cs, bs, ldc, alpha, betaBlock, &laneMask[8-last])
					}
				}
			}
		}
	}
}

// gemmDot computes C = alpha·A·Bᵀ + beta·C with each element a dot product
// of a row of A and a row of B, both contiguous, in blocks of dotRows rows
// of A by dotCols rows of B.
func gemmDot(impl int, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cols, lanes := dotCols512, 16
	if impl == implAVX2 {
		cols, lanes = dotCols256, 8
	}
	tail := k % lanes
	for i := 0; i < m; i += dotRows {
		rows := min(dotRows, m-i)
		for j := 0; j < n; j += cols {
			nb := min(cols, n-j)
			ap, bp, cp := &a[i*lda], &b[j*ldb], &c[i*ldc+j]
			if impl == implAVX512 {
				dot512(rows, nb, ap, bp, cp, k, lda, ldb, ldc, alpha, beta, uint32(1)<<tail-1)
			} else {
				dot256(rows, nb, ap, bp, cp, k, lda, ldb, ldc, alpha, beta, &laneMask[8-tail])
			}
		}
	}
}

// packTransposed writes kc rows of the cols-column panel of op(B) = Bᵀ that
// starts at b[0] (B stored n×k, so column j of the panel is row j of B) into
// scratch.panel with row stride nr, zero beyond cols.
func packTransposed(impl int, gather bool, s *panelScratch, b []float32, ldb, kc, cols int) {
	switch {
	case gather && impl == implAVX512:
		packBT512(&s.panel[0], &b[0], kc, &s.idx[0], uint32(uint64(1)<<cols-1))
	case gather:
		for j := range 16 {
			s.lanes[j] = 0
			if j < cols {
				s.lanes[j] = -1
			}
		}
		packBT256(&s.panel[0], &b[0], kc, &s.idx[0], &s.lanes[0])
	default:
		// Offsets overflow int32: copy element by element.
		nr := 32
		if impl == implAVX2 {
			nr = 16
		}
		for p := 0; p < kc; p++ {
			row := s.panel[p*nr : p*nr+nr]
			for j := range row {
				row[j] = 0
				if j < cols {
					row[j] = b[j*ldb+p]
				}
			}
		}
	}
}
