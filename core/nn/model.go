package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Sequential runs its layers in order.
type Sequential struct {
	Layers []Layer
}

// Forward runs x through every layer.
func (m *Sequential) Forward(x Matrix, train bool) Matrix {
	for _, l := range m.Layers {
		x = l.Forward(x, train)
	}
	return x
}

// Backward runs dL/dlogits back through the layers, adding every
// parameter's gradient. It stops at the first layer with parameters: the
// gradient with respect to the model's input is never used, so that layer
// computes only its parameter gradients when it can (Dense), and the
// parameter-free layers before it are skipped.
func (m *Sequential) Backward(dy Matrix) {
	first := 0
	for first < len(m.Layers) && len(m.Layers[first].Params()) == 0 {
		first++
	}
	for i := len(m.Layers) - 1; i > first; i-- {
		dy = m.Layers[i].Backward(dy)
	}
	if first == len(m.Layers) {
		return // no parameters: nothing to compute
	}
	if l, ok := m.Layers[first].(paramBackwarder); ok {
		l.backwardParams(dy)
	} else {
		m.Layers[first].Backward(dy)
	}
}

// paramBackwarder is a layer that can add its parameter gradients without
// computing dL/dx.
type paramBackwarder interface {
	backwardParams(dy Matrix)
}

// Params lists every trainable parameter in layer order.
func (m *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range m.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// ZeroGrad clears every gradient.
func (m *Sequential) ZeroGrad() {
	for _, p := range m.Params() {
		clear(p.Grad.Data)
	}
}

// Clone returns an independent deep copy.
func (m *Sequential) Clone() *Sequential {
	c := &Sequential{Layers: make([]Layer, len(m.Layers))}
	for i, l := range m.Layers {
		c.Layers[i] = l.Clone()
	}
	return c
}

// Stats lists the stats of every layer.
func (m *Sequential) Stats() []LayerStats {
	s := make([]LayerStats, len(m.Layers))
	for i, l := range m.Layers {
		s[i] = l.Stats()
	}
	return s
}

// Totals sums the layer stats: parameters, non-zeros, stored bytes, FLOPs.
func (m *Sequential) Totals() LayerStats {
	var t LayerStats
	t.Name, t.Kind, t.Bits = "total", "model", 32
	for _, s := range m.Stats() {
		t.Params += s.Params
		t.NonZero += s.NonZero
		t.Weights += s.Weights
		t.NonZeroW += s.NonZeroW
		t.SizeBytes += s.SizeBytes
		t.FLOPs += s.FLOPs
	}
	return t
}

// SoftmaxCrossEntropy returns the mean cross-entropy of softmax(logits)
// against labels and writes its gradient into dlogits (same shape):
//
//	p = softmax(z),  L = −(1/B) Σ log p[y],  dL/dz = (p − onehot(y)) / B
func SoftmaxCrossEntropy(logits Matrix, labels []int, dlogits Matrix) float64 {
	var loss float64
	inv := 1 / float32(logits.Rows)
	for i := 0; i < logits.Rows; i++ {
		z := logits.Row(i)
		mx := z[0]
		for _, v := range z {
			mx = max(mx, v)
		}
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v - mx))
		}
		logSum := math.Log(sum)
		y := labels[i]
		loss -= float64(z[y]-mx) - logSum
		if dlogits.Data != nil {
			g := dlogits.Row(i)
			for j, v := range z {
				g[j] = float32(math.Exp(float64(v-mx)-logSum)) * inv
			}
			g[y] -= inv
		}
	}
	return loss / float64(logits.Rows)
}

// Argmax returns the index of the largest value in v.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Evaluate returns the mean loss and the accuracy (fraction correct) of m on
// x, y, running batches of the given size without dropout.
func Evaluate(m *Sequential, x Matrix, y []int, batch int) (loss, acc float64) {
	if x.Rows == 0 {
		return 0, 0
	}
	correct := 0
	for from := 0; from < x.Rows; from += batch {
		to := min(from+batch, x.Rows)
		logits := m.Forward(x.Slice(from, to), false)
		loss += SoftmaxCrossEntropy(logits, y[from:to], Matrix{}) * float64(to-from)
		for i := 0; i < logits.Rows; i++ {
			if Argmax(logits.Row(i)) == y[from+i] {
				correct++
			}
		}
	}
	return loss / float64(x.Rows), float64(correct) / float64(x.Rows)
}

