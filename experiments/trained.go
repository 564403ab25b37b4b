package experiments

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// Setting is one choice of the three knobs. Zero values mean "off":
// PruneRatio 0 keeps every weight, Bits 0 (or 32) keeps float32, Rank 0 keeps
// RankLayer unfactorized.
//
// Applied together they run in this order: factorize RankLayer, then prune
// every dense layer (the factors included) by magnitude, each losing
// PruneRatio of its weights, then quantize every dense layer to Bits.
type Setting struct {
	PruneRatio float64 // fraction of weights removed per Dense layer, 0 to 0.99
	Bits       int     // bits per weight, 1 to 8, or 0/32 for float32
	Rank       int     // rank of RankLayer's factorization, 0 for off
	RankLayer  string  // the Dense layer to factorize; "" means the first one
}

// Trained is a trained dense baseline: what the knobs are applied to. Its
// model is never mutated after creation; every evaluation works on a copy,
// so a Trained may be used from several goroutines at once.
type Trained struct {
	Spec     Spec
	Model    *nn.Sequential
	Train    *data.Set
	Test     *data.Set
	Baseline results.Row

	// decompositions caches the SVD of each layer the rank knob has cut,
	// so turning it does not recompute one.
	mu             sync.Mutex
	decompositions map[string]*lowrank.Decomposition
}

// decomposition returns the cached SVD of the Dense layer named layer of
// the trained model, computing it on first use.
func (t *Trained) decomposition(layer string) (*lowrank.Decomposition, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dc := t.decompositions[layer]; dc != nil {
		return dc, nil
	}
	ds, err := t.Model.DenseLayers([]string{layer})
	if err != nil {
		return nil, err
	}
	dc, err := lowrank.Decompose(ds[0])
	if err != nil {
		return nil, err
	}
	if t.decompositions == nil {
		t.decompositions = map[string]*lowrank.Decomposition{}
	}
	t.decompositions[layer] = dc
	return dc, nil
}

// Evaluation is the outcome of applying a Setting to a copy of a Trained.
//
// Its Row is scored for speed: test_acc over the whole test set, but
// train_acc (and so gap_pp) over at most the first 10,000 training examples;
// Apply leaves the latency columns 0, FineTune measures them. Setting has
// RankLayer resolved to the layer actually factorized.
type Evaluation struct {
	Setting Setting
	Row     results.Row
	Layers  []nn.LayerStats // SizeBytes: each layer's bytes in the model file (see stored.go)
	// Histograms are the weights before quantization, pooled then layer by
	// layer, with the levels Bits snaps them to (Apply only).
	Histograms []WeightHistogram
}

// String gives the setting column, e.g. "ratio=0.90 bits=4 rank=20@fc1",
// or "dense" when every knob is off.
func (s Setting) String() string {
	var parts []string
	if s.PruneRatio != 0 {
		parts = append(parts, fmt.Sprintf("ratio=%.2f", s.PruneRatio))
	}
	if quantizes(s.Bits) {
		parts = append(parts, fmt.Sprintf("bits=%d", s.Bits))
	}
	if s.Rank != 0 {
		r := fmt.Sprintf("rank=%d", s.Rank)
		if s.RankLayer != "" {
			r += "@" + s.RankLayer
		}
		parts = append(parts, r)
	}
	if len(parts) == 0 {
		return "dense"
	}
	return strings.Join(parts, " ")
}

// Technique names the knobs that are on, e.g. "prune+quantize", or "dense".
func (s Setting) Technique() string {
	var parts []string
	if s.PruneRatio != 0 {
		parts = append(parts, "prune")
	}
	if quantizes(s.Bits) {
		parts = append(parts, "quantize")
	}
	if s.Rank != 0 {
		parts = append(parts, "lowrank")
	}
	if len(parts) == 0 {
		return "dense"
	}
	return strings.Join(parts, "+")
}

