package prune

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Norm is how Structured scores a neuron from its incoming weights.
type Norm int

const (
	// L1 scores neuron j by Σ_i |W[i,j]| (Li et al. 2017, "Pruning Filters
	// for Efficient ConvNets").
	L1 Norm = iota
	// L2 scores neuron j by √(Σ_i W[i,j]²).
	L2
)

// String is the norm's name in experiment specs: "l1" or "l2".
func (n Norm) String() string {
	switch n {
	case L1:
		return "l1"
	case L2:
		return "l2"
	}
	return fmt.Sprintf("Norm(%d)", int(n))
}

// ParseNorm turns "l1" or "l2" into a Norm.
func ParseNorm(name string) (Norm, error) {
	switch name {
	case "l1":
		return L1, nil
	case "l2":
		return L2, nil
	}
	return 0, fmt.Errorf("neuron norm %q is unknown: allowed l1, l2", name)
}

// LayerReport says what Structured did to one layer.
type LayerReport struct {
	Layer         string
	Before, After int   // output neurons before and after
	Removed       []int // indices (before pruning) of the removed neurons, ascending
}

// Report lists, in model order, every layer Structured was asked to prune.
type Report struct {
	Layers []LayerReport
}

// Removed is the number of neurons removed over all layers.
func (r Report) Removed() int {
	n := 0
	for _, l := range r.Layers {
		n += len(l.Removed)
	}
	return n
}

// Structured physically removes whole neurons from hidden Dense layers and
// whole filters (output channels) from convolutions, so the model gets
// smaller and faster, not just sparser.
//
// For each chosen layer (nil or empty: every Dense layer or convolution
// whose outputs another weight layer reads) it scores output neuron j — a
// filter, for a convolution — by the L1 or L2 norm of its incoming weights
// W[:,j] (the bias is not part of the score: like magnitude pruning it
// looks at weights only, and a neuron's bias is a single number that says
// nothing about how much the neuron responds to its input) and removes the
// round(ratio·Out) lowest-scoring neurons, ties lowest index first, always
// keeping at least one (Li et al. 2017, "Pruning Filters for Efficient
// ConvNets"). The layer is replaced by a narrower one (its W loses the
// columns, its b the entries), and the weight layer that reads it by one
// that loses the matching inputs: the rows of the next Dense layer; for a
// convolution, the input channel's rows of the next convolution at every
// window offset, or of the Dense layer after the images are flattened at
// every pixel. ReLU and Dropout (element-wise) may sit between, and after
// a convolution also max-pooling and flatten (channel by channel), whose
// channel counts shrink with it. Surviving weights, biases, masks and bit
// widths are kept exactly, so the outputs of the kept neurons, and the
// model's output up to the removed neurons' contribution, are unchanged.
//
// All layers are scored on the weights as they are before the call, then
// shrunk together: choosing fc1 and fc2 scores fc2's neurons on all of
// fc2's inputs, including those fc1 loses.
//
// The output layer (a Dense layer with no weight layer after it) is never
// pruned: its neurons are the classes. The replaced layers have new
// Params, so an optimizer's state for them (momentum, Adam moments) starts
// afresh; make a new optimizer for fine-tuning.
func Structured(m *nn.Sequential, ratio float64, norm Norm, layers []string) (Report, error) {
	if err := checkRatio(ratio); err != nil {
		return Report{}, err
	}
	if norm != L1 && norm != L2 {
		return Report{}, fmt.Errorf("neuron norm %d is unknown: allowed L1, L2", int(norm))
	}
	chosen, links, err := hiddenLayers(m, layers)
	if err != nil {
		return Report{}, fmt.Errorf("structured prune: %w", err)
	}
	// keepOut[i]: the neurons (filters) layer i keeps; keepIn[j]: the input
	// channels weight layer j keeps because the layer before it lost some.
	keepOut := map[int][]int{}
	keepIn := map[int][]int{}
	var report Report
	for _, i := range chosen {
		d := nn.WeightLayers(&nn.Sequential{Layers: m.Layers[i : i+1]})[0]
		keep, removed := weakestNeurons(d, ratio, norm)
		report.Layers = append(report.Layers, LayerReport{Layer: d.LayerName, Before: d.Out, After: len(keep), Removed: removed})
		if len(removed) > 0 {
			keepOut[i] = keep
			keepIn[links[i].next] = consumerRows(m, i, links[i], keep)
			for _, p := range links[i].between {
				keepIn[p] = keep // pooling and flatten lose the channels too
			}
		}
	}
	for i, l := range m.Layers {
		if keepIn[i] != nil || keepOut[i] != nil {
			m.Layers[i] = narrowLayer(l, keepIn[i], keepOut[i])
		}
	}
	return report, nil
}

