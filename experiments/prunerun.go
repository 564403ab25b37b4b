package experiments

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// layersEventInterval coalesces the LayersEvents of gradual pruning to a
// few a second, enough for the layer pane to show the sparsity moving.
const layersEventInterval = 250 * time.Millisecond

// streamPrune seeds the random criterion and lottery re-initialization.
const streamPrune = 0x9e11

// prunePlan is a prune step resolved against the model: which layers are
// pruned together at the step's ratio and which at a ratio of their own.
// Ratios are final: a schedule reaches frac(ratio) at each point of it.
type prunePlan struct {
	st       StepSpec
	ratio    float64            // final ratio of the common layers
	common   []string           // pruned together at ratio, as scope says; empty for none
	perLayer map[string]float64 // final ratio of each layer with one of its own
	rng      *rand.Rand         // the random criterion's draws
	neurons  map[string]int     // structured: each layer's neurons in the baseline
}

// newPrunePlan resolves env's prune step: per_layer overrides and, with
// ratios_from, the ratios the last sensitivity step allows.
func (r *runner) newPrunePlan(env stepEnv) (prunePlan, error) {
	st, m := env.st, env.baseline
	candidates := st.Layers
	if len(candidates) == 0 {
		candidates = denseLayerNames(m)
		if st.Structured {
			candidates = candidates[:len(candidates)-1] // the output layer's neurons are the classes
		}
	}
	per := map[string]float64{}
	if st.RatiosFrom == "sensitivity" {
		table, ok := r.lastSensitivity(env.index)
		if !ok {
			return prunePlan{}, fmt.Errorf("ratios_from sensitivity: no sensitivity step ran before this one")
		}
		threshold := env.base.TestAcc - st.MaxLossPP
		derived := RatiosWithin(table, threshold)
		var chosen []string
		for _, name := range candidates {
			if ratio, ok := derived[name]; ok {
				per[name] = ratio
				chosen = append(chosen, fmt.Sprintf("%s %.2f", name, ratio))
			}
		}
		r.emit(LogEvent{Text: fmt.Sprintf("ratios from sensitivity (test accuracy ≥ %.2f%%, %s pp below dense): %s",
			threshold, formatFloat(st.MaxLossPP), strings.Join(chosen, ", "))})
	}
	maps.Copy(per, st.PerLayer)
	plan := prunePlan{st: st, ratio: st.finalRatio(), perLayer: per,
		rng: rand.New(rand.NewPCG(env.spec.Seed, streamPrune+uint64(env.index)))}
	for _, name := range candidates {
		if _, own := per[name]; !own {
			plan.common = append(plan.common, name)
		}
	}
	if st.Structured {
		plan.neurons = map[string]int{}
		for _, l := range m.Layers {
			if d, ok := l.(*nn.Dense); ok {
				plan.neurons[d.LayerName] = d.Out
			}
		}
	}
	return plan, nil
}

// lastSensitivity is the table of the last sensitivity step before step
// index.
func (r *runner) lastSensitivity(index int) (results.Sensitivity, bool) {
	for i := index - 1; i >= 0; i-- {
		if t, ok := r.sensitivity[i]; ok {
			return t, true
		}
	}
	return results.Sensitivity{}, false
}

// prune prunes m so that each group has lost frac(its final ratio): the
// common layers frac(ratio), each own-ratio layer frac(its ratio). Weights
// or neurons removed before stay removed.
func (p prunePlan) prune(m *nn.Sequential, frac func(final float64) float64) error {
	if p.st.Structured {
		return p.pruneNeurons(m, frac)
	}
	if s := frac(p.ratio); len(p.common) > 0 && s > 0 {
		o := prune.Options{Rand: p.rng}
		switch {
		case p.st.Criterion == "random" && p.st.Scope == "global":
			o.Criterion, o.Scope = prune.Random, prune.ScopeGlobal
		case p.st.Criterion == "random":
			o.Criterion = prune.Random
		default:
			scope, perr := prune.ParseScope(p.st.Scope)
			if perr != nil {
				return perr
			}
			o.Scope = scope
		}
		ds, err := m.DenseLayers(p.common)
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		if err := prune.Prune(ds, s, o); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.perLayer)) {
		s := frac(p.perLayer[name])
		if s <= 0 {
			continue
		}
		ds, err := m.DenseLayers([]string{name})
		if err != nil {
			return err
		}
		o := prune.Options{Rand: p.rng}
		if p.st.Criterion == "random" {
			o.Criterion = prune.Random
		}
		if err := prune.Prune(ds, s, o); err != nil {
			return fmt.Errorf("layer %s: %w", name, err)
		}
	}
	return nil
}