// Predict returns the predicted class of every row of x.
func Predict(m *Sequential, x Matrix, batch int) []int {
	out := make([]int, x.Rows)
	for from := 0; from < x.Rows; from += batch {
		to := min(from+batch, x.Rows)
		logits := m.Forward(x.Slice(from, to), false)
		for i := 0; i < logits.Rows; i++ {
			out[from+i] = Argmax(logits.Row(i))
		}
	}
	return out
}

// StepFunc is called after every optimizer step with the epoch's step index
// (from 0) and the batch loss. Returning an error stops the epoch.
type StepFunc func(step int, loss float64) error

// TrainEpoch runs one epoch of mini-batch training: the rows of x are visited
// in an order shuffled by rng, and for each batch
//
//	logits = m(x_b);  L = CE(logits, y_b);  backprop;  opt.Step
//
// It returns the mean batch loss. A cancelled ctx stops it within one batch.
func TrainEpoch(ctx context.Context, m *Sequential, opt Optimizer, x Matrix, y []int, batch int, rng *rand.Rand, onStep StepFunc) (float64, error) {
	return TrainEpochAugmented(ctx, m, opt, x, y, batch, rng, nil, onStep)
}

// Augmenter changes a training example at random as a batch draws it:
// Apply writes src, changed, into dst, drawing from rng.
type Augmenter interface {
	Apply(dst, src []float32, rng *rand.Rand)
}

// TrainEpochAugmented is TrainEpoch with each example passed through aug
// (nil: as it is) on its way into the batch; aug draws from rng after the
// epoch's shuffle, so without it the epoch is TrainEpoch's exactly.
func TrainEpochAugmented(ctx context.Context, m *Sequential, opt Optimizer, x Matrix, y []int, batch int, rng *rand.Rand, aug Augmenter, onStep StepFunc) (float64, error) {
	n := x.Rows
	order := rng.Perm(n)
	xb := NewMatrix(batch, x.Cols)
	yb := make([]int, batch)
	var dlogits Matrix
	params := m.Params()
	var total float64
	steps := 0
	for from := 0; from < n; from += batch {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		to := min(from+batch, n)
		b := to - from
		xb = ensure(xb, b, x.Cols)
		for i := 0; i < b; i++ {
			if aug != nil {
				aug.Apply(xb.Row(i), x.Row(order[from+i]), rng)
			} else {
				copy(xb.Row(i), x.Row(order[from+i]))
			}
			yb[i] = y[order[from+i]]
		}
		for _, p := range params {
			clear(p.Grad.Data)
		}
		logits := m.Forward(xb, true)
		dlogits = ensure(dlogits, logits.Rows, logits.Cols)
		loss := SoftmaxCrossEntropy(logits, yb[:b], dlogits)
		m.Backward(dlogits)
		opt.Step(params)
		total += loss
		if onStep != nil {
			if err := onStep(steps, loss); err != nil {
				return total / float64(steps+1), err
			}
		}
		steps++
	}
	if steps == 0 {
		return 0, nil
	}
	return total / float64(steps), nil
}

// DenseLayers returns the Dense layers of m named in names, in model order;
// no names means every Dense layer. Unknown or repeated names are errors
// that list the Dense layers there are.
func (m *Sequential) DenseLayers(names []string) ([]*Dense, error) {
	var all []*Dense
	byName := map[string]*Dense{}
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			all = append(all, d)
			byName[d.LayerName] = d
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("the model has no Dense layers")
	}
	if len(names) == 0 {
		return all, nil
	}
	seen := map[string]bool{}
	for _, name := range names {
		if byName[name] == nil {
			return nil, fmt.Errorf("layer %q is not a Dense layer of the model; Dense layers are %s", name, denseNames(all))
		}
		if seen[name] {
			return nil, fmt.Errorf("layer %q is listed twice", name)
		}
		seen[name] = true
	}
	var picked []*Dense
	for _, d := range all {
		if seen[d.LayerName] {
			picked = append(picked, d)
		}
	}
	return picked, nil
}

func denseNames(ds []*Dense) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.LayerName
	}
	return strings.Join(names, ", ")
}
