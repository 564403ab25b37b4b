package experiments

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// The vocabulary of the quantize, kmeans, lowrank and bit-sensitivity steps
// and of pipelines (see doc.go for the schema).
var (
	modeNames        = []string{"symmetric", "asymmetric"}
	granularityNames = []string{"channel", "tensor"}
	calibrationNames = []string{"minmax", "percentile"}
	kmeansInitNames  = []string{"linear", "random", "density"}
	// stageTechniques are what a pipeline chains.
	stageTechniques = []string{"prune", "quantize", "kmeans", "lowrank", "finetune", "huffman"}
	// defaultBitWidths: every width from 8 bits down to binary.
	defaultBitWidths = []int{8, 7, 6, 5, 4, 3, 2, 1}
)

const (
	techniquePipeline       = "pipeline"
	techniqueBitSensitivity = "bit-sensitivity"
	techniqueKMeans         = "kmeans"
	techniqueFinetune       = "finetune"
	techniqueHuffman        = "huffman"

	defaultPercentile         = 99.9
	defaultCalibrationSamples = 1000
	maxCalibrationSamples     = 100_000
	defaultKMeansIters        = 30
	maxPipelineStages         = 32
)

// stepKeys lists the keys each of the newer techniques takes; a key set on
// a step of another technique is an error naming the techniques that take
// it.
var stepKeys = map[string][]string{
	"quantize":              {"technique", "bits", "layers", "mode", "granularity", "calibration", "percentile", "bits_per_layer", "bits_from", "max_loss_pp", "activation_bits", "calibration_samples", "qat", "finetune_epochs", "finetune_lr"},
	techniqueKMeans:         {"technique", "clusters", "clusters_per_layer", "init", "layers", "finetune_epochs", "finetune_lr"},
	"lowrank":               {"technique", "layer", "rank", "ranks", "energy", "layers", "randomized", "finetune_epochs", "finetune_lr"},
	techniqueBitSensitivity: {"technique", "bit_widths", "layers", "mode", "granularity", "calibration", "percentile"},
	techniqueFinetune:       {"technique", "epochs", "finetune_lr"},
	techniqueHuffman:        {"technique"},
	techniquePipeline:       {"technique", "pipeline", "name"},
}

// newStepKeys are the keys this file added to StepSpec; prune and
// sensitivity steps take none of them.
var newStepKeys = []string{"mode", "granularity", "calibration", "percentile", "bits_per_layer", "bits_from",
	"activation_bits", "calibration_samples", "qat", "bit_widths", "clusters", "clusters_per_layer", "init",
	"ranks", "energy", "randomized", "pipeline", "name", "epochs"}

// misplacedKey names the first key set on st (in StepSpec's field order)
// that its technique does not take, among keys (nil: every key), and the
// techniques that do take it.
func misplacedKey(st StepSpec, keys []string) (key string, owners []string) {
	allowed := stepKeys[st.Technique]
	v := reflect.ValueOf(st)
	t := v.Type()
	for i := range t.NumField() {
		k := yamlKey(t.Field(i))
		if k == "" || v.Field(i).IsZero() || slices.Contains(allowed, k) || (keys != nil && !slices.Contains(keys, k)) {
			continue
		}
		for _, tech := range slices.Sorted(maps.Keys(stepKeys)) {
			if slices.Contains(stepKeys[tech], k) {
				owners = append(owners, tech)
			}
		}
		if slices.Contains(newStepKeys, k) {
			return k, owners
		}
		// An older key: the techniques that have always taken it.
		switch k {
		case "ratio", "scope", "criterion", "structured", "per_layer", "targets", "budget", "schedule",
			"start_epoch", "end_epoch", "every", "initial", "rounds", "round_ratio", "rewind_epoch", "ratios_from":
			owners = []string{"prune"}
		case "ratios":
			owners = []string{"sensitivity"}
		case "max_loss_pp":
			owners = []string{"prune", "quantize"}
		}
		return k, owners
	}
	return "", nil
}

// misplaced is the error for a key its step's technique does not take.
func misplaced(path string, st StepSpec, key string, owners []string) *SpecError {
	what := "technique " + strings.Join(owners, " and ")
	if len(owners) == 0 {
		what = "no technique here"
	}
	return &SpecError{Field: path + "." + key, Msg: "applies only to " + what + "; remove it from this " + st.Technique + " step"}
}

