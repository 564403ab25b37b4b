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
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// layersEventInterval coalesces the LayersEvents of gradual pruning to a
// few a second, enough for the layer pane to show the sparsity moving.
const layersEventInterval = 250 * time.Millisecond

// pruner removes weights (or neurons) of a model until each group of
// layers has lost frac of its final ratio. What was removed before stays
// removed.
type pruner interface {
	prune(m *nn.Sequential, frac func(final float64) float64) error
	// at is the pruner with another final ratio for the common layers.
	at(ratio float64) pruner
}

// weightPruner prunes weights: the layers without a ratio of their own
// together at ratio, as scope says (one ranking across them, or each
// alike), each layer of perLayer at its own, by magnitude or at random.
// Layer names resolve against the model being pruned, so after a lowrank
// stage they may name a factorized layer (both factors) or a factor.
type weightPruner struct {
	ratio    float64
	layers   []string           // the layers pruned at ratio; nil: every weight layer
	perLayer map[string]float64 // final ratios of their own
	opts     prune.Options      // criterion, scope and the random source
}

func (p weightPruner) at(ratio float64) pruner { p.ratio = ratio; return p }

func (p weightPruner) prune(m *nn.Sequential, frac func(float64) float64) error {
	named, err := nn.SelectWeightLayers(m, p.layers)
	if err != nil {
		return err
	}
	own := map[*nn.Dense]float64{}
	for _, name := range slices.Sorted(maps.Keys(p.perLayer)) {
		ds, err := nn.SelectWeightLayers(m, []string{name})
		if err != nil {
			return err
		}
		for _, d := range ds {
			own[d] = p.perLayer[name]
		}
	}
	var common []*nn.Dense
	for _, d := range named {
		if _, ok := own[d]; !ok {
			common = append(common, d)
		}
	}
	if s := frac(p.ratio); len(common) > 0 && s > 0 {
		if err := prune.Prune(common, s, p.opts); err != nil {
			return err
		}
	}
	alone := p.opts
	alone.Scope = prune.ScopeLayer
	for _, d := range nn.WeightLayers(m) {
		if f, ok := own[d]; ok && frac(f) > 0 {
			if err := prune.Prune([]*nn.Dense{d}, frac(f), alone); err != nil {
				return fmt.Errorf("layer %s: %w", d.LayerName, err)
			}
		}
	}
	return nil
}

// neuronPruner removes whole neurons by the norm of their incoming
// weights until each layer keeps round((1 − frac(f))·n) of the n it had in
// the baseline, f being its final ratio (ratio for the common layers, or
// its own); the next layer loses the matching inputs.
type neuronPruner struct {
	ratio    float64
	common   []string           // the layers that lose ratio of their neurons
	perLayer map[string]float64 // final fractions of their own
	norm     prune.Norm
	neurons  map[string]int // each layer's neurons in the baseline
}

func (p neuronPruner) at(ratio float64) pruner { p.ratio = ratio; return p }

func (p neuronPruner) prune(m *nn.Sequential, frac func(float64) float64) error {
	ratios := map[string]float64{}
	for _, name := range p.common {
		ratios[name] = p.ratio
	}
	maps.Copy(ratios, p.perLayer)
	// Layer by layer in model order; each call replaces the layer and the
	// next one, so look every layer up afresh.
	for _, d := range nn.WeightLayers(m) {
		f, chosen := ratios[d.LayerName]
		if !chosen {
			continue
		}
		ds, err := nn.SelectWeightLayers(m, []string{d.LayerName})
		if err != nil {
			return err
		}
		d := ds[0]
		keep := max(int(math.Round(float64(p.neurons[d.LayerName])*(1-frac(f)))), 1)
		if keep >= d.Out {
			continue
		}
		// Structured removes round(ratio·Out) neurons: ask for exactly
		// Out − keep of the layer's current Out.
		ratio := (float64(d.Out-keep) + 0.25) / float64(d.Out)
		if _, err := prune.Structured(m, ratio, p.norm, []string{d.LayerName}); err != nil {
			return err
		}
	}
	return nil
}

// budgetPruner prunes globally by magnitude just far enough that the
// model meets a budget (non-zero weights or stored bytes).
type budgetPruner struct {
	budget prune.Budget
	layers []string
	log    func(ratio float64)
}

func (p budgetPruner) at(float64) pruner { return p }

func (p budgetPruner) prune(m *nn.Sequential, _ func(float64) float64) error {
	ratio, err := prune.ToBudget(m, p.budget, p.layers)
	if err == nil {
		p.log(ratio)
	}
	return err
}

