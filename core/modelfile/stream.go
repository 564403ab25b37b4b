package modelfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Stream codings.
const (
	codingFixed   = 0 // each symbol in `width` bits
	codingHuffman = 1 // canonical Huffman codes, lengths stored first
)

// encodeStream encodes symbols of an alphabet of 2^width (width ≤ 12) as
//
//	coding u8 | [Huffman: n uvarint, ⌈n/2⌉ bytes of 4-bit code lengths] | data length uvarint | data
//
// choosing fixed-width or (when allowed) Huffman codes, whichever is
// smaller; fixed wins ties. Only the chosen coding is written: the sizes of
// both are counted first (see planStream).
func encodeStream(symbols []uint32, width uint, allowHuffman bool) []byte {
	plan := planStream(symbols, width, allowHuffman)
	if !plan.huffman {
		var fw bitWriter
		for _, s := range symbols {
			fw.writeBits(s, width)
		}
		return appendBlock([]byte{codingFixed}, fw.bytes())
	}
	lengths, n := plan.lengths, plan.n
	codes := canonicalCodes(lengths)
	var hw bitWriter
	for _, s := range symbols {
		hw.writeCode(codes[s], uint(lengths[s]))
	}
	huff := []byte{codingHuffman}
	huff = binary.AppendUvarint(huff, uint64(n))
	for i := 0; i < n; i += 2 {
		b := lengths[i]
		if i+1 < n {
			b |= lengths[i+1] << 4
		}
		huff = append(huff, b)
	}
	return appendBlock(huff, hw.bytes())
}

// streamPlan is what encodeStream will write, counted without writing it.
type streamPlan struct {
	size    int     // bytes of the encoded stream
	huffman bool    // Huffman codes win
	lengths []uint8 // Huffman code lengths, when huffman
	n       int     // code lengths stored (trailing unused symbols dropped)
}

// planStream counts the exact size of both codings of symbols and picks
// the smaller, as encodeStream does: searching the best layout of a tensor
// compares many streams, and counting is far cheaper than writing them.
func planStream(symbols []uint32, width uint, allowHuffman bool) streamPlan {
	fixedData := (len(symbols)*int(width) + 7) / 8
	fixed := streamPlan{size: 1 + uvarintLen(fixedData) + fixedData}
	if !allowHuffman || len(symbols) == 0 {
		return fixed
	}
	freq := make([]int, 1<<width)
	for _, s := range symbols {
		freq[s]++
	}
	lengths := huffmanLengths(freq, maxCodeLen)
	n := len(lengths)
	for n > 0 && lengths[n-1] == 0 {
		n--
	}
	bits := 0
	for s, f := range freq {
		bits += f * int(lengths[s])
	}
	data := (bits + 7) / 8
	size := 1 + uvarintLen(n) + (n+1)/2 + uvarintLen(data) + data
	if size < fixed.size {
		return streamPlan{size: size, huffman: true, lengths: lengths, n: n}
	}
	return fixed
}

// uvarintLen is the length of v as a uvarint.
func uvarintLen(v int) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendBlock(dst, data []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(data)))
	return append(dst, data...)
}

// streamInfo says how a stream was coded, for Inspect.
type streamInfo struct {
	huffman bool
	bytes   int
}

// decodeStream reads a stream of count symbols of an alphabet of 2^width.
func (p *parser) decodeStream(count int, width uint) ([]uint32, streamInfo, error) {
	start := p.pos
	coding, err := p.u8()
	if err != nil {
		return nil, streamInfo{}, err
	}
	var dec *huffmanDecoder
	switch coding {
	case codingFixed:
	case codingHuffman:
		n, err := p.uvarint(1 << width)
		if err != nil {
			return nil, streamInfo{}, fmt.Errorf("Huffman table size: %w", err)
		}
		packed, err := p.bytes((n + 1) / 2)
		if err != nil {
			return nil, streamInfo{}, err
		}
		lengths := make([]uint8, n)
		for i := range lengths {
			lengths[i] = packed[i/2] >> (4 * (i % 2)) & 15
		}
		if dec, err = newHuffmanDecoder(lengths); err != nil {
			if errors.Is(err, errNoCodes) && count == 0 {
				dec = nil
			} else {
				return nil, streamInfo{}, err
			}
		}
	default:
		return nil, streamInfo{}, fmt.Errorf("stream coding %d is unknown: allowed 0 (fixed width) or 1 (Huffman)", coding)
	}
	size, err := p.uvarint(len(p.data))
	if err != nil {
		return nil, streamInfo{}, fmt.Errorf("stream length: %w", err)
	}
	data, err := p.bytes(size)
	if err != nil {
		return nil, streamInfo{}, err
	}
	// Every symbol takes at least one bit: a count the data cannot hold is
	// corrupt, and is refused before anything is allocated for it.
	if uint64(count) > uint64(len(data))*8 {
		return nil, streamInfo{}, fmt.Errorf("the stream claims %d symbols but holds only %d bytes", count, len(data))
	}
	if coding == codingFixed && uint64(count)*uint64(width) > uint64(len(data))*8 {
		return nil, streamInfo{}, fmt.Errorf("the stream claims %d symbols of %d bits but holds only %d bytes", count, width, len(data))
	}
	symbols := make([]uint32, count)
	r := &bitReader{data: data}
	for i := range symbols {
		if dec != nil {
			symbols[i], err = dec.decode(r)
		} else {
			symbols[i], err = r.readBits(width)
		}
		if err != nil {
			return nil, streamInfo{}, fmt.Errorf("symbol %d of %d: %w", i, count, err)
		}
	}
	return symbols, streamInfo{huffman: dec != nil, bytes: p.pos - start}, nil
}

// parser reads little-endian fields from a byte slice; every read checks
// the bounds and says what ran out.
type parser struct {
	data []byte
	pos  int
}

var errTruncated = errors.New("unexpected end of data")

func (p *parser) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(p.data)-p.pos {
		return nil, fmt.Errorf("%w: need %d bytes at offset %d, %d left", errTruncated, n, p.pos, len(p.data)-p.pos)
	}
	b := p.data[p.pos : p.pos+n]
	p.pos += n
	return b, nil
}

func (p *parser) u8() (uint8, error) {
	b, err := p.bytes(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (p *parser) u32() (uint32, error) {
	b, err := p.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (p *parser) f32() (float32, error) {
	v, err := p.u32()
	return math.Float32frombits(v), err
}

// uvarint reads an unsigned LEB128 value and checks it is at most limit.
func (p *parser) uvarint(limit int) (int, error) {
	v, n := binary.Uvarint(p.data[p.pos:])
	if n == 0 {
		return 0, fmt.Errorf("%w: a varint at offset %d", errTruncated, p.pos)
	}
	if n < 0 {
		return 0, fmt.Errorf("the varint at offset %d overflows 64 bits", p.pos)
	}
	if v > uint64(limit) {
		return 0, fmt.Errorf("value %d at offset %d exceeds the limit %d", v, p.pos, limit)
	}
	p.pos += n
	return int(v), nil
}

// name reads a length-prefixed UTF-8 name of 1–255 bytes.
func (p *parser) name() (string, error) {
	n, err := p.uvarint(maxNameBytes)
	if err != nil {
		return "", fmt.Errorf("name length: %w", err)
	}
	b, err := p.bytes(n)
	if err != nil {
		return "", err
	}
	if n == 0 || !utf8.Valid(b) {
		return "", fmt.Errorf("a layer name must be 1–%d bytes of UTF-8, got %q", maxNameBytes, b)
	}
	return string(b), nil
}
