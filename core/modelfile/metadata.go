package modelfile

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// Info is what a safetensors file records beside the weights that the
// model itself does not hold: how its inputs are prepared, what its
// outputs mean, where it came from.
type Info struct {
	Input   *Input   // nil: not recorded
	Classes []string // the name of each output, in order
	Dataset string   // what it was trained on: "mnist", "fashion-mnist", ...
	// Technique and Setting say what was done to the weights, as the
	// result table's columns of the row do ("prune", "ratio=0.95 scope=global").
	Technique, Setting string
}

// Input says how a raw example becomes the model's input:
// x = (raw·Scale − Mean) / Std, elementwise, in float64 then rounded to
// float32 (pixel bytes 0–255 with Scale 1/255 give [0, 1] before the
// standardization).
type Input struct {
	// Shape is one example in PyTorch's order: [C, H, W] for an image,
	// [D] for a vector. A dense layer fed an image flattens it first.
	Shape []int   `json:"shape"`
	Scale float64 `json:"scale"`
	Mean  float64 `json:"mean"`
	Std   float64 `json:"std"`
}

// Layer is one layer of a model's architecture in the metadata, with the
// keys and values of a spec's model.layers (experiments/spec), and what
// was done to its weights: Rank when factorized (tensors NAME.A.weight,
// NAME.B.weight, NAME.B.bias), Bits when quantized (the file holds the
// dequantized float32 values), Pruned when pruned (its zeros are the
// pruned weights). An activation quantizer ("act-quant") has Range.
type Layer struct {
	Type    string    `json:"type"` // dense, conv, maxpool, flatten, relu, dropout, act-quant
	Name    string    `json:"name"`
	Units   int       `json:"units,omitempty"`   // dense: outputs
	Filters int       `json:"filters,omitempty"` // conv: output channels
	Kernel  int       `json:"kernel,omitempty"`  // conv: kernel×kernel window
	Stride  int       `json:"stride,omitempty"`  // conv, maxpool
	Padding int       `json:"padding,omitempty"` // conv: zeros each side
	Size    int       `json:"size,omitempty"`    // maxpool: size×size window
	Rate    float64   `json:"rate,omitempty"`    // dropout (training only)
	Rank    int       `json:"rank,omitempty"`
	Bits    int       `json:"bits,omitempty"`
	Pruned  bool      `json:"pruned,omitempty"`
	Range   *ActRange `json:"range,omitempty"`
}

// ActRange is an activation quantizer's range (quant.ActivationRange): the
// input of layer Layer is fake-quantized to Bits bits, q = clamp(round(x /
// Scale) + ZeroPoint) on [−(2^(Bits−1)−1), 2^(Bits−1)−1] when Symmetric,
// else on [0, 2^Bits−1], and x ← (q − ZeroPoint)·Scale.
type ActRange struct {
	Layer     string  `json:"layer"`
	Symmetric bool    `json:"symmetric"`
	Min       float32 `json:"min"`
	Max       float32 `json:"max"`
	Scale     float32 `json:"scale"`
	ZeroPoint int32   `json:"zero_point"`
}

// Metadata is what a safetensors file's metadata says, read back.
type Metadata struct {
	Info
	Layers []Layer // nil when the file does not record them
}

// The metadata keys (values are strings, as the format requires; those
// holding structure are JSON).
const (
	metaFormat    = "format"    // "pt", as PyTorch's own writer sets it
	metaProducer  = "producer"  // "pruner-tui"
	metaLayers    = "layers"    // JSON array of Layer
	metaInput     = "input"     // JSON object Input
	metaClasses   = "classes"   // JSON array of strings
	metaDataset   = "dataset"   // plain string
	metaTechnique = "technique" // plain string
	metaSetting   = "setting"   // plain string
)

// metadataOf is the "__metadata__" object of m's file, as JSON.
func metadataOf(m *nn.Sequential, info Info) ([]byte, error) {
	layers, err := describeLayers(m)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{metaFormat: "pt", metaProducer: "pruner-tui"}
	put := func(key string, v any) {
		b, _ := json.Marshal(v) // plain data: cannot fail
		meta[key] = string(b)
	}
	put(metaLayers, layers)
	if info.Input != nil {
		put(metaInput, info.Input)
	}
	if info.Classes != nil {
		put(metaClasses, info.Classes)
	}
	for key, v := range map[string]string{metaDataset: info.Dataset, metaTechnique: info.Technique, metaSetting: info.Setting} {
		if v != "" {
			meta[key] = v
		}
	}
	return json.Marshal(meta)
}

