package modelfile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// LoadInto copies f's tensors into the weights of m, checking them
// against m's layers one by one: every tensor m needs must be there
// (NAME.weight, and NAME.bias for a layer with a bias) with the shape
// PyTorch gives it, and every tensor of f must be one m needs. The first
// tensor that is missing, has the wrong shape or is left over is an error
// naming it, the layer and what was expected. m is changed only when
// every tensor fits.
func (f *Safetensors) LoadInto(m *nn.Sequential) error {
	want := torchTensors(m)
	used := map[string]bool{}
	for _, t := range want {
		if err := f.check(t.name, t.shape, t.layer.LayerName); err != nil {
			return err
		}
		used[t.name] = true
	}
	if len(used) != len(f.Tensors) {
		return f.extraTensor(used)
	}
	for _, t := range want {
		t.set(f.Tensors[t.name].Data)
	}
	return nil
}

// check says whether f holds tensor name with shape, which layer needs.
func (f *Safetensors) check(name string, shape []int, layer string) error {
	t, ok := f.Tensors[name]
	if !ok {
		return fmt.Errorf("tensor %q is missing: layer %s needs it, of shape %v", name, layer, shape)
	}
	if !slices.Equal(t.Shape, shape) {
		return fmt.Errorf("tensor %q has shape %v: layer %s needs %v", name, t.Shape, layer, shape)
	}
	return nil
}

// extraTensor is the error for f's first tensor (by name) that is not in
// used.
func (f *Safetensors) extraTensor(used map[string]bool) error {
	var extra []string
	for name := range f.Tensors {
		if !used[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	names := slices.Sorted(maps.Keys(used))
	return fmt.Errorf("tensor %q belongs to no layer of the model (%d tensors left over); the model's tensors are %s",
		extra[0], len(extra), strings.Join(names, ", "))
}

// Model builds the model f's metadata describes (its "layers" and
// "input") with f's tensors as its weights, as LoadInto checks them, and
// returns it with the metadata. Quantized layers get their Bits and pruned
// ones a mask of their non-zeros, as Read gives them. A file whose
// metadata has no layers or no input is an error that says so.
func (f *Safetensors) Model() (*nn.Sequential, Metadata, error) {
	md, err := f.ReadMetadata()
	if err != nil {
		return nil, Metadata{}, err
	}
	switch {
	case md.Layers == nil:
		return nil, Metadata{}, fmt.Errorf("safetensors metadata has no %q: the file does not say how its tensors run", metaLayers)
	case md.Input == nil:
		return nil, Metadata{}, fmt.Errorf("safetensors metadata has no %q: the file does not say what its model takes", metaInput)
	}
	m, err := BuildModel(md.Layers, *md.Input, f)
	if err != nil {
		return nil, Metadata{}, err
	}
	return m, md, nil
}

// BuildModel builds the layers of an architecture for inputs in, with
// f's tensors as its weights (see LoadInto). Every layer is checked
// before anything is allocated: its type and numbers, that it fits its
// input, and its tensors' shapes; the error names the layer.
func BuildModel(layers []Layer, in Input, f *Safetensors) (*nn.Sequential, error) {
	if err := in.check(); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	b := &builder{f: f, names: map[string]bool{}}
	if img, ok := in.Image(); ok {
		b.image = &img
	} else {
		b.width = in.Size()
	}
	m := &nn.Sequential{}
	for i, l := range layers {
		layer, err := b.layer(l)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s %s): %w", i+1, l.Type, l.Name, err)
		}
		m.Layers = append(m.Layers, layer)
	}
	if err := f.LoadInto(m); err != nil {
		return nil, err
	}
	markDone(m, layers)
	return m, nil
}

// builder follows the shape of the values through the layers.
type builder struct {
	f     *Safetensors
	image *nn.Shape // the layer's input when an image, else nil
	width int       // the layer's input width when a vector
	names map[string]bool
}

