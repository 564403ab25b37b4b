package modelfile

import (
	"math/rand/v2"
	"testing"
)

// TestPlanStreamCountsExactly: the counted size of a stream is the length
// encodeStream writes, for fixed and Huffman codings, skewed and flat
// symbol distributions, and the empty stream.
func TestPlanStreamCountsExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	for trial := 0; trial < 300; trial++ {
		width := uint(1 + rng.IntN(12))
		n := rng.IntN(3000)
		if trial%10 == 0 {
			n = 0
		}
		skew := rng.Float64() < 0.5
		symbols := make([]uint32, n)
		for i := range symbols {
			if skew {
				symbols[i] = uint32(min(rng.ExpFloat64()*2, float64(int(1)<<width-1)))
			} else {
				symbols[i] = uint32(rng.IntN(1 << width))
			}
		}
		for _, huffman := range []bool{false, true} {
			plan := planStream(symbols, width, huffman)
			data := encodeStream(symbols, width, huffman)
			if plan.size != len(data) {
				t.Fatalf("width %d, %d symbols, huffman %v: planned %d bytes, wrote %d", width, n, huffman, plan.size, len(data))
			}
			if want := plan.huffman; (data[0] == codingHuffman) != want {
				t.Fatalf("planned huffman=%v, wrote coding %d", want, data[0])
			}
		}
	}
}

func TestUvarintLen(t *testing.T) {
	for _, c := range []struct{ v, n int }{{0, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3}, {1 << 28, 5}} {
		if got := uvarintLen(c.v); got != c.n {
			t.Errorf("uvarintLen(%d) = %d, want %d", c.v, got, c.n)
		}
	}
}
