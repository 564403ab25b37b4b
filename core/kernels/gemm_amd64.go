package kernels

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

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
	panel [kcMax * 32]float32
	idx   [32]int32 // idx[j] = j·ldb: offset of column j of the panel in B
	lanes [32]int32 // AVX2 gather mask: -1 for columns inside B
}

var panelPool = sync.Pool{New: func() any { return new(panelScratch) }}

// tiling is the blocking of one product on the register-tile kernels. It
// depends on the shape only, never on how the work is split over threads,
// so every element of C is computed by the same kernel calls with the same
// k blocks whoever computes it: the threaded result is the one-thread
// result bit for bit.
//
// Loops of run, outermost first: blocks of ≤ tilesPerBlock row tiles
// (≤ mcMax rows of C); blocks of ≤ kc of k (the first applies beta, the
// rest add to C); nr-column panels of B; row tiles. A and B are read in
// place: a tile of op(A) is addressed with strides (rs, cs) whether A is
// transposed or not, and a panel of op(B) is rows of B. Only op(B) = Bᵀ is
// packed, one kc×nr panel at a time, by a gather. Rows are split into
// tiles of nearly equal height (64 rows become 11,11,11,11,10,10 rather
// than 12,12,12,12,12,4) so no tile runs mostly empty.
type tiling struct {
	impl                int
	transB, gather      bool
	m, n, k             int
	alpha, beta         float32
	a, b, c             []float32
	ldb, ldc, rs, cs    int
	maxRows, nr, kc     int
	tiles, panels       int
	tileRows, tallTiles int // the first tallTiles tiles have one row more
	tilesPerBlock       int
	kBlocks             int // k blocks of kc (the last may be shorter)

	// The chunks of a threaded run: a grid of rowParts×colParts rectangles
	// of tiles, each with the whole k loop; or with kSplit > 0 a pipeline
	// of rowParts groups of row tiles, each computed first over k blocks
	// [0, kSplit) by the owner, then over [kSplit, kBlocks) by whoever
	// claims it (see ownerFirst); seq tells this run's phaseDone marks.
	rowParts, colParts, kSplit int
	seq                        uint64
}

// phaseDone[group] is the seq of the last pipelined run whose owner
// finished the first k blocks of that group of row tiles.
var phaseDone [maxParts]atomic.Uint64

// pipelineSeq counts pipelined runs; only an owner of the helpers
// advances it.
var pipelineSeq uint64

func newTiling(impl int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) tiling {
	g := tiling{impl: impl, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, ldb: ldb, ldc: ldc, rs: lda, cs: 1, maxRows: maxRows512, nr: 32,
		rowParts: 1, colParts: 1}
	if impl == implAVX2 {
		g.maxRows, g.nr = maxRows256, 16
	}
	if transA {
		g.rs, g.cs = 1, lda
	}
	kBlocks := (k + kcMax - 1) / kcMax
	g.kc = (k + kBlocks - 1) / kBlocks
	g.kBlocks = (k + g.kc - 1) / g.kc
	g.tiles = (m + g.maxRows - 1) / g.maxRows
	g.panels = (n + g.nr - 1) / g.nr
	g.tileRows, g.tallTiles = m/g.tiles, m%g.tiles
	g.tilesPerBlock = max(1, mcMax/g.maxRows)
	g.gather = transB && (g.nr-1)*ldb <= math.MaxInt32
	return g
}

// ownedTiling is the product of the caller that owns the helpers (holds
// workers.mu); they read it through workers.task.
var ownedTiling tiling

func (g *tiling) tileStart(t int) int { return t*g.tileRows + min(t, g.tallTiles) }