// pruneNeurons removes neurons until each layer keeps round((1 − frac(f))·n)
// of the n it had in the baseline, f being its final ratio.
func (p prunePlan) pruneNeurons(m *nn.Sequential, frac func(final float64) float64) error {
	norm, err := prune.ParseNorm(p.st.Criterion)
	if err != nil {
		return err
	}
	ratios := map[string]float64{}
	for _, name := range p.common {
		ratios[name] = p.ratio
	}
	maps.Copy(ratios, p.perLayer)
	// Layer by layer in model order; each call replaces the layer and the
	// next one, so look every layer up afresh.
	for _, name := range denseLayerNames(m) {
		f, chosen := ratios[name]
		if !chosen {
			continue
		}
		ds, err := m.DenseLayers([]string{name})
		if err != nil {
			return err
		}
		d := ds[0]
		keep := max(int(math.Round(float64(p.neurons[name])*(1-frac(f)))), 1)
		if keep >= d.Out {
			continue
		}
		// Structured removes round(ratio·Out) neurons: ask for exactly
		// Out − keep of the layer's current Out.
		ratio := (float64(d.Out-keep) + 0.25) / float64(d.Out)
		if _, err := prune.Structured(m, ratio, norm, []string{name}); err != nil {
			return err
		}
	}
	return nil
}

// amount is how much one row prunes: "ratio=0.95" or "neurons=0.50"; ""
// when only per-layer ratios (from a sensitivity table) apply.
func (p prunePlan) amount(ratio float64) string {
	if len(p.common) == 0 || (ratio == 0 && p.st.RatiosFrom != "") {
		return ""
	}
	if p.st.Structured {
		return fmt.Sprintf("neurons=%.2f", ratio)
	}
	return fmt.Sprintf("ratio=%.2f", ratio)
}

// targets lists the final ratios a one-shot or gradual step makes rows
// for.
func (p prunePlan) targets() []float64 {
	if len(p.st.Targets) > 0 {
		return p.st.Targets
	}
	return []float64{p.ratio}
}

// runPruneOneShot prunes a copy of the baseline to each target at once,
// fine-tunes it and scores it: a row per target.
func (r *runner) runPruneOneShot(env stepEnv, plan prunePlan) error {
	st := env.st
	technique := st.rowTechnique()
	for ti, target := range plan.targets() {
		setting := st.Setting()
		if len(st.Targets) > 0 {
			setting = st.pruneSetting(plan.amount(target))
		}
		phase := technique + " " + setting
		r.stage(StageCompressing, phase)
		start := time.Now()
		m := env.baseline.Clone()
		p := plan
		p.ratio = target
		if err := p.prune(m, func(f float64) float64 { return f }); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
		r.emit(LayersEvent{Phase: phase, Layers: m.Stats()})
		if err := r.fineTune(env, phase, m, st.FinetuneEpochs, uint64(ti), nil); err != nil {
			return err
		}
		if err := r.score(env, technique, setting, m, time.Since(start)); err != nil {
			return err
		}
	}
	return nil
}