// link is where a weight layer's outputs go: the weight layer that reads
// them (next) and the pooling and flatten layers between, which carry its
// channels.
type link struct {
	next    int
	between []int
}

// hiddenLayers returns the indices into m.Layers of the chosen weight
// layers (nil: every one another weight layer reads) and the link of every
// weight layer that has one. A chosen layer that is the output layer, or
// whose outputs reach a layer Structured cannot shrink, is an error.
func hiddenLayers(m *nn.Sequential, names []string) ([]int, map[int]link, error) {
	links := map[int]link{}
	blocked := map[int]nn.Layer{} // weight layer index → the layer in the way
	for i, l := range m.Layers {
		_, conv := l.(*nn.Conv2D)
		if !conv && !isDense(l) {
			continue
		}
		var lk link
		j := i + 1
		for ; j < len(m.Layers) && (elementWise(m.Layers[j]) || conv && channelWise(m.Layers[j])); j++ {
			if channelWise(m.Layers[j]) {
				lk.between = append(lk.between, j)
			}
		}
		switch {
		case j == len(m.Layers):
		case isDense(m.Layers[j]) || isConv(m.Layers[j]) && conv && !flattens(m.Layers, i, j):
			lk.next = j
			links[i] = lk
		default:
			blocked[i] = m.Layers[j]
		}
	}
	if len(names) == 0 {
		var chosen []int
		for i := range m.Layers {
			if _, ok := links[i]; ok {
				chosen = append(chosen, i)
			}
		}
		if len(chosen) == 0 {
			return nil, nil, errors.New("the model has no hidden layer (Dense or convolution) whose outputs another weight layer reads")
		}
		return chosen, links, nil
	}
	ds, err := nn.SelectWeightLayers(m, names)
	if err != nil {
		return nil, nil, err
	}
	var chosen []int
	for _, d := range ds {
		i := slices.IndexFunc(m.Layers, func(l nn.Layer) bool { return holds(l, d) })
		if l, ok := blocked[i]; ok {
			return nil, nil, fmt.Errorf("layer %q is followed by layer %q (%T), whose inputs cannot be shrunk; only ReLU and Dropout (and, after a convolution, max-pooling and flatten) may sit between two weight layers", d.LayerName, l.Name(), l)
		}
		if _, ok := links[i]; !ok {
			return nil, nil, fmt.Errorf("layer %q is the output layer: its neurons are the classes and cannot be removed; choose among the hidden layers %s", d.LayerName, hiddenNames(m, links))
		}
		chosen = append(chosen, i)
	}
	return chosen, links, nil
}

// consumerRows is what the layer reading layer i keeps of its inputs when
// i keeps the neurons keep: those rows of a Dense layer after a Dense
// layer; the kept channels of a convolution after a convolution (its rows
// at every offset follow in narrowLayer); and of a Dense layer after a
// convolution, the kept channels' rows at every pixel of the image it
// reads.
func consumerRows(m *nn.Sequential, i int, lk link, keep []int) []int {
	c, ok := m.Layers[i].(*nn.Conv2D)
	if !ok || isConv(m.Layers[lk.next]) {
		return keep
	}
	image := c.Out
	for _, p := range lk.between {
		if pool, ok := m.Layers[p].(*nn.MaxPool2D); ok {
			image = pool.Out
		}
	}
	return channelRows(image.H*image.W, image.C, keep)
}

// holds reports whether layer l's weight matrix is d.
func holds(l nn.Layer, d *nn.Dense) bool {
	switch l := l.(type) {
	case *nn.Dense:
		return l == d
	case *nn.Conv2D:
		return l.Kernel == d
	}
	return false
}

// flattens reports whether a flatten lies between layers i and j.
func flattens(ls []nn.Layer, i, j int) bool {
	return slices.ContainsFunc(ls[i+1:j], func(l nn.Layer) bool { _, ok := l.(*nn.Flatten); return ok })
}

func hiddenNames(m *nn.Sequential, links map[int]link) string {
	var names []string
	for i, l := range m.Layers {
		if _, ok := links[i]; ok {
			names = append(names, l.Name())
		}
	}
	if len(names) == 0 {
		return "(none in this model)"
	}
	return strings.Join(names, ", ")
}

