package spec

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Prune removes weights (or, structured, whole neurons) from a copy of the
// baseline by a schedule: one-shot, gradual (Zhu & Gupta 2017), iterative
// (Han et al. 2015) or lottery (Frankle & Carbin 2019). See doc.go for
// what each key means to each schedule.
type Prune struct {
	Ratio       float64            `yaml:"ratio"`        // the final fraction of weights removed, 0 to 0.99
	Scope       string             `yaml:"scope"`        // layer (each layer loses Ratio) or global (one threshold across Layers); "" = layer
	Layers      []string           `yaml:"layers"`       // the layers pruned at Ratio; empty = every dense layer
	Criterion   string             `yaml:"criterion"`    // magnitude (default) or random; structured: l1 (default) or l2
	Structured  bool               `yaml:"structured"`   // remove whole neurons of hidden layers; Ratio is the fraction of neurons
	PerLayer    map[string]float64 `yaml:"per_layer"`    // ratio overrides by layer name; Ratio applies to the other layers
	Targets     []float64          `yaml:"targets"`      // several final ratios instead of Ratio, one row each (iterative: one per round)
	Budget      Budget             `yaml:"budget"`       // prune until the model fits, instead of a ratio
	Schedule    string             `yaml:"schedule"`     // one-shot (default), gradual, iterative or lottery
	StartEpoch  int                `yaml:"start_epoch"`  // gradual: epoch (from 0) at which pruning starts
	EndEpoch    int                `yaml:"end_epoch"`    // gradual: epoch at which the final ratio is reached
	Every       int                `yaml:"every"`        // gradual: optimizer steps between mask updates (Δt); 0 = 100
	Initial     float64            `yaml:"initial"`      // gradual: sparsity at start_epoch (s_i)
	Rounds      int                `yaml:"rounds"`       // iterative, lottery: prune-retrain rounds
	RoundRatio  float64            `yaml:"round_ratio"`  // iterative, lottery: fraction of the remaining weights pruned each round, instead of Ratio
	RewindEpoch int                `yaml:"rewind_epoch"` // lottery: rewind survivors to their values after this many baseline epochs (0 = init)
	RatiosFrom  string             `yaml:"ratios_from"`  // "sensitivity": per-layer ratios from the last sensitivity step
	MaxLossPP   float64            `yaml:"max_loss_pp"`  // ratios_from: the accuracy a layer may lose alone, in pp; 0 = 1
	Tune        `yaml:",inline"`

	// units is what a structured step removes, set by resolution from
	// the layers it prunes: "neurons" (dense), "filters" (convolutions)
	// or "filters+neurons" (both); its setting leads with it.
	units string
}

// Budget is a size target a prune step meets instead of a ratio: the
// least global magnitude pruning that leaves at most MaxNonZero non-zero
// weights, or a model of at most MaxBytes stored bytes. Set exactly one.
type Budget struct {
	MaxNonZero int   `yaml:"max_nonzero"`
	MaxBytes   int64 `yaml:"max_bytes"`
}

// Set reports whether the budget asks for anything.
func (b Budget) Set() bool { return b.MaxNonZero != 0 || b.MaxBytes != 0 }

// The prune step's vocabulary and its defaults.
var (
	scheduleNames   = []string{"one-shot", "gradual", "iterative", "lottery"}
	scopeNames      = []string{"layer", "global"}
	criterionNames  = []string{"magnitude", "random"}
	neuronNormNames = []string{"l1", "l2"}
)

const (
	defaultEvery     = 100 // gradual: steps between mask updates (Δt)
	defaultMaxLossPP = 1.0 // ratios_from, bits_from: accuracy a layer may lose alone
	maxRounds        = 100
	maxEvery         = 1_000_000
)

// Row techniques of lottery steps: the rewound ticket and its
// re-initialized control.
const (
	LotteryTicket  = "lottery"
	LotteryControl = "lottery-reinit"
)

func (Prune) Technique() string { return "prune" }

