package modelfile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/internal/checked"
)

// maxSafetensorsHeader is the largest JSON header ReadSafetensors accepts
// (the reference implementation's limit).
const maxSafetensorsHeader = 100 << 20

// Tensor is one tensor of a safetensors file.
type Tensor struct {
	DType string // "F32"
	Shape []int
	Data  []float32 // row-major
}

// WriteSafetensors writes the dense float32 weights and biases of m in the
// safetensors format (huggingface/safetensors), which PyTorch loads with
// safetensors.torch.load_file:
//
//	u64 LE header length N | N bytes of JSON, space-padded to a multiple of 8 | raw data
//
// The JSON maps each tensor name to {"dtype":"F32","shape":[…],"data_offsets":[begin,end]}
// (byte offsets into the data, which the tensors cover in order), plus
// "__metadata__":{"format":"pt"}. Names and shapes follow torch.nn.Linear:
// "fc1.weight" is [out, in] — the transpose of W — and "fc1.bias" is [out].
// A low-rank layer gives "fc1.A.weight" [rank, in] and "fc1.B.weight",
// "fc1.B.bias". A convolution gives "conv1.weight" [out, in, kh, kw] and
// "conv1.bias" [out], as torch.nn.Conv2d; a Dense layer after an image
// takes its inputs in PyTorch's flatten order (channel, row, column), not
// the channels-last order pruner-tui runs. Pruned and quantized weights are
// written as their float32 values: this is an interchange format, not a
// compressed one.
func WriteSafetensors(w io.Writer, m *nn.Sequential) error {
	type entry struct {
		name  string
		shape []int
		data  []float32
	}
	var entries []entry
	add := func(d *nn.Dense, weight []float32, shape []int) {
		entries = append(entries, entry{d.LayerName + ".weight", shape, weight})
		if d.HasBias() {
			entries = append(entries, entry{d.LayerName + ".bias", []int{d.Out}, slices.Clone(d.B.Value.Data)})
		}
	}
	// image is the shape a Dense layer's inputs come in when it follows
	// an image: its columns are reordered from channels-last to PyTorch's
	// channels-first flatten.
	var image *nn.Shape
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Conv2D:
			add(l.Kernel, torchConvWeight(l), []int{l.Out.C, l.In.C, l.K, l.K})
			image = &l.Out
		case *lowrank.ConvLayer:
			for _, c := range []*nn.Conv2D{l.First, l.Second} {
				add(c.Kernel, torchConvWeight(c), []int{c.Out.C, c.In.C, c.K, c.K})
			}
			image = &l.Second.Out
		case *nn.MaxPool2D:
			image = &l.Out
		case *nn.Flatten:
		case *nn.Dense:
			add(l, torchLinearWeight(l, image), []int{l.Out, l.In})
			image = nil
		case nn.Factored:
			for _, d := range l.Factors() {
				add(d, torchLinearWeight(d, image), []int{d.Out, d.In})
				image = nil
			}
		}
	}
	seen := map[string]bool{}
	var header bytes.Buffer
	header.WriteString(`{"__metadata__":{"format":"pt"}`)
	offset := 0
	for _, e := range entries {
		if seen[e.name] || e.name == "__metadata__" {
			return fmt.Errorf("write safetensors: tensor name %q is used twice: layer names must be unique", e.name)
		}
		seen[e.name] = true
		name, err := json.Marshal(e.name)
		if err != nil {
			return fmt.Errorf("write safetensors: tensor name %q: %w", e.name, err)
		}
		header.WriteByte(',')
		header.Write(name)
		header.WriteString(`:{"dtype":"F32","shape":[`)
		for i, s := range e.shape {
			if i > 0 {
				header.WriteByte(',')
			}
			header.WriteString(strconv.Itoa(s))
		}
		end := offset + 4*len(e.data)
		fmt.Fprintf(&header, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	header.WriteByte('}')
	for header.Len()%8 != 0 {
		header.WriteByte(' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(header.Len()))
	out = append(out, header.Bytes()...)
	for _, e := range entries {
		for _, v := range e.data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// ReadSafetensors reads a safetensors file of F32 tensors. It checks what
// the format requires: a header of at most 100 MiB, valid JSON, known
// dtypes, shapes that match their byte ranges, and ranges that tile the
// data exactly with no gap or overlap. Other dtypes are an error that names
// them.
func ReadSafetensors(r io.Reader) (map[string]Tensor, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("read safetensors: the 8-byte header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxSafetensorsHeader {
		return nil, fmt.Errorf("read safetensors: header length %d exceeds the %d-byte limit", n, maxSafetensorsHeader)
	}
	// ReadAll grows with the data actually present, so a lying length
	// cannot force a large allocation.
	head, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("read safetensors: header: %w", err)
	}
	if uint64(len(head)) != n {
		return nil, fmt.Errorf("read safetensors: the file is truncated: header of %d bytes, got %d", n, len(head))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(head, &raw); err != nil {
		return nil, fmt.Errorf("read safetensors: header JSON: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read safetensors: data: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("read safetensors: data exceeds the %d-byte limit", MaxFileBytes)
	}
	type info struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets []uint64 `json:"data_offsets"`
	}
	type span struct {
		name       string
		begin, end uint64
	}
	var spans []span
	tensors := map[string]Tensor{}
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var t info
		if err := json.Unmarshal(msg, &t); err != nil {
			return nil, fmt.Errorf("read safetensors: tensor %q: %w", name, err)
		}
		if t.DType != "F32" {
			return nil, fmt.Errorf("read safetensors: tensor %q has dtype %q: only F32 is supported", name, t.DType)
		}
		if len(t.Offsets) != 2 || t.Offsets[0] > t.Offsets[1] || t.Offsets[1] > uint64(len(data)) {
			return nil, fmt.Errorf("read safetensors: tensor %q: data_offsets %v do not lie within the %d data bytes", name, t.Offsets, len(data))
		}
		dims := make([]uint64, len(t.Shape))
		for i, s := range t.Shape {
			if s < 0 {
				return nil, fmt.Errorf("read safetensors: tensor %q has a negative dimension in shape %v", name, t.Shape)
			}
			dims[i] = uint64(s)
		}
		// Checked: a shape like [2, 2^63] wraps around to 0 elements.
		count, ok := checked.Product(uint64(len(data)), dims...)
		if !ok {
			return nil, fmt.Errorf("read safetensors: tensor %q: shape %v is larger than the data", name, t.Shape)
		}
		if 4*count != t.Offsets[1]-t.Offsets[0] {
			return nil, fmt.Errorf("read safetensors: tensor %q: shape %v needs %d bytes, data_offsets give %d", name, t.Shape, 4*count, t.Offsets[1]-t.Offsets[0])
		}
		vals := make([]float32, count)
		b := data[t.Offsets[0]:t.Offsets[1]]
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		tensors[name] = Tensor{DType: t.DType, Shape: t.Shape, Data: vals}
		spans = append(spans, span{name, t.Offsets[0], t.Offsets[1]})
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	next := uint64(0)
	for _, s := range spans {
		if s.begin != next {
			return nil, fmt.Errorf("read safetensors: tensor %q starts at byte %d, expected %d: tensors must tile the data without gaps or overlaps", s.name, s.begin, next)
		}
		next = s.end
	}
	if next != uint64(len(data)) {
		return nil, fmt.Errorf("read safetensors: tensors cover %d of the %d data bytes", next, len(data))
	}
	return tensors, nil
}

// torchLinearWeight is W as torch.nn.Linear holds it, [out][in]; after an
// image (image not nil) the inputs are reordered from channels-last
// (y·W + x)·C + c to channels-first (c·H + y)·W + x.
func torchLinearWeight(d *nn.Dense, image *nn.Shape) []float32 {
	t := make([]float32, 0, d.In*d.Out)
	for j := 0; j < d.Out; j++ {
		for i := 0; i < d.In; i++ {
			t = append(t, d.W.Value.At(channelsLast(image, i), j))
		}
	}
	return t
}

// channelsLast maps a channels-first index of an image's values to the
// channels-last one (the identity when image is nil or not the input).
func channelsLast(image *nn.Shape, i int) int {
	if image == nil {
		return i
	}
	c, rest := i/(image.H*image.W), i%(image.H*image.W)
	return rest*image.C + c
}

// torchConvWeight is a convolution's filters as torch.nn.Conv2d holds
// them, [out][in][kh][kw]; Kernel.W's row (ki·K + kj)·C + c is input
// channel c at offset (ki, kj).
func torchConvWeight(l *nn.Conv2D) []float32 {
	k, cin := l.K, l.In.C
	t := make([]float32, 0, l.Kernel.In*l.Kernel.Out)
	for f := 0; f < l.Out.C; f++ {
		for c := 0; c < cin; c++ {
			for ki := 0; ki < k; ki++ {
				for kj := 0; kj < k; kj++ {
					t = append(t, l.Kernel.W.Value.At((ki*k+kj)*cin+c, f))
				}
			}
		}
	}
	return t
}
