package modelfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/internal/checked"
)

// Limits a reader enforces, so a corrupt or hostile file gets an error
// instead of a huge allocation.
const (
	MaxFileBytes     = 1 << 28 // 256 MiB
	MaxTensorWeights = 1 << 24 // weights in one matrix: 64 MiB as float32
	maxModelWeights  = 1 << 26
	maxLayers        = 1 << 12
	minFileBytes     = 16 + 1 + 4 // fixed header, a layer count, checksum
)

// Read loads a model written by Write. A file that is not a model file, is
// of another version, is truncated, fails its checksum or breaks any rule
// of the format gets an error that says so; Read never panics on bad input
// and allocates at most in proportion to the file and the limits above.
//
// Layers come back as nn.Dense (Bits as written; a pruning mask rebuilt as
// W ≠ 0 when the layer had one), lowrank.Layer, nn.ReLU, nn.Dropout (its
// random stream re-seeded with 0) and quant.ActQuant. Gradients and
// optimizer state are not stored.
func Read(r io.Reader) (*nn.Sequential, error) {
	m, _, err := parse(r)
	return m, err
}

// Inspect reads a model file and says what it holds, layer by layer: kind,
// shape, encoding, bytes, non-zeros and bits. It checks the file as Read
// does.
func Inspect(r io.Reader) (Summary, error) {
	_, s, err := parse(r)
	return s, err
}

func parse(r io.Reader) (*nn.Sequential, Summary, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, Summary{}, fmt.Errorf("read model file: %w", err)
	}
	m, s, err := parseBytes(data)
	if err != nil {
		return nil, Summary{}, fmt.Errorf("read model file: %w", err)
	}
	return m, s, nil
}

