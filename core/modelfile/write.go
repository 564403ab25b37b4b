package modelfile

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// Format constants; see the package documentation for the layout.
const (
	Magic   = "PRTM"
	Version = 1

	maxNameBytes = 255
	maxGapBits   = 12
)

// Layer kinds.
const (
	kindDense    = 1
	kindLowrank  = 2
	kindReLU     = 3
	kindDropout  = 4
	kindActQuant = 5
	kindConv     = 6
	kindMaxPool  = 7
	kindFlatten  = 8
	kindConvLR   = 9
)

// Tensor layouts: which weights are stored, in which order.
const (
	layoutDense     = 0 // all In·Out weights, output channel by output channel ([out][in])
	layoutSparseOut = 1 // non-zeros only, scanned [out][in], positions as relative indices
	layoutSparseIn  = 2 // non-zeros only, scanned [in][out] (W's own row-major order)
)

// Value encodings.
const (
	valuesF32      = 0
	valuesUniform  = 1
	valuesCodebook = 2
)

// Groups of a uniform grid or a codebook.
const (
	groupTensor  = 0
	groupChannel = 1 // one per output channel j
)

// Tensor flags.
const (
	flagBias   = 1 // Out float32 biases follow the weight payload
	flagMasked = 2 // the layer had a pruning mask: rebuild it as W ≠ 0
)

// WriteOptions choose how Write stores weights.
type WriteOptions struct {
	// Huffman entropy-codes every index, code and relative-index stream
	// with a canonical Huffman code when that makes it smaller.
	Huffman bool
	// Uncompressed stores every weight matrix as dense float32: the
	// reference that compression ratios divide by.
	Uncompressed bool
}

// Write stores m in the model-file format (see the package documentation)
// and returns the bytes written. Each weight matrix is stored in the
// smallest lossless form found: dense or sparse with relative indices,
// float32, uniform codes with per-group scales (detected from the values a
// quant quantizer leaves), or a codebook with indices; reading the file
// back gives the same float32 weights (with −0 read as +0 outside dense
// float32). It can store Dense, lowrank.Layer, ReLU, Dropout and
// quant.ActQuant layers.
func Write(w io.Writer, m *nn.Sequential, o WriteOptions) (n int64, err error) {
	file, err := encodeModel(m, o)
	if err != nil {
		return 0, err
	}
	k, err := w.Write(file)
	return int64(k), err
}

// Size is the number of bytes Write would write: the honest stored size of
// the model.
func Size(m *nn.Sequential, o WriteOptions) (int64, error) {
	file, err := encodeModel(m, o)
	return int64(len(file)), err
}