// weightNames is what a step may name as a layer: the model's dense layers
// and, in a pipeline after a lowrank stage, the factorized layers (a name
// that means both factors) and their factors ("fc1.A", "fc1.B").
type weightNames struct {
	dense    []string // dense layers not factorized, in model order
	factored []string // factorized layers
}

func (w weightNames) has(name string) bool {
	return slices.Contains(w.list(), name)
}

// list is every name a step may use, for error messages.
func (w weightNames) list() []string {
	names := slices.Clone(w.dense)
	for _, f := range w.factored {
		names = append(names, f, f+".A", f+".B")
	}
	return names
}

// factorize marks layer as factorized.
func (w weightNames) factorize(layer string) weightNames {
	w.dense = slices.DeleteFunc(slices.Clone(w.dense), func(n string) bool { return n == layer })
	w.factored = append(slices.Clone(w.factored), layer)
	return w
}

// checkNames checks that every name (the list at path) is a weight layer.
func (w weightNames) checkNames(path string, names []string) *SpecError {
	seen := map[string]bool{}
	for j, name := range names {
		p := fmt.Sprintf("%s[%d]", path, j)
		if !w.has(name) {
			return fieldError(p, "must name a weight layer ("+strings.Join(w.list(), ", ")+")", quote(name))
		}
		if seen[name] {
			return fieldError(p, "must not repeat a layer", quote(name))
		}
		seen[name] = true
	}
	return nil
}

// checkKeys checks the keys of a per-layer map (bits_per_layer, ...).
func (w weightNames) checkKeys(path string, keys []string) *SpecError {
	for _, name := range keys {
		if !w.has(name) {
			return &SpecError{Field: path + "." + name, Msg: fmt.Sprintf("layer %q: keys must name a weight layer (%s)", name, strings.Join(w.list(), ", "))}
		}
	}
	return nil
}

// resolveNew fills the defaults of the newer techniques: a pipeline entry's
// technique, percentile 99.9 for percentile calibration, 1,000 calibration
// samples, 8..1 bits for a bit sweep, linear k-means init, 1 pp for
// bits_from, and each pipeline stage's own defaults.
func (st *StepSpec) resolveNew(s Spec) {
	if st.Technique == "" && len(st.Pipeline) > 0 {
		st.Technique = techniquePipeline
	}
	st.BitsPerLayer = maps.Clone(st.BitsPerLayer)
	st.ClustersPerLayer = maps.Clone(st.ClustersPerLayer)
	st.Ranks = maps.Clone(st.Ranks)
	st.BitWidths = slices.Clone(st.BitWidths)
	switch st.Technique {
	case "quantize", techniqueBitSensitivity:
		if st.Calibration == "percentile" && st.Percentile == 0 {
			st.Percentile = defaultPercentile
		}
		if st.ActivationBits != 0 && st.CalibrationSamples == 0 {
			st.CalibrationSamples = defaultCalibrationSamples
		}
		if st.BitsFrom != "" && st.MaxLossPP == 0 {
			st.MaxLossPP = defaultMaxLossPP
		}
		if st.Technique == techniqueBitSensitivity && len(st.BitWidths) == 0 {
			st.BitWidths = slices.Clone(defaultBitWidths)
		}
	case techniqueKMeans:
		if st.Init == "" {
			st.Init = "linear"
		}
	case techniquePipeline:
		st.Pipeline = slices.Clone(st.Pipeline)
		for i := range st.Pipeline {
			st.Pipeline[i] = s.resolveStep(st.Pipeline[i])
		}
	}
}

// takesFinetuneLR reports whether a step of this technique trains, so
// finetune_lr gets train.lr as its default.
func (st StepSpec) takesFinetuneLR() bool {
	switch st.Technique {
	case "sensitivity", techniqueBitSensitivity, techniqueHuffman, techniquePipeline:
		return false
	}
	return st.Schedule != "lottery"
}

