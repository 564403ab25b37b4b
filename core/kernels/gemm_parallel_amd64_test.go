package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// withSplit makes every tiled product split into the rowParts×colParts
// grid of chunks (clipped to its tiles and panels), or with kSplit > 0
// pipelined over k at block kSplit in rowParts groups, small products
// included.
func withSplit(rowParts, colParts, kSplit int, f func()) {
	splitOverride = func(tiles, panels, kBlocks, threads int) (int, int, int) {
		if threads <= 1 {
			return 1, 1, 0
		}
		if kSplit > 0 {
			return min(rowParts, tiles), 1, min(kSplit, kBlocks)
		}
		return min(rowParts, tiles), min(colParts, panels), 0
	}
	defer func() { splitOverride = nil }()
	f()
}

// TestGemmThreadsBitIdentical checks that a product split over threads, in
// any grid of chunks or pipelined over k at any block, gives the bits of
// one thread: every shape of
// TestGemmMatchesReference (ragged edges, all four transposes, padded
// strides, alpha and beta) and larger ones with several k blocks and row
// blocks, on every implementation.
func TestGemmThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cases := gemmCases()
	for _, sh := range [][3]int{{65, 301, 785}, {256, 300, 784}, {481, 97, 300}, {1000, 33, 513}, {13, 700, 40}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			cases = append(cases, gemmCase{sh[0], sh[1], sh[2], tr[0], tr[1], 0.75, 0.5, len(cases) % 3})
		}
	}
	// Each case runs two of the splits in turn, and the default one.
	splits := [][3]int{{1, 2, 0}, {2, 1, 0}, {2, 1, 1}, {3, 2, 0}, {6, 1, 2}, {1, 7, 0}, {5, 1, 1}, {64, 64, 0}, {64, 1, 3}}
	for _, impl := range supportedImpls()[1:] { // the generic GEMM is never split
		restore := useImpl(impl)
		for i, g := range cases {
			o := newGemmOperands(rng, g)
			var want []float32
			withThreads(1, func() { want = o.run() })
			for _, sp := range [][3]int{splits[i%len(splits)], splits[(i+1)%len(splits)]} {
				for _, threads := range []int{2, 3} {
					withThreads(threads, func() {
						withSplit(sp[0], sp[1], sp[2], func() {
							if j := firstDiff(o.run(), want); j >= 0 {
								t.Fatalf("%s %v split %v on %d threads: c[%d] differs from one thread", implNames[impl], g, sp, threads, j)
							}
						})
					})
				}
			}
			// The default split, on the default threads.
			if j := firstDiff(o.run(), want); j >= 0 {
				t.Fatalf("%s %v default split: c[%d] differs from one thread", implNames[impl], g, j)
			}
		}
		restore()
	}
}

// TestGemmThreadedNoAllocs checks that a threaded product, optimizer step
// and compressed forward allocate nothing once the helpers exist.
func TestGemmThreadedNoAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("short, or the race detector, whose sync.Pool drops items")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	a, b, c := randSlice(rng, 256*784), randSlice(rng, 784*300), make([]float32, 256*300)
	withThreads(2, func() {
		for _, tr := range []bool{false, true} {
			ldb := 300
			if tr {
				ldb = 784
			}
			allocs := testing.AllocsPerRun(20, func() {
				Gemm(false, tr, 256, 300, 784, 1, a, 784, b, ldb, 0, c, 300)
			})
			if allocs != 0 {
				t.Errorf("transB=%v: %v allocations per threaded Gemm, want 0", tr, allocs)
			}
		}
		n := 4 * adamChunk
		w, g, m, v := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), abs(randSlice(rng, n))
		if allocs := testing.AllocsPerRun(20, func() { AdamStep(w, g, m, v, 0.9, 0.999, 1e-3, 1e-8) }); allocs != 0 {
			t.Errorf("%v allocations per threaded AdamStep, want 0", allocs)
		}
		q, err := NewInt8(b, nil, 784, 300, 8)
		if err != nil {
			t.Fatal(err)
		}
		csr, err := NewCSR(b, make([]float32, 300), 784, 300)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, 256*300)
		for name, forward := range map[string]func(y, x []float32, batch int){"Int8": q.Forward, "CSR": csr.Forward} {
			if allocs := testing.AllocsPerRun(20, func() { forward(y, a, 256) }); allocs != 0 {
				t.Errorf("%v allocations per threaded %s.Forward, want 0", allocs, name)
			}
		}
	})
}

// TestSplit checks which products are split and how: small ones stay on
// one thread; on two threads, those with two k blocks or more, two row
// tiles or more and a large B are pipelined over k; the others split by
// row tiles, or by panels for Bᵀ or a single row tile; with a helper just
// woken only large products split.
func TestSplit(t *testing.T) {
	for _, c := range []struct {
		m, n, k       int
		transB        bool
		threaded      bool
		awake, asleep [3]int
	}{
		{64, 300, 784, false, true, [3]int{6, 1, 2}, [3]int{1, 1, 0}},
		{256, 300, 784, false, true, [3]int{22, 1, 2}, [3]int{22, 1, 2}},
		{1000, 300, 784, false, true, [3]int{64, 1, 2}, [3]int{64, 1, 2}},
		{64, 100, 300, false, true, [3]int{6, 1, 0}, [3]int{1, 1, 0}},
		{64, 500, 800, false, true, [3]int{6, 1, 2}, [3]int{1, 1, 0}},
		{784, 300, 64, false, true, [3]int{64, 1, 0}, [3]int{1, 1, 0}},
		{64, 784, 300, true, true, [3]int{1, 25, 0}, [3]int{1, 1, 0}},
		{64, 784, 200, true, true, [3]int{1, 25, 0}, [3]int{1, 1, 0}},
		{4, 300, 784, false, true, [3]int{1, 10, 0}, [3]int{1, 1, 0}},
		{8, 10, 100, false, false, [3]int{}, [3]int{}},
		{64, 10, 100, false, false, [3]int{}, [3]int{}},
	} {
		g := newTiling(implAVX512, false, c.transB, c.m, c.n, c.k, 1, nil, c.k, nil, c.n, 0, nil, c.n)
		if got := g.worthSplitting(2); got != c.threaded {
			t.Errorf("%dx%dx%d: worth splitting %v, want %v", c.m, c.n, c.k, got, c.threaded)
		}
		if g.worthSplitting(1) {
			t.Errorf("%dx%dx%d: worth splitting on one thread", c.m, c.n, c.k)
		}
		if !c.threaded {
			continue
		}
		for _, awake := range []bool{true, false} {
			want := c.awake
			if !awake {
				want = c.asleep
			}
			if r, q, ks := g.split(2, awake); [3]int{r, q, ks} != want {
				t.Errorf("%dx%dx%d transB=%v awake=%v: split %v, want %v", c.m, c.n, c.k, c.transB, awake, [3]int{r, q, ks}, want)
			}
		}
	}
}

func ExampleSetThreads() {
	prev := SetThreads(1) // every product on the caller's thread
	defer SetThreads(prev)
	fmt.Println(Threads())
	// Output: 1
}