// resolved fills the defaults: schedule one-shot, scope layer (global for
// a budget, which ranks all weights together), criterion magnitude (l1
// when structured), Δt 100 steps, max loss 1 pp, as many rounds as
// targets, for a lottery step as many epochs per round as the baseline
// trains after the rewind point, and the fine-tuning rate (not for
// lottery, which retrains on the training schedule).
func (p Prune) resolved(r *resolver) Step {
	if p.Schedule == "" {
		p.Schedule = "one-shot"
	}
	if p.Scope == "" {
		p.Scope = "layer"
		if p.Budget.Set() {
			p.Scope = "global"
		}
	}
	if p.Criterion == "" {
		p.Criterion = "magnitude"
		if p.Structured {
			p.Criterion = "l1"
		}
	}
	if p.Structured {
		p.units = r.spec.structuredUnits(p.Layers)
	}
	if p.Schedule == "gradual" && p.Every == 0 {
		p.Every = defaultEvery
	}
	if p.RatiosFrom != "" && p.MaxLossPP == 0 {
		p.MaxLossPP = defaultMaxLossPP
	}
	if p.Schedule == "iterative" && p.Rounds == 0 {
		p.Rounds = len(p.Targets)
	}
	if p.Schedule == "lottery" {
		if p.FinetuneEpochs == 0 {
			p.FinetuneEpochs = max(r.spec.Train.Epochs-p.RewindEpoch, 1)
		}
	} else {
		p.Tune = p.Tune.resolved(r)
	}
	return p
}

// FinalRatio is the fraction of weights (or neurons) the step's common
// layers lose in the end: ratio, the last target of an iterative step, or
// what round_ratio compounds to over the rounds, 1 − (1 − p)^rounds.
func (p Prune) FinalRatio() float64 {
	if p.Schedule == "iterative" && len(p.Targets) > 0 {
		return p.Targets[len(p.Targets)-1]
	}
	if p.RoundRatio > 0 && p.Rounds > 0 {
		return 1 - math.Pow(1-p.RoundRatio, float64(p.Rounds))
	}
	return p.Ratio
}

// check validates the step: what it prunes, how much, and its schedule's
// own keys.
func (p Prune) check(c *checker) *Error {
	if !slices.Contains(scheduleNames, p.Schedule) {
		return c.bad("schedule", oneOf(scheduleNames), quote(p.Schedule))
	}
	if !slices.Contains(scopeNames, p.Scope) {
		return c.bad("scope", oneOf(scopeNames), quote(p.Scope))
	}
	if c.stage {
		if err := p.checkStage(c); err != nil {
			return err
		}
	} else if err := p.checkWhat(c); err != nil {
		return err
	}
	for _, check := range []func(*checker) *Error{p.checkAmount, p.checkBudget, p.checkRatiosFrom, p.checkGradual, p.checkRounds, p.checkLottery} {
		if err := check(c); err != nil {
			return err
		}
	}
	return p.Tune.check(c)
}

// onlyFor says key applies only to something this step is not.
func (p Prune) onlyFor(c *checker, key, applies string) *Error {
	return c.wrong(key, "applies only to "+applies+"; remove it from this "+p.Schedule+" step")
}

