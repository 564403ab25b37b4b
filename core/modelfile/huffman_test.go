package modelfile

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The textbook example (Cormen et al., §16.3): frequencies a:45 b:13 c:12
// d:16 e:9 f:5 give code lengths 1, 3, 3, 3, 4, 4 and 224 bits in all,
// the minimum for these frequencies.
func TestHuffmanOptimalByHand(t *testing.T) {
	freq := []int{45, 13, 12, 16, 9, 5}
	lengths := huffmanLengths(freq, maxCodeLen)
	if want := []uint8{1, 3, 3, 3, 4, 4}; !slices.Equal(lengths, want) {
		t.Fatalf("lengths %v, want %v", lengths, want)
	}
	cost := 0
	for s, f := range freq {
		cost += f * int(lengths[s])
	}
	if cost != 224 {
		t.Errorf("cost %d bits, want 224", cost)
	}
	// Canonical codes: a = 0; b, c, d = 100, 101, 110; e, f = 1110, 1111.
	if codes := canonicalCodes(lengths); !slices.Equal(codes, []uint32{0b0, 0b100, 0b101, 0b110, 0b1110, 0b1111}) {
		t.Errorf("codes %b", codes)
	}
}

// RFC 1951 §3.2.2's example: lengths (3, 3, 3, 3, 3, 2, 4, 4) for A…H give
// the codes 010, 011, 100, 101, 110, 00, 1110, 1111.
func TestCanonicalCodesRFC1951(t *testing.T) {
	codes := canonicalCodes([]uint8{3, 3, 3, 3, 3, 2, 4, 4})
	if want := []uint32{0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111}; !slices.Equal(codes, want) {
		t.Errorf("codes %b, want %b", codes, want)
	}
}

func TestHuffmanEdgeCases(t *testing.T) {
	if l := huffmanLengths([]int{0, 0, 7, 0}, maxCodeLen); !slices.Equal(l, []uint8{0, 0, 1, 0}) {
		t.Errorf("one symbol: %v, want length 1", l)
	}
	if l := huffmanLengths([]int{0, 0}, maxCodeLen); !slices.Equal(l, []uint8{0, 0}) {
		t.Errorf("no symbols: %v", l)
	}
	// Fibonacci frequencies make the deepest possible tree: 20 symbols
	// would need 19 bits; the limit holds and the code stays prefix-free.
	fib := make([]int, 20)
	fib[0], fib[1] = 1, 1
	for i := 2; i < len(fib); i++ {
		fib[i] = fib[i-1] + fib[i-2]
	}
	l := huffmanLengths(fib, maxCodeLen)
	if slices.Max(l) > maxCodeLen {
		t.Errorf("max length %d > %d", slices.Max(l), maxCodeLen)
	}
	kraft := 0.0
	for _, x := range l {
		kraft += math.Pow(2, -float64(x))
	}
	if kraft > 1 {
		t.Errorf("Kraft sum %v > 1", kraft)
	}
	unlimited := huffmanLengths(fib, 64)
	if slices.Max(unlimited) != 19 {
		t.Errorf("unlimited Fibonacci depth %d, want 19", slices.Max(unlimited))
	}
}

// Random streams round-trip through encodeStream/decodeStream, Huffman
// coded ones within a bit per symbol of the empirical entropy (the Huffman
// bound H ≤ L < H + 1), plus the table.
func TestStreamRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 40))
	for _, width := range []uint{1, 3, 5, 8, 12} {
		for _, skew := range []float64{0.5, 2, 8} {
			n := 3000
			symbols := make([]uint32, n)
			freq := map[uint32]int{}
			for i := range symbols {
				// Geometric-ish: small symbols far more likely.
				s := uint32(math.Min(float64(int(1)<<width-1), math.Floor(rng.ExpFloat64()*skew)))
				symbols[i] = s
				freq[s]++
			}
			for _, huffman := range []bool{false, true} {
				data := encodeStream(symbols, width, huffman)
				p := &parser{data: data}
				got, info, err := p.decodeStream(n, width)
				if err != nil {
					t.Fatalf("width %d: %v", width, err)
				}
				if !slices.Equal(got, symbols) || p.pos != len(data) || info.bytes != len(data) {
					t.Fatalf("width %d huffman %v: round trip differs", width, huffman)
				}
				if !huffman {
					continue
				}
				var h float64
				for _, f := range freq {
					q := float64(f) / float64(n)
					h -= q * math.Log2(q)
				}
				bound := (float64(n)*(h+1))/8 + float64(int(1)<<width)/2 + 8
				fixed := float64(n*int(width))/8 + 4
				if float64(len(data)) > math.Min(bound, fixed) {
					t.Errorf("width %d skew %v: %d bytes, entropy bound %.0f, fixed %.0f", width, skew, len(data), bound, fixed)
				}
			}
		}
	}
}

func TestHuffmanDecoderRejectsBadTables(t *testing.T) {
	if _, err := newHuffmanDecoder([]uint8{1, 1, 1}); err == nil {
		t.Error("over-subscribed lengths accepted")
	}
	if _, err := newHuffmanDecoder([]uint8{0, 0}); err == nil {
		t.Error("an empty table accepted")
	}
	if _, err := newHuffmanDecoder([]uint8{16}); err == nil {
		t.Error("length 16 accepted")
	}
	// An incomplete code (one symbol of length 1): "1" matches nothing.
	d, err := newHuffmanDecoder([]uint8{1})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := d.decode(&bitReader{data: []byte{0}}); err != nil || s != 0 {
		t.Errorf("decode 0: %v %v", s, err)
	}
	if _, err := d.decode(&bitReader{data: []byte{1}}); err == nil {
		t.Error("an unassigned code decoded")
	}
}
