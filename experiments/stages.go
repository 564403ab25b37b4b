package experiments

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// modelState is a model being compressed stage by stage, with what later
// fine-tuning must keep: the weights shared by k-means and the layers on a
// uniform grid.
type modelState struct {
	m       *nn.Sequential
	books   []*quant.Codebook // k-means weight sharing in force
	uniform []uniformGroup    // uniform quantization in force
	// huffman says the model file entropy-codes its streams. It is always
	// on, except in a pipeline with a huffman stage before that stage, so
	// the stage's row shows what Huffman coding adds.
	huffman bool

	setting string // the setting of the stage just applied, as run (energy's ranks, bits_from's widths)
}

// uniformGroup is a set of weight layers quantized by one quantizer.
type uniformGroup struct {
	opts   quant.Options
	layers []string // weight-layer names: Dense layers and factors ("fc1.A")
}

// trainState fine-tunes ms.m for epochs epochs with a fresh copy of the
// training optimizer, the rate falling linearly from lr to 0, shuffling by
// rng. Shared weights stay shared: with k-means codebooks in force the
// centroids are trained by their weights' summed gradients
// (quant.CodebookTuner); with uniform quantization in force and
// throughQuantizer, the layers train through their quantizer (quant.QAT,
// a straight-through estimator); without throughQuantizer they train as
// floats and are snapped back to their grid after every epoch.
func (x *stageRun) trainState(ms *modelState, phase string, epochs int, lr float64, rng *rand.Rand, throughQuantizer bool) error {
	if epochs <= 0 {
		return nil
	}
	var opt nn.Optimizer = newOptimizer(x.spec.Train, lr)
	var qats []*quant.QAT
	var afterEpoch func() error
	if throughQuantizer {
		for _, g := range ms.uniform {
			q, err := quant.NewQAT(ms.m, opt, quant.QATOptions{Quant: g.opts, Layers: g.layers})
			if err != nil {
				return err
			}
			opt = q
			qats = append(qats, q)
		}
	} else if len(ms.uniform) > 0 {
		afterEpoch = ms.requantize
	}
	if len(ms.books) > 0 {
		opt = quant.NewCodebookTuner(opt, ms.books...)
	}
	_, err := fit(x.ctx, x.reporter, fitJob{
		phase: phase, stage: StageFineTuning,
		model: ms.m, opt: opt, annealFrom: lr,
		epochs: epochs, batch: x.spec.Train.Batch,
		rng: rng, afterEpoch: afterEpoch,
		train: x.train, test: x.test,
	})
	// Snap the layers onto their grid for good, innermost QAT first.
	for i := len(qats) - 1; i >= 0; i-- {
		qats[i].Finalize()
	}
	return err
}

// requantize snaps every uniformly quantized layer back onto its grid.
func (ms *modelState) requantize() error {
	for _, g := range ms.uniform {
		if _, err := quant.QuantizeModel(ms.m, g.opts, g.layers); err != nil {
			return err
		}
	}
	return nil
}

// perLayerValues gives each weight layer of m its value: all (the step's
// common value; 0 for none) for the layers listed (or every weight layer),
// overridden by perLayer (whose names may be factorized layers, meaning
// both factors). Layers that get 0 are left out.
func perLayerValues(m *nn.Sequential, layers []string, all int, perLayer map[string]int) (map[string]int, error) {
	out := map[string]int{}
	if all != 0 {
		ds, err := nn.SelectWeightLayers(m, layers)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out[d.LayerName] = all
		}
	}
	for _, name := range slices.Sorted(maps.Keys(perLayer)) {
		ds, err := nn.SelectWeightLayers(m, []string{name})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out[d.LayerName] = perLayer[name]
		}
	}
	return out, nil
}

// groupByValue lists the layers of each value, values ascending, layers in
// model order.
func groupByValue(m *nn.Sequential, values map[string]int) (keys []int, groups map[int][]string) {
	groups = map[int][]string{}
	for _, d := range nn.WeightLayers(m) {
		if v, ok := values[d.LayerName]; ok {
			if _, seen := groups[v]; !seen {
				keys = append(keys, v)
			}
			groups[v] = append(groups[v], d.LayerName)
		}
	}
	slices.Sort(keys)
	return keys, groups
}

// quantizeStage quantizes each layer to its width (bits, bits_per_layer,
// or with bits_from the widths bitTable allows), with the step's
// quantizer; then fine-tunes (through the quantizer with qat) and, with
// activation_bits, inserts activation quantizers calibrated on the first
// calibration_samples training examples.
type quantizeStage struct {
	step     spec.Quantize
	bitTable *results.Sensitivity // bits_from: the last bit-sensitivity table before the step
}

