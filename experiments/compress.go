package experiments

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// modelState is a model being compressed step by step (by one step, or by
// the stages of a pipeline), with what later fine-tuning must keep: the
// weights shared by k-means and the layers on a uniform grid.
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

// scoreState scores the model of ms and adds its row (see scoreWith).
func (r *runner) scoreState(env stepEnv, technique, setting string, ms *modelState, wall time.Duration) error {
	return r.scoreWith(env, technique, setting, ms.m, wall, ms.huffman)
}

// runSingle runs a quantize, kmeans or lowrank step: a copy of the
// baseline compressed, fine-tuned as the step says and scored, one row.
func (r *runner) runSingle(env stepEnv) error {
	st := env.st
	start := time.Now()
	ms := &modelState{m: env.baseline.Clone(), huffman: true}
	phase := st.Phase()
	r.stage(StageCompressing, phase)
	if err := r.applyStage(env, ms, st, phase, 0); err != nil {
		return err
	}
	return r.scoreState(env, st.Technique, ms.setting, ms, time.Since(start))
}

// runPipeline runs a pipeline: its stages one after the other on one copy
// of the baseline, a row after each, so every stage's contribution shows
// (Han et al. 2016, Table 1). A row's wall_s counts every stage up to it.
func (r *runner) runPipeline(env stepEnv) error {
	st := env.st
	start := time.Now()
	hasHuffman := slices.ContainsFunc(st.Pipeline, func(s StepSpec) bool { return s.Technique == techniqueHuffman })
	ms := &modelState{m: env.baseline.Clone(), huffman: !hasHuffman}
	for j, stage := range st.Pipeline {
		technique := stage.rowTechnique()
		if j > 0 {
			technique = "+" + technique
		}
		ms.setting = stage.Setting()
		phase := technique + " " + ms.setting
		r.stage(StageCompressing, phase)
		if err := r.applyStage(env, ms, stage, phase, uint64(j+1)); err != nil {
			return err
		}
		setting := ms.setting
		if st.Name != "" {
			setting = st.Name + ": " + setting
		}
		if err := r.scoreState(env, technique, setting, ms, time.Since(start)); err != nil {
			return err
		}
	}
	return nil
}

// applyStage compresses (or fine-tunes, or entropy-codes) ms as st says
// and records the setting as run in ms.setting. stream tells apart the
// random streams of a pipeline's stages.
func (r *runner) applyStage(env stepEnv, ms *modelState, st StepSpec, phase string, stream uint64) error {
	wrap := func(err error) error {
		if err == nil || r.ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%s: %w", phase, err)
	}
	ms.setting = st.Setting()
	switch st.Technique {
	case "prune":
		return wrap(r.pruneStage(env, ms, st, phase, stream))
	case "quantize":
		return wrap(r.quantizeStage(env, ms, st, phase, stream))
	case techniqueKMeans:
		return wrap(r.kmeansStage(env, ms, st, phase, stream))
	case "lowrank":
		return wrap(r.lowrankStage(env, ms, st, phase, stream))
	case techniqueFinetune:
		ms.setting = finetuneSetting(st, ms)
		return wrap(r.trainState(env, ms, phase, st.Epochs, st.FinetuneLR, stream, true))
	case techniqueHuffman:
		ms.huffman = true
		return nil
	}
	return fmt.Errorf("%s: technique %q cannot run here (allowed: %s)", phase, st.Technique, strings.Join(stageTechniques, ", "))
}

// finetuneSetting is a finetune stage's setting: the epochs, and what the
// fine-tuning keeps (the codebook, the quantization grid).
func finetuneSetting(st StepSpec, ms *modelState) string {
	s := fmt.Sprintf("epochs=%d", st.Epochs)
	if len(ms.books) > 0 {
		s += " codebook"
	}
	if len(ms.uniform) > 0 {
		s += " qat"
	}
	return s
}

