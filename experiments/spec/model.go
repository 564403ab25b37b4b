package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/modelfile"
)

// Model is a stack of layers; the input comes from the dataset: a vector,
// or for MNIST and Fashion-MNIST a 28×28×1 image, which convolutions and
// pooling take and flatten turns into a vector (a dense layer takes an
// image as the vector of its H·W·C values too).
//
// From names a trained model (a .safetensors file: see import.go) to take
// as the dense baseline instead of training one; its layers are the
// file's unless Layers lists them. Parse and FromModelFile read the file
// for Layers and Input; a Spec built in Go with From sets them itself.
type Model struct {
	Layers []Layer `yaml:"layers"`
	From   string  `yaml:"from"`
	// Input is how the model of From prepares its inputs, as its file
	// records it (nil: as the dataset does).
	Input *modelfile.Input `yaml:"-"`
}

// Layer is one layer. Names default to fc1, fc2, ... for dense layers,
// conv1, ... for convolutions, pool1, ... for pooling and relu1, ...,
// dropout1, ..., flatten1, ... for the others.
type Layer struct {
	Type    string  `yaml:"type"`    // dense, conv, maxpool, flatten, relu or dropout
	Units   int     `yaml:"units"`   // dense: output width
	Filters int     `yaml:"filters"` // conv: output channels
	Kernel  int     `yaml:"kernel"`  // conv: the window is kernel×kernel
	Stride  int     `yaml:"stride"`  // conv (default 1), maxpool (default size): the window's step
	Padding int     `yaml:"padding"` // conv: zeros around the input (default 0)
	Size    int     `yaml:"size"`    // maxpool: the window is size×size
	Rate    float64 `yaml:"rate"`    // dropout: fraction of activations dropped in training
	Name    string  `yaml:"name"`
	Init    string  `yaml:"init"` // dense, conv: he (default) or glorot
}

var (
	layerTypes  = []string{"dense", "conv", "maxpool", "flatten", "relu", "dropout"}
	layerNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
)

const (
	maxFilters = 4096
	maxKernel  = 64
)

// defaultNames are the name prefixes of each layer type.
var defaultNames = map[string]string{"dense": "fc", "conv": "conv", "maxpool": "pool",
	"flatten": "flatten", "relu": "relu", "dropout": "dropout"}

// resolve names the unnamed layers and fills the window defaults: stride
// 1 for a convolution, the window's size for a pool.
func (m *Model) resolve() {
	count := map[string]int{}
	for i := range m.Layers {
		l := &m.Layers[i]
		count[l.Type]++
		if prefix, ok := defaultNames[l.Type]; ok && l.Name == "" {
			l.Name = fmt.Sprintf("%s%d", prefix, count[l.Type])
		}
		switch {
		case l.Type == "conv" && l.Stride == 0:
			l.Stride = 1
		case l.Type == "maxpool" && l.Stride == 0:
			l.Stride = l.Size
		}
	}
}

// layerKeys says which layer types take each optional key: a key set on
// another type is an error naming the types that take it.
var layerKeys = []struct {
	key   string
	types []string
	set   func(Layer) (bool, any)
}{
	{"units", []string{"dense"}, func(l Layer) (bool, any) { return l.Units != 0, l.Units }},
	{"filters", []string{"conv"}, func(l Layer) (bool, any) { return l.Filters != 0, l.Filters }},
	{"kernel", []string{"conv"}, func(l Layer) (bool, any) { return l.Kernel != 0, l.Kernel }},
	{"stride", []string{"conv", "maxpool"}, func(l Layer) (bool, any) { return l.Stride != 0, l.Stride }},
	{"padding", []string{"conv"}, func(l Layer) (bool, any) { return l.Padding != 0, l.Padding }},
	{"size", []string{"maxpool"}, func(l Layer) (bool, any) { return l.Size != 0, l.Size }},
	{"rate", []string{"dropout"}, func(l Layer) (bool, any) { return l.Rate != 0, l.Rate }},
	{"init", []string{"dense", "conv"}, func(l Layer) (bool, any) { return l.Init != "", quote(l.Init) }},
}

// Tensor is what flows between layers: an image (H×W×C, channels last)
// or a vector (Image false, of Width values).
type Tensor struct {
	Image   bool
	H, W, C int
	Width   int
}

// Size is the number of values of one example.
func (t Tensor) Size() int {
	if t.Image {
		return t.H * t.W * t.C
	}
	return t.Width
}

func (t Tensor) String() string {
	if t.Image {
		return fmt.Sprintf("%d×%d×%d image", t.H, t.W, t.C)
	}
	return fmt.Sprintf("vector of %d", t.Width)
}