func encodeModel(m *nn.Sequential, o WriteOptions) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("write model file: the model is nil")
	}
	if err := checkChain(m); err != nil {
		return nil, fmt.Errorf("write model file: %w", err)
	}
	if len(m.Layers) > maxLayers {
		return nil, fmt.Errorf("write model file: %d layers exceed the format's limit of %d", len(m.Layers), maxLayers)
	}
	var header, payload []byte
	header = binary.AppendUvarint(header, uint64(len(m.Layers)))
	tensor := func(d *nn.Dense) error {
		h, p, err := encodeTensor(d, o)
		if err != nil {
			return fmt.Errorf("write model file: layer %s: %w", d.LayerName, err)
		}
		header = append(header, h...)
		payload = append(payload, p...)
		return nil
	}
	for i, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Dense:
			header = append(header, kindDense)
			if err := tensor(l); err != nil {
				return nil, err
			}
		case *lowrank.Layer:
			if l.First == nil || l.Second == nil || l.First.Out != l.Rank || l.Second.In != l.Rank || l.First.In != l.In || l.Second.Out != l.Out {
				return nil, fmt.Errorf("write model file: low-rank layer %s: factors do not match rank %d", l.LayerName, l.Rank)
			}
			header = append(header, kindLowrank)
			var err error
			if header, err = appendName(header, l.LayerName); err != nil {
				return nil, err
			}
			header = binary.AppendUvarint(header, uint64(l.Rank))
			if err := encodeFactors(&header, &payload, l, o); err != nil {
				return nil, err
			}
		case *nn.ReLU:
			header = append(header, kindReLU)
			var err error
			if header, err = appendName(header, l.LayerName); err != nil {
				return nil, err
			}
		case *nn.Dropout:
			header = append(header, kindDropout)
			var err error
			if header, err = appendName(header, l.LayerName); err != nil {
				return nil, err
			}
			if !(l.Rate >= 0 && l.Rate < 1) {
				return nil, fmt.Errorf("write model file: dropout %s: rate %v is out of range: allowed [0, 1)", l.LayerName, l.Rate)
			}
			header = binary.LittleEndian.AppendUint32(header, math.Float32bits(l.Rate))
		case *nn.Conv2D:
			header = append(header, kindConv)
			if err := appendConv(&header, l, tensor); err != nil {
				return nil, err
			}
		case *lowrank.ConvLayer:
			header = append(header, kindConvLR)
			var err error
			if header, err = appendName(header, l.LayerName); err != nil {
				return nil, err
			}
			header = binary.AppendUvarint(header, uint64(l.Rank))
			for _, c := range []*nn.Conv2D{l.First, l.Second} {
				if err := appendConv(&header, c, tensor); err != nil {
					return nil, err
				}
			}
		case *nn.MaxPool2D:
			header = append(header, kindMaxPool)
			var err error
			if header, err = appendImageLayer(header, l.LayerName, l.In, l.Size, l.Stride); err != nil {
				return nil, err
			}
		case *nn.Flatten:
			header = append(header, kindFlatten)
			var err error
			if header, err = appendImageLayer(header, l.LayerName, l.In); err != nil {
				return nil, err
			}
		case *quant.ActQuant:
			header = append(header, kindActQuant)
			var err error
			if header, err = appendName(header, l.LayerName); err != nil {
				return nil, err
			}
			r := l.Range
			if r.Bits < 2 || r.Bits > 8 || r.ZeroPoint < 0 || r.ZeroPoint > 255 {
				return nil, fmt.Errorf("write model file: activation quantizer %s: bits %d or zero point %d out of range", l.LayerName, r.Bits, r.ZeroPoint)
			}
			sym := byte(0)
			if r.Symmetric {
				sym = 1
			}
			header = append(header, byte(r.Bits), sym, byte(r.ZeroPoint))
			header, err = appendName(header, r.Layer)
			if err != nil {
				return nil, err
			}
			for _, f := range []float32{r.Min, r.Max, r.Scale} {
				if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
					return nil, fmt.Errorf("write model file: activation quantizer %s: range %v–%v, scale %v must be finite", l.LayerName, r.Min, r.Max, r.Scale)
				}
				header = binary.LittleEndian.AppendUint32(header, math.Float32bits(f))
			}
			if r.Scale < 0 {
				return nil, fmt.Errorf("write model file: activation quantizer %s: scale %v is negative", l.LayerName, r.Scale)
			}
		default:
			return nil, fmt.Errorf("write model file: layer %d (%q) is a %T: a model file holds Dense, low-rank, convolution, max-pool, flatten, ReLU, Dropout and ActQuant layers", i, l.Name(), l)
		}
	}
	total := 16 + len(header) + len(payload) + 4
	if total > MaxFileBytes {
		return nil, fmt.Errorf("write model file: %d bytes exceeds the format's limit of %d", total, MaxFileBytes)
	}
	file := make([]byte, 0, total)
	file = append(file, Magic...)
	file = binary.LittleEndian.AppendUint16(file, Version)
	file = binary.LittleEndian.AppendUint16(file, 0) // flags, reserved
	file = binary.LittleEndian.AppendUint32(file, uint32(total))
	file = binary.LittleEndian.AppendUint32(file, uint32(len(header)))
	file = append(file, header...)
	file = append(file, payload...)
	return binary.LittleEndian.AppendUint32(file, crc32.ChecksumIEEE(file)), nil
}

