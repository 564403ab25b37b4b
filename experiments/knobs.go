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
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// Setting is one choice of the three knobs. Zero values mean "off":
// PruneRatio 0 keeps every weight, Bits 0 (or 32) keeps float32, Rank 0 keeps
// RankLayer unfactorized.
//
// A setting compiles to a plan of three stages, in this order: factorize
// RankLayer (cutting the trained layer's cached SVD), prune — by
// magnitude, each weight layer (the factors included) losing PruneRatio
// of its weights, or with PruneScope "global" PruneRatio of all the
// weights under one threshold; with PruneScope "filters" or "neurons",
// PruneRatio of each convolution's filters or of each hidden dense
// layer's neurons, removed whole by their L1 norm — then quantize every
// weight layer to Bits.
type Setting struct {
	PruneRatio float64 // fraction of weights (filters, neurons) removed, 0 to 0.99
	PruneScope string  // "layer" (or ""), "global", "filters" or "neurons" (see Setting)
	Bits       int     // bits per weight, 1 to 8, or 0/32 for float32
	Rank       int     // rank of RankLayer's factorization, 0 for off
	RankLayer  string  // the dense layer or convolution to factorize; "" means the first dense layer
}

// Global reports whether the prune knob ranks every weight together.
func (s Setting) Global() bool { return s.PruneScope == "global" }

// Structured reports whether the prune knob removes whole filters or
// neurons.
func (s Setting) Structured() bool { return s.PruneScope == "filters" || s.PruneScope == "neurons" }