// elementWise layers map each input to the output at the same position, so
// removing a neuron before them removes the matching column after them.
func elementWise(l nn.Layer) bool {
	switch l.(type) {
	case *nn.ReLU, *nn.Dropout:
		return true
	}
	return false
}

// channelWise layers work on each channel of an image alone, so removing
// a filter before them removes that channel after them.
func channelWise(l nn.Layer) bool {
	switch l.(type) {
	case *nn.MaxPool2D, *nn.Flatten:
		return true
	}
	return false
}

func isDense(l nn.Layer) bool {
	_, ok := l.(*nn.Dense)
	return ok
}

func isConv(l nn.Layer) bool {
	_, ok := l.(*nn.Conv2D)
	return ok
}

// narrowLayer returns a copy of l keeping the input channels in in and
// the neurons (filters) in out; nil keeps all.
func narrowLayer(l nn.Layer, in, out []int) nn.Layer {
	switch l := l.(type) {
	case *nn.Dense:
		return narrowDense(l, in, out)
	case *nn.Conv2D:
		c := l.Clone().(*nn.Conv2D)
		rows := in
		if in != nil {
			rows = channelRows(l.K*l.K, l.In.C, in)
			c.In.C = len(in)
		}
		c.Kernel = narrowDense(l.Kernel, rows, out)
		c.Out.C = c.Kernel.Out
		return c
	case *nn.MaxPool2D:
		return nn.NewMaxPool2D(l.LayerName, nn.Shape{H: l.In.H, W: l.In.W, C: len(in)}, l.Size, l.Stride)
	case *nn.Flatten:
		return nn.NewFlatten(l.LayerName, nn.Shape{H: l.In.H, W: l.In.W, C: len(in)})
	}
	return l
}

// channelRows lists the rows of a weight matrix over positions×channels
// inputs (channels fastest) that the kept channels occupy.
func channelRows(positions, channels int, keep []int) []int {
	rows := make([]int, 0, positions*len(keep))
	for p := range positions {
		for _, c := range keep {
			rows = append(rows, p*channels+c)
		}
	}
	return rows
}

// weakestNeurons scores d's output neurons by the norm of their incoming
// weights and returns the neurons to keep and to remove, both ascending.
func weakestNeurons(d *nn.Dense, ratio float64, norm Norm) (keep, removed []int) {
	score := make([]float64, d.Out)
	for i := 0; i < d.In; i++ {
		for j, w := range d.W.Value.Row(i) {
			if norm == L1 {
				score[j] += math.Abs(float64(w))
			} else {
				score[j] += float64(w) * float64(w)
			}
		}
	}
	// √ is monotone, so ranking by Σw² ranks by the L2 norm.
	order := make([]int, d.Out)
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(score[a], score[b]), cmp.Compare(a, b)) })
	k := min(int(math.Round(ratio*float64(d.Out))), d.Out-1)
	removed = slices.Sorted(slices.Values(order[:k]))
	keep = slices.Sorted(slices.Values(order[k:]))
	return keep, removed
}

// narrowDense returns a copy of d keeping only the weight rows in rows and
// the neurons (weight columns, bias entries) in cols; nil keeps all.
func narrowDense(d *nn.Dense, rows, cols []int) *nn.Dense {
	if rows == nil {
		rows = identity(d.In)
	}
	if cols == nil {
		cols = identity(d.Out)
	}
	// Clone keeps everything else about the layer (name, Bits, whether it
	// has a bias) and gives it buffers of its own.
	nd := d.Clone().(*nn.Dense)
	nd.In, nd.Out = len(rows), len(cols)
	nd.W = subParam(d.W, rows, cols)
	nd.B = subParam(d.B, []int{0}, cols)
	return nd
}

// subParam copies the rows×cols sub-matrix of p's value and mask; the
// gradient starts at zero.
func subParam(p *nn.Param, rows, cols []int) *nn.Param {
	q := &nn.Param{Name: p.Name, Value: nn.NewMatrix(len(rows), len(cols)), Grad: nn.NewMatrix(len(rows), len(cols))}
	if p.Mask != nil {
		q.Mask = make([]float32, len(rows)*len(cols))
	}
	for r, i := range rows {
		for c, j := range cols {
			q.Value.Data[r*len(cols)+c] = p.Value.At(i, j)
			if p.Mask != nil {
				q.Mask[r*len(cols)+c] = p.Mask[i*p.Value.Cols+j]
			}
		}
	}
	return q
}

func identity(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = i
	}
	return v
}