func parseBytes(data []byte) (*nn.Sequential, Summary, error) {
	if len(data) > MaxFileBytes {
		return nil, Summary{}, fmt.Errorf("the file is larger than the %d-byte limit", MaxFileBytes)
	}
	if len(data) < 4 || string(data[:4]) != Magic {
		head := data[:min(4, len(data))]
		return nil, Summary{}, fmt.Errorf("not a pruner-tui model file: it starts with %q, want %q", head, Magic)
	}
	if len(data) < minFileBytes {
		return nil, Summary{}, fmt.Errorf("the file is truncated: %d bytes, less than the %d-byte minimum", len(data), minFileBytes)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != Version {
		return nil, Summary{}, fmt.Errorf("model file version %d is not supported: this build reads version %d", v, Version)
	}
	if f := binary.LittleEndian.Uint16(data[6:]); f != 0 {
		return nil, Summary{}, fmt.Errorf("header flags %#04x are unknown: version %d defines none", f, Version)
	}
	length := binary.LittleEndian.Uint32(data[8:])
	if uint64(length) > uint64(len(data)) {
		return nil, Summary{}, fmt.Errorf("the file is truncated: it has %d bytes, its header says %d", len(data), length)
	}
	if uint64(length) < uint64(len(data)) {
		return nil, Summary{}, fmt.Errorf("the file has %d bytes of trailing data after the %d its header declares", uint64(len(data))-uint64(length), length)
	}
	body := data[:len(data)-4]
	stored, computed := binary.LittleEndian.Uint32(data[len(data)-4:]), crc32.ChecksumIEEE(body)
	if stored != computed {
		return nil, Summary{}, fmt.Errorf("checksum mismatch: the file is corrupt (stored CRC-32 %08x, computed %08x)", stored, computed)
	}
	headerLen := binary.LittleEndian.Uint32(data[12:])
	if uint64(headerLen) > uint64(len(body)-16) {
		return nil, Summary{}, fmt.Errorf("the header length %d runs past the end of the file", headerLen)
	}
	d := &decoder{
		header:  parser{data: body[16 : 16+headerLen]},
		payload: parser{data: body[16+headerLen:]},
	}
	m, layers, err := d.model()
	if err != nil {
		return nil, Summary{}, err
	}
	return m, Summary{Version: Version, FileBytes: int64(len(data)), HeaderBytes: int64(headerLen), Checksum: stored, Layers: layers}, nil
}

type decoder struct {
	header, payload parser
	weights         int // across the model, against maxModelWeights
}

func (d *decoder) model() (*nn.Sequential, []LayerSummary, error) {
	n, err := d.header.uvarint(maxLayers)
	if err != nil {
		return nil, nil, fmt.Errorf("layer count: %w", err)
	}
	m := &nn.Sequential{}
	var sums []LayerSummary
	for i := 0; i < n; i++ {
		l, s, err := d.layer()
		if err != nil {
			return nil, nil, fmt.Errorf("layer %d of %d: %w", i, n, err)
		}
		m.Layers = append(m.Layers, l)
		sums = append(sums, s)
	}
	if err := checkChain(m); err != nil {
		return nil, nil, err
	}
	if left := len(d.header.data) - d.header.pos; left != 0 {
		return nil, nil, fmt.Errorf("the header has %d bytes after its last layer", left)
	}
	if left := len(d.payload.data) - d.payload.pos; left != 0 {
		return nil, nil, fmt.Errorf("the payload has %d bytes after its last tensor", left)
	}
	return m, sums, nil
}

func (d *decoder) layer() (nn.Layer, LayerSummary, error) {
	kind, err := d.header.u8()
	if err != nil {
		return nil, LayerSummary{}, err
	}
	switch kind {
	case kindDense:
		dense, t, err := d.tensor()
		if err != nil {
			return nil, LayerSummary{}, err
		}
		return dense, LayerSummary{Name: dense.LayerName, Kind: "dense", In: dense.In, Out: dense.Out, Tensors: []TensorSummary{t}, Bytes: t.WeightBytes + t.BiasBytes}, nil
	case kindLowrank:
		name, err := d.header.name()
		if err != nil {
			return nil, LayerSummary{}, err
		}
		rank, err := d.header.uvarint(MaxTensorWeights)
		if err != nil {
			return nil, LayerSummary{}, fmt.Errorf("low-rank layer %s: rank: %w", name, err)
		}
		a, ta, err := d.tensor()
		if err != nil {
			return nil, LayerSummary{}, fmt.Errorf("low-rank layer %s: %w", name, err)
		}
		b, tb, err := d.tensor()
		if err != nil {
			return nil, LayerSummary{}, fmt.Errorf("low-rank layer %s: %w", name, err)
		}
		if rank < 1 || a.Out != rank || b.In != rank || a.HasBias() {
			return nil, LayerSummary{}, fmt.Errorf("low-rank layer %s: factors %d×%d and %d×%d (first with bias: %v) do not make a rank-%d pair", name, a.In, a.Out, b.In, b.Out, a.HasBias(), rank)
		}
		l := &lowrank.Layer{LayerName: name, First: a, Second: b, In: a.In, Out: b.Out, Rank: rank}
		return l, LayerSummary{Name: name, Kind: "lowrank", In: a.In, Out: b.Out, Rank: rank, Tensors: []TensorSummary{ta, tb},
			Bytes: ta.WeightBytes + ta.BiasBytes + tb.WeightBytes + tb.BiasBytes}, nil
	case kindReLU:
		name, err := d.header.name()
		if err != nil {
			return nil, LayerSummary{}, err
		}
		return nn.NewReLU(name), LayerSummary{Name: name, Kind: "relu"}, nil
	case kindDropout:
		name, err := d.header.name()
		if err != nil {
			return nil, LayerSummary{}, err
		}
		rate, err := d.header.f32()
		if err != nil {
			return nil, LayerSummary{}, err
		}
		if !(rate >= 0 && rate < 1) {
			return nil, LayerSummary{}, fmt.Errorf("dropout %s: rate %v is out of range: allowed [0, 1)", name, rate)
		}
		return nn.NewDropout(name, rate, 0), LayerSummary{Name: name, Kind: "dropout"}, nil
	case kindActQuant:
		return d.actQuant()
	case kindConv:
		return d.conv()
	case kindConvLR:
		return d.convLowrank()
	case kindMaxPool, kindFlatten:
		return d.imageLayer(kind)
	}
	return nil, LayerSummary{}, fmt.Errorf("layer kind %d is unknown: allowed 1 (dense), 2 (low-rank), 3 (ReLU), 4 (dropout), 5 (activation quantizer), 6 (convolution), 7 (max-pool), 8 (flatten), 9 (low-rank convolution)", kind)
}

// maxImageDim bounds every dimension and window of an image layer.
const maxImageDim = 1 << 16

// imageHeader reads an image layer's name, input shape and n window
// numbers (size, stride, padding).
func (d *decoder) imageHeader(n int) (string, nn.Shape, []int, error) {
	name, err := d.header.name()
	if err != nil {
		return "", nn.Shape{}, nil, err
	}
	vals := make([]int, 3+n)
	for i := range vals {
		if vals[i], err = d.header.uvarint(maxImageDim); err != nil {
			return "", nn.Shape{}, nil, fmt.Errorf("layer %s: %w", name, err)
		}
	}
	in := nn.Shape{H: vals[0], W: vals[1], C: vals[2]}
	if in.H < 1 || in.W < 1 || in.C < 1 || int64(in.H)*int64(in.W)*int64(in.C) > MaxTensorWeights {
		return "", nn.Shape{}, nil, fmt.Errorf("layer %s: input shape %s is out of range", name, in)
	}
	return name, in, vals[3:], nil
}

// conv reads a convolution: its shape, then its filters as a tensor.
func (d *decoder) conv() (nn.Layer, LayerSummary, error) {
	name, in, w, err := d.imageHeader(3)
	if err != nil {
		return nil, LayerSummary{}, err
	}
	k, stride, pad := w[0], w[1], w[2]
	ho, wo := nn.ConvOut(in.H, k, stride, pad), nn.ConvOut(in.W, k, stride, pad)
	if k < 1 || ho < 1 || wo < 1 || pad >= k {
		return nil, LayerSummary{}, fmt.Errorf("convolution %s: a %d×%d window (stride %d, padding %d) does not fit its %s input", name, k, k, stride, pad, in)
	}
	kernel, t, err := d.tensor()
	if err != nil {
		return nil, LayerSummary{}, fmt.Errorf("convolution %s: %w", name, err)
	}
	if kernel.In != k*k*in.C || kernel.LayerName != name {
		return nil, LayerSummary{}, fmt.Errorf("convolution %s: filters %s are %d×%d, want %d inputs (%d×%d×%d)", name, kernel.LayerName, kernel.In, kernel.Out, k*k*in.C, k, k, in.C)
	}
	c := &nn.Conv2D{LayerName: name, In: in, Out: nn.Shape{H: ho, W: wo, C: kernel.Out}, K: k, Stride: stride, Pad: pad, Kernel: kernel}
	return c, LayerSummary{Name: name, Kind: "conv", In: in.C, Out: kernel.Out, Tensors: []TensorSummary{t}, Bytes: t.WeightBytes + t.BiasBytes}, nil
}

// convLowrank reads a factorized convolution: its name and rank, then the
// K×K convolution to rank channels and the 1×1 one after it.
func (d *decoder) convLowrank() (nn.Layer, LayerSummary, error) {
	name, err := d.header.name()
	if err != nil {
		return nil, LayerSummary{}, err
	}
	rank, err := d.header.uvarint(maxImageDim)
	if err != nil {
		return nil, LayerSummary{}, fmt.Errorf("low-rank convolution %s: rank: %w", name, err)
	}
	var convs [2]*nn.Conv2D
	var sum LayerSummary
	for i := range convs {
		l, s, err := d.conv()
		if err != nil {
			return nil, LayerSummary{}, fmt.Errorf("low-rank convolution %s: %w", name, err)
		}
		convs[i] = l.(*nn.Conv2D)
		sum.Tensors = append(sum.Tensors, s.Tensors...)
		sum.Bytes += s.Bytes
	}
	a, b := convs[0], convs[1]
	if rank < 1 || a.Out.C != rank || b.In != a.Out || b.K != 1 || b.Stride != 1 || b.Pad != 0 || a.Kernel.HasBias() {
		return nil, LayerSummary{}, fmt.Errorf("low-rank convolution %s: %s (%v→%v, bias %v) then %s (%d×%d, %v→%v) do not make a rank-%d pair", name,
			a.LayerName, a.In, a.Out, a.Kernel.HasBias(), b.LayerName, b.K, b.K, b.In, b.Out, rank)
	}
	l := &lowrank.ConvLayer{LayerName: name, First: a, Second: b, Rank: rank}
	sum.Name, sum.Kind, sum.In, sum.Out, sum.Rank = name, "lowrank-conv", a.In.C, b.Out.C, rank
	return l, sum, nil
}

// imageLayer reads a max-pool or a flatten.
func (d *decoder) imageLayer(kind byte) (nn.Layer, LayerSummary, error) {
	if kind == kindFlatten {
		name, in, _, err := d.imageHeader(0)
		if err != nil {
			return nil, LayerSummary{}, err
		}
		return nn.NewFlatten(name, in), LayerSummary{Name: name, Kind: "flatten", In: in.Size(), Out: in.Size()}, nil
	}
	name, in, w, err := d.imageHeader(2)
	if err != nil {
		return nil, LayerSummary{}, err
	}
	size, stride := w[0], w[1]
	if size < 1 || nn.ConvOut(in.H, size, stride, 0) < 1 || nn.ConvOut(in.W, size, stride, 0) < 1 {
		return nil, LayerSummary{}, fmt.Errorf("max-pool %s: a %d×%d window (stride %d) does not fit its %s input", name, size, size, stride, in)
	}
	p := nn.NewMaxPool2D(name, in, size, stride)
	return p, LayerSummary{Name: name, Kind: "maxpool", In: in.C, Out: in.C}, nil
}

func (d *decoder) actQuant() (nn.Layer, LayerSummary, error) {
	h := &d.header
	name, err := h.name()
	if err != nil {
		return nil, LayerSummary{}, err
	}
	fixed, err := h.bytes(3)
	if err != nil {
		return nil, LayerSummary{}, err
	}
	bits, sym, zp := int(fixed[0]), fixed[1], int32(fixed[2])
	if bits < 2 || bits > 8 || sym > 1 {
		return nil, LayerSummary{}, fmt.Errorf("activation quantizer %s: bits %d or symmetric flag %d out of range (bits 2–8, flag 0 or 1)", name, bits, sym)
	}
	layer, err := h.name()
	if err != nil {
		return nil, LayerSummary{}, err
	}
	var f [3]float32
	for i := range f {
		if f[i], err = h.f32(); err != nil {
			return nil, LayerSummary{}, err
		}
		if math.IsNaN(float64(f[i])) || math.IsInf(float64(f[i]), 0) {
			return nil, LayerSummary{}, fmt.Errorf("activation quantizer %s: a range value is not finite", name)
		}
	}
	if f[2] < 0 {
		return nil, LayerSummary{}, fmt.Errorf("activation quantizer %s: scale %v is negative", name, f[2])
	}
	a := &quant.ActQuant{LayerName: name, Range: quant.ActivationRange{Layer: layer, Bits: bits, Symmetric: sym == 1, Min: f[0], Max: f[1], Scale: f[2], ZeroPoint: zp}}
	return a, LayerSummary{Name: name, Kind: "actquant"}, nil
}

// tensor reads one weight matrix: its header record, then its payload.
func (d *decoder) tensor() (*nn.Dense, TensorSummary, error) {
	h := &d.header
	name, err := h.name()
	if err != nil {
		return nil, TensorSummary{}, err
	}
	fail := func(format string, args ...any) (*nn.Dense, TensorSummary, error) {
		return nil, TensorSummary{}, fmt.Errorf("tensor %s: %s", name, fmt.Sprintf(format, args...))
	}
	in, err := h.uvarint(MaxTensorWeights)
	if err != nil {
		return fail("rows: %v", err)
	}
	out, err := h.uvarint(MaxTensorWeights)
	if err != nil {
		return fail("columns: %v", err)
	}
	// The product is checked, not computed: where int has 32 bits, two
	// in-range dimensions can wrap around.
	weights, ok := checked.Product(MaxTensorWeights, uint64(in), uint64(out))
	if in < 1 || out < 1 || !ok {
		return fail("shape %d×%d is not allowed: 1 to %d weights", in, out, MaxTensorWeights)
	}
	if d.weights += int(weights); d.weights > maxModelWeights {
		return fail("the model exceeds %d weights in all", maxModelWeights)
	}
	fixed, err := h.bytes(4)
	if err != nil {
		return fail("%v", err)
	}
	bits, flags, layout, values := int(fixed[0]), fixed[1], int(fixed[2]), int(fixed[3])
	switch {
	case bits > 32:
		return fail("bit width %d is out of range: allowed 0–32", bits)
	case flags&^(flagBias|flagMasked) != 0:
		return fail("flags %#02x are unknown: allowed bits %#x (bias) and %#x (masked)", flags, flagBias, flagMasked)
	case layout > layoutSparseIn:
		return fail("layout %d is unknown: allowed 0 (dense), 1 (sparse by output), 2 (sparse by input)", layout)
	case values > valuesCodebook:
		return fail("value encoding %d is unknown: allowed 0 (float32), 1 (uniform), 2 (codebook)", values)
	}
	stored, err := h.uvarint(in * out)
	if err != nil {
		return fail("stored values: %v", err)
	}
	if layout == layoutDense && stored != in*out {
		return fail("a dense layout stores all %d weights, not %d", in*out, stored)
	}
	size, err := h.uvarint(len(d.payload.data))
	if err != nil {
		return fail("payload size: %v", err)
	}
	raw, err := d.payload.bytes(size)
	if err != nil {
		return fail("weights: %v", err)
	}
	// Every stored value takes at least one bit: refuse a count the payload
	// cannot hold before allocating for it.
	if uint64(stored) > uint64(size)*8 {
		return fail("%d stored values cannot fit in %d bytes", stored, size)
	}
	t := TensorSummary{Name: name, In: in, Out: out, Bits: bits, Layout: layoutNames[layout], Encoding: valueNames[values],
		Stored: stored, WeightBytes: int64(size), CodeBits: 32}
	p := &parser{data: raw}
	w := make([]float32, in*out)
	// place maps the k-th stored value to its index in W (row-major In×Out).
	var place []int
	if layout == layoutDense {
		place = make([]int, stored)
		for k := range place {
			j, i := k/in, k%in
			place[k] = i*out + j
		}
	} else if place, err = positions(p, stored, in, out, layout, &t); err != nil {
		return fail("positions: %v", err)
	}
	vals, err := decodeValues(p, values, place, out, &t)
	if err != nil {
		return fail("%s values: %v", valueNames[values], err)
	}
	if left := len(p.data) - p.pos; left != 0 {
		return fail("%d bytes left over in the weight payload", left)
	}
	for k, v := range vals {
		w[place[k]] = v
	}
	var bias []float32
	if flags&flagBias != 0 {
		b, err := d.payload.bytes(4 * out)
		if err != nil {
			return fail("biases: %v", err)
		}
		bias = make([]float32, out)
		for j := range bias {
			bias[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		t.BiasBytes = int64(4 * out)
	}
	dense := newDense(name, in, out, bits, w, bias, flags&flagMasked != 0)
	t.NonZero = dense.W.NonZero()
	return dense, t, nil
}

func newDense(name string, in, out, bits int, w, bias []float32, masked bool) *nn.Dense {
	var d *nn.Dense
	if bias == nil {
		d = nn.NewDenseNoBias(name, in, out)
		copy(d.W.Value.Data, w)
	} else {
		d = &nn.Dense{
			LayerName: name, In: in, Out: out,
			W: &nn.Param{Name: name + ".W", Value: nn.Matrix{Rows: in, Cols: out, Data: w}, Grad: nn.NewMatrix(in, out)},
			B: &nn.Param{Name: name + ".b", Value: nn.Matrix{Rows: 1, Cols: out, Data: bias}, Grad: nn.NewMatrix(1, out)},
		}
	}
	d.Bits = bits
	if masked {
		d.W.Mask = make([]float32, len(w))
		for i, v := range d.W.Value.Data {
			if v != 0 {
				d.W.Mask[i] = 1
			}
		}
	}
	return d
}

// positions decodes the relative indices of a sparse layout into indices of
// W (row-major In×Out), ascending in scan order.
func positions(p *parser, stored, in, out, layout int, t *TensorSummary) ([]int, error) {
	g, err := p.u8()
	if err != nil {
		return nil, err
	}
	if g < 1 || g > maxGapBits {
		return nil, fmt.Errorf("relative-index width %d is out of range: allowed 1–%d", g, maxGapBits)
	}
	maxSymbols, ok := checked.Product(math.MaxInt, uint64(len(p.data)), 8) // a symbol takes a bit at least
	if !ok {
		maxSymbols = math.MaxInt
	}
	count, err := p.uvarint(int(maxSymbols))
	if err != nil {
		return nil, fmt.Errorf("symbol count: %w", err)
	}
	symbols, info, err := p.decodeStream(count, uint(g))
	if err != nil {
		return nil, err
	}
	t.GapBits, t.GapHuffman = int(g), info.huffman
	escape := 1<<g - 1
	total := in * out
	place := make([]int, 0, stored)
	next := 0
	for _, s := range symbols {
		if int(s) == escape {
			next += escape
			if next > total {
				return nil, fmt.Errorf("relative indices run past the %d weights", total)
			}
			continue
		}
		pos := next + int(s)
		if pos >= total || len(place) == stored {
			return nil, fmt.Errorf("relative indices place more than %d values or run past the %d weights", stored, total)
		}
		if layout == layoutSparseOut {
			j, i := pos/in, pos%in
			place = append(place, i*out+j)
		} else {
			place = append(place, pos)
		}
		next = pos + 1
	}
	if len(place) != stored {
		return nil, fmt.Errorf("relative indices place %d values, the header says %d", len(place), stored)
	}
	return place, nil
}

// decodeValues reads the stored values; place gives each one's index in W,
// hence its output channel (index mod out) for per-channel groups.
func decodeValues(p *parser, encoding int, place []int, out int, t *TensorSummary) ([]float32, error) {
	n := len(place)
	switch encoding {
	case valuesF32:
		b, err := p.bytes(4 * n)
		if err != nil {
			return nil, err
		}
		vals := make([]float32, n)
		for k := range vals {
			vals[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
		}
		return vals, nil
	case valuesUniform:
		return decodeUniform(p, place, out, t)
	case valuesCodebook:
		return decodeCodebook(p, place, out, t)
	}
	return nil, errors.New("unknown value encoding") // checked by the caller
}

func readGroupMode(p *parser, out int, t *TensorSummary) (int, error) {
	mode, err := p.u8()
	if err != nil {
		return 0, err
	}
	switch mode {
	case groupTensor:
		t.Groups = "tensor"
		return 1, nil
	case groupChannel:
		t.Groups = "channel"
		return out, nil
	}
	return 0, fmt.Errorf("group mode %d is unknown: allowed 0 (per tensor) or 1 (per channel)", mode)
}

func readWidth(p *parser) (uint, error) {
	w, err := p.u8()
	if err != nil {
		return 0, err
	}
	if w < 1 || w > 8 {
		return 0, fmt.Errorf("code width %d is out of range: allowed 1–8", w)
	}
	return uint(w), nil
}

func groupOf(nGroups, index, out int) int {
	if nGroups == 1 {
		return 0
	}
	return index % out
}

func decodeUniform(p *parser, place []int, out int, t *TensorSummary) ([]float32, error) {
	nGroups, err := readGroupMode(p, out, t)
	if err != nil {
		return nil, err
	}
	width, err := readWidth(p)
	if err != nil {
		return nil, err
	}
	shared, err := p.u8()
	if err != nil {
		return nil, err
	}
	if shared > 1 {
		return nil, fmt.Errorf("shared flag %d: allowed 0 or 1", shared)
	}
	readMZ := func() (int, int, error) {
		b, err := p.bytes(3)
		if err != nil {
			return 0, 0, err
		}
		m, z := int(b[0]), int(int16(binary.LittleEndian.Uint16(b[1:])))
		if m < 1 {
			return 0, 0, errors.New("a grid's code count M is 0: allowed 1–255")
		}
		return m, z, nil
	}
	var sharedM, sharedZ int
	if shared == 1 {
		if sharedM, sharedZ, err = readMZ(); err != nil {
			return nil, err
		}
	}
	steps := make([]float64, nGroups)
	zs := make([]int, nGroups)
	for g := range steps {
		r, err := p.f32()
		if err != nil {
			return nil, err
		}
		if !(r >= 0) || math.IsInf(float64(r), 0) {
			return nil, fmt.Errorf("group %d: range %v is not a finite value ≥ 0", g, r)
		}
		m, z := sharedM, sharedZ
		if shared == 0 {
			if m, z, err = readMZ(); err != nil {
				return nil, fmt.Errorf("group %d: %w", g, err)
			}
		}
		steps[g], zs[g] = float64(r)/float64(m), z
	}
	codes, info, err := p.decodeStream(len(place), width)
	if err != nil {
		return nil, err
	}
	t.CodeBits, t.Huffman = int(width), info.huffman
	vals := make([]float32, len(place))
	for k, q := range codes {
		g := groupOf(nGroups, place[k], out)
		vals[k] = float32(float64(int(q)-zs[g]) * steps[g])
	}
	return vals, nil
}

func decodeCodebook(p *parser, place []int, out int, t *TensorSummary) ([]float32, error) {
	nGroups, err := readGroupMode(p, out, t)
	if err != nil {
		return nil, err
	}
	width, err := readWidth(p)
	if err != nil {
		return nil, err
	}
	books := make([][]float32, nGroups)
	for g := range books {
		k, err := p.uvarint(1 << width)
		if err != nil {
			return nil, fmt.Errorf("group %d: codebook size: %w", g, err)
		}
		b, err := p.bytes(4 * k)
		if err != nil {
			return nil, fmt.Errorf("group %d: %w", g, err)
		}
		books[g] = make([]float32, k)
		for i := range books[g] {
			books[g][i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		t.Centroids += k
	}
	idx, info, err := p.decodeStream(len(place), width)
	if err != nil {
		return nil, err
	}
	t.CodeBits, t.Huffman = int(width), info.huffman
	vals := make([]float32, len(place))
	for k, i := range idx {
		book := books[groupOf(nGroups, place[k], out)]
		if int(i) >= len(book) {
			return nil, fmt.Errorf("value %d: index %d is past its codebook of %d entries", k, i, len(book))
		}
		vals[k] = book[i]
	}
	return vals, nil
}
