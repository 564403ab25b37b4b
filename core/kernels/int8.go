package kernels

import (
	"fmt"
	"math"
	"sync"
)

//go:generate go run -C internal/asmgen . -set int8 -out ../../int8_kern_amd64.s -stubs ../../int8_kern_stubs_amd64.go -dispatch ../../int8_tiles_amd64.go -pkg kernels

// MaxInt8Inputs is the widest layer Int8 accepts: with In·255·128 < 2³¹ the
// int32 sums cannot overflow.
const MaxInt8Inputs = 1 << 16

// Activation code ranges. VNNI multiplies u8 by s8 exactly; AVX2's
// VPMADDUBSW adds two u8·s8 products into a saturating int16, which stays
// exact only while activations are ≤ 127 (127·128·2 < 2¹⁵).
const (
	levelsU8 = 255
	levelsU7 = 127
)

// Int8 is a weight matrix W (In×Out, row-major as nn.Dense stores it)
// quantized per output channel, with the bias, for y = x·W + b at int8:
//
//	W[i][j] ≈ Scale[j]·Q[i][j],  Q integer in [−qmax, qmax], qmax = 2^(Bits−1) − 1 (1 for Bits = 1)
//
// Forward quantizes each row of x on the fly to unsigned 8-bit codes with
// its own scale and zero point (x ≈ s_r·(a − z_r), the range [min(0, x),
// max(0, x)] spread over 255 levels, 127 on AVX2-only CPUs), sums a·Q in
// int32 and dequantizes:
//
//	y[r][j] = s_r·Scale[j]·(Σ_i a[r][i]·Q[i][j] − z_r·Σ_i Q[i][j]) + b[j]
//
// where Σ_i Q[i][j] is precomputed. An Int8 is read-only after NewInt8 and
// safe for concurrent use.
type Int8 struct {
	In, Out int
	Bits    int

	kq, blocks int       // groups of 4 inputs; blocks of 16 outputs
	packed     []int8    // block jb, group q, column c, t < 4: Q[4q+t][16jb+c]
	scale      []float32 // Scale, padded with zeros to blocks·16
	colSum     []int32   // Σ_i Q[i][j], padded
	bias       []float32 // padded
}

// NewInt8 quantizes w (in×out, row-major) at bits (1 to 8) per output
// channel: Scale[j] = max_i |w[i][j]| / qmax and Q = round(w/Scale[j]),
// ties away from zero. Weights that already sit on such a grid (as
// core/quant.Quantize leaves them) get back exactly their codes. bias has out
// values, or is nil for none.
func NewInt8(w, bias []float32, in, out, bits int) (*Int8, error) {
	switch {
	case in < 1 || out < 1:
		return nil, fmt.Errorf("int8 weights %d×%d: both sizes must be at least 1", in, out)
	case in > MaxInt8Inputs:
		return nil, fmt.Errorf("int8 weights %d×%d: at most %d inputs keep the int32 sums exact", in, out, MaxInt8Inputs)
	case bits < 1 || bits > 8:
		return nil, fmt.Errorf("int8 weights %d×%d: bit width %d is out of range: allowed 1–8", in, out, bits)
	case len(w) != in*out:
		return nil, fmt.Errorf("int8 weights %d×%d: got %d values, want %d", in, out, len(w), in*out)
	case bias != nil && len(bias) != out:
		return nil, fmt.Errorf("int8 weights %d×%d: got %d biases, want %d", in, out, len(bias), out)
	}
	m := &Int8{In: in, Out: out, Bits: bits, kq: (in + 3) / 4, blocks: (out + 15) / 16}
	padded := m.blocks * 16
	m.packed = make([]int8, m.blocks*m.kq*64)
	m.scale = make([]float32, padded)
	m.colSum = make([]int32, padded)
	m.bias = make([]float32, padded)
	copy(m.bias, bias)
	qmax := float64(max(1, int(1)<<(bits-1)-1))
	for j := 0; j < out; j++ {
		var maxAbs float64
		for i := 0; i < in; i++ {
			maxAbs = max(maxAbs, math.Abs(float64(w[i*out+j])))
		}
		if maxAbs == 0 || math.IsInf(maxAbs, 0) || math.IsNaN(maxAbs) {
			continue // an empty (or unusable) channel: codes 0, scale 0
		}
		m.scale[j] = float32(maxAbs / qmax)
		jb, c := j/16, j%16
		for i := 0; i < in; i++ {
			q := int8(max(-qmax, min(qmax, math.Round(float64(w[i*out+j])*qmax/maxAbs))))
			m.packed[(jb*m.kq+i/4)*64+4*c+i%4] = q
			m.colSum[j] += int32(q)
		}
	}
	return m, nil
}

// Q returns the integer code of W[i][j].
func (m *Int8) Q(i, j int) int8 {
	return m.packed[((j/16)*m.kq+i/4)*64+4*(j%16)+i%4]
}

// Scale returns the scale of output channel j.
func (m *Int8) Scale(j int) float32 { return m.scale[j] }

// Forward computes y = x·W + b for batch rows: x is batch×In and y is
// batch×Out, both row-major and contiguous. Each row of x is quantized on
// its own, so a row's output does not depend on the rest of the batch, and
// results are bit-identical from run to run; large batches are split over
// threads.
//
// Forward panics when x or y is too short: a programming error, as in Gemm.
func (m *Int8) Forward(y, x []float32, batch int) {
	if batch < 0 || len(x) < batch*m.In || len(y) < batch*m.Out {
		panic(fmt.Sprintf("kernels: Int8.Forward of a %d×%d matrix with batch %d: x has %d values (want ≥ %d), y has %d (want ≥ %d)",
			m.In, m.Out, batch, len(x), batch*m.In, len(y), batch*m.Out))
	}
	if batch == 0 {
		return
	}
	if batch >= rowsMinParallel && forwardRows(nil, m, y, x, batch) {
		return
	}
	m.forward(y, x, batch)
}

