// Command blaspeer measures kernels.Gemm against OpenBLAS's cblas_sgemm on
// the shapes training LeNet-300-100 needs, each at one thread and at its
// default thread count, interleaved in one run so the machine's noise hits
// all alike, and prints medians and the ratios. A second table times two
// goroutines multiplying at once, as the TUI's two knob previews do.
//
// It is a nested module (cgo, linked against the system OpenBLAS) so the
// main module never needs a C toolchain or OpenBLAS. On Debian:
//
//	apt-get install -y libopenblas-dev
//	cd core/kernels/internal/blaspeer && go run . [-reps 15] [-threads N]
package main

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
*/
import "C"

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prunerlab/pruner-tui/core/kernels"
)

type shape struct {
	name           string
	m, n, k        int
	transA, transB bool
}

// operands of one product, C = op(A)·op(B) with beta 0.
type operands struct {
	shape
	a, b, c       []float32
	lda, ldb, ldc int
}

func newOperands(rng *rand.Rand, s shape) *operands {
	o := &operands{shape: s, a: randSlice(rng, s.m*s.k), b: randSlice(rng, s.k*s.n), c: make([]float32, s.m*s.n),
		lda: s.k, ldb: s.n, ldc: s.n}
	if s.transA {
		o.lda = s.m
	}
	if s.transB {
		o.ldb = s.k
	}
	return o
}

func (o *operands) flops() float64 { return 2 * float64(o.m) * float64(o.n) * float64(o.k) }

func (o *operands) ours() {
	kernels.Gemm(o.transA, o.transB, o.m, o.n, o.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
}

func (o *operands) openBLAS() {
	ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
	if o.transA {
		ta = C.CblasTrans
	}
	if o.transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.int(o.m), C.int(o.n), C.int(o.k), 1,
		(*C.float)(&o.a[0]), C.int(o.lda), (*C.float)(&o.b[0]), C.int(o.ldb), 0, (*C.float)(&o.c[0]), C.int(o.ldc))
}

// contender is one column of the tables: an implementation at a thread
// count.
type contender struct {
	name    string
	threads int
	blas    bool
}

// use sets the thread count of c's implementation.
func (c contender) use() {
	if c.blas {
		C.openblas_set_num_threads(C.int(c.threads))
	} else {
		kernels.SetThreads(c.threads)
	}
}