// checkWhat checks what a compress entry prunes: weights by a criterion,
// or whole neurons by a norm, of the layers it names.
func (p Prune) checkWhat(c *checker) *Error {
	weights := c.spec.WeightNames()
	hidden := weights[:max(len(weights)-1, 0)]
	allowed := weights
	if p.Structured {
		switch {
		case !slices.Contains(neuronNormNames, p.Criterion):
			return c.bad("criterion", "must be l1 or l2 for structured pruning (the norm neurons are ranked by)", quote(p.Criterion))
		case p.Schedule != "one-shot" && p.Schedule != "iterative":
			return c.bad("schedule", "must be one-shot or iterative for structured pruning", quote(p.Schedule))
		case p.Scope != "layer":
			return c.wrong("scope", "structured pruning removes the same fraction of each layer's neurons: scope must be layer (or left out)")
		case len(hidden) == 0:
			return c.wrong("structured", "the model has no hidden layer (dense or conv) whose neurons could be removed")
		}
		allowed = hidden
	} else if !slices.Contains(criterionNames, p.Criterion) {
		msg := oneOf(criterionNames)
		if slices.Contains(neuronNormNames, p.Criterion) {
			msg += " (l1 and l2 rank neurons: add structured: true)"
		}
		return c.bad("criterion", msg, quote(p.Criterion))
	}
	if p.Schedule == "lottery" && p.Criterion != "magnitude" {
		return c.bad("criterion", "must be magnitude for lottery tickets (the random control is the re-initialized row each round)", quote(p.Criterion))
	}
	what := "must name a weight layer (" + strings.Join(weights, ", ") + ")"
	if p.Structured {
		what = "must name a hidden weight layer (" + strings.Join(hidden, ", ") + "); the output layer's neurons are the classes"
	}
	if err := c.checkDense("layers", p.Layers, allowed, what); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(p.PerLayer)) {
		if !slices.Contains(allowed, name) {
			return problem(c.field("per_layer."+name), fmt.Sprintf("layer %q: per_layer keys %s", name, strings.TrimPrefix(what, "must ")))
		}
	}
	return p.checkPerLayerRatios(c)
}

// checkStage checks what a pipeline's prune stage prunes: one final ratio
// (a stage makes one row) of weights, whose layers may be factors.
func (p Prune) checkStage(c *checker) *Error {
	notInPipeline := func(key, why string) *Error {
		return c.wrong(key, "does not apply to a prune stage of a pipeline ("+why+"); remove it")
	}
	switch {
	case len(p.Targets) > 0:
		return notInPipeline("targets", "a stage makes one row: give ratio")
	case p.Budget.Set():
		return notInPipeline("budget", "give ratio")
	case p.Structured:
		return notInPipeline("structured", "a stage prunes weights")
	case p.RatiosFrom != "":
		return notInPipeline("ratios_from", "give ratio and per_layer")
	case p.Schedule == "lottery":
		return c.bad("schedule", "must be one-shot, gradual or iterative in a pipeline", quote(p.Schedule))
	case !slices.Contains(criterionNames, p.Criterion):
		return c.bad("criterion", oneOf(criterionNames), quote(p.Criterion))
	}
	if err := c.checkList("layers", p.Layers); err != nil {
		return err
	}
	if err := c.checkKeys("per_layer", slices.Sorted(maps.Keys(p.PerLayer))); err != nil {
		return err
	}
	return p.checkPerLayerRatios(c)
}

func (p Prune) checkPerLayerRatios(c *checker) *Error {
	for _, name := range slices.Sorted(maps.Keys(p.PerLayer)) {
		if r := p.PerLayer[name]; !(r >= 0 && r <= MaxPruneRatio) {
			return c.bad("per_layer."+name, "must be in [0, 0.99]", r)
		}
	}
	return nil
}