// forward is Forward on the calling thread.
func (m *Int8) forward(y, x []float32, batch int) {
	s := int8Pool.Get().(*int8Scratch)
	defer int8Pool.Put(s)
	impl := int8Active
	kp := 4 * m.kq
	s.ensure(batch, kp)
	for r := 0; r < batch; r++ {
		s.rowScale[r], s.rowZero[r] = quantizeRow(impl, x[r*m.In:(r+1)*m.In], s.codes[r*kp:(r+1)*kp])
	}
	int8Product(impl, m, s.codes, kp, batch, y, s.rowScale, s.rowZero, false)
}

// int8Scratch holds a batch of quantized activations.
type int8Scratch struct {
	codes    []uint8
	rowScale []float32
	rowZero  []int32
}

var int8Pool = sync.Pool{New: func() any { return new(int8Scratch) }}

func (s *int8Scratch) ensure(rows, kp int) {
	if cap(s.codes) < rows*kp {
		s.codes = make([]uint8, rows*kp)
	}
	if cap(s.rowScale) < rows {
		s.rowScale = make([]float32, rows)
		s.rowZero = make([]int32, rows)
	}
	s.codes, s.rowScale, s.rowZero = s.codes[:rows*kp], s.rowScale[:rows], s.rowZero[:rows]
}

// activationParams returns the scale, its inverse and the zero point that
// spread [lo, hi] (lo ≤ 0 ≤ hi) over the codes 0..levels:
//
//	scale = (hi − lo)/levels,  zp = rne(−lo/scale),  a = clamp(rne(x/scale) + zp, 0, levels)
//
// so x ≈ scale·(a − zp) and 0 is exact. An all-zero row gets scale 0.
func activationParams(lo, hi float32, levels int32) (scale, inv float32, zp int32) {
	span := hi - lo
	if !(span > 1e-30) || math.IsInf(float64(span), 0) {
		return 0, 0, 0
	}
	scale = span / float32(levels)
	inv = 1 / scale
	return scale, inv, clampCode(roundEven(-lo*inv), 0, levels)
}

// quantCode is one activation code: clamp(rne(x·inv) + zp, 0, levels), with
// x·inv rounded to float32 first, exactly as the vector kernels do.
func quantCode(x, inv float32, zp, levels int32) uint8 {
	return uint8(clampCode(roundEven(x*inv), -zp, levels-zp) + zp)
}

// roundEven rounds to the nearest integer, ties to even (as VCVTPS2DQ);
// NaN and values beyond int32 give math.MinInt32, as VCVTPS2DQ does.
func roundEven(v float32) int32 {
	r := math.RoundToEven(float64(v))
	if !(r >= math.MinInt32 && r <= math.MaxInt32) {
		return math.MinInt32
	}
	return int32(r)
}

func clampCode(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// quantizeRowGo quantizes x into codes (len(codes) ≥ len(x); the rest is
// zeroed) and returns the row's scale and zero point.
func quantizeRowGo(x []float32, codes []uint8, levels int32) (float32, int32) {
	var lo, hi float32
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	scale, inv, zp := activationParams(lo, hi, levels)
	for i, v := range x {
		codes[i] = quantCode(v, inv, zp, levels)
	}
	clear(codes[len(x):])
	return scale, zp
}

// int8Go is the pure-Go product over the packed weights: for each row of
// codes and each block of 16 outputs, 16 int32 sums, then the epilogue
// (or, with raw, the sums themselves into rawOut).
func int8Go(m *Int8, codes []uint8, kp, rows int, y []float32, rowScale []float32, rowZero []int32, rawOut []int32) {
	for r := 0; r < rows; r++ {
		a := codes[r*kp : (r+1)*kp]
		for jb := 0; jb < m.blocks; jb++ {
			var acc [16]int32
			blk := m.packed[jb*m.kq*64 : (jb+1)*m.kq*64]
			for q := 0; q < m.kq; q++ {
				a0, a1, a2, a3 := int32(a[4*q]), int32(a[4*q+1]), int32(a[4*q+2]), int32(a[4*q+3])
				b := blk[q*64 : q*64+64]
				for c := range acc {
					acc[c] += a0*int32(b[4*c]) + a1*int32(b[4*c+1]) + a2*int32(b[4*c+2]) + a3*int32(b[4*c+3])
				}
			}
			for c := 0; c < 16 && jb*16+c < m.Out; c++ {
				j := jb*16 + c
				if rawOut != nil {
					rawOut[r*m.Out+j] = acc[c]
					continue
				}
				y[r*m.Out+j] = dequantize(acc[c], rowZero[r], m.colSum[j], rowScale[r], m.scale[j], m.bias[j])
			}
		}
	}
}

// dequantize is the epilogue of every int8 kernel, in the same order:
// ((float32(acc − zp·colSum)·rowScale)·colScale) + bias, each step rounded
// to float32 (the conversions keep the compiler from fusing).
func dequantize(acc, zp, colSum int32, rowScale, colScale, bias float32) float32 {
	v := float32(acc - zp*colSum)
	v = float32(v * rowScale)
	v = float32(v * colScale)
	return v + bias
}
