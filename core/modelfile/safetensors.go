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

// WriteSafetensors writes m as WriteSafetensorsInfo does, with no more
// information than the model itself holds (its layers, not its input).
func WriteSafetensors(w io.Writer, m *nn.Sequential) error {
	return WriteSafetensorsInfo(w, m, Info{})
}

// WriteSafetensorsInfo writes the float32 weights and biases of m in the
// safetensors format (huggingface/safetensors), which PyTorch loads with
// safetensors.torch.load_file:
//
//	u64 LE header length N | N bytes of JSON, space-padded to a multiple of 8 | raw data
//
// The JSON maps each tensor name to {"dtype":"F32","shape":[…],"data_offsets":[begin,end]}
// (byte offsets into the data, which the tensors cover in order), plus
// "__metadata__": string values that say how to run the tensors (the
// layers, the input, the classes; see the package documentation and
// Metadata). Names and shapes follow torch.nn.Linear: "fc1.weight" is
// [out, in] — the transpose of W — and "fc1.bias" is [out]. A low-rank
// layer gives "fc1.A.weight" [rank, in] and "fc1.B.weight", "fc1.B.bias".
// A convolution gives "conv1.weight" [out, in, kh, kw] and "conv1.bias"
// [out], as torch.nn.Conv2d; a Dense layer after an image takes its inputs
// in PyTorch's flatten order (channel, row, column), not the channels-last
// order pruner-tui runs. Pruned and quantized weights are written as their
// float32 values (the metadata says what was done to them): this is an
// interchange format, not a compressed one.
func WriteSafetensorsInfo(w io.Writer, m *nn.Sequential, info Info) error {
	meta, err := metadataOf(m, info)
	if err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	entries := torchTensors(m)
	seen := map[string]bool{}
	var header bytes.Buffer
	header.WriteString(`{"__metadata__":`)
	header.Write(meta)
	offset := 0
	for _, e := range entries {
		if seen[e.name] || e.name == metadataKey {
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
		end := offset + 4*e.count()
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
		for _, v := range e.torch() {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// torchTensor is one tensor of a model as PyTorch holds it: a weight
// layer's weights (conv as torch.nn.Conv2d, else torch.nn.Linear, whose
// inputs come from image when not nil) or its bias.
type torchTensor struct {
	name  string
	shape []int
	layer *nn.Dense
	conv  *nn.Conv2D // the convolution whose filters layer is
	image *nn.Shape  // a Linear's input image (channels-last in pruner-tui)
	bias  bool
}

// torchTensors lists the tensors of m in model order: each weight layer's
// weight, then its bias when it has one.
func torchTensors(m *nn.Sequential) []torchTensor {
	var out []torchTensor
	add := func(d *nn.Dense, conv *nn.Conv2D, image *nn.Shape) {
		shape := []int{d.Out, d.In}
		if conv != nil {
			shape = []int{conv.Out.C, conv.In.C, conv.K, conv.K}
		}
		out = append(out, torchTensor{name: d.LayerName + ".weight", shape: shape, layer: d, conv: conv, image: image})
		if d.HasBias() {
			out = append(out, torchTensor{name: d.LayerName + ".bias", shape: []int{d.Out}, layer: d, bias: true})
		}
	}
	// image is the shape a Dense layer's inputs come in when it follows
	// an image: its columns are reordered from channels-last to PyTorch's
	// channels-first flatten.
	var image *nn.Shape
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Conv2D:
			add(l.Kernel, l, nil)
			image = &l.Out
		case *lowrank.ConvLayer:
			add(l.First.Kernel, l.First, nil)
			add(l.Second.Kernel, l.Second, nil)
			image = &l.Second.Out
		case *nn.MaxPool2D:
			image = &l.Out
		case *nn.Flatten:
			image = &l.In
		case *nn.Dense:
			add(l, nil, image)
			image = nil
		case nn.Factored:
			for _, d := range l.Factors() {
				add(d, nil, image)
				image = nil
			}
		}
	}
	return out
}

// count is the number of values of the tensor.
func (t torchTensor) count() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// torch returns the tensor's values in PyTorch's layout.
func (t torchTensor) torch() []float32 {
	switch {
	case t.bias:
		return slices.Clone(t.layer.B.Value.Data)
	case t.conv != nil:
		return torchConvWeight(t.conv)
	}
	return torchLinearWeight(t.layer, t.image)
}

// set takes the tensor's values from PyTorch's layout (as torch returns
// them) into the layer.
func (t torchTensor) set(vals []float32) {
	d := t.layer
	switch {
	case t.bias:
		copy(d.B.Value.Data, vals)
	case t.conv != nil:
		k, cin := t.conv.K, t.conv.In.C
		for i, v := range vals {
			// i = ((f·C + c)·K + ki)·K + kj
			kj, ki, c, f := i%k, i/k%k, i/(k*k)%cin, i/(k*k*cin)
			d.W.Value.Set((ki*k+kj)*cin+c, f, v)
		}
	default:
		for i, v := range vals {
			d.W.Value.Set(channelsLast(t.image, i%d.In), i/d.In, v)
		}
	}
}

// Safetensors is what a safetensors file holds: its tensors by name, and
// the string values of its "__metadata__" (nil when it has none).
type Safetensors struct {
	Tensors  map[string]Tensor
	Metadata map[string]string
}

// metadataKey is the header entry that is not a tensor.
const metadataKey = "__metadata__"

// ReadSafetensors reads a safetensors file of F32 tensors, as
// ReadSafetensorsFile does, and returns its tensors.
func ReadSafetensors(r io.Reader) (map[string]Tensor, error) {
	f, err := ReadSafetensorsFile(r)
	if err != nil {
		return nil, err
	}
	return f.Tensors, nil
}

// ReadSafetensorsFile reads a safetensors file of F32 tensors. It checks
// what the format requires: a header of at most 100 MiB, valid JSON, a
// "__metadata__" of string values, known dtypes, shapes that match their
// byte ranges, and ranges that tile the data exactly with no gap or
// overlap. Other dtypes are an error that names the tensor and its dtype.
// What the metadata's values say is read by Metadata.
func ReadSafetensorsFile(r io.Reader) (*Safetensors, error) {
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
		return nil, fmt.Errorf("read safetensors: the file is truncated: its header length says %d bytes, the file has %d after it", n, len(head))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(head, &raw); err != nil {
		return nil, fmt.Errorf("read safetensors: header JSON: %w", err)
	}
	f := &Safetensors{}
	if msg, ok := raw[metadataKey]; ok {
		if err := json.Unmarshal(msg, &f.Metadata); err != nil {
			return nil, fmt.Errorf("read safetensors: %s must map names to strings (the format's rule): %w", metadataKey, err)
		}
	}
	if f.Tensors, err = readTensors(r, raw); err != nil {
		return nil, err
	}
	return f, nil
}

// readTensors reads the data after the header and the tensors raw
// describes in it.
func readTensors(r io.Reader, raw map[string]json.RawMessage) (map[string]Tensor, error) {
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
		if name == metadataKey {
			continue
		}
		var t info
		if err := json.Unmarshal(msg, &t); err != nil {
			return nil, fmt.Errorf("read safetensors: tensor %q: %w", name, err)
		}
		if t.DType != "F32" {
			return nil, fmt.Errorf("read safetensors: tensor %q has dtype %q: only F32 is supported (in PyTorch, save tensor.float())", name, t.DType)
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