// describeLayers is m's architecture as metadata layers.
func describeLayers(m *nn.Sequential) ([]Layer, error) {
	var out []Layer
	for _, l := range m.Layers {
		d, err := describeLayer(l)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func describeLayer(l nn.Layer) (Layer, error) {
	switch l := l.(type) {
	case *nn.Dense:
		return weightsDone(Layer{Type: "dense", Name: l.LayerName, Units: l.Out}, l), nil
	case *lowrank.Layer:
		return weightsDone(Layer{Type: "dense", Name: l.LayerName, Units: l.Out, Rank: l.Rank}, l.First, l.Second), nil
	case *nn.Conv2D:
		d := Layer{Type: "conv", Name: l.LayerName, Filters: l.Out.C, Kernel: l.K, Stride: l.Stride, Padding: l.Pad}
		return weightsDone(d, l.Kernel), nil
	case *lowrank.ConvLayer:
		a := l.First
		d := Layer{Type: "conv", Name: l.LayerName, Filters: l.Second.Out.C, Kernel: a.K, Stride: a.Stride, Padding: a.Pad, Rank: l.Rank}
		return weightsDone(d, a.Kernel, l.Second.Kernel), nil
	case *nn.MaxPool2D:
		return Layer{Type: "maxpool", Name: l.LayerName, Size: l.Size, Stride: l.Stride}, nil
	case *nn.Flatten:
		return Layer{Type: "flatten", Name: l.LayerName}, nil
	case *nn.ReLU:
		return Layer{Type: "relu", Name: l.LayerName}, nil
	case *nn.Dropout:
		// The float32 rate as its shortest decimal: 0.1, not 0.10000000149.
		rate, _ := strconv.ParseFloat(strconv.FormatFloat(float64(l.Rate), 'g', -1, 32), 64)
		return Layer{Type: "dropout", Name: l.LayerName, Rate: rate}, nil
	case *quant.ActQuant:
		r := l.Range
		return Layer{Type: "act-quant", Name: l.LayerName, Bits: r.Bits,
			Range: &ActRange{Layer: r.Layer, Symmetric: r.Symmetric, Min: r.Min, Max: r.Max, Scale: r.Scale, ZeroPoint: r.ZeroPoint}}, nil
	}
	return Layer{}, fmt.Errorf("layer %s: a %T has no safetensors form", l.Name(), l)
}

// weightsDone records on d what was done to the weights of its factors:
// the widest bit width below 32, and whether any had a pruning mask.
func weightsDone(d Layer, factors ...*nn.Dense) Layer {
	for _, f := range factors {
		if f.Bits > 0 && f.Bits < quant.Float32Bits {
			d.Bits = max(d.Bits, f.Bits)
		}
		d.Pruned = d.Pruned || f.W.Mask != nil
	}
	return d
}

// Metadata reads what f's metadata says: the architecture, the input,
// the classes and the rest of Info. A value that is not what its key
// holds (JSON that does not parse, a shape that is not one, a standard
// deviation ≤ 0) is an error naming the key. A file without metadata, or
// without some keys, gives the zero values.
func (f *Safetensors) ReadMetadata() (Metadata, error) {
	md := f.Metadata
	m := Metadata{Info: Info{Dataset: md[metaDataset], Technique: md[metaTechnique], Setting: md[metaSetting]}}
	if err := metaJSON(md, metaLayers, &m.Layers); err != nil {
		return Metadata{}, err
	}
	if err := metaJSON(md, metaClasses, &m.Classes); err != nil {
		return Metadata{}, err
	}
	if _, ok := md[metaInput]; ok {
		m.Input = &Input{}
		if err := metaJSON(md, metaInput, m.Input); err != nil {
			return Metadata{}, err
		}
		if err := m.Input.check(); err != nil {
			return Metadata{}, fmt.Errorf("safetensors metadata %q: %w", metaInput, err)
		}
	}
	return m, nil
}

// metaJSON decodes the JSON value of key into v; a missing key leaves v.
func metaJSON(md map[string]string, key string, v any) error {
	s, ok := md[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("safetensors metadata %q is not valid JSON of its kind: %w", key, err)
	}
	return nil
}

// check says what is wrong with an input description.
func (in *Input) check() error {
	switch {
	case len(in.Shape) != 1 && len(in.Shape) != 3:
		return fmt.Errorf("shape %v: want [C, H, W] for an image or [D] for a vector", in.Shape)
	case slices.ContainsFunc(in.Shape, func(d int) bool { return d < 1 || d > maxImageDim }):
		return fmt.Errorf("shape %v: each dimension must be in [1, %d]", in.Shape, maxImageDim)
	case !(in.Scale > 0) || math.IsInf(in.Scale, 0):
		return fmt.Errorf("scale %v: must be a positive number", in.Scale)
	case math.IsNaN(in.Mean) || math.IsInf(in.Mean, 0):
		return fmt.Errorf("mean %v: must be a number", in.Mean)
	case !(in.Std > 0) || math.IsInf(in.Std, 0):
		return fmt.Errorf("std %v: must be a positive number", in.Std)
	}
	return nil
}

// Image is the input as pruner-tui's images (channels last), and whether
// it is one.
func (in *Input) Image() (nn.Shape, bool) {
	if len(in.Shape) != 3 {
		return nn.Shape{}, false
	}
	return nn.Shape{H: in.Shape[1], W: in.Shape[2], C: in.Shape[0]}, true
}

// Size is the number of values of one example.
func (in *Input) Size() int {
	n := 1
	for _, d := range in.Shape {
		n *= d
	}
	return n
}

// PixelNorm is the input's preparation of a pixel byte p written as
// (p/255 − mean) / std, the form pruner-tui's image datasets take:
// (p·s − μ)/σ = (p/255 − μ/(255·s)) / (σ/(255·s)). A scale of 1/255 keeps
// the mean and std as written.
func (in Input) PixelNorm() (mean, std float64) {
	k := 255 * in.Scale
	if math.Abs(k-1) < 1e-9 {
		return in.Mean, in.Std
	}
	return in.Mean / k, in.Std / k
}
