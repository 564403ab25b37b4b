package experiments

import (
	"fmt"
	"math"
	"slices"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// What the knobs pane draws beside its numbers: the weight-magnitude
// histogram with the prune threshold under the prune knob, the weight
// histogram under the bit-width knob and the singular-value spectrum under
// the rank knob.
// Both are computed off the UI goroutine (in Trained.Apply, or
// Trained.Spectrum in a tea.Cmd) and are copies the UI may keep.

// HistogramBins is the number of bins of a WeightHistogram; a chart merges
// neighbours to fit its width.
const HistogramBins = 256

// AllLayers is the Layer of the histogram that pools every weight layer.
const AllLayers = "all layers"

// WeightHistogram is how the non-zero weights of one weight layer (or of
// all of them) spread before quantization, and the levels the quantizer
// snaps them to.
type WeightHistogram struct {
	Layer  string  // a weight layer ("fc1", "fc1.A"), or AllLayers
	Lo, Hi float64 // the bins cover [Lo, Hi] = [−max|w|, max|w|]
	Counts []int   // non-zero weights per bin: HistogramBins equal bins
	Zeros  int     // weights that are exactly zero (pruned), not binned
	Total  int     // all weights of the layer(s)
	Bits   int     // the bit width applied: 1 to 8, or 0 for float32
	// Levels are the values the quantizer maps this layer's weights to,
	// ascending; nil for float32 and for AllLayers. Each output channel has
	// its own scale, so these are the levels of the channel with the
	// largest |w| (LevelsChannel), whose grid spans the whole histogram;
	// the other channels' grids are that one shrunk.
	Levels        []float64
	LevelsChannel int
}

// MagnitudeHistogram is how the weights of one weight layer (or of all of
// them) spread by magnitude before the prune knob cuts them, and where it
// cuts: the prune stage zeroes the weights of magnitude up to Threshold.
type MagnitudeHistogram struct {
	Layer  string  // a weight layer ("fc1", "fc1.A"), or AllLayers
	Hi     float64 // the bins cover [0, Hi] = [0, max|w|]
	Counts []int   // weights per bin (zeros included): HistogramBins equal bins
	Total  int     // all weights of the layer(s)
	Pruned int     // the weights the setting zeroes (or that were zero before)
	// Threshold is the largest magnitude the prune stage zeroed: the
	// layer's own cut (scope layer), or the one cut of every layer (scope
	// global). HasThreshold is false when nothing is pruned, and for
	// AllLayers under scope layer, where each layer has its own.
	Threshold    float64
	HasThreshold bool
	// Whole says the setting removes whole filters or neurons rather
	// than weights: no cut among the magnitudes.
	Whole string // "filters" or "neurons"; "" for weights
}

// Spectrum is the singular-value spectrum of the layer the rank knob
// factorizes, and where the knob cuts it.
type Spectrum struct {
	Layer         string
	In, Out       int
	Values        []float64 // singular values, largest first
	Rank          int       // the cut; 0 = not factorized
	EnergyKept    float64   // Σσ² of the first Rank values over all of it (1 when not factorized)
	MaxSavingRank int       // the largest rank that stores fewer weights than the layer
}

// histograms bins the weights of every weight layer of m (all pooled
// first, then each layer in model order), before quantization; bits is the
// width about to be applied (for the record; levels come from addLevels).
func histograms(m *nn.Sequential, bits int) []WeightHistogram {
	ds := nn.WeightLayers(m)
	out := make([]WeightHistogram, 0, len(ds)+1)
	var all [][]float32
	for _, d := range ds {
		all = append(all, d.W.Value.Data)
	}
	out = append(out, binWeights(AllLayers, all, bits))
	for _, d := range ds {
		out = append(out, binWeights(d.LayerName, [][]float32{d.W.Value.Data}, bits))
	}
	return out
}

// binWeights makes the histogram of the non-zero values of ws.
func binWeights(layer string, ws [][]float32, bits int) WeightHistogram {
	h := WeightHistogram{Layer: layer, Counts: make([]int, HistogramBins)}
	if spec.Quantizes(bits) {
		h.Bits = bits
	}
	var top float64
	for _, w := range ws {
		for _, x := range w {
			top = math.Max(top, math.Abs(float64(x)))
		}
		h.Total += len(w)
	}
	if top == 0 {
		top = 1
	}
	h.Lo, h.Hi = -top, top
	width := (h.Hi - h.Lo) / HistogramBins
	for _, w := range ws {
		for _, x := range w {
			if x == 0 {
				h.Zeros++
				continue
			}
			i := int((float64(x) - h.Lo) / width)
			h.Counts[min(max(i, 0), HistogramBins-1)]++
		}
	}
	return h
}

// addLevels sets the levels of each single-layer histogram from the
// quantized model q: the grid of the layer's widest channel, as core/quant
// builds it (symmetric, one scale per output channel): code·max|w|/qmax for
// codes −qmax…qmax, or ±mean|w| for one bit. before holds the weights
// before quantization, by layer, to find each channel's range.
func addLevels(hs []WeightHistogram, before map[string][]float32, q *nn.Sequential, bits int) {
	if !spec.Quantizes(bits) {
		return
	}
	byName := map[string]*nn.Dense{}
	for _, d := range nn.WeightLayers(q) {
		byName[d.LayerName] = d
	}
	for i := range hs {
		d, w := byName[hs[i].Layer], before[hs[i].Layer]
		if d == nil || w == nil {
			continue
		}
		// The widest channel: column j of the In×Out weights.
		best, top := -1, 0.0
		for j := 0; j < d.Out; j++ {
			for r := 0; r < d.In; r++ {
				if a := math.Abs(float64(w[r*d.Out+j])); a > top {
					best, top = j, a
				}
			}
		}
		if best < 0 {
			continue
		}
		hs[i].LevelsChannel = best
		if bits == 1 {
			var sum float64
			n := 0
			for r := 0; r < d.In; r++ {
				if x := w[r*d.Out+best]; x != 0 {
					sum += math.Abs(float64(x))
					n++
				}
			}
			alpha := float64(float32(sum / float64(n)))
			hs[i].Levels = []float64{-alpha, alpha}
			continue
		}
		qmax := int(1)<<(bits-1) - 1
		step := top / float64(qmax)
		levels := make([]float64, 0, 2*qmax+1)
		for c := -qmax; c <= qmax; c++ {
			levels = append(levels, float64(float32(float64(c)*step)))
		}
		hs[i].Levels = levels
	}
}

// weightsByLayer copies the weights of every weight layer of m, by name.
func weightsByLayer(m *nn.Sequential) map[string][]float32 {
	out := map[string][]float32{}
	for _, d := range nn.WeightLayers(m) {
		out[d.LayerName] = slices.Clone(d.W.Value.Data)
	}
	return out
}

// magnitudes bins |w| of every weight layer as before holds them (all
// pooled first, then each layer in model order) and finds the cut the
// prune stage made: after holds the weights it left. A layer missing from
// after (none is) would count as unpruned.
func magnitudes(before, after map[string][]float32, order []string, global bool) []MagnitudeHistogram {
	out := make([]MagnitudeHistogram, 0, len(order)+1)
	var all, allAfter [][]float32
	for _, name := range order {
		all, allAfter = append(all, before[name]), append(allAfter, after[name])
	}
	pooled := binMagnitudes(AllLayers, all, allAfter)
	if !global {
		pooled.HasThreshold = false
	}
	out = append(out, pooled)
	for _, name := range order {
		h := binMagnitudes(name, [][]float32{before[name]}, [][]float32{after[name]})
		if global && pooled.HasThreshold {
			h.Threshold, h.HasThreshold = pooled.Threshold, true
		}
		out = append(out, h)
	}
	return out
}

// binMagnitudes makes the magnitude histogram of the weights ws, and the
// cut: the largest |w| that is zero in pruned (the same weights after the
// prune stage) but was not before.
func binMagnitudes(layer string, ws, pruned [][]float32) MagnitudeHistogram {
	h := MagnitudeHistogram{Layer: layer, Counts: make([]int, HistogramBins)}
	for _, w := range ws {
		for _, x := range w {
			h.Hi = math.Max(h.Hi, math.Abs(float64(x)))
		}
		h.Total += len(w)
	}
	if h.Hi == 0 {
		h.Hi = 1
	}
	for i, w := range ws {
		for j, x := range w {
			a := math.Abs(float64(x))
			h.Counts[min(int(a/h.Hi*HistogramBins), HistogramBins-1)]++
			if j < len(pruned[i]) && pruned[i][j] == 0 {
				h.Pruned++
				if x != 0 && a >= h.Threshold {
					h.Threshold, h.HasThreshold = a, true
				}
			}
		}
	}
	return h
}

// Spectrum returns the singular values of the trained model's dense layer
// named layer and what cutting it at rank keeps (rank 0: no cut). The SVD
// is computed once per layer and cached, so it is cheap to call whenever
// the rank knob turns; any rank up to min(in, out) is allowed, even one
// that saves no parameters, so the chart can show why.
func (t *Trained) Spectrum(layer string, rank int) (Spectrum, error) {
	if t == nil || t.Model == nil {
		return Spectrum{}, fmt.Errorf("no trained model")
	}
	d, err := findFactorable(t.Model, layer)
	if err != nil {
		return Spectrum{}, err
	}
	name := layerOf(t.Model, layer, d)
	if rank < 0 || rank > min(d.In, d.Out) {
		return Spectrum{}, fmt.Errorf("rank must be in [0, %d] for %s (%d→%d), got %d", min(d.In, d.Out), name, d.In, d.Out, rank)
	}
	dc, err := t.decomposition(name)
	if err != nil {
		return Spectrum{}, err
	}
	sv := dc.Values()
	s := Spectrum{Layer: name, In: d.In, Out: d.Out, Values: sv, Rank: rank, EnergyKept: 1,
		MaxSavingRank: lowrank.MaxSavingRank(d.In, d.Out)}
	if rank > 0 {
		s.EnergyKept = lowrank.EnergyKept(sv, rank)
	}
	return s, nil
}

// Histograms returns the weight histograms of the trained model compressed
// with s (see Evaluation.Histograms) without scoring it: what the bit-width
// knob's chart shows before any preview has been computed.
func (t *Trained) Histograms(s Setting) ([]WeightHistogram, error) {
	_, _, c, err := t.compressed(s, true)
	return c.weights, err
}

// Magnitudes returns the weight-magnitude histograms of the trained model
// and the cut s's prune stage makes in them, with the first convolution's
// filters before and after it (see
// Evaluation.Magnitudes), without scoring it: what the prune knob's chart
// shows before any preview has been computed.
func (t *Trained) Magnitudes(s Setting) ([]MagnitudeHistogram, *Filters, error) {
	_, _, c, err := t.compressed(s, true)
	return c.magnitudes, c.filters, err
}

// knobCharts are the histograms a compression records for the knob charts.
type knobCharts struct {
	weights    []WeightHistogram    // before quantization, with its levels
	magnitudes []MagnitudeHistogram // before pruning, with its cut
	filters    *Filters             // the first convolution's, before and after pruning
}

// chartRecorder records the knob charts while a setting's stages run:
// the weights before pruning, then the cut; the weights before
// quantization, then their levels.
type chartRecorder struct {
	s           Setting
	on          bool
	beforePrune map[string][]float32
	beforeQuant map[string][]float32
	conv        *nn.Conv2D  // the first convolution before pruning
	convBefore  [][]float32 // its filters then
	charts      knobCharts
	sawPrune    bool
	sawQuantize bool
	order       []string
}

// before is called before stage sg is applied to m.
func (r *chartRecorder) before(sg stage, m *nn.Sequential) {
	if !r.on {
		return
	}
	switch sg.(type) {
	case pruneStage:
		r.beforePrune, r.sawPrune = weightsByLayer(m), true
		if r.conv = firstConv(m); r.conv != nil {
			r.convBefore = filterWeights(r.conv)
		}
	case quantizeStage:
		r.finishMagnitudes(m)
		r.charts.weights, r.beforeQuant, r.sawQuantize = histograms(m, r.s.Bits), weightsByLayer(m), true
	}
}

// after is called after stage sg was applied to m.
func (r *chartRecorder) after(sg stage, m *nn.Sequential) {
	if _, ok := sg.(pruneStage); ok && r.on {
		r.finishMagnitudes(m)
		if r.conv != nil {
			r.charts.filters = filtersOf(r.conv, r.convBefore, m)
		}
	}
}

// finishMagnitudes bins the magnitudes once, with the cut between the
// weights before pruning and m (no prune stage: no cut).
func (r *chartRecorder) finishMagnitudes(m *nn.Sequential) {
	if r.charts.magnitudes != nil {
		return
	}
	now := weightsByLayer(m)
	before := r.beforePrune
	switch {
	case !r.sawPrune:
		before = now
	case r.s.Structured():
		// Whole filters or neurons removed: no cut among the weights (the
		// filters chart shows which went).
		now = before
	}
	r.order = r.order[:0]
	for _, d := range nn.WeightLayers(m) {
		r.order = append(r.order, d.LayerName)
	}
	r.charts.magnitudes = magnitudes(before, now, r.order, r.s.Global())
	if r.sawPrune && r.s.Structured() {
		for i := range r.charts.magnitudes {
			r.charts.magnitudes[i].Whole = r.s.PruneScope
		}
	}
}

// done finishes the charts of the compressed model m.
func (r *chartRecorder) done(m *nn.Sequential) knobCharts {
	if !r.on {
		return knobCharts{}
	}
	r.finishMagnitudes(m)
	if c := firstConv(m); r.charts.filters == nil && c != nil {
		fs := filterWeights(c)
		r.charts.filters = &Filters{Layer: c.LayerName, K: c.K, C: c.In.C, Before: fs, After: fs}
	}
	if !r.sawQuantize {
		r.charts.weights = histograms(m, r.s.Bits)
	} else {
		addLevels(r.charts.weights, r.beforeQuant, m, r.s.Bits)
	}
	return r.charts
}