// checkAmount checks how much is pruned: ratio, or targets.
func (p Prune) checkAmount(c *checker) *Error {
	if !c.has("ratio") && len(p.Targets) == 0 && p.RoundRatio == 0 && p.RatiosFrom == "" && !p.Budget.Set() && !c.has("budget") {
		return &Error{Field: c.field("ratio"), want: "must be in [0, 0.99] (or give targets, round_ratio, budget or ratios_from instead)",
			Msg: "must be in [0, 0.99] (or give targets, round_ratio, budget or ratios_from instead)"}
	}
	if !(p.Ratio >= 0 && p.Ratio <= MaxPruneRatio) {
		return c.bad("ratio", "must be in [0, 0.99]", p.Ratio)
	}
	if len(p.Targets) == 0 {
		return nil
	}
	if p.Schedule == "lottery" {
		return p.onlyFor(c, "targets", "schedules one-shot, gradual and iterative (a lottery step gives a row per round)")
	}
	if p.Ratio != 0 {
		return c.wrong("ratio", "give ratio or targets, not both")
	}
	for j, r := range p.Targets {
		key := fmt.Sprintf("targets[%d]", j)
		if !(r > 0 && r <= MaxPruneRatio) {
			return c.bad(key, "must be in (0, 0.99]", r)
		}
		if p.Schedule == "iterative" && j > 0 && r <= p.Targets[j-1] {
			return c.bad(key, fmt.Sprintf("must be above the round before (%s): iterative rounds only prune further", FormatFloat(p.Targets[j-1])), r)
		}
	}
	if p.Schedule == "iterative" {
		switch {
		case p.RoundRatio != 0:
			return c.wrong("round_ratio", "give round_ratio or targets (one per round), not both")
		case p.Rounds != len(p.Targets):
			return c.bad("rounds", fmt.Sprintf("must equal the number of targets, %d (or be left out)", len(p.Targets)), p.Rounds)
		}
	}
	return nil
}

// checkBudget checks a budget, which replaces the ratio.
func (p Prune) checkBudget(c *checker) *Error {
	b := p.Budget
	if !b.Set() {
		if c.present != nil && c.has("budget") {
			return c.wrong("budget", "must set max_nonzero or max_bytes")
		}
		return nil
	}
	switch {
	case p.Schedule != "one-shot":
		return p.onlyFor(c, "budget", "schedule one-shot")
	case p.Structured || p.Criterion != "magnitude":
		return c.wrong("budget", "a budget prunes weights by magnitude: remove structured and criterion")
	case p.Scope != "global":
		return c.wrong("scope", "a budget ranks all weights together: scope must be global (or left out)")
	case p.Ratio != 0 || len(p.Targets) > 0 || len(p.PerLayer) > 0 || p.RatiosFrom != "":
		return c.wrong("budget", "a budget decides how much to prune: remove ratio, targets, per_layer and ratios_from")
	case b.MaxNonZero < 0:
		return c.bad("budget.max_nonzero", "must be ≥ 1 non-zero weights", b.MaxNonZero)
	case b.MaxBytes < 0:
		return c.bad("budget.max_bytes", "must be ≥ 1 byte", b.MaxBytes)
	case b.MaxNonZero > 0 && b.MaxBytes > 0:
		return c.wrong("budget", "set max_nonzero or max_bytes, not both")
	}
	return nil
}

// checkRatiosFrom checks per-layer ratios taken from a sensitivity table.
func (p Prune) checkRatiosFrom(c *checker) *Error {
	if p.RatiosFrom == "" {
		if p.MaxLossPP != 0 {
			return c.wrong("max_loss_pp", "applies only with ratios_from: sensitivity")
		}
		return nil
	}
	switch {
	case p.RatiosFrom != "sensitivity":
		return c.bad("ratios_from", "must be sensitivity", quote(p.RatiosFrom))
	case p.Structured:
		return c.wrong("ratios_from", "sensitivity tables prune weights, not neurons: remove structured")
	case !c.ranEarlier("sensitivity"):
		return c.wrong("ratios_from", "needs a sensitivity step earlier in compress")
	case !(p.MaxLossPP > 0 && p.MaxLossPP <= 100):
		return c.bad("max_loss_pp", "must be in (0, 100] percentage points", p.MaxLossPP)
	}
	return nil
}