func main() {
	if os.Getenv("OPENBLAS_THREAD_TIMEOUT") == "" {
		// OpenBLAS reads it when it loads: run again with it set.
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, os.Args, append(os.Environ(), "OPENBLAS_THREAD_TIMEOUT="+threadTimeout))
		}
		fmt.Fprintln(os.Stderr, "blaspeer: cannot re-run with OPENBLAS_THREAD_TIMEOUT set:", err)
		os.Exit(1)
	}
	threads := flag.Int("threads", 0, "the multi-threaded columns' threads (0: OpenBLAS's default and runtime.GOMAXPROCS)")
	reps := flag.Int("reps", 15, "timed rounds per contender and shape")
	round := flag.Duration("round", 50*time.Millisecond, "length of one timed round")
	flag.Parse()
	blasDefault := int(C.openblas_get_num_threads())
	oursDefault := runtime.GOMAXPROCS(0)
	if *threads > 0 {
		blasDefault, oursDefault = *threads, *threads
	}
	contenders := []contender{
		{"ours 1T", 1, false},
		{fmt.Sprintf("ours %dT", oursDefault), oursDefault, false},
		{"OpenBLAS 1T", 1, true},
		{fmt.Sprintf("OpenBLAS %dT", blasDefault), blasDefault, true},
	}
	shapes := []shape{
		{"64x784·784x300", 64, 300, 784, false, false},
		{"256x784·784x300", 256, 300, 784, false, false},
		{"64x300·300x100", 64, 100, 300, false, false},
		{"784x64ᵀ·64x300 (dW1)", 784, 300, 64, true, false},
		{"64x300·(784x300)ᵀ (dx1)", 64, 784, 300, false, true},
		{"300x64ᵀ·64x100 (dW2)", 300, 100, 64, true, false},
		{"64x100·(300x100)ᵀ (dx2)", 64, 300, 100, false, true},
		{"784x256ᵀ·256x300 (dW1 b256)", 784, 300, 256, true, false},
	}
	fmt.Printf("kernels.Impl() = %s, GOMAXPROCS %d, %s (default %d threads)\n",
		kernels.Impl(), runtime.GOMAXPROCS(0), C.GoString(C.openblas_get_config()), int(C.openblas_get_num_threads()))
	fmt.Printf("GFLOP/s, median of %d interleaved rounds of %v per contender (after %v untimed); OPENBLAS_THREAD_TIMEOUT=%s\n\n",
		*reps, *round, warmUp, os.Getenv("OPENBLAS_THREAD_TIMEOUT"))
	header(contenders)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		o := newOperands(rng, s)
		med := measure(contenders, *reps, *round, func(c contender) func() {
			if c.blas {
				return o.openBLAS
			}
			return o.ours
		}, o.flops())
		row(s.name, med)
	}

	fmt.Printf("\nTwo goroutines at once, each on its own operands: GFLOP/s of both together\n\n")
	header(contenders)
	for _, s := range shapes[:2] {
		pair := [2]*operands{newOperands(rng, s), newOperands(rng, s)}
		med := measure(contenders, *reps, *round, func(c contender) func() {
			return func() {
				var wg sync.WaitGroup
				for _, o := range pair {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 4 {
							if c.blas {
								o.openBLAS()
							} else {
								o.ours()
							}
						}
					}()
				}
				wg.Wait()
			}
		}, 8*pair[0].flops())
		row(s.name+" ×2", med)
	}
}

func header(cs []contender) {
	fmt.Printf("%-28s", "shape")
	for _, c := range cs {
		fmt.Printf(" %12s", c.name)
	}
	fmt.Printf(" %14s %14s\n", "ours/BLAS 1T", "ours/BLAS nT")
}

func row(name string, med []float64) {
	fmt.Printf("%-28s", name)
	for _, g := range med {
		fmt.Printf(" %12.1f", g)
	}
	fmt.Printf(" %13.2f× %13.2f×\n", med[0]/med[2], med[1]/med[3])
}

// warmUp is how long each contender runs untimed at the start of a round.
const warmUp = 10 * time.Millisecond

// threadTimeout is OpenBLAS's OPENBLAS_THREAD_TIMEOUT unless set: its
// threads poll 2²⁰ cycles (about 0.4 ms) after a call before they sleep,
// rather than the default 2²⁸ (0.1 s), during which they would share the
// second core with our helper in the next contender's round. Ours poll
// 100 µs. Calls timed back to back keep both hot.
const threadTimeout = "20"

// measure returns each contender's median rate over reps rounds; every
// round times each contender in turn for about round, after setting its
// threads and one untimed call.
func measure(cs []contender, reps int, round time.Duration, call func(contender) func(), flops float64) []float64 {
	calls := make([]int, len(cs))
	for i, c := range cs {
		c.use()
		f := call(c)
		f()
		start := time.Now()
		n := 0
		for time.Since(start) < round/4 {
			f()
			n++
		}
		calls[i] = max(1, int(float64(n)*float64(round)/float64(time.Since(start))))
	}
	rates := make([][]float64, len(cs))
	for range reps {
		for i, c := range cs {
			c.use()
			f := call(c)
			// Untimed calls first: they wake the contender's threads and
			// give the OS time to spread them over the cores.
			for start := time.Now(); time.Since(start) < warmUp; {
				f()
			}
			start := time.Now()
			for range calls[i] {
				f()
			}
			rates[i] = append(rates[i], flops*float64(calls[i])/time.Since(start).Seconds()/1e9)
		}
	}
	med := make([]float64, len(cs))
	for i, r := range rates {
		med[i] = median(r)
	}
	return med
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()
	}
	return s
}