// runBudget prunes a copy of the baseline globally by magnitude just far
// enough to meet the step's budget, fine-tunes it and scores it.
func (r *runner) runBudget(env stepEnv) error {
	st := env.st
	phase := st.Phase()
	r.stage(StageCompressing, phase)
	start := time.Now()
	m := env.baseline.Clone()
	ratio, err := prune.ToBudget(m, prune.Budget{MaxNonZero: st.Budget.MaxNonZero, MaxBytes: st.Budget.MaxBytes}, st.Layers)
	if err != nil {
		return fmt.Errorf("%s: %w", phase, err)
	}
	r.emit(LogEvent{Text: fmt.Sprintf("%s: the budget is met at prune ratio %.4f", phase, ratio)})
	r.emit(LayersEvent{Phase: phase, Layers: m.Stats()})
	if err := r.fineTune(env, phase, m, st.FinetuneEpochs, 0, nil); err != nil {
		return err
	}
	return r.score(env, st.rowTechnique(), st.Setting(), m, time.Since(start))
}

// runGradual trains a copy of the baseline for end_epoch + finetune_epochs
// epochs while pruning it by Zhu & Gupta's cubic schedule: the sparsity
// rises from initial at start_epoch to the target at end_epoch, the masks
// updated every Δt steps. The rate stays at finetune_lr while pruning, then
// falls linearly to 0 over the fine-tuning epochs. A row per target, each
// from its own copy of the baseline.
func (r *runner) runGradual(env stepEnv, plan prunePlan) error {
	st := env.st
	technique := st.rowTechnique()
	steps := (env.train.Len() + env.spec.Train.Batch - 1) / env.spec.Train.Batch
	for ti, target := range plan.targets() {
		setting := st.pruneSetting(plan.amount(target))
		phase := technique + " " + setting
		r.stage(StageCompressing, phase)
		start := time.Now()
		m := env.baseline.Clone()
		p := plan
		p.ratio = target
		sched := prune.Schedule{Initial: st.Initial, Final: target,
			Start: st.StartEpoch * steps, Steps: (st.EndEpoch - st.StartEpoch) * steps, Every: st.Every}
		pruneAt := func(t int) error {
			return p.prune(m, func(final float64) float64 {
				s := sched
				s.Final, s.Initial = final, min(st.Initial, final)
				return s.Sparsity(t)
			})
		}
		if sched.Due(0) {
			if err := pruneAt(0); err != nil {
				return fmt.Errorf("%s: %w", phase, err)
			}
		}
		r.emit(LayersEvent{Phase: phase, Layers: m.Stats()})
		var lastLayers time.Time
		end := sched.Start + sched.Steps
		_, err := fit(r.ctx, r.reporter, fitJob{
			phase: phase, stage: StagePruning,
			model: m, opt: newOptimizer(env.spec.Train, st.FinetuneLR),
			epochs: st.EndEpoch + st.FinetuneEpochs, batch: env.spec.Train.Batch,
			lrAtStep: gradualRate(st.FinetuneLR, st.EndEpoch*steps),
			afterStep: func(t int) error {
				if !sched.Due(t) {
					return nil
				}
				if err := pruneAt(t); err != nil {
					return fmt.Errorf("%s: %w", phase, err)
				}
				if t == end || time.Since(lastLayers) >= layersEventInterval {
					lastLayers = time.Now()
					r.emit(LayersEvent{Phase: phase, Layers: m.Stats()})
				}
				return nil
			},
			rng:   rand.New(rand.NewPCG(env.spec.Seed, streamFineTune+uint64(env.index)+uint64(ti)<<32)),
			train: env.train, test: env.test,
		})
		if err != nil {
			return err
		}
		if err := r.score(env, technique, setting, m, time.Since(start)); err != nil {
			return err
		}
	}
	return nil
}

// gradualRate is the learning rate of a gradual step: lr while the
// sparsity rises (the first pruneEnd steps), then falling linearly to 0 over
// the fine-tuning steps, so the pruned model settles.
func gradualRate(lr float64, pruneEnd int) func(done, total int) float64 {
	return func(done, total int) float64 {
		if done < pruneEnd || total <= pruneEnd {
			return lr
		}
		return lr * (1 - float64(done-pruneEnd)/float64(total-pruneEnd))
	}
}

// roundFrac is the fraction of its final ratio f a group has lost after
// round k of n: 1 − (1 − f)^(k/n), so every round removes the same share
// of the weights (or neurons) still there.
func roundFrac(k, n int) func(f float64) float64 {
	return func(f float64) float64 {
		if k >= n {
			return f
		}
		return 1 - math.Pow(1-f, float64(k)/float64(n))
	}
}