func (b *builder) layer(l Layer) (nn.Layer, error) {
	if l.Name == "" || len(l.Name) > 255 {
		return nil, fmt.Errorf("a name of 1 to 255 bytes is required")
	}
	if b.names[l.Name] {
		return nil, fmt.Errorf("the name is used twice: layer names must be unique")
	}
	b.names[l.Name] = true
	switch l.Type {
	case "dense":
		return b.dense(l)
	case "conv":
		return b.conv(l)
	case "maxpool":
		return b.maxPool(l)
	case "flatten":
		if b.image == nil {
			return nil, fmt.Errorf("flatten takes an image, and its input is a vector of %d", b.width)
		}
		fl := nn.NewFlatten(l.Name, *b.image)
		b.image, b.width = nil, fl.In.Size()
		return fl, nil
	case "relu":
		return nn.NewReLU(l.Name), nil
	case "dropout":
		if !(l.Rate >= 0 && l.Rate < 1) {
			return nil, fmt.Errorf("rate %v: allowed [0, 1)", l.Rate)
		}
		return nn.NewDropout(l.Name, float32(l.Rate), 0), nil
	case "act-quant":
		return actQuant(l)
	}
	return nil, fmt.Errorf("type %q is unknown: allowed dense, conv, maxpool, flatten, relu, dropout, act-quant", l.Type)
}

// inputs is the width of the layer's input as a vector.
func (b *builder) inputs() int {
	if b.image != nil {
		return b.image.Size()
	}
	return b.width
}

func (b *builder) dense(l Layer) (nn.Layer, error) {
	in := b.inputs()
	if l.Units < 1 || l.Units > MaxTensorWeights {
		return nil, fmt.Errorf("units %d: allowed [1, %d]", l.Units, MaxTensorWeights)
	}
	b.image, b.width = nil, l.Units
	if l.Rank == 0 {
		if err := b.need(l.Name, []int{l.Units, in}, true); err != nil {
			return nil, err
		}
		return zeroDense(l.Name, in, l.Units, true), nil
	}
	if l.Rank < 0 || l.Rank > min(in, l.Units) {
		return nil, fmt.Errorf("rank %d: allowed [1, %d]", l.Rank, min(in, l.Units))
	}
	if err := b.need(l.Name+".A", []int{l.Rank, in}, false); err != nil {
		return nil, err
	}
	if err := b.need(l.Name+".B", []int{l.Units, l.Rank}, true); err != nil {
		return nil, err
	}
	return &lowrank.Layer{LayerName: l.Name, In: in, Out: l.Units, Rank: l.Rank,
		First: zeroDense(l.Name+".A", in, l.Rank, false), Second: zeroDense(l.Name+".B", l.Rank, l.Units, true)}, nil
}

// need checks the weight (and with bias the bias) tensor of the layer
// name has the shape (PyTorch's) given.
func (b *builder) need(name string, shape []int, bias bool) error {
	if err := b.f.check(name+".weight", shape, name); err != nil {
		return err
	}
	if bias {
		return b.f.check(name+".bias", shape[:1], name)
	}
	return nil
}

func (b *builder) conv(l Layer) (nn.Layer, error) {
	if b.image == nil {
		return nil, fmt.Errorf("a convolution takes an image, and its input is a vector of %d", b.width)
	}
	in := *b.image
	if l.Stride == 0 {
		l.Stride = 1
	}
	switch {
	case l.Filters < 1 || l.Filters > maxImageDim:
		return nil, fmt.Errorf("filters %d: allowed [1, %d]", l.Filters, maxImageDim)
	case l.Kernel < 1 || l.Stride < 1 || l.Padding < 0 || l.Padding >= l.Kernel ||
		nn.ConvOut(in.H, l.Kernel, l.Stride, l.Padding) < 1 || nn.ConvOut(in.W, l.Kernel, l.Stride, l.Padding) < 1:
		return nil, fmt.Errorf("a %d×%d window (stride %d, padding %d) does not fit its %s input", l.Kernel, l.Kernel, l.Stride, l.Padding, in)
	case l.Rank < 0 || l.Rank > min(l.Kernel*l.Kernel*in.C, l.Filters):
		return nil, fmt.Errorf("rank %d: allowed [1, %d]", l.Rank, min(l.Kernel*l.Kernel*in.C, l.Filters))
	}
	out := nn.Shape{H: nn.ConvOut(in.H, l.Kernel, l.Stride, l.Padding), W: nn.ConvOut(in.W, l.Kernel, l.Stride, l.Padding), C: l.Filters}
	b.image = &out
	if l.Rank == 0 {
		if err := b.need(l.Name, []int{l.Filters, in.C, l.Kernel, l.Kernel}, true); err != nil {
			return nil, err
		}
		return zeroConv(l.Name, in, out, l.Kernel, l.Stride, l.Padding, true), nil
	}
	if err := b.need(l.Name+".A", []int{l.Rank, in.C, l.Kernel, l.Kernel}, false); err != nil {
		return nil, err
	}
	if err := b.need(l.Name+".B", []int{l.Filters, l.Rank, 1, 1}, true); err != nil {
		return nil, err
	}
	mid := nn.Shape{H: out.H, W: out.W, C: l.Rank}
	return &lowrank.ConvLayer{LayerName: l.Name, Rank: l.Rank,
		First:  zeroConv(l.Name+".A", in, mid, l.Kernel, l.Stride, l.Padding, false),
		Second: zeroConv(l.Name+".B", mid, out, 1, 1, 0, true)}, nil
}