// validateQuantize checks a quantize step (or pipeline stage).
func (s Spec) validateQuantize(path string, st StepSpec, earlier []StepSpec, names weightNames) *SpecError {
	if k, owners := misplacedKey(st, nil); k != "" {
		return misplaced(path, st, k, owners)
	}
	perLayer := len(st.BitsPerLayer) > 0 || st.BitsFrom != ""
	if !(st.Bits >= 1 && st.Bits <= maxQuantizeBits || st.Bits == quant.Float32Bits || st.Bits == 0 && perLayer) {
		want := "must be in [1, 8], or 32 for float32"
		if st.Bits == 0 {
			want += " (or give bits_per_layer or bits_from instead)"
		}
		return fieldError(path+".bits", want, st.Bits)
	}
	if err := names.checkNames(path+".layers", st.Layers); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(st.BitsPerLayer))
	if err := names.checkKeys(path+".bits_per_layer", keys); err != nil {
		return err
	}
	for _, name := range keys {
		if b := st.BitsPerLayer[name]; !(b >= 1 && b <= maxQuantizeBits || b == quant.Float32Bits) {
			return fieldError(path+".bits_per_layer."+name, "must be in [1, 8], or 32 to keep the layer float32", b)
		}
	}
	if err := s.checkQuantizer(path, st); err != nil {
		return err
	}
	if st.BitsFrom != "" {
		if st.BitsFrom != "sensitivity" {
			return fieldError(path+".bits_from", "must be sensitivity", quote(st.BitsFrom))
		}
		if !slices.ContainsFunc(earlier, func(e StepSpec) bool { return e.Technique == techniqueBitSensitivity }) {
			return &SpecError{Field: path + ".bits_from", Msg: "needs a bit-sensitivity step earlier in compress"}
		}
		if !(st.MaxLossPP > 0 && st.MaxLossPP <= 100) {
			return fieldError(path+".max_loss_pp", "must be in (0, 100] percentage points", st.MaxLossPP)
		}
	} else if st.MaxLossPP != 0 {
		return &SpecError{Field: path + ".max_loss_pp", Msg: "applies only with bits_from: sensitivity"}
	}
	if st.ActivationBits != 0 && !(st.ActivationBits >= 2 && st.ActivationBits <= 8) {
		return fieldError(path+".activation_bits", "must be in [2, 8] (or left out: activations stay float32)", st.ActivationBits)
	}
	if st.ActivationBits == 0 && st.CalibrationSamples != 0 {
		return &SpecError{Field: path + ".calibration_samples", Msg: "applies only with activation_bits: the sample calibrates the activation ranges"}
	}
	if st.CalibrationSamples < 0 || st.CalibrationSamples > maxCalibrationSamples {
		return fieldError(path+".calibration_samples", fmt.Sprintf("must be in [1, %d] training examples (0 or left out = %d)", maxCalibrationSamples, defaultCalibrationSamples), st.CalibrationSamples)
	}
	if st.QAT {
		if st.FinetuneEpochs < 1 {
			return fieldError(path+".finetune_epochs", "must be ≥ 1 with qat: true (the epochs of quantization-aware training)", st.FinetuneEpochs)
		}
		if st.Bits == quant.Float32Bits && len(st.BitsPerLayer) == 0 && st.BitsFrom == "" {
			return &SpecError{Field: path + ".qat", Msg: "needs a bit width of 1 to 8 to train through, got bits 32 (float32)"}
		}
	}
	return nil
}

// checkQuantizer checks the uniform quantizer's keys (mode, granularity,
// calibration, percentile).
func (s Spec) checkQuantizer(path string, st StepSpec) *SpecError {
	if st.Mode != "" && !slices.Contains(modeNames, st.Mode) {
		return fieldError(path+".mode", "must be one of "+strings.Join(modeNames, ", "), quote(st.Mode))
	}
	if st.Granularity != "" && !slices.Contains(granularityNames, st.Granularity) {
		return fieldError(path+".granularity", "must be one of "+strings.Join(granularityNames, ", ")+" (a scale per output channel, or one per layer)", quote(st.Granularity))
	}
	if st.Calibration != "" && !slices.Contains(calibrationNames, st.Calibration) {
		return fieldError(path+".calibration", "must be one of "+strings.Join(calibrationNames, ", "), quote(st.Calibration))
	}
	if st.Calibration != "percentile" && st.Percentile != 0 {
		return &SpecError{Field: path + ".percentile", Msg: "applies only with calibration: percentile"}
	}
	if st.Calibration == "percentile" && !(st.Percentile >= 50 && st.Percentile <= 100) {
		return fieldError(path+".percentile", "must be in [50, 100], e.g. 99.9 (the share of weights inside the range)", st.Percentile)
	}
	return nil
}