// pruneStage prunes ms by the step's schedule: once, then fine-tuning
// (one-shot), while training (gradual), in rounds of pruning and
// fine-tuning (iterative), or in rounds rewound to an early state of the
// baseline (lottery).
type pruneStage struct {
	step   spec.Prune
	pruner pruner
	target float64 // the final ratio of the common layers
	// row is the stage's setting: the step's, or its target's.
	row string
	// candidates and perLayer are what a compress entry prunes at target
	// and at ratios of their own, for its rows' settings.
	candidates []string
	perLayer   map[string]float64
	// alone is a compress entry's stage (not a pipeline's): its rounds
	// add a row each.
	alone bool
	// rand is the random criterion's source, which lottery controls
	// re-initialize from.
	rand *rand.Rand
	// rewind is the state of the baseline a lottery step rewinds to.
	rewind prune.Weights
}

func (p pruneStage) label() string   { return p.step.Label() }
func (p pruneStage) setting() string { return p.row }
func (p pruneStage) addsOwnRows() bool {
	return p.alone && (p.step.Schedule == "iterative" || p.step.Schedule == "lottery")
}

func (p pruneStage) apply(x *stageRun, ms *modelState) error {
	switch p.step.Schedule {
	case "gradual":
		return x.pruneGradually(ms, p)
	case "iterative":
		return x.pruneIteratively(ms, p)
	case "lottery":
		return x.findTickets(ms, p)
	}
	return x.pruneOnce(ms, p)
}

// prunePlans compiles a prune step: a plan per target for one-shot and
// gradual steps (each from its own copy of the baseline), one plan for the
// others.
func (r *runner) prunePlans(i int, st spec.Prune) ([]plan, error) {
	targets := st.Targets
	if len(targets) == 0 || st.Schedule == "iterative" {
		targets = []float64{st.FinalRatio()}
	}
	var plans []plan
	var first pruneStage
	for ti, target := range targets {
		var sg pruneStage
		if ti == 0 {
			s, err := r.pruneStageOf(i, 0, st, target, false)
			if err != nil {
				return nil, err
			}
			first, sg = s, s
		} else {
			// One pruner for all targets: the random criterion draws on.
			sg = first.at(target)
		}
		plans = append(plans, plan{stages: []stage{sg}, stream: uint64(ti), huffman: true})
	}
	return plans, nil
}

// at is the stage for another target of the same step.
func (p pruneStage) at(target float64) pruneStage {
	p.pruner = p.pruner.at(target)
	p.target = target
	p.row = p.step.SettingWith(pruneAmount(p.step, p.candidates, p.perLayer, target))
	return p
}

// pruneStageOf compiles a prune step (inStage: a pipeline's stage of
// stream s) to its stage at target: what it prunes, by which criterion,
// and the per-layer ratios (per_layer, and ratios_from's).
func (r *runner) pruneStageOf(i int, s uint64, st spec.Prune, target float64, inStage bool) (pruneStage, error) {
	rng := rand.New(rand.NewPCG(r.spec.Seed, streamPrune+uint64(i)+s<<32))
	sg := pruneStage{step: st, target: target, row: st.Setting(), alone: !inStage, rand: rng}
	if st.Schedule == "lottery" {
		snap, ok := r.snapshots[st.RewindEpoch]
		if !ok {
			return sg, fmt.Errorf("no snapshot of the baseline at epoch %d to rewind to", st.RewindEpoch)
		}
		sg.rewind = snap
	}
	perLayer := maps.Clone(st.PerLayer)
	candidates := st.Layers
	if !inStage {
		candidates = r.candidates(st)
		derived, err := r.ratiosFrom(i, st, candidates)
		if err != nil {
			return sg, err
		}
		perLayer = derived
		sg.candidates, sg.perLayer = candidates, perLayer
		if len(st.Targets) > 0 || st.Schedule != "one-shot" {
			sg.row = st.SettingWith(pruneAmount(st, candidates, perLayer, target))
		}
	}
	switch {
	case st.Budget.Set():
		sg.pruner = budgetPruner{budget: prune.Budget{MaxNonZero: st.Budget.MaxNonZero, MaxBytes: st.Budget.MaxBytes}, layers: st.Layers,
			log: func(ratio float64) {
				r.emit(LogEvent{Text: fmt.Sprintf("%s: the budget is met at prune ratio %.4f", spec.Phase(st), ratio)})
			}}
	case st.Structured:
		sg.pruner = r.neuronPrunerOf(st, target, candidates, perLayer)
	default:
		criterion, err := prune.ParseCriterion(st.Criterion)
		if err != nil {
			return sg, err
		}
		scope, err := prune.ParseScope(st.Scope)
		if err != nil {
			return sg, err
		}
		sg.pruner = weightPruner{ratio: target, layers: candidates, perLayer: perLayer,
			opts: prune.Options{Criterion: criterion, Scope: scope, Rand: rng}}
	}
	return sg, nil
}