// Validate checks the knobs against their ranges and, when m is not nil,
// the rank against RankLayer's shape: PruneRatio in [0, 0.99], Bits in
// [1, 8] or 0/32, Rank in [0, min(in, out)] of RankLayer.
func (s Setting) Validate(m *nn.Sequential) error {
	if !(s.PruneRatio >= 0 && s.PruneRatio <= maxPruneRatio) {
		return fmt.Errorf("prune ratio must be in [0, 0.99], got %s", formatFloat(s.PruneRatio))
	}
	if !(quantizes(s.Bits) || s.Bits == 0 || s.Bits == 32) {
		return fmt.Errorf("bit width must be in [1, 8], or 0/32 for float32, got %d", s.Bits)
	}
	if s.Rank < 0 {
		return fmt.Errorf("rank must be ≥ 0 (0 = no factorization), got %d", s.Rank)
	}
	if s.Rank == 0 || m == nil {
		return nil
	}
	d, err := findDense(m, s.RankLayer)
	if err != nil {
		return err
	}
	if full := min(d.In, d.Out); s.Rank > full {
		return fmt.Errorf("rank must be in [0, %d] for %s (%d×%d), got %d", full, d.LayerName, d.In, d.Out, s.Rank)
	}
	return nil
}

// findDense returns the dense layer named name, or the first one for "".
func findDense(m *nn.Sequential, name string) (*nn.Dense, error) {
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok && (name == "" || d.LayerName == name) {
			return d, nil
		}
	}
	names := denseLayerNames(m)
	if len(names) == 0 {
		return nil, fmt.Errorf("rank layer: the model has no dense layer")
	}
	return nil, fmt.Errorf("rank layer must name a dense layer (%s), got %q", strings.Join(names, ", "), name)
}

// resolve names the layer a rank applies to.
func (s Setting) resolve(m *nn.Sequential) Setting {
	if s.Rank > 0 && s.RankLayer == "" {
		if d, err := findDense(m, ""); err == nil {
			s.RankLayer = d.LayerName
		}
	}
	return s
}

// applySetting compresses m in place: factorize, prune, quantize. Pruning
// and quantization reach the two factors of a factorized layer too. A
// non-nil dc is the SVD of RankLayer, cut instead of computing one.
func applySetting(m *nn.Sequential, s Setting, dc *lowrank.Decomposition) error {
	if s.Rank > 0 {
		if dc == nil {
			if err := lowrank.FactorizeModel(m, s.RankLayer, s.Rank); err != nil {
				return err
			}
		} else if err := replaceWithCut(m, s.RankLayer, s.Rank, dc); err != nil {
			return err
		}
	}
	if s.PruneRatio > 0 {
		for _, d := range weightLayers(m) {
			if err := prune.Prune([]*nn.Dense{d}, s.PruneRatio, prune.Options{}); err != nil {
				return err
			}
		}
	}
	return requantize(m, s.Bits)
}

// replaceWithCut replaces the Dense layer named layer by dc cut at rank.
func replaceWithCut(m *nn.Sequential, layer string, rank int, dc *lowrank.Decomposition) error {
	for i, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok && d.LayerName == layer {
			f, err := dc.Factor(rank, lowrank.Options{})
			if err != nil {
				return err
			}
			m.Layers[i] = f
			return nil
		}
	}
	return fmt.Errorf("cannot factorize layer %q: the model has no such Dense layer", layer)
}

// requantize snaps every weight layer of m to bits (a no-op for 0 and 32).
func requantize(m *nn.Sequential, bits int) error {
	if !quantizes(bits) {
		return nil
	}
	for _, d := range weightLayers(m) {
		if _, err := quant.Quantize(d, quant.Options{Bits: bits}); err != nil {
			return err
		}
	}
	return nil
}

// weightLayers lists m's dense layers and the factors of its factorized
// layers, in model order.
func weightLayers(m *nn.Sequential) []*nn.Dense {
	var ds []*nn.Dense
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Dense:
			ds = append(ds, l)
		case *lowrank.Layer:
			ds = append(ds, l.First, l.Second)
		}
	}
	return ds
}

