package kernels

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// withThreads runs f with SetThreads(n) and restores the setting.
func withThreads(n int, f func()) {
	prev := SetThreads(n)
	defer SetThreads(prev)
	f()
}

// firstDiff reports the first index where got and want differ in their
// bits, or -1.
func firstDiff(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

func TestSetThreads(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	if got := Threads(); got != 3 {
		t.Errorf("Threads() = %d after SetThreads(3)", got)
	}
	if got := SetThreads(-1); got != 3 {
		t.Errorf("SetThreads returned %d, want the previous 3", got)
	}
	if got := Threads(); got < 1 {
		t.Errorf("Threads() = %d with the default setting", got)
	}
}

// gemmOperands are random operands of g (strides padded by g.pad) and a
// random C; run computes the product on a copy of C.
type gemmOperands struct {
	g             gemmCase
	a, b, c0      []float32
	lda, ldb, ldc int
}

func newGemmOperands(rng *rand.Rand, g gemmCase) gemmOperands {
	rowsA, colsA := g.m, g.k
	if g.transA {
		rowsA, colsA = g.k, g.m
	}
	rowsB, colsB := g.k, g.n
	if g.transB {
		rowsB, colsB = g.n, g.k
	}
	o := gemmOperands{g: g, lda: colsA + g.pad, ldb: colsB + g.pad, ldc: g.n + g.pad}
	o.a = randSlice(rng, rowsA*o.lda)
	o.b = randSlice(rng, rowsB*o.ldb)
	o.c0 = randSlice(rng, g.m*o.ldc)
	return o
}

func (o gemmOperands) run() []float32 {
	c := append([]float32(nil), o.c0...)
	Gemm(o.g.transA, o.g.transB, o.g.m, o.g.n, o.g.k, o.g.alpha, o.a, o.lda, o.b, o.ldb, o.g.beta, c, o.ldc)
	return c
}

// TestAdamStepThreadsBitIdentical checks that AdamStep gives the same bits
// on one thread and on several, for lengths around the chunk size.
func TestAdamStepThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{adamMinParallel - 1, adamMinParallel, 3*adamChunk + 17, 235200} {
		w, g, m, v := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), abs(randSlice(rng, n))
		step := func(threads int) [][]float32 {
			ws, ms, vs := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
			withThreads(threads, func() {
				for range 3 {
					AdamStep(ws, g, ms, vs, 0.9, 0.999, 1e-3, 1e-8)
				}
			})
			return [][]float32{ws, ms, vs}
		}
		one, many := step(1), step(4)
		for i, name := range []string{"w", "m", "v"} {
			if j := firstDiff(many[i], one[i]); j >= 0 {
				t.Fatalf("n=%d: %s[%d] = %v on 4 threads, %v on 1", n, name, j, many[i][j], one[i][j])
			}
		}
	}
}

// TestGemmConcurrentThreaded runs large products, which take the helpers,
// from several goroutines at once, with optimizer steps between them: the
// callers that find the helpers busy compute on their own thread, and each
// must get the one-thread bits.
func TestGemmConcurrentThreaded(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cases := []gemmCase{
		{256, 300, 784, false, false, 1, 0, 0},
		{64, 784, 300, false, true, 1, 0, 1},
		{784, 300, 64, true, false, 1, 1, 0},
		{97, 301, 257, true, true, -0.5, 2, 3},
	}
	ops := make([]gemmOperands, len(cases))
	want := make([][]float32, len(cases))
	withThreads(1, func() {
		for i, g := range cases {
			ops[i] = newGemmOperands(rng, g)
			want[i] = ops[i].run()
		}
	})
	const rounds = 10
	n := adamMinParallel + 100
	w0, grad, m0, v0 := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), abs(randSlice(rng, n))
	adam := func() []float32 {
		w, m, v := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		AdamStep(w, grad, m, v, 0.9, 0.999, 1e-3, 1e-8)
		return w
	}
	var wantW []float32
	withThreads(1, func() { wantW = adam() })

	withThreads(2, func() {
		var wg sync.WaitGroup
		errs := make(chan string, 2*len(cases))
		for i := range cases {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range rounds {
						if j := firstDiff(ops[i].run(), want[i]); j >= 0 {
							errs <- cases[i].String() + ": differs from one thread"
							return
						}
						if j := firstDiff(adam(), wantW); j >= 0 {
							errs <- "AdamStep differs from one thread"
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

// TestCompressedForwardThreadsBitIdentical checks that CSR and Int8
// forwards of large batches, split over threads, give the bits of one
// thread, for batches that end in a part of a chunk or of a panel.
func TestCompressedForwardThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const in, out = 300, 100
	w, bias := randSlice(rng, in*out), randSlice(rng, out)
	for i := range w {
		if rng.IntN(10) != 0 {
			w[i] = 0 // 90% sparse
		}
	}
	csr, err := NewCSR(w, bias, in, out)
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewInt8(w, bias, in, out, 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{rowsMinParallel - 1, rowsMinParallel, 65, 70, 100, 256} {
		x := randSlice(rng, batch*in)
		for name, forward := range map[string]func(y, x []float32, batch int){"CSR": csr.Forward, "Int8": q.Forward} {
			var want []float32
			withThreads(1, func() {
				want = make([]float32, batch*out)
				forward(want, x, batch)
			})
			for _, threads := range []int{2, 3} {
				got := make([]float32, batch*out)
				withThreads(threads, func() { forward(got, x, batch) })
				if j := firstDiff(got, want); j >= 0 {
					t.Fatalf("%s batch %d on %d threads: y[%d] = %v, want %v", name, batch, threads, j, got[j], want[j])
				}
			}
		}
	}
}