func encodeFactors(header, payload *[]byte, l *lowrank.Layer, o WriteOptions) error {
	for _, d := range []*nn.Dense{l.First, l.Second} {
		h, p, err := encodeTensor(d, o)
		if err != nil {
			return fmt.Errorf("write model file: layer %s: factor %s: %w", l.LayerName, d.LayerName, err)
		}
		*header = append(*header, h...)
		*payload = append(*payload, p...)
	}
	if l.First.HasBias() {
		return fmt.Errorf("write model file: layer %s: the first factor has a bias; a low-rank layer keeps its bias in the second", l.LayerName)
	}
	return nil
}

func appendName(dst []byte, name string) ([]byte, error) {
	if len(name) == 0 || len(name) > maxNameBytes || !utf8.ValidString(name) {
		return nil, fmt.Errorf("write model file: layer name %q must be 1–%d bytes of UTF-8", name, maxNameBytes)
	}
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	return append(dst, name...), nil
}

// encodeTensor returns the header record and the payload of one Dense
// layer's weights (and bias).
func encodeTensor(d *nn.Dense, o WriteOptions) (header, payload []byte, err error) {
	in, out := d.In, d.Out
	if in < 1 || out < 1 || int64(in)*int64(out) > MaxTensorWeights || len(d.W.Value.Data) != in*out {
		return nil, nil, fmt.Errorf("shape %d×%d (%d weights) is not storable: allowed 1 to %d weights", in, out, len(d.W.Value.Data), MaxTensorWeights)
	}
	if d.Bits < 0 || d.Bits > 32 {
		return nil, nil, fmt.Errorf("bit width %d is out of range: allowed 0–32", d.Bits)
	}
	best := tensorChoice{size: math.MaxInt}
	layouts := []int{layoutDense, layoutSparseOut, layoutSparseIn}
	if o.Uncompressed {
		layouts = layouts[:1]
	}
	for _, layout := range layouts {
		c := encodeLayout(d, layout, o)
		if c.size < best.size {
			best = c
		}
	}
	header, err = appendName(nil, d.LayerName)
	if err != nil {
		return nil, nil, err
	}
	header = binary.AppendUvarint(header, uint64(in))
	header = binary.AppendUvarint(header, uint64(out))
	flags := byte(0)
	if d.HasBias() {
		flags |= flagBias
	}
	if d.W.Mask != nil {
		flags |= flagMasked
	}
	header = append(header, byte(d.Bits), flags, byte(best.layout), byte(best.values))
	header = binary.AppendUvarint(header, uint64(best.stored))
	header = binary.AppendUvarint(header, uint64(len(best.payload)))
	payload = best.payload
	if d.HasBias() {
		for _, b := range d.B.Value.Data {
			payload = binary.LittleEndian.AppendUint32(payload, math.Float32bits(b))
		}
	}
	return header, payload, nil
}

type tensorChoice struct {
	layout, values int
	stored         int // values stored
	payload        []byte
	size           int
}

// encodeLayout stores d's weights in one layout with the smallest value
// encoding that reproduces them exactly.
func encodeLayout(d *nn.Dense, layout int, o WriteOptions) tensorChoice {
	in, out := d.In, d.Out
	w := d.W.Value.Data
	n := len(w)
	if layout != layoutDense {
		n = 0
		for _, v := range w {
			if v != 0 {
				n++
			}
		}
	}
	vals := make([]float32, 0, n)
	groups := make([]int32, 0, n)
	positions := make([]int, 0, n)
	visit := func(p, i, j int) {
		v := w[i*out+j]
		if layout != layoutDense && v == 0 {
			return
		}
		vals = append(vals, v)
		groups = append(groups, int32(j))
		positions = append(positions, p)
	}
	if layout == layoutSparseIn {
		for i := 0; i < in; i++ {
			for j := 0; j < out; j++ {
				visit(i*out+j, i, j)
			}
		}
	} else {
		for j := 0; j < out; j++ {
			for i := 0; i < in; i++ {
				visit(j*in+i, i, j)
			}
		}
	}
	var payload []byte
	if layout != layoutDense {
		payload = encodePositions(positions, o.Huffman)
	}
	kind, values := valuesF32, encodeF32(vals)
	if !o.Uncompressed {
		for _, c := range valueCandidates(vals, groups, out, d.Bits, o.Huffman) {
			if len(c.data) < len(values) {
				kind, values = c.kind, c.data
			}
		}
	}
	payload = append(payload, values...)
	return tensorChoice{layout: layout, values: kind, stored: len(vals), payload: payload, size: len(payload)}
}

