package checked

import "math/bits"

// Product returns the product of dims if it is at most limit, and false
// when it is more (however large, it never wraps around). No dims is 1;
// a zero dimension makes 0.
func Product(limit uint64, dims ...uint64) (uint64, bool) {
	p := uint64(1)
	for _, d := range dims {
		if d == 0 {
			return 0, true
		}
	}
	for _, d := range dims {
		hi, lo := bits.Mul64(p, d)
		if hi != 0 || lo > limit {
			return 0, false
		}
		p = lo
	}
	return p, p <= limit
}