// checkGradual checks the gradual schedule's keys, and that no other
// schedule sets them.
func (p Prune) checkGradual(c *checker) *Error {
	if p.Schedule != "gradual" {
		for _, k := range []struct {
			key string
			set bool
		}{{"start_epoch", p.StartEpoch != 0}, {"end_epoch", p.EndEpoch != 0}, {"every", p.Every != 0}, {"initial", p.Initial != 0}} {
			if k.set {
				return p.onlyFor(c, k.key, "schedule gradual")
			}
		}
		return nil
	}
	if p.StartEpoch < 0 || p.StartEpoch >= MaxEpochs {
		return c.bad("start_epoch", fmt.Sprintf("must be in [0, %d)", MaxEpochs), p.StartEpoch)
	}
	if p.EndEpoch <= p.StartEpoch || p.EndEpoch > MaxEpochs {
		return c.bad("end_epoch", fmt.Sprintf("must be in [start_epoch+1, %d] = [%d, %d]", MaxEpochs, p.StartEpoch+1, MaxEpochs), p.EndEpoch)
	}
	if p.Every < 1 || p.Every > maxEvery {
		return c.bad("every", fmt.Sprintf("must be in [1, %d] optimizer steps", maxEvery), p.Every)
	}
	least := p.Ratio
	if len(p.Targets) > 0 {
		least = slices.Min(p.Targets)
	}
	if !(p.Initial >= 0 && p.Initial <= least) {
		return c.bad("initial", fmt.Sprintf("must be in [0, %s] (at most the final ratio)", FormatFloat(least)), p.Initial)
	}
	return nil
}

// checkRounds checks the rounds of the iterative and lottery schedules.
func (p Prune) checkRounds(c *checker) *Error {
	if p.Schedule != "iterative" && p.Schedule != "lottery" {
		switch {
		case p.Rounds != 0:
			return p.onlyFor(c, "rounds", "schedules iterative and lottery")
		case p.RoundRatio != 0:
			return p.onlyFor(c, "round_ratio", "schedules iterative and lottery")
		}
		return nil
	}
	if p.Rounds < 1 || p.Rounds > maxRounds {
		return c.bad("rounds", inRange(1, maxRounds), p.Rounds)
	}
	if p.RoundRatio == 0 {
		return nil
	}
	if p.Ratio != 0 {
		return c.wrong("ratio", "give ratio (the final ratio) or round_ratio (the ratio of each round), not both")
	}
	if !(p.RoundRatio > 0 && p.RoundRatio <= MaxPruneRatio) {
		return c.bad("round_ratio", "must be in (0, 0.99]", p.RoundRatio)
	}
	if f := p.FinalRatio(); f > MaxPruneRatio+1e-12 {
		return c.bad("round_ratio", fmt.Sprintf("compounds to %.4f over %d rounds; must reach at most 0.99 in all", f, p.Rounds), p.RoundRatio)
	}
	return nil
}

// checkLottery checks the lottery schedule's own keys.
func (p Prune) checkLottery(c *checker) *Error {
	if p.Schedule != "lottery" {
		if p.RewindEpoch != 0 {
			return p.onlyFor(c, "rewind_epoch", "schedule lottery")
		}
		return nil
	}
	if epochs := c.spec.Train.Epochs; p.RewindEpoch < 0 || p.RewindEpoch >= epochs {
		return c.bad("rewind_epoch", fmt.Sprintf("must be in [0, %d] (0 = the initial weights; below train.epochs)", epochs-1), p.RewindEpoch)
	}
	if p.FinetuneLR != 0 {
		return c.wrong("finetune_lr", "lottery rounds retrain with train's optimizer and rate schedule: remove finetune_lr")
	}
	return nil
}

// Label is the technique column of the step's rows: prune,
// prune-gradual, prune-iterative, prune-structured,
// prune-structured-iterative or lottery (whose controls are
// LotteryControl rows).
func (p Prune) Label() string {
	if p.Schedule == "lottery" {
		return LotteryTicket
	}
	t := "prune"
	if p.Structured {
		t += "-structured"
	}
	if p.Schedule != "" && p.Schedule != "one-shot" {
		t += "-" + p.Schedule
	}
	return t
}

// Setting is the step's setting as a whole: "ratio=0.95 scope=global",
// "rounds=5 round_ratio=0.20 rewind=init epochs=3", "max_bytes=2000".
func (p Prune) Setting() string { return p.SettingWith(p.amount()) }

