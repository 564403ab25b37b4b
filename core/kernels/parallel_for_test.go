package kernels

import (
	"sync/atomic"
	"testing"
)

// TestParallel: the ranges cover [0, n) once each, split or not, and a
// small loop runs on the caller in one range.
func TestParallel(t *testing.T) {
	defer SetThreads(SetThreads(2))
	for _, c := range []struct{ n, work int }{{1, 1 << 20}, {7, 1 << 20}, {64, 1 << 20}, {1000, 1 << 20}, {64, 10}} {
		hits := make([]atomic.Int32, c.n)
		var calls atomic.Int32
		Parallel(c.n, c.work, func(lo, hi int) {
			calls.Add(1)
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("n=%d: index %d done %d times", c.n, i, h)
			}
		}
		if c.work < parallelMinWork && calls.Load() != 1 {
			t.Errorf("n=%d work=%d: %d ranges, want 1 (too little work to split)", c.n, c.work, calls.Load())
		}
	}
	Parallel(0, 1<<20, func(lo, hi int) { t.Error("called for an empty loop") })
}
