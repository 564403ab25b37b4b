package checked

import (
	"math"
	"testing"
)

func TestProduct(t *testing.T) {
	for _, c := range []struct {
		limit uint64
		dims  []uint64
		want  uint64
		ok    bool
	}{
		{100, []uint64{3, 4}, 12, true},
		{100, nil, 1, true},
		{0, nil, 1, false},
		{100, []uint64{10, 10}, 100, true},
		{100, []uint64{10, 11}, 0, false},
		{100, []uint64{0, math.MaxUint64}, 0, true},
		// 2 × 2^63 is 2^64: it wraps to 0 without the check.
		{math.MaxUint64, []uint64{2, 1 << 63}, 0, false},
		// 2^32 × 2^32 wraps to 0 as well.
		{1 << 40, []uint64{1 << 32, 1 << 32}, 0, false},
		{math.MaxUint64, []uint64{1 << 32, 1<<32 - 1}, 1<<64 - 1<<32, true},
	} {
		got, ok := Product(c.limit, c.dims...)
		if got != c.want || ok != c.ok {
			t.Errorf("Product(%d, %v) = %d, %v; want %d, %v", c.limit, c.dims, got, ok, c.want, c.ok)
		}
	}
}