func (q quantizeStage) label() string   { return q.step.Label() }
func (q quantizeStage) setting() string { return q.step.Setting() }

func (q quantizeStage) apply(x *stageRun, ms *modelState) error {
	st := q.step
	perLayer, err := q.widths(x)
	if err != nil {
		return err
	}
	bits, err := perLayerValues(ms.m, st.Layers, st.Bits, perLayer)
	if err != nil {
		return err
	}
	widths, groups := groupByValue(ms.m, bits)
	for _, b := range widths {
		if b == spec.Float32Bits {
			continue
		}
		g := uniformGroup{opts: quantOptions(st.Quantizer, b), layers: groups[b]}
		if _, err := quant.QuantizeModel(ms.m, g.opts, g.layers); err != nil {
			return err
		}
		ms.uniform = append(ms.uniform, g)
	}
	ms.setting = st.SettingWith(perLayer)
	x.layers(x.phase, ms.m)
	if err := x.trainState(ms, x.phase, st.FinetuneEpochs, st.FinetuneLR, x.rand(x.stream), st.QAT); err != nil {
		return err
	}
	if st.ActivationBits == 0 {
		return nil
	}
	n := min(st.CalibrationSamples, x.train.Len())
	ranges, err := quant.CalibrateActivations(ms.m, x.train.X.Slice(0, n), quant.ActivationOptions{Bits: st.ActivationBits})
	if err != nil {
		return err
	}
	ms.m, err = quant.WithActivationQuant(ms.m, ranges)
	return err
}

// widths is bits_per_layer with, for bits_from, the fewest bits each layer
// of the bit-sensitivity table tolerates within max_loss_pp.
func (q quantizeStage) widths(x *stageRun) (map[string]int, error) {
	st := q.step
	perLayer := maps.Clone(st.BitsPerLayer)
	if st.BitsFrom != "sensitivity" {
		return perLayer, nil
	}
	if q.bitTable == nil {
		return nil, fmt.Errorf("bits_from sensitivity: no bit-sensitivity step ran before this one")
	}
	chosen := PickBits(*q.bitTable, x.base.TestAcc, st.MaxLossPP)
	var parts []string
	for _, name := range q.bitTable.Layers() {
		if _, own := st.BitsPerLayer[name]; !own {
			if perLayer == nil {
				perLayer = map[string]int{}
			}
			perLayer[name] = chosen[name]
			parts = append(parts, fmt.Sprintf("%s %d", name, chosen[name]))
		}
	}
	x.emit(LogEvent{Text: fmt.Sprintf("bit widths from sensitivity (test accuracy ≥ %.2f%%, %s pp below dense): %s",
		x.base.TestAcc-st.MaxLossPP, spec.FormatFloat(st.MaxLossPP), strings.Join(parts, ", "))})
	return perLayer, nil
}

// quantOptions is the uniform quantizer of q at bits.
func quantOptions(q spec.Quantizer, bits int) quant.Options {
	return quant.Options{Bits: bits, Asymmetric: q.Mode == "asymmetric", PerTensor: q.Granularity == "tensor", Percentile: q.Percentile}
}

// kmeansStage shares each chosen layer's weights among its clusters
// (Deep Compression's trained quantization), then fine-tunes the codebooks.
type kmeansStage struct{ step spec.KMeans }

func (k kmeansStage) label() string   { return k.step.Label() }
func (k kmeansStage) setting() string { return k.step.Setting() }

func (k kmeansStage) apply(x *stageRun, ms *modelState) error {
	st := k.step
	init, err := quant.ParseInit(st.Init)
	if err != nil {
		return err
	}
	clusters, err := perLayerValues(ms.m, st.Layers, st.Clusters, st.ClustersPerLayer)
	if err != nil {
		return err
	}
	counts, groups := groupByValue(ms.m, clusters)
	for _, n := range counts {
		books, err := quant.ClusterModel(ms.m, n, init, spec.KMeansIters, groups[n])
		if err != nil {
			return err
		}
		ms.books = append(ms.books, books...)
	}
	x.layers(x.phase, ms.m)
	return x.trainState(ms, x.phase, st.FinetuneEpochs, st.FinetuneLR, x.rand(x.stream), true)
}