// quantOptions is the uniform quantizer a quantize or bit-sensitivity step
// asks for, at bits.
func (st StepSpec) quantOptions(bits int) quant.Options {
	return quant.Options{Bits: bits, Asymmetric: st.Mode == "asymmetric", PerTensor: st.Granularity == "tensor", Percentile: st.Percentile}
}

// validateKMeans checks a kmeans step (or pipeline stage).
func (s Spec) validateKMeans(path string, st StepSpec, names weightNames) *SpecError {
	if k, owners := misplacedKey(st, nil); k != "" {
		return misplaced(path, st, k, owners)
	}
	if !(st.Clusters >= 1 && st.Clusters <= quant.MaxClusters || st.Clusters == 0 && len(st.ClustersPerLayer) > 0) {
		return fieldError(path+".clusters", fmt.Sprintf("must be in [1, %d] (shared values per layer; 2^bits for bits-wide indices)", quant.MaxClusters), st.Clusters)
	}
	if err := names.checkNames(path+".layers", st.Layers); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(st.ClustersPerLayer))
	if err := names.checkKeys(path+".clusters_per_layer", keys); err != nil {
		return err
	}
	for _, name := range keys {
		if k := st.ClustersPerLayer[name]; !(k >= 1 && k <= quant.MaxClusters) {
			return fieldError(path+".clusters_per_layer."+name, fmt.Sprintf("must be in [1, %d]", quant.MaxClusters), k)
		}
	}
	if !slices.Contains(kmeansInitNames, st.Init) {
		return fieldError(path+".init", "must be one of "+strings.Join(kmeansInitNames, ", "), quote(st.Init))
	}
	return nil
}