func (b *builder) maxPool(l Layer) (nn.Layer, error) {
	if b.image == nil {
		return nil, fmt.Errorf("max-pooling takes an image, and its input is a vector of %d", b.width)
	}
	if l.Stride == 0 {
		l.Stride = l.Size
	}
	in := *b.image
	if l.Size < 1 || l.Stride < 1 || nn.ConvOut(in.H, l.Size, l.Stride, 0) < 1 || nn.ConvOut(in.W, l.Size, l.Stride, 0) < 1 {
		return nil, fmt.Errorf("a %d×%d window (stride %d) does not fit its %s input", l.Size, l.Size, l.Stride, in)
	}
	p := nn.NewMaxPool2D(l.Name, in, l.Size, l.Stride)
	b.image = &p.Out
	return p, nil
}

func actQuant(l Layer) (nn.Layer, error) {
	r := l.Range
	if r == nil || l.Bits < 2 || l.Bits > 8 || !(r.Scale >= 0) {
		return nil, fmt.Errorf("an activation quantizer needs bits in [2, 8] and a range with a scale ≥ 0")
	}
	return &quant.ActQuant{LayerName: l.Name, Range: quant.ActivationRange{Layer: r.Layer, Bits: l.Bits,
		Symmetric: r.Symmetric, Min: r.Min, Max: r.Max, Scale: r.Scale, ZeroPoint: r.ZeroPoint}}, nil
}

// zeroDense is an in×out Dense layer of zeros, with or without a bias.
func zeroDense(name string, in, out int, bias bool) *nn.Dense {
	if !bias {
		return nn.NewDenseNoBias(name, in, out)
	}
	return &nn.Dense{LayerName: name, In: in, Out: out,
		W: &nn.Param{Name: name + ".W", Value: nn.NewMatrix(in, out), Grad: nn.NewMatrix(in, out)},
		B: &nn.Param{Name: name + ".b", Value: nn.NewMatrix(1, out), Grad: nn.NewMatrix(1, out)}}
}

// zeroConv is a convolution of zeros from in to out.
func zeroConv(name string, in, out nn.Shape, k, stride, pad int, bias bool) *nn.Conv2D {
	return &nn.Conv2D{LayerName: name, In: in, Out: out, K: k, Stride: stride, Pad: pad,
		Kernel: zeroDense(name, k*k*in.C, out.C, bias)}
}

// markDone gives m's weight layers what the metadata says was done to
// them: their bit width, and a mask of their non-zeros when pruned.
func markDone(m *nn.Sequential, layers []Layer) {
	for i, l := range m.Layers {
		var factors []*nn.Dense
		switch l := l.(type) {
		case *nn.Dense:
			factors = []*nn.Dense{l}
		case *nn.Conv2D:
			factors = []*nn.Dense{l.Kernel}
		case nn.Factored:
			factors = l.Factors()
		}
		for _, d := range factors {
			d.Bits = layers[i].Bits
			if layers[i].Pruned {
				d.W.Mask = make([]float32, len(d.W.Value.Data))
				for j, v := range d.W.Value.Data {
					if v != 0 {
						d.W.Mask[j] = 1
					}
				}
			}
		}
	}
}