func encodeF32(vals []float32) []byte {
	b := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// encodePositions writes the positions (ascending) as relative indices:
// gap bits g u8 | symbol count uvarint | stream. Each position is the
// number of zeros skipped since the last one; a gap of 2^g−1 or more is
// written as escapes E = 2^g−1 ("skip E zeros, store nothing") followed by
// the rest. g is chosen (1–12) to make the stream smallest.
func encodePositions(positions []int, huffman bool) []byte {
	// Count every gap width's stream, then write only the smallest.
	bestG, bestSize := uint(0), 0
	var bestSymbols []uint32
	var symbols []uint32
	for g := uint(1); g <= maxGapBits; g++ {
		symbols = gapSymbols(symbols[:0], positions, g)
		size := uvarintLen(len(symbols)) + planStream(symbols, g, huffman).size
		if bestG == 0 || size < bestSize {
			bestG, bestSize = g, size
			bestSymbols = append(bestSymbols[:0], symbols...)
		}
	}
	b := []byte{byte(bestG)}
	b = binary.AppendUvarint(b, uint64(len(bestSymbols)))
	return append(b, encodeStream(bestSymbols, bestG, huffman)...)
}

// gapSymbols appends to dst the relative-index symbols of positions at gap
// width g: each is the count of zeros skipped since the previous non-zero,
// with 2^g − 1 an escape that skips that many and stores nothing.
func gapSymbols(dst []uint32, positions []int, g uint) []uint32 {
	escape := 1<<g - 1
	next := 0
	for _, p := range positions {
		gap := p - next
		for gap >= escape {
			dst = append(dst, uint32(escape))
			gap -= escape
		}
		dst = append(dst, uint32(gap))
		next = p + 1
	}
	return dst
}

type valueCandidate struct {
	kind int
	data []byte
}

// valueCandidates returns the codebook and uniform encodings that hold
// vals exactly (none when a value is not finite).
func valueCandidates(vals []float32, groups []int32, nChannels, bitsHint int, huffman bool) []valueCandidate {
	for _, v := range vals {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil
		}
	}
	var cs []valueCandidate
	tensorGroups := make([]int32, len(groups)) // all zero: one group
	for _, mode := range []int{groupTensor, groupChannel} {
		g, n := tensorGroups, 1
		if mode == groupChannel {
			g, n = groups, nChannels
		}
		if data, ok := encodeCodebook(vals, g, n, mode, huffman); ok {
			cs = append(cs, valueCandidate{valuesCodebook, data})
		}
		if bitsHint >= 1 && bitsHint <= 8 {
			cs = append(cs, encodeUniform(vals, g, n, mode, bitsHint, huffman)...)
		}
	}
	return cs
}