// Input is what the dataset feeds the first layer.
func (d Dataset) Input() Tensor {
	if d.Images() {
		return Tensor{Image: true, H: 28, W: 28, C: 1}
	}
	return Tensor{Width: d.InputDim()}
}

// convOut is the output size of a window k moved by stride over n inputs
// with pad zeros each side, 0 when it does not fit.
func convOut(n, k, stride, pad int) int {
	if stride < 1 || n+2*pad < k {
		return 0
	}
	return (n+2*pad-k)/stride + 1
}

// Shapes returns what each layer of a resolved, valid spec takes in and
// gives out.
func (s Spec) Shapes() (in, out []Tensor) {
	t := s.Dataset.Input()
	for _, l := range s.Model.Layers {
		in = append(in, t)
		t, _ = l.output(t)
		out = append(out, t)
	}
	return in, out
}

// output is what layer l gives for input t, or what is wrong.
func (l Layer) output(t Tensor) (Tensor, string) {
	switch l.Type {
	case "dense":
		// An image is already a row of H·W·C values: a dense layer takes
		// it as it is, as the MLPs on MNIST do.
		return Tensor{Width: l.Units}, ""
	case "conv", "maxpool":
		if !t.Image {
			return t, fmt.Sprintf("a %s layer takes an image, and its input here is a %s (only mnist and fashion-mnist give images, and flatten makes vectors)", l.Type, t)
		}
		k, pad, c := l.Kernel, l.Padding, l.Filters
		if l.Type == "maxpool" {
			k, pad, c = l.Size, 0, t.C
		}
		h, w := convOut(t.H, k, l.Stride, pad), convOut(t.W, k, l.Stride, pad)
		if h < 1 || w < 1 {
			return t, fmt.Sprintf("a %d×%d window (stride %d, padding %d) does not fit its %s input", k, k, l.Stride, pad, t)
		}
		return Tensor{Image: true, H: h, W: w, C: c}, ""
	case "flatten":
		if !t.Image {
			return t, fmt.Sprintf("flatten takes an image, and its input here is already a %s", t)
		}
		return Tensor{Width: t.Size()}, ""
	}
	return t, ""
}

func (s Spec) validateModel(present func(string) bool) *Error {
	layers := s.Model.Layers
	if len(layers) == 0 && s.Model.From != "" {
		return fieldError("model.layers", "must list at least one dense layer (with model.from, Parse and FromModelFile take them from the file)", "none")
	}
	if len(layers) == 0 {
		return fieldError("model.layers", "must list at least one dense layer", "none")
	}
	if len(layers) > MaxListLength {
		return fieldError("model.layers", fmt.Sprintf("must have at most %d layers", MaxListLength), len(layers))
	}
	seen := map[string]int{}
	t := s.Dataset.Input()
	for i, l := range layers {
		path := fmt.Sprintf("model.layers[%d]", i)
		if err := l.validate(path, present); err != nil {
			return err
		}
		if j, dup := seen[l.Name]; dup {
			return fieldError(path+".name", fmt.Sprintf("must be unique, but model.layers[%d] is also named", j), quote(l.Name))
		}
		seen[l.Name] = i
		out, wrong := l.output(t)
		if wrong != "" {
			return problem(path, fmt.Sprintf("%s (%s): %s", l.Name, l.Type, wrong))
		}
		t = out
	}
	last := len(layers) - 1
	if layers[last].Type != "dense" {
		return fieldError(fmt.Sprintf("model.layers[%d].type", last), "the last layer must be dense: it gives one score per class", quote(layers[last].Type))
	}
	if layers[last].Units != s.Dataset.Classes {
		return fieldError(fmt.Sprintf("model.layers[%d].units", last),
			fmt.Sprintf("the last dense layer's units must equal the dataset's class count %d", s.Dataset.Classes), layers[last].Units)
	}
	return nil
}

