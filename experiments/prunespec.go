package experiments

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// The prune step's vocabulary: schedules, criteria and their defaults.
var (
	scheduleNames   = []string{"one-shot", "gradual", "iterative", "lottery"}
	criterionNames  = []string{"magnitude", "random"}
	neuronNormNames = []string{"l1", "l2"}
	// defaultSensitivityRatios: each layer alone from 0 to 95% in steps of 5%.
	defaultSensitivityRatios = []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45,
		0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}
)

const (
	defaultEvery     = 100 // gradual: steps between mask updates (Δt)
	defaultMaxLossPP = 1.0 // ratios_from: accuracy a layer may lose alone
	maxRounds        = 100
	maxEvery         = 1_000_000
)

// resolvePrune fills a prune step's defaults: schedule one-shot, scope layer
// (global for a budget, which ranks all weights together), criterion
// magnitude (l1 when structured), Δt 100 steps, max loss 1 pp, and for a
// lottery step as many epochs per round as the baseline trains after the
// rewind point.
func (st *StepSpec) resolvePrune(t TrainSpec) {
	if st.Schedule == "" {
		st.Schedule = "one-shot"
	}
	if st.Scope == "" {
		st.Scope = "layer"
		if st.Budget.set() {
			st.Scope = "global"
		}
	}
	if st.Criterion == "" {
		st.Criterion = "magnitude"
		if st.Structured {
			st.Criterion = "l1"
		}
	}
	if st.Schedule == "gradual" && st.Every == 0 {
		st.Every = defaultEvery
	}
	if st.RatiosFrom != "" && st.MaxLossPP == 0 {
		st.MaxLossPP = defaultMaxLossPP
	}
	if st.Schedule == "iterative" && st.Rounds == 0 {
		st.Rounds = len(st.Targets)
	}
	if st.Schedule == "lottery" && st.FinetuneEpochs == 0 {
		st.FinetuneEpochs = max(t.Epochs-st.RewindEpoch, 1)
	}
}

// pruneOnlyField names the first field set that only a prune step takes,
// "" when none is.
func (st StepSpec) pruneOnlyField() string {
	switch {
	case st.Criterion != "":
		return "criterion"
	case st.Structured:
		return "structured"
	case len(st.PerLayer) != 0:
		return "per_layer"
	case len(st.Targets) != 0:
		return "targets"
	case st.Budget.set():
		return "budget"
	case st.Schedule != "":
		return "schedule"
	case st.StartEpoch != 0:
		return "start_epoch"
	case st.EndEpoch != 0:
		return "end_epoch"
	case st.Every != 0:
		return "every"
	case st.Initial != 0:
		return "initial"
	case st.Rounds != 0:
		return "rounds"
	case st.RoundRatio != 0:
		return "round_ratio"
	case st.RewindEpoch != 0:
		return "rewind_epoch"
	case st.RatiosFrom != "":
		return "ratios_from"
	case st.MaxLossPP != 0:
		return "max_loss_pp"
	}
	return ""
}

// finalRatio is the fraction of weights (or neurons) the step's common
// layers lose in the end: ratio, or what round_ratio compounds to over the
// rounds, 1 − (1 − p)^rounds.
func (st StepSpec) finalRatio() float64 {
	if st.Schedule == "iterative" && len(st.Targets) > 0 {
		return st.Targets[len(st.Targets)-1]
	}
	if st.RoundRatio > 0 && st.Rounds > 0 {
		return 1 - math.Pow(1-st.RoundRatio, float64(st.Rounds))
	}
	return st.Ratio
}