// lowrankStage factorizes each chosen layer at its rank (given, or the
// smallest that keeps energy of Σσ²), then fine-tunes the factors. With
// svd (the knobs' cache), a layer's SVD is cut instead of computed.
type lowrankStage struct {
	step spec.Lowrank
	svd  func(layer string) (*lowrank.Decomposition, error)
}

func (l lowrankStage) label() string   { return l.step.Label() }
func (l lowrankStage) setting() string { return l.step.Setting() }

func (l lowrankStage) apply(x *stageRun, ms *modelState) error {
	st := l.step
	ranks := maps.Clone(st.Ranks)
	if ranks == nil {
		ranks = map[string]int{}
	}
	if st.Rank != 0 {
		ranks[st.Layer] = st.Rank
	}
	if st.Energy != 0 {
		if err := l.energyRanks(x, ms, ranks); err != nil {
			return err
		}
	}
	opts := lowrank.Options{Randomized: st.Randomized, Seed: x.spec.Seed}
	for _, name := range slices.Sorted(maps.Keys(ranks)) {
		if err := l.factorize(ms.m, name, ranks[name], opts); err != nil {
			return err
		}
	}
	x.layers(x.phase, ms.m)
	return x.trainState(ms, x.phase, st.FinetuneEpochs, st.FinetuneLR, x.rand(x.stream), true)
}

// energyRanks sets the rank of each layer of an energy step: the smallest
// keeping the energy, which must save parameters.
func (l lowrankStage) energyRanks(x *stageRun, ms *modelState, ranks map[string]int) error {
	st := l.step
	layers := st.Layers
	if len(layers) == 0 {
		layers = []string{st.Layer}
	}
	chosen := map[string]int{}
	for _, name := range layers {
		ds, err := nn.SelectWeightLayers(ms.m, []string{name})
		if err != nil {
			return err
		}
		d := ds[0]
		sv, err := lowrank.SingularValues(d)
		if err != nil {
			return err
		}
		rank := lowrank.RankForEnergy(sv, st.Energy)
		if !lowrank.SavesParams(d.In, d.Out, rank) {
			return fmt.Errorf("energy %s of %s needs rank %d, which saves no parameters for a %d→%d layer (ranks up to %d do): lower the energy",
				spec.FormatFloat(st.Energy), name, rank, d.In, d.Out, lowrank.MaxSavingRank(d.In, d.Out))
		}
		ranks[name], chosen[name] = rank, rank
	}
	ms.setting = st.SettingWith(chosen)
	x.emit(LogEvent{Text: fmt.Sprintf("%s: keeping %s of the energy takes %s", x.phase, spec.FormatFloat(st.Energy), ms.setting)})
	return nil
}

// factorize replaces the dense layer or convolution name of m by its
// rank-r factors.
func (l lowrankStage) factorize(m *nn.Sequential, name string, rank int, opts lowrank.Options) error {
	if l.svd == nil {
		return lowrank.FactorizeModelWith(m, name, rank, opts)
	}
	dc, err := l.svd(name)
	if err != nil {
		return err
	}
	for i, layer := range m.Layers {
		var f nn.Layer
		switch layer := layer.(type) {
		case *nn.Dense:
			if layer.LayerName == name {
				f, err = dc.Factor(rank, opts)
			}
		case *nn.Conv2D:
			if layer.LayerName == name {
				f, err = dc.FactorConv(layer, rank, opts)
			}
		}
		if err != nil {
			return err
		}
		if f != nil {
			m.Layers[i] = f
			return nil
		}
	}
	return fmt.Errorf("cannot factorize layer %q: the model has no such dense layer or convolution", name)
}

// finetuneStage fine-tunes the model as it stands (a pipeline stage).
type finetuneStage struct{ step spec.Finetune }

func (f finetuneStage) label() string   { return f.step.Label() }
func (f finetuneStage) setting() string { return f.step.Setting() }

func (f finetuneStage) apply(x *stageRun, ms *modelState) error {
	ms.setting = f.step.Setting()
	if len(ms.books) > 0 {
		ms.setting += " codebook"
	}
	if len(ms.uniform) > 0 {
		ms.setting += " qat"
	}
	return x.trainState(ms, x.phase, f.step.Epochs, f.step.FinetuneLR, x.rand(x.stream), true)
}

// huffmanStage entropy-codes the model file from its row on.
type huffmanStage struct{}

func (huffmanStage) label() string   { return "huffman" }
func (huffmanStage) setting() string { return spec.Huffman{}.Setting() }

func (huffmanStage) apply(_ *stageRun, ms *modelState) error {
	ms.huffman = true
	return nil
}