// candidates are the layers a compress entry prunes at its ratio: those it
// names, or every weight layer (structured: every one but the output
// layer, whose neurons are the classes).
func (r *runner) candidates(st spec.Prune) []string {
	if len(st.Layers) > 0 {
		return st.Layers
	}
	names := r.spec.WeightNames()
	if st.Structured {
		return names[:len(names)-1]
	}
	return names
}

// ratiosFrom is per_layer with, for ratios_from, the ratios the last
// sensitivity table allows each candidate: the largest that keeps its test
// accuracy within max_loss_pp of the dense baseline's.
func (r *runner) ratiosFrom(i int, st spec.Prune, candidates []string) (map[string]float64, error) {
	per := map[string]float64{}
	if st.RatiosFrom == "sensitivity" {
		table := r.lastAnalysis(i, results.Pruning)
		if table == nil {
			return nil, fmt.Errorf("ratios_from sensitivity: no sensitivity step ran before this one")
		}
		threshold := r.base.TestAcc - st.MaxLossPP
		derived := RatiosWithin(*table, threshold)
		var chosen []string
		for _, name := range candidates {
			if ratio, ok := derived[name]; ok {
				per[name] = ratio
				chosen = append(chosen, fmt.Sprintf("%s %.2f", name, ratio))
			}
		}
		r.emit(LogEvent{Text: fmt.Sprintf("ratios from sensitivity (test accuracy ≥ %.2f%%, %s pp below dense): %s",
			threshold, spec.FormatFloat(st.MaxLossPP), strings.Join(chosen, ", "))})
	}
	maps.Copy(per, st.PerLayer)
	return per, nil
}

// neuronPrunerOf is the structured pruner of st at target.
func (r *runner) neuronPrunerOf(st spec.Prune, target float64, candidates []string, perLayer map[string]float64) neuronPruner {
	norm, _ := prune.ParseNorm(st.Criterion) // checked by the spec
	p := neuronPruner{ratio: target, perLayer: perLayer, norm: norm, neurons: map[string]int{}}
	for _, name := range candidates {
		if _, own := perLayer[name]; !own {
			p.common = append(p.common, name)
		}
	}
	for _, d := range nn.WeightLayers(r.baseline) {
		p.neurons[d.LayerName] = d.Out
	}
	return p
}

// pruneAmount is how much one row of a compress entry prunes at a ratio it
// asked for (see spec.Prune.Amount); "" when no layer prunes at the common
// ratio, or only per-layer ratios (from a sensitivity table) apply.
func pruneAmount(st spec.Prune, candidates []string, perLayer map[string]float64, ratio float64) string {
	if !prunesAtRatio(st, candidates, perLayer, ratio) {
		return ""
	}
	return st.Amount(ratio)
}

// prunesAtRatio reports whether a row at ratio names it: some layer
// prunes at the common ratio, and not only by ratios from a table.
func prunesAtRatio(st spec.Prune, candidates []string, perLayer map[string]float64, ratio float64) bool {
	common := slices.ContainsFunc(candidates, func(n string) bool { _, own := perLayer[n]; return !own })
	return common && !(ratio == 0 && st.RatiosFrom != "")
}

// identity is the fraction of the way a one-shot step goes: all of it.
func identity(f float64) float64 { return f }

// pruneOnce prunes ms once, then fine-tunes it (one-shot).
func (x *stageRun) pruneOnce(ms *modelState, p pruneStage) error {
	if err := p.pruner.prune(ms.m, identity); err != nil {
		return err
	}
	x.layers(x.phase, ms.m)
	return x.trainState(ms, x.phase, p.step.FinetuneEpochs, p.step.FinetuneLR, x.rand(x.stream), true)
}

