package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

// crossoverSparsities is the grid the crossover measurement runs on.
var crossoverSparsities = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99}

// medianTime returns the median over 7 rounds of the time per call of f,
// each round running f for about 5 ms.
func medianTime(f func()) time.Duration {
	f()
	n := 1
	for {
		start := time.Now()
		for range n {
			f()
		}
		if time.Since(start) > 2*time.Millisecond {
			break
		}
		n *= 2
	}
	n = max(1, n*5/2)
	rounds := make([]time.Duration, 7)
	for i := range rounds {
		start := time.Now()
		for range n {
			f()
		}
		rounds[i] = time.Since(start) / time.Duration(n)
	}
	slices.Sort(rounds)
	return rounds[len(rounds)/2]
}

// crossing returns the sparsity at which sparse time t(s) falls to base,
// interpolated linearly between the two grid points around it: 0 when
// sparse wins everywhere, 2 (never) when it never does.
func crossing(sparsities []float64, times []time.Duration, base time.Duration) float64 {
	if times[0] <= base {
		return 0
	}
	for i := 1; i < len(times); i++ {
		if times[i] <= base {
			s0, s1 := sparsities[i-1], sparsities[i]
			t0, t1 := float64(times[i-1]), float64(times[i])
			return s0 + (s1-s0)*(t0-float64(base))/(t0-t1)
		}
	}
	return 2
}

// TestMeasureSparseCrossover measures the crossover table of core/nn
// (sparseCrossovers in core/nn/infer.go) on this machine and prints it. It
// runs only when PRUNER_TUI_MEASURE=1 (it takes about a minute):
//
//	PRUNER_TUI_MEASURE=1 go test -run MeasureSparseCrossover -v ./core/kernels/
//
// For each shape and batch (1: the gathered kernel; 256: the panel kernel)
// it times y = x·W + b dense (Gemm after a bias copy, as nn.Dense runs it),
// int8 (Int8 at 8 bits) and sparse (CSR) at each sparsity of
// crossoverSparsities, medians of 7 rounds, and reports where sparse
// crosses dense and int8, and whether int8 beats dense.
func TestMeasureSparseCrossover(t *testing.T) {
	if os.Getenv("PRUNER_TUI_MEASURE") != "1" {
		t.Skip("set PRUNER_TUI_MEASURE=1 to measure")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := [][2]int{{784, 300}, {300, 100}, {100, 10}, {50, 40}, {784, 32}, {32, 300}}
	for _, sh := range shapes {
		in, out := sh[0], sh[1]
		var row [4]float64
		var int8Wins [2]bool
		for bi, batch := range []int{1, 256} {
			x := randSlice(rng, batch*in)
			y := make([]float32, batch*out)
			bias := randSlice(rng, out)
			w := randSlice(rng, in*out)
			dense := medianTime(func() { denseAffine(y, x, w, bias, batch, in, out) })
			q, err := NewInt8(w, bias, in, out, 8)
			if err != nil {
				t.Fatal(err)
			}
			int8 := medianTime(func() { q.Forward(y, x, batch) })
			times := make([]time.Duration, len(crossoverSparsities))
			for i, s := range crossoverSparsities {
				m, err := NewCSR(sparseWeights(rng, in, out, s), bias, in, out)
				if err != nil {
					t.Fatal(err)
				}
				times[i] = medianTime(func() { m.Forward(y, x, batch) })
			}
			row[bi], row[2+bi] = crossing(crossoverSparsities, times, dense), crossing(crossoverSparsities, times, int8)
			int8Wins[bi] = int8 < dense
			t.Logf("%d×%d batch %d: dense %v, int8 %v, sparse %v", in, out, batch, dense, int8, times)
		}
		fmt.Printf("\t{%d, %d, %.2f, %.2f, %.2f, %.2f, %v, %v},\n", in, out, row[0], row[1], row[2], row[3], int8Wins[0], int8Wins[1])
	}
}