// encodeCodebook: groups u8 | index bits u8 | per group: K uvarint, K f32
// (ascending) | index stream. ok is false when a group has more than 256
// distinct values.
func encodeCodebook(vals []float32, groups []int32, nGroups, mode int, huffman bool) ([]byte, bool) {
	books := make([][]float32, nGroups)
	seen := make([]map[float32]bool, nGroups)
	for i, v := range vals {
		g := groups[i]
		if seen[g] == nil {
			seen[g] = map[float32]bool{}
		}
		if v == 0 {
			v = 0 // −0 → +0
		}
		if !seen[g][v] {
			if len(seen[g]) == 256 {
				return nil, false
			}
			seen[g][v] = true
			books[g] = append(books[g], v)
		}
	}
	width := uint(1)
	for _, b := range books {
		slices.Sort(b)
		width = max(width, uint(quant.IndexBits(len(b))))
	}
	data := []byte{byte(mode), byte(width)}
	for _, b := range books {
		data = binary.AppendUvarint(data, uint64(len(b)))
		for _, v := range b {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
		}
	}
	symbols := make([]uint32, len(vals))
	for i, v := range vals {
		if v == 0 {
			v = 0
		}
		k, _ := slices.BinarySearch(books[groups[i]], v)
		symbols[i] = uint32(k)
	}
	return append(data, encodeStream(symbols, width, huffman)...), true
}

// uniformFit is one group's grid: value = float32(c·(R/M)) for integer c.
type uniformFit struct {
	r          float32
	m          int
	cmin, cmax int
	empty      bool // the group holds only zeros: any M fits
}

// fitUniform finds a grid that reproduces the group's values exactly. The
// range end R is the largest positive value or the largest magnitude of a
// negative one (a quant quantizer puts one of them exactly on code ±M),
// the larger first;
// M is tried in the order a bitsHint-bit quantizer would use: qmax =
// 2^(b−1)−1 (symmetric), then 2^b−1 down to 1 (asymmetric).
func fitUniform(vals []float32, idx []int, bitsHint int) (uniformFit, bool) {
	var pos, neg float32
	for _, i := range idx {
		pos, neg = max(pos, vals[i]), max(neg, -vals[i])
	}
	if pos == 0 && neg == 0 {
		return uniformFit{m: 1, empty: true}, true
	}
	var ms []int
	if qmax := 1<<(bitsHint-1) - 1; qmax >= 1 {
		ms = append(ms, qmax)
	}
	for m := 1<<bitsHint - 1; m >= 1; m-- {
		if !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	// The larger end first: a symmetric quantizer's range is max |w|.
	ends := []float32{pos, neg}
	if neg > pos {
		ends = []float32{neg, pos}
	}
	for _, r := range ends {
		if r == 0 {
			continue
		}
	next:
		for _, m := range ms {
			step := float64(r) / float64(m)
			fit := uniformFit{r: r, m: m}
			for k, i := range idx {
				c := math.Round(float64(vals[i]) / step)
				if math.Abs(c) > 255 || float32(c*step) != vals[i] {
					continue next // codes beyond ±255 cannot be stored
				}
				if k == 0 {
					fit.cmin, fit.cmax = int(c), int(c)
				}
				fit.cmin, fit.cmax = min(fit.cmin, int(c)), max(fit.cmax, int(c))
				if fit.cmax-fit.cmin > 255 {
					continue next
				}
			}
			return fit, true
		}
	}
	return uniformFit{}, false
}

// encodeUniform returns the uniform encodings of vals (none if a group has
// no exact grid):
//
//	groups u8 | code bits w u8 | shared u8 | [shared: M u8, Z i16] |
//	per group: R f32 [, M u8, Z i16] | code stream of q = c + Z
//
// one with a zero point and scale per group and, when every group has the
// same M and one Z fits them all, one with them shared.
func encodeUniform(vals []float32, groups []int32, nGroups, mode, bitsHint int, huffman bool) []valueCandidate {
	members := make([][]int, nGroups)
	for i, g := range groups {
		members[g] = append(members[g], i)
	}
	fits := make([]uniformFit, nGroups)
	span := 0
	for g := range fits {
		f, ok := fitUniform(vals, members[g], bitsHint)
		if !ok {
			return nil
		}
		fits[g] = f
		span = max(span, f.cmax-f.cmin)
	}
	width := uint(quant.IndexBits(span + 1))
	build := func(shared bool, width uint, sharedM, sharedZ int) valueCandidate {
		data := []byte{byte(mode), byte(width), 0}
		if shared {
			data[2] = 1
			data = append(data, byte(sharedM))
			data = binary.LittleEndian.AppendUint16(data, uint16(int16(sharedZ)))
		}
		zs := make([]int, nGroups)
		for g, f := range fits {
			zs[g] = -f.cmin
			if shared {
				zs[g] = sharedZ
			}
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(f.r))
			if !shared {
				data = append(data, byte(f.m))
				data = binary.LittleEndian.AppendUint16(data, uint16(int16(zs[g])))
			}
		}
		symbols := make([]uint32, len(vals))
		for i, v := range vals {
			g := groups[i]
			c := 0
			if fits[g].r != 0 {
				c = int(math.Round(float64(v) / (float64(fits[g].r) / float64(fits[g].m))))
			}
			symbols[i] = uint32(c + zs[g])
		}
		return valueCandidate{valuesUniform, append(data, encodeStream(symbols, width, huffman)...)}
	}
	cs := []valueCandidate{build(false, width, 0, 0)}
	// Shared M and Z: every non-empty group must have the same M, and one
	// Z must keep every q = c + Z inside 0…2^w−1.
	m := 0
	for _, f := range fits {
		if f.empty {
			continue
		}
		if m != 0 && f.m != m {
			return cs
		}
		m = f.m
	}
	if m == 0 {
		m = 1
	}
	for w := width; w <= 8; w++ {
		lo, hi := -255, 1<<w-1+255
		for g, f := range fits {
			if len(members[g]) > 0 { // a group with no stored values takes any Z
				lo, hi = max(lo, -f.cmin), min(hi, 1<<w-1-f.cmax)
			}
		}
		if lo <= hi {
			for g := range fits {
				if fits[g].empty {
					fits[g].m = m
				}
			}
			cs = append(cs, build(true, w, m, lo))
			break
		}
	}
	return cs
}