// validateLowrank checks a lowrank step (or pipeline stage): a rank for
// layer, ranks by layer, or an energy for layer or layers. Every rank must
// save parameters: r·(in+out) < in·out.
func (s Spec) validateLowrank(path string, st StepSpec, names weightNames) *SpecError {
	if k, owners := misplacedKey(st, nil); k != "" {
		return misplaced(path, st, k, owners)
	}
	given := 0
	for _, set := range []bool{st.Rank != 0, len(st.Ranks) > 0, st.Energy != 0} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return fieldError(path+".rank", "must be given: a rank for layer, ranks by layer, or energy", st.Rank)
	case given > 1:
		return &SpecError{Field: path + ".rank", Msg: "give one of rank (with layer), ranks or energy"}
	}
	checkLayer := func(p, name string) *SpecError {
		if !slices.Contains(names.dense, name) {
			msg := "must name a dense layer (" + strings.Join(names.dense, ", ") + ")"
			if slices.Contains(names.factored, name) {
				msg = "must name a dense layer not yet factorized (" + strings.Join(names.dense, ", ") + ")"
			}
			return fieldError(p, msg, quote(name))
		}
		return nil
	}
	checkRank := func(p, name string, rank int) *SpecError {
		in, out := s.shapeOf(name)
		best := lowrank.MaxSavingRank(in, out)
		if best == 0 {
			return &SpecError{Field: p, Msg: fmt.Sprintf("no rank saves parameters for %s (%d×%d): r·(in+out) ≥ in·out for every r ≥ 1", name, in, out)}
		}
		if rank < 1 || rank > best {
			return fieldError(p, fmt.Sprintf("must be in [1, %d] for %s (%d×%d): a rank r saves parameters only while r·(in+out) < in·out", best, name, in, out), rank)
		}
		return nil
	}
	switch {
	case st.Rank != 0:
		if len(st.Layers) > 0 {
			return &SpecError{Field: path + ".layers", Msg: "a rank applies to one layer: use layer (or ranks for several layers)"}
		}
		if err := checkLayer(path+".layer", st.Layer); err != nil {
			return err
		}
		return checkRank(path+".rank", st.Layer, st.Rank)
	case len(st.Ranks) > 0:
		if st.Layer != "" || len(st.Layers) > 0 {
			return &SpecError{Field: path + ".ranks", Msg: "ranks names its layers: remove layer and layers"}
		}
		for _, name := range slices.Sorted(maps.Keys(st.Ranks)) {
			if err := checkLayer(path+".ranks."+name, name); err != nil {
				return err
			}
			if err := checkRank(path+".ranks."+name, name, st.Ranks[name]); err != nil {
				return err
			}
		}
	default:
		if !(st.Energy > 0 && st.Energy <= 1) {
			return fieldError(path+".energy", "must be in (0, 1]: the share of Σσ² the kept singular values hold", st.Energy)
		}
		if st.Layer != "" && len(st.Layers) > 0 {
			return &SpecError{Field: path + ".layers", Msg: "give layer or layers, not both"}
		}
		if st.Layer != "" {
			return checkLayer(path+".layer", st.Layer)
		}
		for j, name := range st.Layers {
			if err := checkLayer(fmt.Sprintf("%s.layers[%d]", path, j), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// lowrankLayers lists the layers a lowrank step factorizes with their
// explicit ranks (0 = chosen by energy at run time), in model order.
func (s Spec) lowrankLayers(st StepSpec) []string {
	var out []string
	for _, name := range s.denseNames() {
		if name == st.Layer || st.Ranks[name] != 0 || slices.Contains(st.Layers, name) {
			out = append(out, name)
		}
	}
	return out
}

// shapeOf returns the input and output width of the dense layer named name.
func (s Spec) shapeOf(name string) (in, out int) {
	i := slices.IndexFunc(s.Model.Layers, func(l LayerSpec) bool { return l.Type == "dense" && l.Name == name })
	if i < 0 {
		return 0, 0
	}
	return s.denseShape(i)
}

// validateBitSensitivity checks a bit-sensitivity step.
func (s Spec) validateBitSensitivity(path string, st StepSpec, names weightNames) *SpecError {
	if k, owners := misplacedKey(st, nil); k != "" {
		return misplaced(path, st, k, owners)
	}
	if err := names.checkNames(path+".layers", st.Layers); err != nil {
		return err
	}
	if len(st.BitWidths) == 0 {
		return fieldError(path+".bit_widths", "must list at least one bit width in [1, 8]", "an empty list")
	}
	for j, b := range st.BitWidths {
		if !(b >= 1 && b <= maxQuantizeBits) {
			return fieldError(fmt.Sprintf("%s.bit_widths[%d]", path, j), "must be in [1, 8]", b)
		}
	}
	return s.checkQuantizer(path, st)
}

// validateFinetune checks a finetune stage.
func (s Spec) validateFinetune(path string, st StepSpec) *SpecError {
	if k, owners := misplacedKey(st, nil); k != "" {
		return misplaced(path, st, k, owners)
	}
	if st.Epochs < 1 || st.Epochs > maxEpochs {
		return fieldError(path+".epochs", fmt.Sprintf("must be in [1, %d]", maxEpochs), st.Epochs)
	}
	return nil
}

// validatePipeline checks a pipeline entry: its stages in order, each
// against the model as the stages before it left it.
func (s Spec) validatePipeline(path string, st StepSpec, earlier []StepSpec) *SpecError {
	if k, owners := misplacedKey(st, nil); k != "" {
		return misplaced(path, st, k, owners)
	}
	if len(st.Pipeline) == 0 {
		return fieldError(path+".pipeline", "must list at least one stage", "an empty list")
	}
	if len(st.Pipeline) > maxPipelineStages {
		return fieldError(path+".pipeline", fmt.Sprintf("must have at most %d stages", maxPipelineStages), len(st.Pipeline))
	}
	if strings.ContainsAny(st.Name, "\n\r") {
		return fieldError(path+".name", "must be one line", "several lines")
	}
	names := weightNames{dense: s.denseNames()}
	quantizedBy, huffman := "", false
	for j, stage := range st.Pipeline {
		p := fmt.Sprintf("%s.pipeline[%d]", path, j)
		if !slices.Contains(stageTechniques, stage.Technique) {
			return fieldError(p+".technique", "must be one of "+strings.Join(stageTechniques, ", ")+" in a pipeline", quote(stage.Technique))
		}
		switch stage.Technique {
		case "prune", "lowrank":
			if quantizedBy != "" {
				return &SpecError{Field: p + ".technique", Msg: fmt.Sprintf("a %s stage must come before the %s stage: it changes which weights exist, and the weights are already shared out", stage.Technique, quantizedBy)}
			}
		case "quantize", techniqueKMeans:
			if quantizedBy != "" {
				return &SpecError{Field: p + ".technique", Msg: fmt.Sprintf("a pipeline quantizes its weights once: it already has a %s stage", quantizedBy)}
			}
			quantizedBy = stage.Technique
		case techniqueHuffman:
			if huffman {
				return &SpecError{Field: p + ".technique", Msg: "a pipeline Huffman-codes once: it already has a huffman stage"}
			}
			huffman = true
		}
		var err *SpecError
		switch stage.Technique {
		case "prune":
			err = s.validatePrunePipelineStage(p, stage, names)
		case "quantize":
			err = s.validateQuantize(p, stage, earlier, names)
		case techniqueKMeans:
			err = s.validateKMeans(p, stage, names)
		case "lowrank":
			err = s.validateLowrank(p, stage, names)
			for _, l := range s.lowrankLayers(stage) {
				names = names.factorize(l)
			}
		case techniqueFinetune:
			err = s.validateFinetune(p, stage)
		case techniqueHuffman:
			if k, owners := misplacedKey(stage, nil); k != "" {
				err = misplaced(p, stage, k, owners)
			}
		}
		if err != nil {
			return err
		}
		if err := checkFinetune(p, stage); err != nil {
			return err
		}
	}
	return nil
}

// validatePrunePipelineStage checks a prune stage of a pipeline: one-shot,
// gradual or iterative, one final ratio, layers that may be factors.
func (s Spec) validatePrunePipelineStage(path string, st StepSpec, names weightNames) *SpecError {
	if k, _ := misplacedKey(st, newStepKeys); k != "" {
		return misplaced(path, st, k, []string{stepOwner(k)})
	}
	notInPipeline := func(field, why string) *SpecError {
		return &SpecError{Field: path + "." + field, Msg: "does not apply to a prune stage of a pipeline (" + why + "); remove it"}
	}
	switch {
	case len(st.Targets) > 0:
		return notInPipeline("targets", "a stage makes one row: give ratio")
	case st.Budget.set():
		return notInPipeline("budget", "give ratio")
	case st.Structured:
		return notInPipeline("structured", "a stage prunes weights")
	case st.RatiosFrom != "":
		return notInPipeline("ratios_from", "give ratio and per_layer")
	case st.Schedule == "lottery":
		return fieldError(path+".schedule", "must be one-shot, gradual or iterative in a pipeline", quote(st.Schedule))
	}
	if err := names.checkNames(path+".layers", st.Layers); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(st.PerLayer))
	if err := names.checkKeys(path+".per_layer", keys); err != nil {
		return err
	}
	for _, name := range keys {
		if r := st.PerLayer[name]; !(r >= 0 && r <= maxPruneRatio) {
			return fieldError(path+".per_layer."+name, "must be in [0, 0.99]", r)
		}
	}
	// The rest (ratio, scope, criterion, schedule knobs) as for a step.
	rest := st
	rest.Layers, rest.PerLayer = nil, nil
	return s.validatePrune(path, rest, nil)
}

// stepOwner is the technique that takes key, for error messages.
func stepOwner(key string) string {
	for _, tech := range slices.Sorted(maps.Keys(stepKeys)) {
		if slices.Contains(stepKeys[tech], key) {
			return tech
		}
	}
	return "none"
}

// checkFinetune checks the fine-tuning keys every training step shares.
func checkFinetune(path string, st StepSpec) *SpecError {
	if st.FinetuneEpochs < 0 || st.FinetuneEpochs > maxEpochs {
		return fieldError(path+".finetune_epochs", fmt.Sprintf("must be in [0, %d]", maxEpochs), st.FinetuneEpochs)
	}
	if !(st.FinetuneLR >= 0 && st.FinetuneLR <= 1) {
		return fieldError(path+".finetune_lr", "must be in (0, 1] (0 or left out = train.lr)", st.FinetuneLR)
	}
	return nil
}

// Settings of the newer techniques: the setting column of their rows.

// quantizeSetting: "bits=4", then what is not the default: per-layer widths,
// "asym", "per-tensor", "p99.9", "act=8", "qat", layers, fine-tuning.
func (st StepSpec) quantizeSetting(perLayer map[string]int) string {
	var parts []string
	if st.Bits != 0 {
		parts = append(parts, fmt.Sprintf("bits=%d", st.Bits))
	}
	if st.BitsFrom != "" {
		parts = append(parts, fmt.Sprintf("bits_from=%s(%spp)", st.BitsFrom, formatFloat(st.MaxLossPP)))
	}
	if len(perLayer) > 0 {
		var ov []string
		for _, name := range slices.Sorted(maps.Keys(perLayer)) {
			ov = append(ov, fmt.Sprintf("%s:%d", name, perLayer[name]))
		}
		parts = append(parts, "per_layer="+strings.Join(ov, ","))
	}
	if st.Mode == "asymmetric" {
		parts = append(parts, "asym")
	}
	if st.Granularity == "tensor" {
		parts = append(parts, "per-tensor")
	}
	if st.Calibration == "percentile" {
		parts = append(parts, "p"+formatFloat(st.Percentile))
	}
	if st.ActivationBits != 0 {
		parts = append(parts, fmt.Sprintf("act=%d", st.ActivationBits))
	}
	if st.QAT {
		parts = append(parts, "qat")
	}
	return st.withLayersAndFinetune(parts)
}

// kmeansSetting: "clusters=32 init=linear", per-layer counts, layers,
// fine-tuning (of the codebook).
func (st StepSpec) kmeansSetting() string {
	var parts []string
	if st.Clusters != 0 {
		parts = append(parts, fmt.Sprintf("clusters=%d", st.Clusters))
	}
	if len(st.ClustersPerLayer) > 0 {
		var ov []string
		for _, name := range slices.Sorted(maps.Keys(st.ClustersPerLayer)) {
			ov = append(ov, fmt.Sprintf("%s:%d", name, st.ClustersPerLayer[name]))
		}
		parts = append(parts, "per_layer="+strings.Join(ov, ","))
	}
	parts = append(parts, "init="+st.Init)
	return st.withLayersAndFinetune(parts)
}

// lowrankSetting: "rank=20@fc1", "ranks=fc1:20,fc2:10" or
// "energy=0.90@fc1"; chosen lists the ranks an energy picked ("rank=37@fc1").
func (st StepSpec) lowrankSetting(chosen map[string]int) string {
	var parts []string
	switch {
	case st.Rank != 0:
		parts = append(parts, fmt.Sprintf("rank=%d@%s", st.Rank, st.Layer))
	case len(st.Ranks) > 0:
		var rs []string
		for _, name := range slices.Sorted(maps.Keys(st.Ranks)) {
			rs = append(rs, fmt.Sprintf("%s:%d", name, st.Ranks[name]))
		}
		parts = append(parts, "ranks="+strings.Join(rs, ","))
	default:
		at := st.Layer
		if len(st.Layers) > 0 {
			at = strings.Join(st.Layers, ",")
		}
		parts = append(parts, fmt.Sprintf("energy=%.2f@%s", st.Energy, at))
		if len(chosen) > 0 {
			var rs []string
			for _, name := range slices.Sorted(maps.Keys(chosen)) {
				rs = append(rs, fmt.Sprintf("%s:%d", name, chosen[name]))
			}
			parts = append(parts, "ranks="+strings.Join(rs, ","))
		}
	}
	if st.Randomized {
		parts = append(parts, "randomized")
	}
	if st.FinetuneEpochs > 0 {
		parts = append(parts, fmt.Sprintf("finetune=%d", st.FinetuneEpochs))
	}
	return strings.Join(parts, " ")
}

// bitSensitivitySetting: "bits=8-1 (8)", the quantizer, layers.
func (st StepSpec) bitSensitivitySetting() string {
	s := "bits=none"
	if len(st.BitWidths) > 0 {
		s = fmt.Sprintf("bits=%d-%d (%d)", slices.Max(st.BitWidths), slices.Min(st.BitWidths), len(st.BitWidths))
	}
	q := st
	q.Bits, q.FinetuneEpochs, q.Layers = 0, 0, nil
	if extra := q.quantizeSetting(nil); extra != "" {
		s += " " + extra
	}
	if len(st.Layers) > 0 {
		s += " layers=" + strings.Join(st.Layers, ",")
	}
	return s
}

// pipelineSetting: the name, or the stages: "prune>finetune>kmeans>huffman".
func (st StepSpec) pipelineSetting() string {
	if st.Name != "" {
		return st.Name
	}
	var names []string
	for _, stage := range st.Pipeline {
		names = append(names, stage.Technique)
	}
	return strings.Join(names, ">")
}

func (st StepSpec) withLayersAndFinetune(parts []string) string {
	if len(st.Layers) > 0 {
		parts = append(parts, "layers="+strings.Join(st.Layers, ","))
	}
	if st.FinetuneEpochs > 0 {
		parts = append(parts, fmt.Sprintf("finetune=%d", st.FinetuneEpochs))
	}
	return strings.Join(parts, " ")
}
