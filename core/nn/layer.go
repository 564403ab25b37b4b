package nn

// Layer is one stage of a Sequential model.
//
// Forward returns a matrix the layer owns: it stays valid until the next
// Forward call. Backward takes dL/dy for the last Forward, adds the parameter
// gradients into each Param.Grad and returns dL/dx. A layer is not safe for
// concurrent use; Clone gives an independent deep copy.
type Layer interface {
	Name() string
	Forward(x Matrix, train bool) Matrix
	Backward(dy Matrix) Matrix
	Params() []*Param
	Clone() Layer
	// Stats says what the layer holds and costs in its stored form.
	Stats() LayerStats
}

// Param is a trainable tensor with its gradient and an optional pruning mask
// (1 keeps a weight, 0 removes it; nil means dense).
type Param struct {
	Name  string
	Value Matrix
	Grad  Matrix
	Mask  []float32
}

func newParam(name string, rows, cols int) *Param {
	return &Param{Name: name, Value: NewMatrix(rows, cols), Grad: NewMatrix(rows, cols)}
}

// Clone deep-copies the value, mask and gradient.
func (p *Param) Clone() *Param {
	q := &Param{Name: p.Name, Value: p.Value.Clone(), Grad: p.Grad.Clone()}
	if p.Mask != nil {
		q.Mask = append([]float32(nil), p.Mask...)
	}
	return q
}

// ApplyMask zeroes the masked-out entries of the value.
func (p *Param) ApplyMask() {
	if p.Mask == nil {
		return
	}
	for i, m := range p.Mask {
		p.Value.Data[i] *= m
	}
}

// NonZero counts the non-zero entries of the value.
func (p *Param) NonZero() int {
	n := 0
	for _, v := range p.Value.Data {
		if v != 0 {
			n++
		}
	}
	return n
}

// LayerStats describes a layer as stored and run: what the layer pane shows
// and what the result table sums.
type LayerStats struct {
	Name      string
	Kind      string // "dense", "lowrank", "conv", "lowrank-conv", "maxpool", "flatten", "relu", "dropout"
	In, Out   int
	Params    int   // weights and biases
	NonZero   int   // non-zero weights and biases
	Weights   int   // weights alone, biases not counted: what pruning removes
	NonZeroW  int   // non-zero weights alone
	Bits      int   // bits per stored weight value: 32 for float32
	Rank      int   // rank of a factorized layer, 0 when not factorized
	FullRank  int   // min(In, Out) for weight layers
	SizeBytes int64 // bytes in the stored form (see Dense.Stats)
	FLOPs     int64 // multiply-adds per sample actually executed
	// Window is a convolution's (or pool's) K of its K×K window and Map
	// the image it gives; zero for other layers.
	Window int
	Map    Shape
}

// WeightSparsity is the fraction of the weights (biases not counted) that
// are zero: what a prune ratio speaks of.
func (s LayerStats) WeightSparsity() float64 {
	if s.Weights == 0 {
		return 0
	}
	return 1 - float64(s.NonZeroW)/float64(s.Weights)
}

// Sparsity is the fraction of zero parameters.
func (s LayerStats) Sparsity() float64 {
	if s.Params == 0 {
		return 0
	}
	return 1 - float64(s.NonZero)/float64(s.Params)
}