// validatePrune checks a prune step; earlier are the steps before it.
func (s Spec) validatePrune(path string, st StepSpec, earlier []StepSpec) *SpecError {
	dense := s.denseNames()
	hidden := dense[:max(len(dense)-1, 0)]
	onlyFor := func(field, applies, this string) *SpecError {
		return &SpecError{Field: path + "." + field, Msg: "applies only to " + applies + "; remove it from this " + this + " step"}
	}
	conflict := func(field, msg string) *SpecError {
		return &SpecError{Field: path + "." + field, Msg: msg}
	}
	sched := st.Schedule
	switch {
	case st.Bits != 0:
		return onlyFor("bits", "technique quantize", "prune")
	case st.Rank != 0:
		return onlyFor("rank", "technique lowrank", "prune")
	case st.Layer != "":
		return onlyFor("layer", "technique lowrank", "prune")
	}
	if !slices.Contains(scheduleNames, sched) {
		return fieldError(path+".schedule", "must be one of "+strings.Join(scheduleNames, ", "), quote(sched))
	}
	if !slices.Contains(scopeNames, st.Scope) {
		return fieldError(path+".scope", "must be one of "+strings.Join(scopeNames, ", "), quote(st.Scope))
	}

	// What is pruned: weights by a criterion, or whole neurons by a norm.
	allowed := dense
	if st.Structured {
		if !slices.Contains(neuronNormNames, st.Criterion) {
			return fieldError(path+".criterion", "must be l1 or l2 for structured pruning (the norm neurons are ranked by)", quote(st.Criterion))
		}
		if sched != "one-shot" && sched != "iterative" {
			return fieldError(path+".schedule", "must be one-shot or iterative for structured pruning", quote(sched))
		}
		if st.Scope != "layer" {
			return conflict("scope", "structured pruning removes the same fraction of each layer's neurons: scope must be layer (or left out)")
		}
		allowed = hidden
		if len(hidden) == 0 {
			return conflict("structured", "the model has no hidden dense layer whose neurons could be removed")
		}
	} else if !slices.Contains(criterionNames, st.Criterion) {
		msg := "must be one of " + strings.Join(criterionNames, ", ")
		if slices.Contains(neuronNormNames, st.Criterion) {
			msg += " (l1 and l2 rank neurons: add structured: true)"
		}
		return fieldError(path+".criterion", msg, quote(st.Criterion))
	}
	if sched == "lottery" && st.Criterion != "magnitude" {
		return fieldError(path+".criterion", "must be magnitude for lottery tickets (the random control is the re-initialized row each round)", quote(st.Criterion))
	}
	layersWhat := "must name a dense layer (" + strings.Join(dense, ", ") + ")"
	if st.Structured {
		layersWhat = "must name a hidden dense layer (" + strings.Join(hidden, ", ") + "); the output layer's neurons are the classes"
	}
	for j, name := range st.Layers {
		if !slices.Contains(allowed, name) {
			return fieldError(fmt.Sprintf("%s.layers[%d]", path, j), layersWhat, quote(name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(st.PerLayer)) {
		p := path + ".per_layer." + name
		if !slices.Contains(allowed, name) {
			return &SpecError{Field: p, Msg: fmt.Sprintf("layer %q: per_layer keys %s", name, strings.TrimPrefix(layersWhat, "must "))}
		}
		if r := st.PerLayer[name]; !(r >= 0 && r <= maxPruneRatio) {
			return fieldError(p, "must be in [0, 0.99]", r)
		}
	}

	// How much: ratio, targets, round_ratio, a budget, or a sensitivity table.
	if !(st.Ratio >= 0 && st.Ratio <= maxPruneRatio) {
		return fieldError(path+".ratio", "must be in [0, 0.99]", st.Ratio)
	}
	if len(st.Targets) > 0 {
		if sched == "lottery" {
			return onlyFor("targets", "schedules one-shot, gradual and iterative (a lottery step gives a row per round)", sched)
		}
		if st.Ratio != 0 {
			return conflict("ratio", "give ratio or targets, not both")
		}
		for j, r := range st.Targets {
			if !(r > 0 && r <= maxPruneRatio) {
				return fieldError(fmt.Sprintf("%s.targets[%d]", path, j), "must be in (0, 0.99]", r)
			}
			if sched == "iterative" && j > 0 && r <= st.Targets[j-1] {
				return fieldError(fmt.Sprintf("%s.targets[%d]", path, j), fmt.Sprintf("must be above the round before (%s): iterative rounds only prune further", formatFloat(st.Targets[j-1])), r)
			}
		}
		if sched == "iterative" {
			switch {
			case st.RoundRatio != 0:
				return conflict("round_ratio", "give round_ratio or targets (one per round), not both")
			case st.Rounds != len(st.Targets):
				return fieldError(path+".rounds", fmt.Sprintf("must equal the number of targets, %d (or be left out)", len(st.Targets)), st.Rounds)
			}
		}
	}
	if st.Budget.set() {
		switch {
		case sched != "one-shot":
			return onlyFor("budget", "schedule one-shot", sched)
		case st.Structured || st.Criterion != "magnitude":
			return conflict("budget", "a budget prunes weights by magnitude: remove structured and criterion")
		case st.Scope != "global":
			return conflict("scope", "a budget ranks all weights together: scope must be global (or left out)")
		case st.Ratio != 0 || len(st.Targets) > 0 || len(st.PerLayer) > 0 || st.RatiosFrom != "":
			return conflict("budget", "a budget decides how much to prune: remove ratio, targets, per_layer and ratios_from")
		case st.Budget.MaxNonZero < 0:
			return fieldError(path+".budget.max_nonzero", "must be ≥ 1 non-zero weights", st.Budget.MaxNonZero)
		case st.Budget.MaxBytes < 0:
			return fieldError(path+".budget.max_bytes", "must be ≥ 1 byte", st.Budget.MaxBytes)
		case st.Budget.MaxNonZero > 0 && st.Budget.MaxBytes > 0:
			return conflict("budget", "set max_nonzero or max_bytes, not both")
		}
	}
	if st.RatiosFrom != "" {
		if st.RatiosFrom != "sensitivity" {
			return fieldError(path+".ratios_from", "must be sensitivity", quote(st.RatiosFrom))
		}
		if st.Structured {
			return conflict("ratios_from", "sensitivity tables prune weights, not neurons: remove structured")
		}
		if !slices.ContainsFunc(earlier, func(e StepSpec) bool { return e.Technique == "sensitivity" }) {
			return conflict("ratios_from", "needs a sensitivity step earlier in compress")
		}
		if !(st.MaxLossPP > 0 && st.MaxLossPP <= 100) {
			return fieldError(path+".max_loss_pp", "must be in (0, 100] percentage points", st.MaxLossPP)
		}
	} else if st.MaxLossPP != 0 {
		return conflict("max_loss_pp", "applies only with ratios_from: sensitivity")
	}

	// The schedule's own knobs.
	if sched == "gradual" {
		if st.StartEpoch < 0 || st.StartEpoch >= maxEpochs {
			return fieldError(path+".start_epoch", fmt.Sprintf("must be in [0, %d)", maxEpochs), st.StartEpoch)
		}
		if st.EndEpoch <= st.StartEpoch || st.EndEpoch > maxEpochs {
			return fieldError(path+".end_epoch", fmt.Sprintf("must be in [start_epoch+1, %d] = [%d, %d]", maxEpochs, st.StartEpoch+1, maxEpochs), st.EndEpoch)
		}
		if st.Every < 1 || st.Every > maxEvery {
			return fieldError(path+".every", fmt.Sprintf("must be in [1, %d] optimizer steps", maxEvery), st.Every)
		}
		least := st.Ratio
		if len(st.Targets) > 0 {
			least = slices.Min(st.Targets)
		}
		if !(st.Initial >= 0 && st.Initial <= least) {
			return fieldError(path+".initial", fmt.Sprintf("must be in [0, %s] (at most the final ratio)", formatFloat(least)), st.Initial)
		}
	} else {
		for _, f := range []struct {
			name string
			set  bool
		}{{"start_epoch", st.StartEpoch != 0}, {"end_epoch", st.EndEpoch != 0}, {"every", st.Every != 0}, {"initial", st.Initial != 0}} {
			if f.set {
				return onlyFor(f.name, "schedule gradual", sched)
			}
		}
	}
	if sched == "iterative" || sched == "lottery" {
		if st.Rounds < 1 || st.Rounds > maxRounds {
			return fieldError(path+".rounds", fmt.Sprintf("must be in [1, %d]", maxRounds), st.Rounds)
		}
		if st.RoundRatio != 0 {
			if st.Ratio != 0 {
				return conflict("ratio", "give ratio (the final ratio) or round_ratio (the ratio of each round), not both")
			}
			if !(st.RoundRatio > 0 && st.RoundRatio <= maxPruneRatio) {
				return fieldError(path+".round_ratio", "must be in (0, 0.99]", st.RoundRatio)
			}
			if f := st.finalRatio(); f > maxPruneRatio+1e-12 {
				return fieldError(path+".round_ratio", fmt.Sprintf("compounds to %.4f over %d rounds; must reach at most 0.99 in all", f, st.Rounds), st.RoundRatio)
			}
		}
	} else {
		switch {
		case st.Rounds != 0:
			return onlyFor("rounds", "schedules iterative and lottery", sched)
		case st.RoundRatio != 0:
			return onlyFor("round_ratio", "schedules iterative and lottery", sched)
		}
	}
	if sched == "lottery" {
		if st.RewindEpoch < 0 || st.RewindEpoch >= s.Train.Epochs {
			return fieldError(path+".rewind_epoch", fmt.Sprintf("must be in [0, %d] (0 = the initial weights; below train.epochs)", s.Train.Epochs-1), st.RewindEpoch)
		}
		if st.FinetuneLR != 0 {
			return conflict("finetune_lr", "lottery rounds retrain with train's optimizer and rate schedule: remove finetune_lr")
		}
	} else if st.RewindEpoch != 0 {
		return onlyFor("rewind_epoch", "schedule lottery", sched)
	}
	return nil
}

// validateSensitivity checks a sensitivity step.
func (s Spec) validateSensitivity(path string, st StepSpec) *SpecError {
	notHere := func(field string) *SpecError {
		return &SpecError{Field: path + "." + field, Msg: "does not apply to a sensitivity step (it prunes each layer alone at each of ratios, without fine-tuning); remove it"}
	}
	switch {
	case st.Ratio != 0:
		return notHere("ratio")
	case st.Scope != "":
		return notHere("scope")
	case st.Bits != 0:
		return notHere("bits")
	case st.Rank != 0:
		return notHere("rank")
	case st.Layer != "":
		return notHere("layer")
	case st.FinetuneEpochs != 0:
		return notHere("finetune_epochs")
	case st.FinetuneLR != 0:
		return notHere("finetune_lr")
	}
	if err := checkDenseNames(path+".layers", st.Layers, s.denseNames()); err != nil {
		return err
	}
	if len(st.Ratios) == 0 {
		return fieldError(path+".ratios", "must list at least one prune ratio in [0, 0.99]", "an empty list")
	}
	for j, r := range st.Ratios {
		if !(r >= 0 && r <= maxPruneRatio) {
			return fieldError(fmt.Sprintf("%s.ratios[%d]", path, j), "must be in [0, 0.99]", r)
		}
	}
	return nil
}

// Technique names of prune rows: the schedule, and "structured" when whole
// neurons go. Lottery rounds give two rows, the rewound ticket and its
// re-initialized control.
const (
	techniqueLottery       = "lottery"
	techniqueLotteryReinit = "lottery-reinit"
)

// rowTechnique is the technique column of the step's rows: prune,
// prune-gradual, prune-iterative, prune-structured,
// prune-structured-iterative or lottery.
func (st StepSpec) rowTechnique() string {
	if st.Technique != "prune" {
		return st.Technique
	}
	if st.Schedule == "lottery" {
		return techniqueLottery
	}
	t := "prune"
	if st.Structured {
		t += "-structured"
	}
	if st.Schedule != "" && st.Schedule != "one-shot" {
		t += "-" + st.Schedule
	}
	return t
}

// pruneAmount is the lead of a prune step's setting: how much it prunes.
func (st StepSpec) pruneAmount() string {
	name := "ratio"
	if st.Structured {
		name = "neurons"
	}
	var parts []string
	if st.Schedule == "iterative" || st.Schedule == "lottery" {
		if len(st.Targets) == 0 {
			parts = append(parts, fmt.Sprintf("rounds=%d", st.Rounds))
		}
		if st.RoundRatio > 0 {
			return strings.Join(append(parts, "round_ratio="+formatRatio(st.RoundRatio)), " ")
		}
	}
	switch {
	case st.Budget.MaxNonZero > 0:
		parts = append(parts, fmt.Sprintf("max_nonzero=%d", st.Budget.MaxNonZero))
	case st.Budget.MaxBytes > 0:
		parts = append(parts, fmt.Sprintf("max_bytes=%d", st.Budget.MaxBytes))
	case len(st.Targets) > 0:
		ts := make([]string, len(st.Targets))
		for i, t := range st.Targets {
			ts[i] = formatRatio(t)
		}
		parts = append(parts, name+"="+strings.Join(ts, ","))
	case st.Ratio > 0 || st.RatiosFrom == "":
		parts = append(parts, name+"="+formatRatio(st.Ratio))
	}
	return strings.Join(parts, " ")
}

// pruneSetting is a prune row's setting column: lead (how much, e.g.
// "ratio=0.95" or "round=2/5 ratio=0.75"), then the step's other knobs in a
// fixed order: criterion, scope, per-layer ratios, schedule, layers,
// fine-tuning.
func (st StepSpec) pruneSetting(lead string) string {
	var parts []string
	if lead != "" {
		parts = append(parts, lead)
	}
	switch {
	case st.Structured:
		parts = append(parts, "norm="+st.Criterion)
	case st.Criterion == "random":
		parts = append(parts, "criterion=random")
	}
	if st.Scope == "global" && !st.Budget.set() {
		parts = append(parts, "scope=global")
	}
	if len(st.PerLayer) > 0 {
		var ov []string
		for _, name := range slices.Sorted(maps.Keys(st.PerLayer)) {
			ov = append(ov, name+":"+formatRatio(st.PerLayer[name]))
		}
		parts = append(parts, "per_layer="+strings.Join(ov, ","))
	}
	if st.RatiosFrom != "" {
		parts = append(parts, fmt.Sprintf("ratios_from=%s(%spp)", st.RatiosFrom, formatFloat(st.MaxLossPP)))
	}
	switch st.Schedule {
	case "gradual":
		g := fmt.Sprintf("epochs=%d-%d every=%d", st.StartEpoch, st.EndEpoch, st.Every)
		if st.Initial > 0 {
			g += " initial=" + formatRatio(st.Initial)
		}
		parts = append(parts, g)
	case "lottery":
		if st.RewindEpoch == 0 {
			parts = append(parts, "rewind=init")
		} else {
			parts = append(parts, fmt.Sprintf("rewind=epoch%d", st.RewindEpoch))
		}
	}
	if len(st.Layers) > 0 {
		parts = append(parts, "layers="+strings.Join(st.Layers, ","))
	}
	if st.FinetuneEpochs > 0 {
		if st.Schedule == "lottery" {
			parts = append(parts, fmt.Sprintf("epochs=%d", st.FinetuneEpochs))
		} else {
			parts = append(parts, fmt.Sprintf("finetune=%d", st.FinetuneEpochs))
		}
	}
	return strings.Join(parts, " ")
}

// formatRatio writes a ratio with two decimals, or three when it has a
// third ("0.90", "0.975"), so a setting never rounds what was asked.
func formatRatio(r float64) string {
	if math.Abs(r*100-math.Round(r*100)) > 1e-9 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}