// Amount is how much one row of the step prunes: "ratio=0.95" or
// "neurons=0.50", keeping every digit the spec asked for ("0.975").
func (p Prune) Amount(ratio float64) string { return p.amountName() + "=" + FormatRatio(ratio) }

// RoundAmount is Amount for a ratio a schedule computed (a round's share
// of the way, 1 − (1 − f)^(k/n)), to two decimals.
func (p Prune) RoundAmount(ratio float64) string {
	return fmt.Sprintf("%s=%.2f", p.amountName(), ratio)
}

func (p Prune) amountName() string {
	switch {
	case p.Structured && p.units != "":
		return p.units
	case p.Structured:
		return "neurons"
	}
	return "ratio"
}

// amount is the lead of the step's setting: how much it prunes.
func (p Prune) amount() string {
	name := p.amountName()
	var parts []string
	if p.Schedule == "iterative" || p.Schedule == "lottery" {
		if len(p.Targets) == 0 {
			parts = append(parts, fmt.Sprintf("rounds=%d", p.Rounds))
		}
		if p.RoundRatio > 0 {
			return strings.Join(append(parts, "round_ratio="+FormatRatio(p.RoundRatio)), " ")
		}
	}
	switch {
	case p.Budget.MaxNonZero > 0:
		parts = append(parts, fmt.Sprintf("max_nonzero=%d", p.Budget.MaxNonZero))
	case p.Budget.MaxBytes > 0:
		parts = append(parts, fmt.Sprintf("max_bytes=%d", p.Budget.MaxBytes))
	case len(p.Targets) > 0:
		ts := make([]string, len(p.Targets))
		for i, t := range p.Targets {
			ts[i] = FormatRatio(t)
		}
		parts = append(parts, name+"="+strings.Join(ts, ","))
	case p.Ratio > 0 || p.RatiosFrom == "":
		parts = append(parts, name+"="+FormatRatio(p.Ratio))
	}
	return strings.Join(parts, " ")
}

// SettingWith is a row's setting: lead (how much, e.g. "ratio=0.95" or
// "round=2/5 ratio=0.75"), then the step's other knobs in a fixed order:
// criterion, scope, per-layer ratios, schedule, layers, fine-tuning.
func (p Prune) SettingWith(lead string) string {
	var parts []string
	if lead != "" {
		parts = append(parts, lead)
	}
	switch {
	case p.Structured:
		parts = append(parts, "norm="+p.Criterion)
	case p.Criterion == "random":
		parts = append(parts, "criterion=random")
	}
	if p.Scope == "global" && !p.Budget.Set() {
		parts = append(parts, "scope=global")
	}
	if len(p.PerLayer) > 0 {
		var ov []string
		for _, name := range slices.Sorted(maps.Keys(p.PerLayer)) {
			ov = append(ov, name+":"+FormatRatio(p.PerLayer[name]))
		}
		parts = append(parts, "per_layer="+strings.Join(ov, ","))
	}
	if p.RatiosFrom != "" {
		parts = append(parts, fmt.Sprintf("ratios_from=%s(%spp)", p.RatiosFrom, FormatFloat(p.MaxLossPP)))
	}
	switch p.Schedule {
	case "gradual":
		g := fmt.Sprintf("epochs=%d-%d every=%d", p.StartEpoch, p.EndEpoch, p.Every)
		if p.Initial > 0 {
			g += " initial=" + FormatRatio(p.Initial)
		}
		parts = append(parts, g)
	case "lottery":
		if p.RewindEpoch == 0 {
			parts = append(parts, "rewind=init")
		} else {
			parts = append(parts, fmt.Sprintf("rewind=epoch%d", p.RewindEpoch))
		}
	}
	parts = layersPart(parts, p.Layers)
	if p.FinetuneEpochs > 0 && p.Schedule == "lottery" {
		return strings.Join(append(parts, fmt.Sprintf("epochs=%d", p.FinetuneEpochs)), " ")
	}
	return strings.Join(p.finetuneSuffix(parts), " ")
}