func (l Layer) validate(path string, present func(string) bool) *Error {
	if !slices.Contains(layerTypes, l.Type) {
		return fieldError(path+".type", oneOf(layerTypes), quote(l.Type))
	}
	if !layerNameRE.MatchString(l.Name) {
		return fieldError(path+".name", "must start with a letter and use only letters, digits, _ . -", quote(l.Name))
	}
	if err := checkText(path+".name", l.Name, MaxNameLength); err != nil {
		return err
	}
	for _, k := range layerKeys {
		if set, got := k.set(l); set && !slices.Contains(k.types, l.Type) {
			return fieldError(path+"."+k.key, "applies only to "+strings.Join(k.types, " and ")+" layers", got)
		}
	}
	if l.Init != "" && l.Init != "he" && l.Init != "glorot" {
		return fieldError(path+".init", "must be he or glorot", quote(l.Init))
	}
	switch l.Type {
	case "dense":
		if l.Units < 1 || l.Units > maxUnits {
			return fieldError(path+".units", inRange(1, maxUnits), l.Units)
		}
	case "conv":
		return l.validateConv(path)
	case "maxpool":
		if l.Size < 1 || l.Size > maxKernel {
			return fieldError(path+".size", inRange(1, maxKernel), l.Size)
		}
		if l.Stride < 1 || l.Stride > maxKernel {
			return fieldError(path+".stride", fmt.Sprintf("must be in [1, %d] (or left out: the window's size)", maxKernel), l.Stride)
		}
	case "dropout":
		if present != nil && !present(path+".rate") {
			return &Error{Field: path + ".rate", Msg: "required field is missing; must be in [0, 1)", want: "must be in [0, 1)"}
		}
		if !(l.Rate >= 0 && l.Rate < 1) {
			return fieldError(path+".rate", "must be in [0, 1)", l.Rate)
		}
	}
	return nil
}

func (l Layer) validateConv(path string) *Error {
	switch {
	case l.Filters < 1 || l.Filters > maxFilters:
		return fieldError(path+".filters", inRange(1, maxFilters), l.Filters)
	case l.Kernel < 1 || l.Kernel > maxKernel:
		return fieldError(path+".kernel", inRange(1, maxKernel), l.Kernel)
	case l.Stride < 1 || l.Stride > maxKernel:
		return fieldError(path+".stride", fmt.Sprintf("must be in [1, %d] (or left out: 1)", maxKernel), l.Stride)
	case l.Padding < 0 || l.Padding >= l.Kernel:
		return fieldError(path+".padding", fmt.Sprintf("must be in [0, kernel−1] = [0, %d]", l.Kernel-1), l.Padding)
	}
	return nil
}

// WeightNames lists the layers with weights — dense layers and
// convolutions — in model order (of a resolved spec): what compression
// steps name.
func (s Spec) WeightNames() []string {
	var names []string
	for _, l := range s.Model.Layers {
		if l.Type == "dense" || l.Type == "conv" {
			names = append(names, l.Name)
		}
	}
	return names
}

// structuredUnits names what structured pruning of the layers named
// removes (every hidden weight layer when names is empty): "neurons" of
// dense layers, "filters" of convolutions, "filters+neurons" of both.
func (s Spec) structuredUnits(names []string) string {
	weights := s.WeightNames()
	if len(names) == 0 {
		names = weights[:max(len(weights)-1, 0)]
	}
	conv, dense := false, false
	for _, l := range s.Model.Layers {
		if slices.Contains(names, l.Name) {
			conv, dense = conv || l.Type == "conv", dense || l.Type == "dense"
		}
	}
	switch {
	case conv && dense:
		return "filters+neurons"
	case conv:
		return "filters"
	}
	return "neurons"
}

// DenseNames lists the dense layers' names in order (of a resolved spec).
func (s Spec) DenseNames() []string {
	var names []string
	for _, l := range s.Model.Layers {
		if l.Type == "dense" {
			names = append(names, l.Name)
		}
	}
	return names
}

// WeightShape returns the rows and columns of the weight matrix of the
// layer named name: a dense layer's input and output widths, a
// convolution's kernel²·channels and filters; 0, 0 if there is none.
func (s Spec) WeightShape(name string) (in, out int) {
	ins, outs := s.Shapes()
	for i, l := range s.Model.Layers {
		switch {
		case l.Name != name:
		case l.Type == "dense":
			return ins[i].Size(), outs[i].Size()
		case l.Type == "conv":
			return l.Kernel * l.Kernel * ins[i].C, l.Filters
		}
	}
	return 0, 0
}

// DescribeModel gives the shapes through the model: "784-300-100-10" for
// an MLP, "28×28×1-conv20@5×5-pool2-conv50@5×5-pool2-500-10" for LeNet-5.
func (s Spec) DescribeModel() string {
	r := s.resolved()
	in := r.Dataset.Input()
	parts := []string{fmt.Sprint(in.Size())}
	if in.Image {
		parts[0] = fmt.Sprintf("%d×%d×%d", in.H, in.W, in.C)
	}
	for _, l := range r.Model.Layers {
		switch l.Type {
		case "dense":
			parts = append(parts, fmt.Sprint(l.Units))
		case "conv":
			parts = append(parts, fmt.Sprintf("conv%d@%d×%d", l.Filters, l.Kernel, l.Kernel))
		case "maxpool":
			parts = append(parts, fmt.Sprintf("pool%d", l.Size))
		}
	}
	return strings.Join(parts, "-")
}