// Apply compresses a copy of the trained model with s and scores it (see
// Evaluation for what is measured). The Trained is not changed.
func (t *Trained) Apply(ctx context.Context, s Setting) (Evaluation, error) {
	start := time.Now()
	m, s, hists, err := t.compressed(s, true)
	if err != nil {
		return Evaluation{}, err
	}
	ev, err := t.score(ctx, m, s, s.String())
	ev.Row.WallS = time.Since(start).Seconds()
	ev.Histograms = hists
	return ev, err
}

// FineTune compresses a copy of the trained model with s and fine-tunes it
// for epochs epochs with a fresh copy of the spec's optimizer, its rate
// falling linearly from train.lr to 0 (re-quantizing after every epoch when s
// quantizes). It reports Step and Epoch events to sink (nil discards them)
// with Phase "<technique> <setting>", then scores the model like Apply and
// measures its latency.
func (t *Trained) FineTune(ctx context.Context, s Setting, epochs int, sink Sink) (Evaluation, error) {
	if epochs < 0 || epochs > maxEpochs {
		return Evaluation{}, fmt.Errorf("fine-tuning epochs must be in [0, %d], got %d", maxEpochs, epochs)
	}
	start := time.Now()
	m, s, _, err := t.compressed(s, false)
	if err != nil {
		return Evaluation{}, err
	}
	setting := s.String()
	if epochs > 0 {
		setting += fmt.Sprintf(" finetune=%d", epochs)
		phase := s.Technique() + " " + setting
		var afterEpoch func() error
		if quantizes(s.Bits) {
			afterEpoch = func() error { return requantize(m, s.Bits) }
		}
		h := fnv.New64a()
		h.Write([]byte(setting))
		_, err := fit(ctx, reporter{sink: sink, start: start}, fitJob{
			phase: phase, stage: StageFineTuning,
			model: m, opt: newOptimizer(t.Spec.Train, t.Spec.Train.LR*finetuneLRFactor), annealFrom: t.Spec.Train.LR * finetuneLRFactor,
			epochs: epochs, batch: t.Spec.Train.Batch,
			rng:        rand.New(rand.NewPCG(t.Spec.Seed^h.Sum64(), streamFineTune)),
			afterEpoch: afterEpoch,
			train:      t.Train, test: t.Test,
		})
		if err != nil {
			return Evaluation{}, err
		}
	}
	wall := time.Since(start)
	ev, err := t.score(ctx, m, s, setting)
	if err != nil {
		return Evaluation{}, err
	}
	ev.Row.WallS = wall.Seconds()
	if ev.Row.LatencyUsB1, ev.Row.LatencyUsB256, err = measureLatency(ctx, m, t.Test); err != nil {
		return Evaluation{}, err
	}
	return ev, nil
}

// compressed validates s and returns a compressed copy of the model and,
// when asked, the histograms of its weights before quantization (see
// WeightHistogram).
func (t *Trained) compressed(s Setting, withHistograms bool) (*nn.Sequential, Setting, []WeightHistogram, error) {
	if t == nil || t.Model == nil {
		return nil, s, nil, fmt.Errorf("no trained model to compress")
	}
	if err := s.Validate(t.Model); err != nil {
		return nil, s, nil, err
	}
	s = s.resolve(t.Model)
	var dc *lowrank.Decomposition
	if s.Rank > 0 {
		var err error
		if dc, err = t.decomposition(s.RankLayer); err != nil {
			return nil, s, nil, err
		}
	}
	m := t.Model.Clone()
	// Factorize and prune, then (after the histograms) quantize.
	unquantized := s
	unquantized.Bits = 0
	if err := applySetting(m, unquantized, dc); err != nil {
		return nil, s, nil, fmt.Errorf("%s: %w", s, err)
	}
	var hists []WeightHistogram
	var before map[string][]float32
	if withHistograms {
		hists = histograms(m, s.Bits)
		before = weightsByLayer(m)
	}
	if err := requantize(m, s.Bits); err != nil {
		return nil, s, nil, fmt.Errorf("%s: %w", s, err)
	}
	if withHistograms {
		addLevels(hists, before, m, s.Bits)
	}
	return m, s, hists, nil
}