// targetFrac is round k of an iterative step with explicit targets: the
// common layers reach targets[k−1]; a layer with its own final ratio f
// reaches f·targets[k−1]/targets[last], the same share of its way.
func targetFrac(targets []float64, k int) func(f float64) float64 {
	last := targets[len(targets)-1]
	return func(f float64) float64 {
		if f == last {
			return targets[k-1]
		}
		return f * targets[k-1] / last
	}
}

// runIterative is Han et al.'s prune → retrain cycle on one copy of the
// baseline: each round prunes further (the same share of what is left, or
// to the round's target), then fine-tunes for finetune_epochs at a rate annealed from finetune_lr.
// A row per round; its wall_s counts every round up to it.
func (r *runner) runIterative(env stepEnv, plan prunePlan) error {
	st := env.st
	technique := st.rowTechnique()
	m := env.baseline.Clone()
	start := time.Now()
	for k := 1; k <= st.Rounds; k++ {
		frac := roundFrac(k, st.Rounds)
		if len(st.Targets) > 0 {
			frac = targetFrac(st.Targets, k)
		}
		lead := strings.TrimSpace(fmt.Sprintf("round=%d/%d %s", k, st.Rounds, plan.amount(frac(plan.ratio))))
		setting := st.pruneSetting(lead)
		phase := technique + " " + setting
		r.stage(StageCompressing, phase)
		if err := plan.prune(m, frac); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
		r.emit(LayersEvent{Phase: phase, Layers: m.Stats()})
		if err := r.fineTune(env, phase, m, st.FinetuneEpochs, uint64(k), nil); err != nil {
			return err
		}
		if err := r.score(env, technique, setting, m, time.Since(start)); err != nil {
			return err
		}
	}
	return nil
}

// runLottery looks for winning tickets (Frankle & Carbin 2019): starting
// from the trained baseline, each round prunes the trained ticket by
// magnitude (the same share of what is left), rewinds the survivors to
// their values at initialization (or after rewind_epoch epochs) and
// retrains them with the training schedule. Each round also trains the
// same mask from a fresh random initialization, the control a ticket must
// beat. Two rows per round: lottery and lottery-reinit. wall_s counts the
// rounds that found the mask plus the row's own training.
func (r *runner) runLottery(env stepEnv, plan prunePlan) error {
	st := env.st
	snap, ok := r.snapshots[st.RewindEpoch]
	if !ok {
		return fmt.Errorf("%s: no snapshot of the baseline at epoch %d to rewind to", st.Phase(), st.RewindEpoch)
	}
	ticket := env.baseline.Clone()
	var chain time.Duration // the time that found this round's mask
	for k := 1; k <= st.Rounds; k++ {
		frac := roundFrac(k, st.Rounds)
		lead := strings.TrimSpace(fmt.Sprintf("round=%d/%d %s", k, st.Rounds, plan.amount(frac(plan.ratio))))
		setting := st.pruneSetting(lead)
		phase := techniqueLottery + " " + setting
		r.stage(StageCompressing, phase)
		t0 := time.Now()
		if err := plan.prune(ticket, frac); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
		control := ticket.Clone()
		if err := prune.Rewind(ticket, snap); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
		chain += time.Since(t0)
		r.emit(LayersEvent{Phase: phase, Layers: ticket.Stats()})
		t1 := time.Now()
		if err := r.retrain(env, phase, ticket, uint64(2*k)); err != nil {
			return err
		}
		ticketWall := chain + time.Since(t1)
		if err := r.score(env, techniqueLottery, setting, ticket, ticketWall); err != nil {
			return err
		}

		controlPhase := techniqueLotteryReinit + " " + setting
		r.stage(StageCompressing, controlPhase)
		t2 := time.Now()
		if err := prune.Reinit(control, plan.rng); err != nil {
			return fmt.Errorf("%s: %w", controlPhase, err)
		}
		if err := r.retrain(env, controlPhase, control, uint64(2*k+1)); err != nil {
			return err
		}
		if err := r.score(env, techniqueLotteryReinit, setting, control, chain+time.Since(t2)); err != nil {
			return err
		}
		chain = ticketWall // the next mask is pruned from this round's ticket
	}
	return nil
}

