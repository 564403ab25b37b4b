package modelfile

import "errors"

// bitWriter packs bits into bytes least-significant bit first, as DEFLATE
// does: the first bit written is bit 0 of the first byte.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

// writeBits appends the low n bits of v (n ≤ 32), lowest first.
func (w *bitWriter) writeBits(v uint32, n uint) {
	w.acc |= uint64(v&(1<<n-1)) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// writeCode appends a Huffman code of n bits most-significant bit first, so
// a decoder reading one bit at a time sees the code's prefix first.
func (w *bitWriter) writeCode(code uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.writeBits(code>>uint(i)&1, 1)
	}
}

// bytes flushes the last partial byte (zero-padded) and returns the data.
func (w *bitWriter) bytes() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.buf
}

var errStreamShort = errors.New("the bit stream ends early")

// bitReader reads bits least-significant first from data.
type bitReader struct {
	data []byte
	pos  uint64 // in bits
}

func (r *bitReader) readBits(n uint) (uint32, error) {
	if r.pos+uint64(n) > uint64(len(r.data))*8 {
		return 0, errStreamShort
	}
	var v uint32
	for i := uint(0); i < n; i++ {
		bit := r.data[r.pos>>3] >> (r.pos & 7) & 1
		v |= uint32(bit) << i
		r.pos++
	}
	return v, nil
}

func (r *bitReader) readBit() (uint32, error) {
	if r.pos >= uint64(len(r.data))*8 {
		return 0, errStreamShort
	}
	bit := r.data[r.pos>>3] >> (r.pos & 7) & 1
	r.pos++
	return uint32(bit), nil
}
