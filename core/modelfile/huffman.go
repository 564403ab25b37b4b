package modelfile

import (
	"container/heap"
	"errors"
	"fmt"
)

// maxCodeLen is the longest Huffman code the format allows: code lengths
// are stored in 4 bits.
const maxCodeLen = 15

// huffmanLengths returns optimal prefix-code lengths for the symbol
// frequencies (Huffman 1952), at most maxLen bits: unused symbols get 0,
// a lone used symbol gets 1. Ties are broken by symbol, so the result is
// deterministic. When the optimal code is too deep, the frequencies are
// halved (keeping every used symbol at ≥ 1) until it fits: not optimal, but
// such skewed inputs never reach maxLen = 15 at the sizes stored here.
func huffmanLengths(freq []int, maxLen int) []uint8 {
	lengths := make([]uint8, len(freq))
	var used []int
	for s, f := range freq {
		if f > 0 {
			used = append(used, s)
		}
	}
	switch len(used) {
	case 0:
		return lengths
	case 1:
		lengths[used[0]] = 1
		return lengths
	}
	f := make([]int, len(freq))
	copy(f, freq)
	for {
		depth := huffmanDepths(f, used)
		deepest := 0
		for _, s := range used {
			deepest = max(deepest, depth[s])
		}
		if deepest <= maxLen {
			for _, s := range used {
				lengths[s] = uint8(depth[s])
			}
			return lengths
		}
		for _, s := range used {
			f[s] = max(1, f[s]/2)
		}
	}
}

type hnode struct {
	weight      int
	id          int // leaves: the symbol; internal nodes: len(freq) + creation order
	left, right *hnode
}

type nodeHeap []*hnode

func (h nodeHeap) Len() int { return len(h) }
func (h nodeHeap) Less(i, j int) bool {
	if h[i].weight != h[j].weight {
		return h[i].weight < h[j].weight
	}
	return h[i].id < h[j].id
}
func (h nodeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)   { *h = append(*h, x.(*hnode)) }
func (h *nodeHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// huffmanDepths merges the two lightest nodes until one tree is left and
// returns each used symbol's depth in it.
func huffmanDepths(freq []int, used []int) []int {
	h := make(nodeHeap, 0, len(used))
	for _, s := range used {
		h = append(h, &hnode{weight: freq[s], id: s})
	}
	heap.Init(&h)
	next := len(freq)
	for h.Len() > 1 {
		a, b := heap.Pop(&h).(*hnode), heap.Pop(&h).(*hnode)
		heap.Push(&h, &hnode{weight: a.weight + b.weight, id: next, left: a, right: b})
		next++
	}
	depth := make([]int, len(freq))
	var walk func(n *hnode, d int)
	walk = func(n *hnode, d int) {
		if n.left == nil {
			depth[n.id] = d
			return
		}
		walk(n.left, d+1)
		walk(n.right, d+1)
	}
	walk(h[0], 0)
	return depth
}

// canonicalCodes assigns canonical codes (DEFLATE, RFC 1951 §3.2.2): codes
// of one length are consecutive integers in symbol order, and shorter codes
// come first, so the lengths alone define the code.
func canonicalCodes(lengths []uint8) []uint32 {
	var count [maxCodeLen + 1]uint32
	for _, l := range lengths {
		if l > 0 {
			count[l]++
		}
	}
	var next [maxCodeLen + 2]uint32
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lengths))
	for s, l := range lengths {
		if l > 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

// huffmanDecoder decodes canonical codes one bit at a time (as zlib's
// puff.c does): count[l] codes of length l, symbols sorted by (length,
// symbol).
type huffmanDecoder struct {
	count   [maxCodeLen + 1]int
	symbols []uint32
}

var errNoCodes = errors.New("the Huffman table has no codes")

// newHuffmanDecoder checks the lengths (each ≤ 15, at least one code, the
// Kraft sum Σ2^−l ≤ 1) and builds the decoder. An incomplete code is
// allowed: bit patterns it leaves unassigned are errors when decoded.
func newHuffmanDecoder(lengths []uint8) (*huffmanDecoder, error) {
	d := &huffmanDecoder{}
	n := 0
	for _, l := range lengths {
		if l > maxCodeLen {
			return nil, fmt.Errorf("Huffman code length %d exceeds %d", l, maxCodeLen)
		}
		if l > 0 {
			d.count[l]++
			n++
		}
	}
	if n == 0 {
		return nil, errNoCodes
	}
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left <<= 1
		left -= d.count[l]
		if left < 0 {
			return nil, errors.New("the Huffman code lengths are over-subscribed (Kraft sum > 1)")
		}
	}
	var offs [maxCodeLen + 2]int
	for l := 1; l <= maxCodeLen; l++ {
		offs[l+1] = offs[l] + d.count[l]
	}
	d.symbols = make([]uint32, n)
	for s, l := range lengths {
		if l > 0 {
			d.symbols[offs[l]] = uint32(s)
			offs[l]++
		}
	}
	return d, nil
}

func (d *huffmanDecoder) decode(r *bitReader) (uint32, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxCodeLen; l++ {
		bit, err := r.readBit()
		if err != nil {
			return 0, err
		}
		code |= int(bit)
		count := d.count[l]
		if code-first < count {
			return d.symbols[index+code-first], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("a bit pattern matches no Huffman code")
}