// retrain trains a lottery round's model for finetune_epochs epochs with a
// fresh training optimizer on the training schedule, resumed after
// rewind_epoch epochs, as the rewound weights were.
func (r *runner) retrain(env stepEnv, phase string, m *nn.Sequential, stream uint64) error {
	st, train := env.st, env.spec.Train
	_, err := fit(r.ctx, r.reporter, fitJob{
		phase: phase, stage: StageTraining,
		model: m, opt: newOptimizer(train, train.LR),
		epochs: st.FinetuneEpochs, batch: train.Batch,
		lrAt:  func(epoch int) float64 { return scheduledLR(train, st.RewindEpoch+epoch) },
		rng:   rand.New(rand.NewPCG(env.spec.Seed, streamFineTune+uint64(env.index)+stream<<32)),
		train: env.train, test: env.test,
	})
	return err
}

// runSensitivity prunes each chosen layer of the baseline alone, by
// magnitude, at each of the step's ratios, and records the test accuracy
// without fine-tuning (Han et al. 2015). It adds no rows to the result
// table: its results.Sensitivity goes out in SensitivityEvents (one per point,
// so a chart can grow as it runs) and in DoneEvent, and a later step can
// take its per-layer ratios from it (ratios_from: sensitivity).
func (r *runner) runSensitivity(env stepEnv) error {
	st := env.st
	phase := st.Phase()
	r.stage(StageSensitivity, phase)
	layers := st.Layers
	if len(layers) == 0 {
		layers = denseLayerNames(env.baseline)
	}
	// Model order, whatever order the spec lists them in.
	order := denseLayerNames(env.baseline)
	slices.SortStableFunc(layers, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	var points []results.Point
	event := func(done bool) SensitivityEvent {
		return SensitivityEvent{Phase: phase, Layers: slices.Clone(layers), Values: slices.Clone(st.Ratios),
			Table: results.Sensitivity{Kind: results.Pruning, Points: slices.Clone(points)}, BaseTestAcc: env.base.TestAcc, Done: done}
	}
	for _, layer := range layers {
		i := 0
		_, err := prune.SensitivityContext(r.ctx, env.baseline, []string{layer}, st.Ratios, func(c *nn.Sequential) float64 {
			_, acc, err := evaluate(r.ctx, c, env.test, 0)
			if err != nil {
				return math.NaN() // cancelled: SensitivityContext stops before the next point
			}
			points = append(points, results.Point{Layer: layer, Value: st.Ratios[i], TestAcc: 100 * acc})
			i++
			r.emit(event(false))
			return acc
		})
		if err != nil {
			return err
		}
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.sensitivity == nil {
		r.sensitivity = map[int]results.Sensitivity{}
	}
	r.sensitivity[env.index] = results.Sensitivity{Kind: results.Pruning, Points: points}
	r.report.Add(results.Pruning, points...)
	r.emit(event(true))
	return nil
}

// sensitivitySetting describes a sensitivity step: "ratios=0.00-0.95 (20)
// layers=fc1,fc2".
func (st StepSpec) sensitivitySetting() string {
	s := "ratios=none"
	if len(st.Ratios) > 0 {
		s = fmt.Sprintf("ratios=%.2f-%.2f (%d)", slices.Min(st.Ratios), slices.Max(st.Ratios), len(st.Ratios))
	}
	if len(st.Layers) > 0 {
		s += " layers=" + strings.Join(st.Layers, ",")
	}
	return s
}

// weightSparsity is the fraction of m's weights (not biases) that are zero.
func weightSparsity(m *nn.Sequential) float64 {
	total, nonzero := 0, 0
	for _, d := range weightLayers(m) {
		total += len(d.W.Value.Data)
		nonzero += d.W.NonZero()
	}
	if total == 0 {
		return 0
	}
	return 1 - float64(nonzero)/float64(total)
}