// trainState fine-tunes ms.m for epochs epochs with a fresh copy of the
// training optimizer, the rate falling linearly from lr to 0. Shared
// weights stay shared: with k-means codebooks in force the centroids are
// trained by their weights' summed gradients (quant.CodebookTuner); with
// uniform quantization in force and throughQuantizer, the layers train
// through their quantizer (quant.QAT, a straight-through estimator);
// without throughQuantizer they train as floats and are snapped back to
// their grid after every epoch.
func (r *runner) trainState(env stepEnv, ms *modelState, phase string, epochs int, lr float64, stream uint64, throughQuantizer bool) error {
	if epochs <= 0 {
		return nil
	}
	var opt nn.Optimizer = newOptimizer(env.spec.Train, lr)
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
		afterEpoch = func() error { return ms.requantize() }
	}
	if len(ms.books) > 0 {
		opt = quant.NewCodebookTuner(opt, ms.books...)
	}
	_, err := fit(r.ctx, r.reporter, fitJob{
		phase: phase, stage: StageFineTuning,
		model: ms.m, opt: opt, annealFrom: lr,
		epochs: epochs, batch: env.spec.Train.Batch,
		rng:        rand.New(rand.NewPCG(env.spec.Seed, streamFineTune+uint64(env.index)+stream<<32)),
		afterEpoch: afterEpoch,
		train:      env.train, test: env.test,
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

// weightLayerNames lists the names of m's weight layers (Dense layers and
// the factors of factorized ones), in model order.
func weightLayerNames(m *nn.Sequential) []string {
	var names []string
	for _, d := range nn.WeightLayers(m) {
		names = append(names, d.LayerName)
	}
	return names
}

// expandNames turns layer names into weight-layer names: a factorized
// layer's name becomes its two factors. names empty means every weight
// layer.
func expandNames(m *nn.Sequential, names []string) ([]string, error) {
	if len(names) == 0 {
		return weightLayerNames(m), nil
	}
	var out []string
	for _, name := range names {
		found := false
		for _, l := range m.Layers {
			switch l := l.(type) {
			case *nn.Dense:
				if l.LayerName == name {
					out, found = append(out, name), true
				}
			case *lowrank.Layer:
				switch name {
				case l.LayerName:
					out, found = append(out, l.First.LayerName, l.Second.LayerName), true
				case l.First.LayerName, l.Second.LayerName:
					out, found = append(out, name), true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("layer %q is not a weight layer of the model; weight layers are %s", name, strings.Join(weightLayerNames(m), ", "))
		}
	}
	return out, nil
}

// perLayerValues gives each weight layer of the step its value: all (the
// step's common value; 0 for none) for the layers listed (or every weight
// layer), overridden by perLayer (whose names may be factorized layers).
// Layers that get 0 are left out.
func perLayerValues(m *nn.Sequential, layers []string, all int, perLayer map[string]int) (map[string]int, error) {
	out := map[string]int{}
	if all != 0 {
		names, err := expandNames(m, layers)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out[n] = all
		}
	}
	for _, name := range slices.Sorted(maps.Keys(perLayer)) {
		names, err := expandNames(m, []string{name})
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out[n] = perLayer[name]
		}
	}
	return out, nil
}

// groupByValue lists the layers of each value, values ascending, layers in
// model order.
func groupByValue(m *nn.Sequential, values map[string]int) (keys []int, groups map[int][]string) {
	groups = map[int][]string{}
	for _, name := range weightLayerNames(m) {
		if v, ok := values[name]; ok {
			if _, seen := groups[v]; !seen {
				keys = append(keys, v)
			}
			groups[v] = append(groups[v], name)
		}
	}
	slices.Sort(keys)
	return keys, groups
}

// quantizeStage quantizes ms as a quantize step says: each layer to its
// width (bits, bits_per_layer, or the last bit-sensitivity table with
// bits_from), with the step's quantizer; then fine-tunes (through the
// quantizer with qat) and, with activation_bits, inserts activation
// quantizers calibrated on the first calibration_samples training examples.
func (r *runner) quantizeStage(env stepEnv, ms *modelState, st StepSpec, phase string, stream uint64) error {
	perLayer := maps.Clone(st.BitsPerLayer)
	if st.BitsFrom == "sensitivity" {
		table, ok := r.lastBitSensitivity(env.index)
		if !ok {
			return fmt.Errorf("bits_from sensitivity: no bit-sensitivity step ran before this one")
		}
		chosen := PickBits(table, env.base.TestAcc, st.MaxLossPP)
		var parts []string
		for _, name := range table.Layers() {
			if _, own := st.BitsPerLayer[name]; !own {
				if perLayer == nil {
					perLayer = map[string]int{}
				}
				perLayer[name] = chosen[name]
				parts = append(parts, fmt.Sprintf("%s %d", name, chosen[name]))
			}
		}
		r.emit(LogEvent{Text: fmt.Sprintf("bit widths from sensitivity (test accuracy ≥ %.2f%%, %s pp below dense): %s",
			env.base.TestAcc-st.MaxLossPP, formatFloat(st.MaxLossPP), strings.Join(parts, ", "))})
	}
	bits, err := perLayerValues(ms.m, st.Layers, st.Bits, perLayer)
	if err != nil {
		return err
	}
	widths, groups := groupByValue(ms.m, bits)
	for _, b := range widths {
		if b == quant.Float32Bits {
			continue
		}
		g := uniformGroup{opts: st.quantOptions(b), layers: groups[b]}
		if _, err := quant.QuantizeModel(ms.m, g.opts, g.layers); err != nil {
			return err
		}
		ms.uniform = append(ms.uniform, g)
	}
	ms.setting = st.quantizeSetting(perLayer)
	r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
	if err := r.trainState(env, ms, phase, st.FinetuneEpochs, st.FinetuneLR, stream, st.QAT); err != nil {
		return err
	}
	if st.ActivationBits == 0 {
		return nil
	}
	n := min(st.CalibrationSamples, env.train.Len())
	ranges, err := quant.CalibrateActivations(ms.m, env.train.X.Slice(0, n), quant.ActivationOptions{Bits: st.ActivationBits})
	if err != nil {
		return err
	}
	withAct, err := quant.WithActivationQuant(ms.m, ranges)
	if err != nil {
		return err
	}
	ms.m = withAct
	return nil
}

// kmeansStage shares each chosen layer's weights among its clusters
// (Deep Compression's trained quantization), then fine-tunes the codebooks.
func (r *runner) kmeansStage(env stepEnv, ms *modelState, st StepSpec, phase string, stream uint64) error {
	init, err := quant.ParseInit(st.Init)
	if err != nil {
		return err
	}
	clusters, err := perLayerValues(ms.m, st.Layers, st.Clusters, st.ClustersPerLayer)
	if err != nil {
		return err
	}
	counts, groups := groupByValue(ms.m, clusters)
	for _, k := range counts {
		books, err := quant.ClusterModel(ms.m, k, init, defaultKMeansIters, groups[k])
		if err != nil {
			return err
		}
		ms.books = append(ms.books, books...)
	}
	r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
	return r.trainState(env, ms, phase, st.FinetuneEpochs, st.FinetuneLR, stream, true)
}

// lowrankStage factorizes each chosen layer at its rank (given, or the
// smallest that keeps energy of Σσ²), then fine-tunes the factors.
func (r *runner) lowrankStage(env stepEnv, ms *modelState, st StepSpec, phase string, stream uint64) error {
	ranks := maps.Clone(st.Ranks)
	if ranks == nil {
		ranks = map[string]int{}
	}
	if st.Rank != 0 {
		ranks[st.Layer] = st.Rank
	}
	chosen := map[string]int{}
	if st.Energy != 0 {
		layers := st.Layers
		if len(layers) == 0 {
			layers = []string{st.Layer}
		}
		for _, name := range layers {
			ds, err := ms.m.DenseLayers([]string{name})
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
				return fmt.Errorf("energy %s of %s needs rank %d, which saves no parameters for a %d×%d layer (ranks up to %d do): lower the energy",
					formatFloat(st.Energy), name, rank, d.In, d.Out, lowrank.MaxSavingRank(d.In, d.Out))
			}
			ranks[name], chosen[name] = rank, rank
		}
		ms.setting = st.lowrankSetting(chosen)
		r.emit(LogEvent{Text: fmt.Sprintf("%s: keeping %s of the energy takes %s", phase, formatFloat(st.Energy), ms.setting)})
	}
	opts := lowrank.Options{Randomized: st.Randomized, Seed: env.spec.Seed}
	for _, name := range slices.Sorted(maps.Keys(ranks)) {
		if err := lowrank.FactorizeModelWith(ms.m, name, ranks[name], opts); err != nil {
			return err
		}
	}
	r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
	return r.trainState(env, ms, phase, st.FinetuneEpochs, st.FinetuneLR, stream, true)
}

// pruneStage prunes ms as a prune step says, by its schedule: one-shot
// (then fine-tuning), iterative (rounds of pruning and fine-tuning) or
// gradual (Zhu & Gupta's cubic schedule while training). The layers may be
// factors of factorized layers.
func (r *runner) pruneStage(env stepEnv, ms *modelState, st StepSpec, phase string, stream uint64) error {
	rng := rand.New(rand.NewPCG(env.spec.Seed, streamPrune+uint64(env.index)+stream<<32))
	pruneTo := func(frac func(final float64) float64) error {
		return pruneChosen(ms.m, st, frac, rng)
	}
	switch st.Schedule {
	case "iterative":
		for k := 1; k <= st.Rounds; k++ {
			if err := pruneTo(roundFrac(k, st.Rounds)); err != nil {
				return err
			}
			r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
			if err := r.trainState(env, ms, fmt.Sprintf("%s round %d/%d", phase, k, st.Rounds), st.FinetuneEpochs, st.FinetuneLR, stream+uint64(k)<<8, true); err != nil {
				return err
			}
		}
		return nil
	case "gradual":
		return r.pruneGradualStage(env, ms, st, phase, stream, pruneTo)
	}
	if err := pruneTo(func(f float64) float64 { return f }); err != nil {
		return err
	}
	r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
	return r.trainState(env, ms, phase, st.FinetuneEpochs, st.FinetuneLR, stream, true)
}

// pruneGradualStage trains ms.m for end_epoch + finetune_epochs epochs while
// its masks follow the cubic schedule from initial at start_epoch to the
// final ratio at end_epoch, as a gradual prune step does.
func (r *runner) pruneGradualStage(env stepEnv, ms *modelState, st StepSpec, phase string, stream uint64, pruneTo func(func(float64) float64) error) error {
	steps := (env.train.Len() + env.spec.Train.Batch - 1) / env.spec.Train.Batch
	sched := prune.Schedule{Initial: st.Initial, Final: st.finalRatio(),
		Start: st.StartEpoch * steps, Steps: (st.EndEpoch - st.StartEpoch) * steps, Every: st.Every}
	at := func(t int) error {
		return pruneTo(func(final float64) float64 {
			s := sched
			s.Final, s.Initial = final, min(st.Initial, final)
			return s.Sparsity(t)
		})
	}
	if sched.Due(0) {
		if err := at(0); err != nil {
			return err
		}
	}
	r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
	var lastLayers time.Time
	end := sched.Start + sched.Steps
	_, err := fit(r.ctx, r.reporter, fitJob{
		phase: phase, stage: StagePruning,
		model: ms.m, opt: newOptimizer(env.spec.Train, st.FinetuneLR),
		epochs: st.EndEpoch + st.FinetuneEpochs, batch: env.spec.Train.Batch,
		lrAtStep: gradualRate(st.FinetuneLR, st.EndEpoch*steps),
		afterStep: func(t int) error {
			if !sched.Due(t) {
				return nil
			}
			if err := at(t); err != nil {
				return err
			}
			if t == end || time.Since(lastLayers) >= layersEventInterval {
				lastLayers = time.Now()
				r.emit(LayersEvent{Phase: phase, Layers: ms.m.Stats()})
			}
			return nil
		},
		rng:   rand.New(rand.NewPCG(env.spec.Seed, streamFineTune+uint64(env.index)+stream<<32)),
		train: env.train, test: env.test,
	})
	return err
}

// pruneChosen prunes m's chosen weight layers (st.Layers, or all; factors
// included) so each group has lost frac(its final ratio): the layers
// without a per_layer ratio together at the step's ratio, as scope says
// (one threshold across them, or each alike), each per_layer layer at its
// own. Weights removed before stay removed.
func pruneChosen(m *nn.Sequential, st StepSpec, frac func(final float64) float64, rng *rand.Rand) error {
	names, err := expandNames(m, st.Layers)
	if err != nil {
		return err
	}
	own := map[string]float64{}
	for _, name := range slices.Sorted(maps.Keys(st.PerLayer)) {
		ns, err := expandNames(m, []string{name})
		if err != nil {
			return err
		}
		for _, n := range ns {
			own[n] = st.PerLayer[name]
		}
	}
	byName := map[string]*nn.Dense{}
	for _, d := range nn.WeightLayers(m) {
		byName[d.LayerName] = d
	}
	var common []*nn.Dense
	for _, n := range names {
		if _, ok := own[n]; !ok {
			common = append(common, byName[n])
		}
	}
	random := st.Criterion == "random"
	if s := frac(st.finalRatio()); len(common) > 0 && s > 0 {
		if st.Scope == "global" {
			// One ranking across the layers.
			o := prune.Options{Scope: prune.ScopeGlobal, Rand: rng}
			if random {
				o.Criterion = prune.Random
			}
			if err := prune.Prune(common, s, o); err != nil {
				return err
			}
		} else {
			for _, d := range common {
				if err := pruneLayer(d, s, random, rng); err != nil {
					return err
				}
			}
		}
	}
	for _, n := range weightLayerNames(m) {
		if f, ok := own[n]; ok && frac(f) > 0 {
			if err := pruneLayer(byName[n], frac(f), random, rng); err != nil {
				return fmt.Errorf("layer %s: %w", n, err)
			}
		}
	}
	return nil
}

func pruneLayer(d *nn.Dense, ratio float64, random bool, rng *rand.Rand) error {
	o := prune.Options{Rand: rng}
	if random {
		o.Criterion = prune.Random
	}
	return prune.Prune([]*nn.Dense{d}, ratio, o)
}