// String gives the setting column, e.g. "ratio=0.90 bits=4 rank=20@fc1",
// "ratio=0.90 scope=global" or "filters=0.50" (the words of a YAML prune
// step's row), or "dense" when every knob is off.
func (s Setting) String() string {
	var parts []string
	switch {
	case s.PruneRatio != 0 && s.Structured():
		parts = append(parts, fmt.Sprintf("%s=%.2f", s.PruneScope, s.PruneRatio))
	case s.PruneRatio != 0:
		parts = append(parts, fmt.Sprintf("ratio=%.2f", s.PruneRatio))
		if s.Global() {
			parts = append(parts, "scope=global")
		}
	}
	if spec.Quantizes(s.Bits) {
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
	if spec.Quantizes(s.Bits) {
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
// the rank against RankLayer's shape: PruneRatio in [0, 0.99], PruneScope
// "", "layer" or "global", Bits in [1, 8] or 0/32, Rank in [0, min(in,
// out)] of RankLayer.
func (s Setting) Validate(m *nn.Sequential) error {
	if !(s.PruneRatio >= 0 && s.PruneRatio <= spec.MaxPruneRatio) {
		return fmt.Errorf("prune ratio must be in [0, 0.99], got %s", spec.FormatFloat(s.PruneRatio))
	}
	if s.PruneScope != "" && s.PruneScope != "layer" && !s.Global() && !s.Structured() {
		return fmt.Errorf("prune scope must be layer, global, filters or neurons, got %q", s.PruneScope)
	}
	if s.Structured() && m != nil && len(structuredLayers(m, s.PruneScope)) == 0 {
		what := map[string]string{"filters": "convolution", "neurons": "hidden dense layer"}[s.PruneScope]
		return fmt.Errorf("prune scope %s: the model has no %s", s.PruneScope, what)
	}
	if !(spec.Quantizes(s.Bits) || s.Bits == 0 || s.Bits == spec.Float32Bits) {
		return fmt.Errorf("bit width must be in [1, 8], or 0/32 for float32, got %d", s.Bits)
	}
	if s.Rank < 0 {
		return fmt.Errorf("rank must be ≥ 0 (0 = no factorization), got %d", s.Rank)
	}
	if s.Rank == 0 || m == nil {
		return nil
	}
	d, err := findFactorable(m, s.RankLayer)
	if err != nil {
		return err
	}
	if full := min(d.In, d.Out); s.Rank > full {
		return fmt.Errorf("rank must be in [0, %d] for %s (%d→%d), got %d", full, layerOf(m, s.RankLayer, d), d.In, d.Out, s.Rank)
	}
	return nil
}

// findFactorable returns the filter matrix of the layer named name — a
// dense layer's weights, a convolution's [in·k·k, out] filters — or of
// the first dense layer for "".
func findFactorable(m *nn.Sequential, name string) (*nn.Dense, error) {
	var names []string
	for _, l := range m.Layers {
		var d *nn.Dense
		switch l := l.(type) {
		case *nn.Dense:
			d = l
		case *nn.Conv2D:
			if name == "" {
				names = append(names, l.LayerName)
				continue
			}
			d = l.Kernel
		default:
			continue
		}
		if name == "" || l.Name() == name {
			return d, nil
		}
		names = append(names, l.Name())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("rank layer: the model has no dense layer or convolution")
	}
	if name == "" {
		return nil, fmt.Errorf("rank layer: the model has no dense layer; name a convolution (%s)", strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("rank layer must name a dense layer or a convolution (%s), got %q", strings.Join(names, ", "), name)
}

// layerOf is the name of the layer whose filter matrix d is: name, or
// d's own for "" (the first dense layer).
func layerOf(m *nn.Sequential, name string, d *nn.Dense) string {
	if name != "" {
		return name
	}
	return d.LayerName
}

// resolve names the layer a rank applies to.
func (s Setting) resolve(m *nn.Sequential) Setting {
	if s.Rank > 0 && s.RankLayer == "" {
		if d, err := findFactorable(m, ""); err == nil {
			s.RankLayer = d.LayerName
		}
	}
	return s
}

// Trained is a trained dense baseline: what the knobs are applied to. Its
// model is never mutated after creation; every evaluation works on a copy,
// so a Trained may be used from several goroutines at once.
type Trained struct {
	Spec     spec.Spec
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
	d, err := findFactorable(t.Model, layer)
	if err != nil {
		return nil, err
	}
	dc, err := lowrank.Decompose(d)
	if err != nil {
		return nil, err
	}
	if t.decompositions == nil {
		t.decompositions = map[string]*lowrank.Decomposition{}
	}
	t.decompositions[layer] = dc
	return dc, nil
}

// plan compiles a validated, resolved setting to its stages: low-rank
// (the cached SVD an option of its stage), prune, quantize; knobs that are
// off leave their stage out.
func (t *Trained) plan(s Setting) plan {
	var p plan
	if s.Rank > 0 {
		p.stages = append(p.stages, lowrankStage{step: spec.Lowrank{Layer: s.RankLayer, Rank: s.Rank}, svd: t.decomposition})
	}
	if s.PruneRatio > 0 && s.Structured() {
		p.stages = append(p.stages, t.structuredStage(s))
	} else if s.PruneRatio > 0 {
		scope, opts := "layer", prune.Options{Criterion: prune.Magnitude, Scope: prune.ScopeLayer}
		if s.Global() {
			scope, opts.Scope = "global", prune.ScopeGlobal
		}
		step := spec.Prune{Ratio: s.PruneRatio, Scope: scope, Criterion: "magnitude", Schedule: "one-shot"}
		p.stages = append(p.stages, pruneStage{step: step, target: s.PruneRatio,
			pruner: weightPruner{ratio: s.PruneRatio, opts: opts}})
	}
	if spec.Quantizes(s.Bits) {
		p.stages = append(p.stages, quantizeStage{step: spec.Quantize{Bits: s.Bits}})
	}
	return p
}

// structuredLayers are the layers the structured prune scope removes
// from: every convolution ("filters") or every dense layer but the last,
// whose neurons are the classes ("neurons").
func structuredLayers(m *nn.Sequential, scope string) []string {
	var names []string
	ws := nn.WeightLayers(m)
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Conv2D:
			if scope == "filters" {
				names = append(names, l.LayerName)
			}
		case *nn.Dense:
			if scope == "neurons" && l != ws[len(ws)-1] {
				names = append(names, l.LayerName)
			}
		}
	}
	return names
}

// structuredStage is the structured prune knob's stage: PruneRatio of
// the filters or neurons of each layer of its scope, by their L1 norm.
func (t *Trained) structuredStage(s Setting) pruneStage {
	layers := structuredLayers(t.Model, s.PruneScope)
	p := neuronPruner{ratio: s.PruneRatio, common: layers, norm: prune.L1, neurons: map[string]int{}}
	for _, d := range nn.WeightLayers(t.Model) {
		p.neurons[d.LayerName] = d.Out
	}
	step := spec.Prune{Ratio: s.PruneRatio, Structured: true, Layers: layers, Scope: "layer", Criterion: "l1", Schedule: "one-shot"}
	return pruneStage{step: step, target: s.PruneRatio, pruner: p}
}

// env is the environment the knobs' stages run in: the spec's training,
// the trained model's data, events to sink.
func (t *Trained) env(ctx context.Context, sink Sink, start time.Time) *stageRun {
	return &stageRun{env: &env{ctx: ctx, reporter: reporter{sink: sink, start: start}, spec: t.Spec,
		train: t.Train, test: t.Test, base: t.Baseline}}
}

// compressed validates s and returns a compressed copy of the model and
// its state (the quantizers in force, for fine-tuning) and, when asked,
// the knob charts: the histograms of its weights before quantization (see
// WeightHistogram) and of their magnitudes before pruning (see
// MagnitudeHistogram).
func (t *Trained) compressed(s Setting, withCharts bool) (*modelState, Setting, knobCharts, error) {
	if t == nil || t.Model == nil {
		return nil, s, knobCharts{}, fmt.Errorf("no trained model to compress")
	}
	if err := s.Validate(t.Model); err != nil {
		return nil, s, knobCharts{}, err
	}
	s = s.resolve(t.Model)
	p := t.plan(s)
	x := t.env(context.Background(), nil, time.Now())
	ms := &modelState{m: t.Model.Clone(), huffman: true}
	rec := &chartRecorder{s: s, on: withCharts}
	for _, sg := range p.stages {
		rec.before(sg, ms.m)
		if err := sg.apply(x, ms); err != nil {
			return nil, s, knobCharts{}, fmt.Errorf("%s: %w", s, err)
		}
		rec.after(sg, ms.m)
	}
	return ms, s, rec.done(ms.m), nil
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
	Layers  []nn.LayerStats // SizeBytes: each layer's bytes in the model file (see score.go)
	// Histograms are the weights before quantization, pooled then layer by
	// layer, with the levels Bits snaps them to (Apply and Preview only).
	Histograms []WeightHistogram
	// Magnitudes are the weights' magnitudes before pruning, pooled then
	// layer by layer, with the prune stage's cut (Apply and Preview only).
	Magnitudes []MagnitudeHistogram
	// Filters are the first convolution's filters before and after
	// pruning (Apply and Preview only; nil without a convolution first).
	Filters *Filters
	// Classes is the test accuracy (percent) on each class, in label
	// order, when the dataset names its classes (FineTune only).
	Classes []float64
	// TrainPending is set on Preview's first answer: Row.TrainAcc and
	// Row.GapPP are not scored yet (its second stage scores them).
	TrainPending bool
	// TestSubset, on Preview's first answer, is the number of test images
	// Row.TestAcc is over when it is not the whole test set (0: all).
	TestSubset int
}

// Apply compresses a copy of the trained model with s and scores it (see
// Evaluation for what is measured). The Trained is not changed.
func (t *Trained) Apply(ctx context.Context, s Setting) (Evaluation, error) {
	start := time.Now()
	ms, s, charts, err := t.compressed(s, true)
	if err != nil {
		return Evaluation{}, err
	}
	ev, err := t.score(ctx, ms.m, s, s.String())
	ev.Row.WallS = time.Since(start).Seconds()
	ev.Histograms, ev.Magnitudes, ev.Filters = charts.weights, charts.magnitudes, charts.filters
	return ev, err
}

// FineTune compresses a copy of the trained model with s and fine-tunes it
// for epochs epochs with a fresh copy of the spec's optimizer, its rate
// falling linearly from train.lr to 0 (re-quantizing after every epoch when s
// quantizes). It reports Step and Epoch events to sink (nil discards them)
// with Phase "<technique> <setting>", then scores the model like Apply and
// measures its latency.
func (t *Trained) FineTune(ctx context.Context, s Setting, epochs int, sink Sink) (Evaluation, error) {
	if epochs < 0 || epochs > spec.MaxEpochs {
		return Evaluation{}, fmt.Errorf("fine-tuning epochs must be in [0, %d], got %d", spec.MaxEpochs, epochs)
	}
	start := time.Now()
	ms, s, _, err := t.compressed(s, false)
	if err != nil {
		return Evaluation{}, err
	}
	setting := s.String()
	if epochs > 0 {
		setting += fmt.Sprintf(" finetune=%d", epochs)
		h := fnv.New64a()
		h.Write([]byte(setting))
		rng := rand.New(rand.NewPCG(t.Spec.Seed^h.Sum64(), streamFineTune))
		x := t.env(ctx, sink, start)
		if err := x.trainState(ms, s.Technique()+" "+setting, epochs, t.Spec.Train.LR, rng, false); err != nil {
			return Evaluation{}, err
		}
	}
	wall := time.Since(start)
	ev, err := t.score(ctx, ms.m, s, setting)
	if err != nil {
		return Evaluation{}, err
	}
	ev.Row.WallS = wall.Seconds()
	if err := t.measure(ctx, ms.m, &ev.Row); err != nil {
		return Evaluation{}, err
	}
	if NamesClasses(t.Spec) {
		if ev.Classes, err = classAccuracy(ctx, ms.m, t.Test); err != nil {
			return Evaluation{}, err
		}
	}
	return ev, nil
}

// Latency compresses a copy of the trained model with s and measures it
// as a run measures its rows: the latency columns, on the kernels the
// compressed form runs on, and the multiply-adds those kernels execute.
// It fills in what a knob preview added to the table as it is lacks.
func (t *Trained) Latency(ctx context.Context, s Setting) (Measurement, error) {
	ms, _, _, err := t.compressed(s, false)
	if err != nil {
		return Measurement{}, err
	}
	var row results.Row
	if err := t.measure(ctx, ms.m, &row); err != nil {
		return Measurement{}, err
	}
	return Measurement{LatencyUsB1: row.LatencyUsB1, LatencyUsB256: row.LatencyUsB256, FLOPs: row.FLOPs}, nil
}

// Measurement is what Latency measures of a setting.
type Measurement struct {
	LatencyUsB1, LatencyUsB256 results.Measured
	FLOPs                      int64
}

// Apply sets the measured columns of row.
func (m Measurement) Apply(row *results.Row) {
	row.LatencyUsB1, row.LatencyUsB256, row.FLOPs = m.LatencyUsB1, m.LatencyUsB256, m.FLOPs
}

// measure sets row's latencies and multiply-adds from a copy of m running
// its inference plan (sparse, int8 or factorized kernels), as score.go
// measures a run's rows.
func (t *Trained) measure(ctx context.Context, m *nn.Sequential, row *results.Row) error {
	run := m.Clone()
	run.PrepareInference()
	b1, b256, err := latency(ctx, run, t.Test.X)
	if err != nil {
		return err
	}
	row.LatencyUsB1, row.LatencyUsB256, row.FLOPs = b1, b256, run.Totals().FLOPs
	return nil
}

// score evaluates a compressed model and encodes its model file, whose
// size is the row's size_bytes, beside the evaluations.
func (t *Trained) score(ctx context.Context, m *nn.Sequential, s Setting, setting string) (Evaluation, error) {
	var ev Evaluation
	stored, err := storedBeside(m.Clone(), func() (err error) {
		ev, err = t.scoreAccuracy(ctx, m, s, setting)
		return err
	})
	if err != nil {
		return Evaluation{}, err
	}
	ev.Row.SetStored(stored.size(), t.denseBytes())
	ev.Layers = stored.layerStats(ev.Layers)
	return ev, nil
}

// storedBeside encodes m's model file (Huffman-coded, as rows are sized)
// while work runs, and returns it with work's error or its own.
func storedBeside(m *nn.Sequential, work func() error) (storedModel, error) {
	var stored storedModel
	var storeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		stored, storeErr = storeModel(m, false, true)
	}()
	err := work()
	<-done
	if err == nil {
		err = storeErr
	}
	return stored, err
}

// denseFLOPs is the dense model's multiply-adds per example: the work an
// evaluation does whatever the setting (it runs the model as it trains,
// not its sparse or int8 inference plan).
func (t *Trained) denseFLOPs() int64 {
	if t.Baseline.FLOPs != 0 {
		return t.Baseline.FLOPs
	}
	return t.Model.Totals().FLOPs
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
// layer-stats estimate (see nn.Dense.Stats), which score replaces with the
// file's. Test accuracy (whole test set) and train accuracy (first
// quickTrainLimit examples) are evaluated at once, each on its own copy (a
// model's layers keep buffers), so a knob's answer comes in half the time
// on two cores.
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

// Preview is Apply in two stages, for a UI that wants the test accuracy
// first. It returns the Evaluation with the test accuracy and estimated
// sizes — TrainPending set: the train accuracy and the gap are not scored
// yet; on a model too costly to score all the test images at once
// (previewFLOPs), the accuracy of the first TestSubset of them — and a
// function that scores the rest of the test set and the first 10,000
// training images while it encodes the model file, and returns the
// Evaluation with both accuracies on their whole sets and exact sizes, as
// Apply's. The function may be called from any goroutine, once; it stops
// with ctx.
func (t *Trained) Preview(ctx context.Context, s Setting) (Evaluation, func() (Evaluation, error), error) {
	start := time.Now()
	ms, s, charts, err := t.compressed(s, true)
	if err != nil {
		return Evaluation{}, nil, err
	}
	m, toStore := ms.m, ms.m.Clone()
	n := t.Test.Len()
	first := previewImages(t.denseFLOPs(), n)
	_, firstCorrect, err := evaluateRange(ctx, m, t.Test, 0, first)
	if err != nil {
		return Evaluation{}, nil, err
	}
	row := newRow(t.Spec.Name, s.Technique(), s.String(), m, t.denseBytes(), 0, fraction(firstCorrect, first), t.Baseline.TestAcc)
	row.GapPP = 0
	row.WallS = time.Since(start).Seconds()
	ev := Evaluation{Setting: s, Row: row, Layers: m.Stats(), TrainPending: true}
	if first < n {
		ev.TestSubset = first
	}
	ev.Histograms, ev.Magnitudes, ev.Filters = charts.weights, charts.magnitudes, charts.filters
	sized := func() (Evaluation, error) {
		var restCorrect int
		var trainAcc float64
		stored, err := storedBeside(toStore, func() (err error) {
			if _, restCorrect, err = evaluateRange(ctx, m, t.Test, first, n); err != nil {
				return err
			}
			_, trainAcc, err = evaluate(ctx, m, t.Train, quickTrainLimit)
			return err
		})
		if err != nil {
			return Evaluation{}, err
		}
		full := ev
		full.TrainPending, full.TestSubset = false, 0
		full.Row = newRow(t.Spec.Name, s.Technique(), s.String(), m, t.denseBytes(), trainAcc, fraction(firstCorrect+restCorrect, n), t.Baseline.TestAcc)
		full.Row.WallS = ev.Row.WallS
		full.Row.SetStored(stored.size(), t.denseBytes())
		full.Layers = stored.layerStats(ev.Layers)
		return full, nil
	}
	return ev, sized, nil
}

// previewFLOPs bounds the work (multiply-adds of the dense model, as the
// flops column counts them) before a knob change shows its first test
// accuracy: LeNet-300-100 (266 thousand per image) scores all 10,000 test
// images within it, LeNet-5 (2.3 million, and a convolution's im2col and
// pooling besides) the first 1,024.
var previewFLOPs = 3e9 // a variable for the tests

// previewImages is how many of n test images a first preview scores with
// a model of flops multiply-adds per image: all of them within previewFLOPs, else a
// multiple of evalChunk (at least one), so that the two stages score the
// same chunks as one evaluation of the whole set, and their sum is its
// result to the bit.
func previewImages(flops int64, n int) int {
	if flops <= 0 || float64(flops)*float64(n) <= previewFLOPs {
		return n
	}
	k := int(previewFLOPs/float64(flops)) / evalChunk * evalChunk
	return min(max(k, evalChunk), n)
}

// fraction is correct out of n, 0 when n is 0.
func fraction(correct, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(correct) / float64(n)
}