// pruneGradually trains ms for end_epoch + finetune_epochs epochs while
// its masks follow Zhu & Gupta's cubic schedule from initial at
// start_epoch to the target at end_epoch, updated every Δt steps. The rate
// stays at finetune_lr while pruning, then falls linearly to 0 over the
// fine-tuning epochs.
func (x *stageRun) pruneGradually(ms *modelState, p pruneStage) error {
	st := p.step
	steps := (x.train.Len() + x.spec.Train.Batch - 1) / x.spec.Train.Batch
	sched := prune.Schedule{Initial: st.Initial, Final: p.target,
		Start: st.StartEpoch * steps, Steps: (st.EndEpoch - st.StartEpoch) * steps, Every: st.Every}
	at := func(t int) error {
		return p.pruner.prune(ms.m, func(final float64) float64 {
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
	x.layers(x.phase, ms.m)
	var lastLayers time.Time
	end := sched.Start + sched.Steps
	_, err := fit(x.ctx, x.reporter, fitJob{
		phase: x.phase, stage: StagePruning,
		model: ms.m, opt: newOptimizer(x.spec.Train, st.FinetuneLR),
		epochs: st.EndEpoch + st.FinetuneEpochs, batch: x.spec.Train.Batch,
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
				x.layers(x.phase, ms.m)
			}
			return nil
		},
		rng:   x.rand(x.stream),
		train: x.train, test: x.test,
	})
	return err
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

// roundSetting is the setting of round k's row: "round=2/5 ratio=0.75 ...".
func (p pruneStage) roundSetting(k int, frac func(float64) float64) string {
	amount := ""
	if ratio := frac(p.target); prunesAtRatio(p.step, p.candidates, p.perLayer, ratio) {
		amount = p.step.RoundAmount(ratio)
	}
	return p.step.SettingWith(strings.TrimSpace(fmt.Sprintf("round=%d/%d %s", k, p.step.Rounds, amount)))
}

// pruneIteratively is Han et al.'s prune → retrain cycle: each round
// prunes further (the same share of what is left, or to the round's
// target), then fine-tunes for finetune_epochs at a rate annealed from
// finetune_lr. A compress entry adds a row per round, its wall_s counting
// every round up to it.
func (x *stageRun) pruneIteratively(ms *modelState, p pruneStage) error {
	st := p.step
	for k := 1; k <= st.Rounds; k++ {
		frac := roundFrac(k, st.Rounds)
		if len(st.Targets) > 0 {
			frac = targetFrac(st.Targets, k)
		}
		phase, setting := fmt.Sprintf("%s round %d/%d", x.phase, k, st.Rounds), ""
		if p.alone {
			setting = p.roundSetting(k, frac)
			phase = p.label() + " " + setting
			x.stage(StageCompressing, phase)
		}
		if err := p.pruner.prune(ms.m, frac); err != nil {
			return err
		}
		x.layers(phase, ms.m)
		if err := x.trainState(ms, phase, st.FinetuneEpochs, st.FinetuneLR, x.rand(x.roundStream(k)), true); err != nil {
			return err
		}
		if p.alone {
			if err := x.score(p.label(), setting, ms.m, time.Since(x.start), ms.huffman); err != nil {
				return err
			}
		}
	}
	return nil
}

// findTickets looks for winning tickets (Frankle & Carbin 2019): starting
// from the trained baseline, each round prunes the trained ticket by
// magnitude (the same share of what is left), rewinds the survivors to
// their values at initialization (or after rewind_epoch epochs) and
// retrains them with the training schedule. Each round also trains the
// same mask from a fresh random initialization, the control a ticket must
// beat. Two rows per round: lottery and lottery-reinit. wall_s counts the
// rounds that found the mask plus the row's own training.
func (x *stageRun) findTickets(ms *modelState, p pruneStage) error {
	st := p.step
	ticket := ms.m
	var chain time.Duration // the time that found this round's mask
	for k := 1; k <= st.Rounds; k++ {
		frac := roundFrac(k, st.Rounds)
		setting := p.roundSetting(k, frac)
		phase := spec.LotteryTicket + " " + setting
		x.stage(StageCompressing, phase)
		t0 := time.Now()
		if err := p.pruner.prune(ticket, frac); err != nil {
			return err
		}
		control := ticket.Clone()
		if err := prune.Rewind(ticket, p.rewind); err != nil {
			return err
		}
		chain += time.Since(t0)
		x.layers(phase, ticket)
		t1 := time.Now()
		if err := x.retrain(phase, ticket, st, uint64(2*k)); err != nil {
			return err
		}
		ticketWall := chain + time.Since(t1)
		if err := x.score(spec.LotteryTicket, setting, ticket, ticketWall, ms.huffman); err != nil {
			return err
		}
		controlPhase := spec.LotteryControl + " " + setting
		x.stage(StageCompressing, controlPhase)
		t2 := time.Now()
		if err := prune.Reinit(control, p.rand); err != nil {
			return err
		}
		if err := x.retrain(controlPhase, control, st, uint64(2*k+1)); err != nil {
			return err
		}
		if err := x.score(spec.LotteryControl, setting, control, chain+time.Since(t2), ms.huffman); err != nil {
			return err
		}
		chain = ticketWall // the next mask is pruned from this round's ticket
	}
	return nil
}

// retrain trains a lottery round's model for finetune_epochs epochs with a
// fresh training optimizer on the training schedule, resumed after
// rewind_epoch epochs, as the rewound weights were.
func (x *stageRun) retrain(phase string, m *nn.Sequential, st spec.Prune, stream uint64) error {
	train := x.spec.Train
	_, err := fit(x.ctx, x.reporter, fitJob{
		phase: phase, stage: StageTraining,
		model: m, opt: newOptimizer(train, train.LR),
		epochs: st.FinetuneEpochs, batch: train.Batch,
		lrAt:  func(epoch int) float64 { return train.LRAt(st.RewindEpoch + epoch) },
		rng:   x.rand(stream),
		train: x.train, test: x.test,
	})
	return err
}