// gemmTiled computes the product on the register-tile kernels, on several
// threads when it is large enough to gain (see split).
func gemmTiled(impl int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g := newTiling(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	s := panelPool.Get().(*panelScratch)
	defer panelPool.Put(s)
	if threads := Threads(); g.worthSplitting(threads) {
		if owned, awake := workers.tryOwn(threads); owned {
			g.rowParts, g.colParts, g.kSplit = g.split(threads, awake)
			if g.rowParts*g.colParts == 1 {
				workers.mu.Unlock()
				g.run(s, 0, g.tiles, 0, g.panels, 0, g.kBlocks)
				return
			}
			if g.kSplit > 0 {
				pipelineSeq++
				g.seq = pipelineSeq
			}
			ownedTiling = g
			workers.run(&ownedTiling, g.rowParts*g.colParts, threads-1, s)
			ownedTiling = tiling{}
			workers.mu.Unlock()
			return
		}
	}
	g.run(s, 0, g.tiles, 0, g.panels, 0, g.kBlocks)
}

// groupTiles returns the row tiles of group r of rowParts.
func (g *tiling) groupTiles(r int) (t0, t1 int) {
	return r * g.tiles / g.rowParts, (r + 1) * g.tiles / g.rowParts
}

// ownerFirst computes, in a pipelined run, the first k blocks of every
// group of row tiles in order, marking each done, before the owner claims
// chunks; otherwise nothing.
func (g *tiling) ownerFirst(s *panelScratch) {
	if g.kSplit == 0 {
		return
	}
	for r := range g.rowParts {
		t0, t1 := g.groupTiles(r)
		g.run(s, t0, t1, 0, g.panels, 0, g.kSplit)
		phaseDone[r].Store(g.seq)
	}
}

// runChunk computes chunk i: in a pipelined run, the last k blocks of
// group rowParts−1−i once the owner is done with its first ones (the owner
// claims from the front, so it takes the groups it finished last, a helper
// from the back, so it takes the ones finished first); otherwise rectangle
// i of the rowParts×colParts grid, row-major.
func (g *tiling) runChunk(i int, s *panelScratch) {
	if g.kSplit > 0 {
		r := g.rowParts - 1 - i
		for spins := 1; phaseDone[r].Load() != g.seq; spins++ {
			if spins%1024 == 0 {
				yieldCPU()
				if spins >= 64*1024 {
					runtime.Gosched()
				}
			}
		}
		t0, t1 := g.groupTiles(r)
		g.run(s, t0, t1, 0, g.panels, g.kSplit, g.kBlocks)
		return
	}
	r, q := i/g.colParts, i%g.colParts
	t0, t1 := g.groupTiles(r)
	g.run(s, t0, t1, q*g.panels/g.colParts, (q+1)*g.panels/g.colParts, 0, g.kBlocks)
}

// run computes row tiles t0..t1-1 of C over column panels p0..p1-1 and k
// blocks kb0..kb1-1, with s for packing Bᵀ.
func (g *tiling) run(s *panelScratch, t0, t1, p0, p1, kb0, kb1 int) {
	if g.gather {
		for j := range s.idx {
			s.idx[j] = int32(j * g.ldb)
		}
	}
	a, b, c, nr := g.a, g.b, g.c, g.nr
	for tb := t0; tb < t1; tb += g.tilesPerBlock {
		te := min(t1, tb+g.tilesPerBlock)
		for pc := kb0 * g.kc; pc < min(g.k, kb1*g.kc); pc += g.kc {
			kcur := min(g.kc, g.k-pc)
			betaBlock := g.beta
			if pc > 0 {
				betaBlock = 1
			}
			for jr := p0 * nr; jr < min(g.n, p1*nr); jr += nr {
				cols := min(nr, g.n-jr)
				var panel *float32
				bs := g.ldb
				if g.transB {
					packTransposed(g.impl, g.gather, s, b[jr*g.ldb+pc:], g.ldb, kcur, cols)
					panel, bs = &s.panel[0], nr
				} else {
					panel = &b[pc*g.ldb+jr]
				}
				for t := tb; t < te; t++ {
					i0, rows := g.tileStart(t), g.tileStart(t+1)-g.tileStart(t)
					ap, cp := &a[i0*g.rs+pc*g.cs], &c[i0*g.ldc+jr]
					if g.impl == implAVX512 {
						nv := 2
						if cols <= 16 {
							nv = 1
						}
						tile512(rows, nv, ap, panel, cp, kcur, g.rs, g.cs, bs, g.ldc, g.alpha, betaBlock, uint32(uint64(1)<<cols-1))
					} else {
						nv := 2
						if cols <= 8 {
							nv = 1
						}
						last := cols - 8*(nv-1) // columns in the last vector
						tile256(rows, nv, last < 8, ap, panel, cp, kcur, g.rs, g.cs, bs, g.ldc, g.alpha, betaBlock, &laneMask[8-last])
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

// splitOverride, when set, replaces the choice of worthSplitting and split
// (tests and benchmarks try every split with it).
var splitOverride func(tiles, panels, kBlocks, threads int) (rowParts, colParts, kSplit int)

// minParallelFlops is the smallest product (2·m·n·k) split over threads.
const minParallelFlops = 1 << 20

// worthSplitting reports whether the product gains from threads threads.
func (g *tiling) worthSplitting(threads int) bool {
	if splitOverride != nil {
		r, q, _ := splitOverride(g.tiles, g.panels, g.kBlocks, threads)
		return r*q > 1
	}
	return threads > 1 && 2*g.m*g.n*g.k >= minParallelFlops && g.tiles*g.panels > 1
}

// coldSplitFlops is the smallest product split while a helper was asleep:
// smaller ones are done by the caller alone before the helper would start.
const coldSplitFlops = 64 << 20

// maxParts is the most row or column parts split cuts a product into.
const maxParts = 64

// pipelineMinB is the smallest op(B) (k·n floats, 512 KiB) split over k.
const pipelineMinB = 1 << 17

// split chooses the chunks of a threaded run (see tiling).
//
// On two threads, a product with two k blocks or more, two row tiles or
// more and op(B) = B of pipelineMinB floats or more is pipelined over k:
// the owner computes the first half of the k blocks group by group, the
// helper the second half a group behind. Each then reads only its half of
// B — a training step's weight matrix, whose halves the two threads also
// own in the weight gradient and the optimizer step before it — where a
// split of the rows of C would have both threads read all of it, and each
// thread's writes to it in the next optimizer step invalidate the other's
// copies: a LeNet-300-100 epoch at batch 64 took 0.69 s on two threads
// with the pipeline against 0.86 s on one, and with rows split as long as
// on one. The pipeline costs a group at the start; Bᵀ would be packed
// again in every group; a small B is cheap to share.
//
// Otherwise it makes a chunk per row tile (up to maxParts of them), or per
// column panel when op(B) is Bᵀ, whose panels every thread covering them
// would pack again, or when there are too few row tiles. Fine chunks let a
// helper that starts late take less, and let the owner and the helpers,
// claiming from the two ends, cover the same rows or columns in every job
// of the same shape.
//
// With a helper just woken, which starts 30–300 µs late, a product under
// coldSplitFlops is left whole (1×1) to the caller.
func (g *tiling) split(threads int, awake bool) (rowParts, colParts, kSplit int) {
	if splitOverride != nil {
		return splitOverride(g.tiles, g.panels, g.kBlocks, threads)
	}
	if !awake && 2*g.m*g.n*g.k < coldSplitFlops {
		return 1, 1, 0
	}
	if threads == 2 && !g.transB && g.kBlocks >= 2 && g.tiles >= 2 && g.k*g.n >= pipelineMinB {
		return min(g.tiles, maxParts), 1, g.kBlocks / 2
	}
	if g.transB && g.panels >= threads || g.tiles < threads {
		return 1, min(g.panels, maxParts), 0
	}
	return min(g.tiles, maxParts), 1, 0
}