// score evaluates a compressed model: test accuracy on the whole test set,
// train accuracy on the first quickTrainLimit training examples.
//
// The two evaluations run at once, each on its own copy (a model's layers
// keep buffers), so a knob's answer comes in half the time on two cores.
func (t *Trained) score(ctx context.Context, m *nn.Sequential, s Setting, setting string) (Evaluation, error) {
	var storeErr error
	var stored storedModel
	toStore := m.Clone()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The model file, whose size is the row's size_bytes: encoding it
		// (modelfile.Write tries every layout and coding) runs beside the
		// evaluations.
		stored, storeErr = storeModel(toStore, false, true)
	}()
	ev, err := t.scoreAccuracy(ctx, m, s, setting)
	<-done
	if err == nil {
		err = storeErr
	}
	if err != nil {
		return Evaluation{}, err
	}
	ev.Row.SetStored(stored.size(), t.denseBytes())
	ev.Layers = stored.layerStats(ev.Layers)
	return ev, nil
}

// denseBytes is the baseline's dense float32 size, compression_ratio's
// numerator.
func (t *Trained) denseBytes() int64 {
	if t.Baseline.SizeBytes != 0 {
		return t.Baseline.SizeBytes
	}
	return t.Model.Totals().SizeBytes
}

// scoreAccuracy is score without the model file: the row's sizes are the
// layer-stats estimate (see nn.Dense.Stats) until Sized replaces them.
// Test accuracy (whole test set) and train accuracy (first quickTrainLimit
// examples) are evaluated at once, each on its own copy (a model's layers
// keep buffers), so a knob's answer comes in half the time on two cores.
func (t *Trained) scoreAccuracy(ctx context.Context, m *nn.Sequential, s Setting, setting string) (Evaluation, error) {
	var trainAcc float64
	var trainErr error
	other := m.Clone()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, trainAcc, trainErr = evaluate(ctx, other, t.Train, quickTrainLimit)
	}()
	_, testAcc, err := evaluate(ctx, m, t.Test, 0)
	<-done
	if err == nil {
		err = trainErr
	}
	if err != nil {
		return Evaluation{}, err
	}
	row := newRow(t.Spec.Name, s.Technique(), setting, m, t.denseBytes(), trainAcc, testAcc, t.Baseline.TestAcc)
	return Evaluation{Setting: s, Row: row, Layers: m.Stats()}, nil
}

// Preview is Apply in two stages, for a UI that wants the accuracy first:
// it returns the Evaluation with the accuracies and estimated sizes, and a
// function that encodes the model file (tens of milliseconds more) and
// returns the Evaluation with exact sizes, as Apply's. The function may be
// called from any goroutine, once.
func (t *Trained) Preview(ctx context.Context, s Setting) (Evaluation, func() (Evaluation, error), error) {
	start := time.Now()
	m, s, hists, err := t.compressed(s, true)
	if err != nil {
		return Evaluation{}, nil, err
	}
	toStore := m.Clone()
	ev, err := t.scoreAccuracy(ctx, m, s, s.String())
	if err != nil {
		return Evaluation{}, nil, err
	}
	ev.Row.WallS = time.Since(start).Seconds()
	ev.Histograms = hists
	sized := func() (Evaluation, error) {
		stored, err := storeModel(toStore, false, true)
		if err != nil {
			return Evaluation{}, err
		}
		full := ev
		full.Row.SetStored(stored.size(), t.denseBytes())
		full.Layers = stored.layerStats(ev.Layers)
		return full, nil
	}
	return ev, sized, nil
}
