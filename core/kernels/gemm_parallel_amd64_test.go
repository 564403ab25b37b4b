package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// withSplit makes every tiled product split into the rowParts×colParts
// grid of chunks (clipped to its tiles and panels), small ones included.
func withSplit(rowParts, colParts int, f func()) {
	splitOverride = func(tiles, panels, threads int) (int, int) {
		if threads <= 1 {
			return 1, 1
		}
		return min(rowParts, tiles), min(colParts, panels)
	}
	defer func() { splitOverride = nil }()
	f()
}

// TestGemmThreadsBitIdentical checks that a product split over threads, in
// any grid of chunks, gives the bits of one thread: every shape of
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
	splits := [][2]int{{1, 2}, {2, 1}, {3, 2}, {1, 7}, {5, 1}, {64, 64}}
	for _, impl := range supportedImpls()[1:] { // the generic GEMM is never split
		restore := useImpl(impl)
		for i, g := range cases {
			o := newGemmOperands(rng, g)
			var want []float32
			withThreads(1, func() { want = o.run() })
			for _, sp := range [][2]int{splits[i%len(splits)], splits[(i+1)%len(splits)]} {
				withThreads(3, func() {
					withSplit(sp[0], sp[1], func() {
						if j := firstDiff(o.run(), want); j >= 0 {
							t.Fatalf("%s %v split %dx%d: c[%d] differs from one thread", implNames[impl], g, sp[0], sp[1], j)
						}
					})
				})
			}
			// The default split, on the default threads.
			if j := firstDiff(o.run(), want); j >= 0 {
				t.Fatalf("%s %v default split: c[%d] differs from one thread", implNames[impl], g, j)
			}
		}
		restore()
	}
}

// TestGemmThreadedNoAllocs checks that a threaded product and optimizer
// step allocate nothing once the helpers exist.
func TestGemmThreadedNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
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
	})
}

// TestSplit checks which products are split and how: small ones stay on
// one thread, Bᵀ (or a single row tile) splits by panels, the rest by row
// tiles; with a helper just woken only large products split.
func TestSplit(t *testing.T) {
	for _, c := range []struct {
		m, n, k       int
		transB        bool
		threaded      bool
		awake, asleep [2]int
	}{
		{64, 300, 784, false, true, [2]int{6, 1}, [2]int{1, 1}},
		{256, 300, 784, false, true, [2]int{22, 1}, [2]int{22, 1}},
		{1000, 300, 784, false, true, [2]int{64, 1}, [2]int{64, 1}},
		{64, 784, 300, true, true, [2]int{1, 25}, [2]int{1, 1}},
		{1000, 784, 300, true, true, [2]int{1, 25}, [2]int{1, 25}},
		{4, 300, 784, false, true, [2]int{1, 10}, [2]int{1, 1}},
		{8, 10, 100, false, false, [2]int{}, [2]int{}},
		{64, 10, 100, false, false, [2]int{}, [2]int{}},
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
			if r, q := g.split(2, awake); [2]int{r, q} != want {
				t.Errorf("%dx%dx%d transB=%v awake=%v: split %dx%d, want %dx%d", c.m, c.n, c.k, c.transB, awake, r, q, want[0], want[1])
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