// checkChain checks that each weight layer takes as many inputs as the
// weight layer before it gives (ReLU, Dropout and ActQuant keep the width).
func checkChain(m *nn.Sequential) error {
	width, from := 0, ""
	for _, l := range m.Layers {
		var in, out int
		switch l := l.(type) {
		case *nn.Dense:
			in, out = l.In, l.Out
		case *lowrank.Layer:
			in, out = l.In, l.Out
		case *nn.Conv2D:
			in, out = l.In.Size(), l.Out.Size()
		case *lowrank.ConvLayer:
			in, out = l.First.In.Size(), l.Second.Out.Size()
		case *nn.MaxPool2D:
			in, out = l.In.Size(), l.Out.Size()
		case *nn.Flatten:
			in, out = l.In.Size(), l.In.Size()
		default:
			continue
		}
		if width != 0 && in != width {
			return fmt.Errorf("layer %s takes %d inputs but %s gives %d", l.Name(), in, from, width)
		}
		width, from = out, l.Name()
	}
	return nil
}

// appendImageLayer writes the header record of a layer over images: its
// name, the input's height, width and channels, and the window's size,
// stride and padding (a flatten has none).
func appendImageLayer(header []byte, name string, in nn.Shape, window ...int) ([]byte, error) {
	header, err := appendName(header, name)
	if err != nil {
		return nil, err
	}
	for _, v := range append([]int{in.H, in.W, in.C}, window...) {
		header = binary.AppendUvarint(header, uint64(v))
	}
	return header, nil
}

// appendConv writes a convolution's record: its image header, then its
// filters through tensor.
func appendConv(header *[]byte, c *nn.Conv2D, tensor func(*nn.Dense) error) error {
	h, err := appendImageLayer(*header, c.LayerName, c.In, c.K, c.Stride, c.Pad)
	if err != nil {
		return err
	}
	*header = h
	if c.Kernel.In != c.K*c.K*c.In.C || c.Kernel.LayerName != c.LayerName {
		return fmt.Errorf("write model file: convolution %s: its filters are %d×%d, want %d inputs (%d×%d×%d) named as the layer", c.LayerName, c.Kernel.In, c.Kernel.Out, c.K*c.K*c.In.C, c.K, c.K, c.In.C)
	}
	return tensor(c.Kernel)
}
