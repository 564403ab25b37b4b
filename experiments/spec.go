package experiments

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/presets"
)

// Spec is one experiment: a dataset, a model, how to train it, and the
// compression steps to compare against the trained baseline. Each
// compression step starts from its own copy of the trained dense baseline
// (steps never stack), so every row of the result table answers "what does
// this one technique do to the baseline"; only the stages of a pipeline
// stack, each adding a row for what it adds.
//
// Optional numeric fields treat 0 as "use the default" (documented per
// field), so a Spec built in Go and one parsed from YAML mean the same thing.
type Spec struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Seed        uint64      `yaml:"seed"` // every random choice (data, init, shuffling, dropout) derives from it
	Dataset     DatasetSpec `yaml:"dataset"`
	Model       ModelSpec   `yaml:"model"`
	Train       TrainSpec   `yaml:"train"`
	Compress    []StepSpec  `yaml:"compress"`
	Source      string      `yaml:"-"` // the file path, or "preset:NAME"
}

// DatasetSpec names the data: MNIST, or a synthetic set made from the seed.
type DatasetSpec struct {
	Name      string  `yaml:"name"`       // mnist, blobs or spirals
	Limit     int     `yaml:"limit"`      // use only the first Limit training examples; 0 = all
	TestLimit int     `yaml:"test_limit"` // use only the first TestLimit test examples; 0 = all
	Classes   int     `yaml:"classes"`    // blobs, spirals: number of classes (mnist: 10)
	Dim       int     `yaml:"dim"`        // blobs: input dimension (spirals are 2-D, mnist 784)
	Noise     float64 `yaml:"noise"`      // spirals: standard deviation of the noise added to each point
	Samples   int     `yaml:"samples"`    // blobs, spirals: training examples generated (the test set gets samples/4); 0 = 2000
}

// ModelSpec is a stack of layers; the input width comes from the dataset.
type ModelSpec struct {
	Layers []LayerSpec `yaml:"layers"`
}

// LayerSpec is one layer. Names default to fc1, fc2, ... for dense layers,
// relu1, ... and dropout1, ... for the others.
type LayerSpec struct {
	Type  string  `yaml:"type"`  // dense, relu or dropout
	Units int     `yaml:"units"` // dense: output width
	Rate  float64 `yaml:"rate"`  // dropout: fraction of activations dropped in training
	Name  string  `yaml:"name"`
	Init  string  `yaml:"init"` // dense: he (default) or glorot
}

// TrainSpec says how the baseline is trained.
//
// Learning-rate schedule: epoch e (1-based) runs at LR·LRDecay^(e−1), a
// per-epoch exponential decay; LRDecay 0 or 1 keeps the rate constant.
type TrainSpec struct {
	Optimizer string  `yaml:"optimizer"` // adam or sgd
	LR        float64 `yaml:"lr"`
	Momentum  float64 `yaml:"momentum"` // sgd only; 0 = plain SGD
	Epochs    int     `yaml:"epochs"`
	Batch     int     `yaml:"batch"`
	LRDecay   float64 `yaml:"lr_decay"` // multiply the rate by this after every epoch; 0 = 1 = constant
}

// StepSpec is one compression step, applied to a fresh copy of the trained
// baseline, then optionally fine-tuned with a fresh copy of the training
// optimizer, its rate falling linearly from FinetuneLR to 0 over the
// fine-tuning steps.
type StepSpec struct {
	Technique string   `yaml:"technique"` // prune, quantize, lowrank, kmeans, sensitivity, bit-sensitivity or pipeline (pipeline stages: also finetune, huffman)
	Ratio     float64  `yaml:"ratio"`     // prune: fraction of weights removed, 0 to 0.99
	Scope     string   `yaml:"scope"`     // prune: layer (each layer loses Ratio) or global (one threshold across Layers); "" = layer
	Layers    []string `yaml:"layers"`    // prune, quantize, kmeans, (bit-)sensitivity, lowrank with energy: layers to compress; empty = every dense layer
	Bits      int      `yaml:"bits"`      // quantize: bits per weight, 1 to 8 (32 = float32, a no-op)
	Layer     string   `yaml:"layer"`     // lowrank: the dense layer to factorize; "" = the first one
	Rank      int      `yaml:"rank"`      // lowrank: rank of the factorization, 1 to the largest that saves parameters

	FinetuneEpochs int     `yaml:"finetune_epochs"` // epochs of fine-tuning after compressing (iterative, lottery: per round); 0 = none
	FinetuneLR     float64 `yaml:"finetune_lr"`     // starting rate; 0 = train.lr

	// Pruning as the literature does it (technique prune; see doc.go and
	// prunespec.go for what applies to which schedule).
	Criterion   string             `yaml:"criterion"`    // magnitude (default) or random; structured: l1 (default) or l2
	Structured  bool               `yaml:"structured"`   // remove whole neurons of hidden layers; ratio is the fraction of neurons
	PerLayer    map[string]float64 `yaml:"per_layer"`    // ratio overrides by layer name; ratio applies to the other layers
	Targets     []float64          `yaml:"targets"`      // several final ratios instead of ratio, one row each (iterative: the ratio of each round)
	Budget      BudgetSpec         `yaml:"budget"`       // prune until the model fits, instead of a ratio
	Schedule    string             `yaml:"schedule"`     // one-shot (default), gradual, iterative or lottery
	StartEpoch  int                `yaml:"start_epoch"`  // gradual: epoch (from 0) at which pruning starts
	EndEpoch    int                `yaml:"end_epoch"`    // gradual: epoch at which the final ratio is reached
	Every       int                `yaml:"every"`        // gradual: optimizer steps between mask updates (Δt); 0 = 100
	Initial     float64            `yaml:"initial"`      // gradual: sparsity at start_epoch (s_i)
	Rounds      int                `yaml:"rounds"`       // iterative, lottery: prune-retrain rounds
	RoundRatio  float64            `yaml:"round_ratio"`  // iterative, lottery: fraction of the remaining weights pruned each round, instead of ratio
	RewindEpoch int                `yaml:"rewind_epoch"` // lottery: rewind survivors to their values after this many baseline epochs (0 = init)
	Ratios      []float64          `yaml:"ratios"`       // sensitivity: the prune ratios tried on each layer
	RatiosFrom  string             `yaml:"ratios_from"`  // prune: "sensitivity" takes per-layer ratios from the last sensitivity step
	MaxLossPP   float64            `yaml:"max_loss_pp"`  // ratios_from, bits_from: the accuracy a layer may lose alone, in pp; 0 = 1

	// Quantization (technique quantize, and bit-sensitivity for the
	// quantizer's keys; see quantspec.go and doc.go).
	Mode               string         `yaml:"mode"`                // symmetric (default) or asymmetric (a zero point)
	Granularity        string         `yaml:"granularity"`         // channel (default: a scale per output channel) or tensor
	Calibration        string         `yaml:"calibration"`         // minmax (default) or percentile: how the range is set
	Percentile         float64        `yaml:"percentile"`          // calibration percentile: the range's percentile of |w|, in [50, 100]; 0 = 99.9
	BitsPerLayer       map[string]int `yaml:"bits_per_layer"`      // mixed precision: bit widths by layer; bits applies to the others
	BitsFrom           string         `yaml:"bits_from"`           // "sensitivity" takes per-layer widths from the last bit-sensitivity step
	ActivationBits     int            `yaml:"activation_bits"`     // also quantize each weight layer's input, 2 to 8 bits, calibrated on a sample
	CalibrationSamples int            `yaml:"calibration_samples"` // activation_bits: training examples the ranges come from; 0 = 1000
	QAT                bool           `yaml:"qat"`                 // quantization-aware training: fine-tune through the quantizer
	BitWidths          []int          `yaml:"bit_widths"`          // bit-sensitivity: the widths tried on each layer; default 8 to 1

	// Weight sharing (technique kmeans).
	Clusters         int            `yaml:"clusters"`           // shared values per layer, 1 to 256
	ClustersPerLayer map[string]int `yaml:"clusters_per_layer"` // cluster counts by layer; clusters applies to the others
	Init             string         `yaml:"init"`               // where the centroids start: linear (default), random or density

	// Low-rank factorization (technique lowrank).
	Ranks      map[string]int `yaml:"ranks"`      // ranks by layer, to factorize several layers
	Energy     float64        `yaml:"energy"`     // instead of a rank: keep the singular values holding this share of Σσ²
	Randomized bool           `yaml:"randomized"` // randomized SVD (Halko et al. 2011) instead of the exact one

	// Pipelines: stages chained on one model, a row each.
	Pipeline []StepSpec `yaml:"pipeline"` // the stages; technique pipeline (may be left out)
	Name     string     `yaml:"name"`     // pipeline: a label for its rows
	Epochs   int        `yaml:"epochs"`   // finetune stage: epochs of fine-tuning
}

// BudgetSpec is a size target a prune step meets instead of a ratio: the
// least global magnitude pruning that leaves at most MaxNonZero non-zero
// weights, or a model of at most MaxBytes stored bytes. Set exactly one.
type BudgetSpec struct {
	MaxNonZero int   `yaml:"max_nonzero"`
	MaxBytes   int64 `yaml:"max_bytes"`
}

// set reports whether the budget asks for anything.
func (b BudgetSpec) set() bool { return b.MaxNonZero != 0 || b.MaxBytes != 0 }

// Allowed values, shared by Validate and the error messages.
var (
	datasetNames   = []string{"mnist", "blobs", "spirals"}
	layerTypes     = []string{"dense", "relu", "dropout"}
	optimizerNames = []string{"adam", "sgd"}
	techniqueNames = []string{"prune", "quantize", "lowrank", "sensitivity", techniqueKMeans, techniqueBitSensitivity, techniquePipeline}
	scopeNames     = []string{"layer", "global"}
	layerNameRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
)

const (
	mnistClasses     = 10
	mnistDim         = 28 * 28
	mnistTrainSize   = 60000
	mnistTestSize    = 10000
	defaultSamples   = 2000
	maxEpochs        = 1000
	maxBatch         = 65536
	maxUnits         = 100000
	maxClasses       = 1000
	maxDim           = 100000
	maxSamples       = 10_000_000
	maxPruneRatio    = 0.99
	maxQuantizeBits  = 8
	finetuneLRFactor = 1
)

// LoadSpec loads a spec by preset name (as listed by ListPresets) or from a
// path to a .yaml file. A name containing a path separator or ending in
// .yaml/.yml is always treated as a path.
func LoadSpec(nameOrPath string) (Spec, error) {
	isPath := strings.ContainsAny(nameOrPath, `/\`) ||
		strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml")
	if !isPath {
		if data, err := presets.Read(nameOrPath); err == nil {
			return ParseSpec("preset:"+nameOrPath, data)
		}
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if !isPath && os.IsNotExist(err) {
			return Spec{}, fmt.Errorf("no preset named %q and no such file (presets: %s)", nameOrPath, strings.Join(presets.Names(), ", "))
		}
		return Spec{}, fmt.Errorf("spec %s: %w", nameOrPath, err)
	}
	return ParseSpec(nameOrPath, data)
}

// PresetInfo describes a shipped preset.
type PresetInfo struct {
	Name, Description, Source string
}

// ListPresets lists every embedded preset, sorted by name. A preset that
// does not parse (a bug caught by the tests) is listed with the error as its
// description, so a UI can still show it.
func ListPresets() []PresetInfo {
	var out []PresetInfo
	for _, name := range presets.Names() {
		info := PresetInfo{Name: name, Source: "preset:" + name}
		if s, err := LoadSpec(name); err != nil {
			info.Description = "invalid preset: " + err.Error()
		} else {
			info.Description = s.Description
		}
		out = append(out, info)
	}
	return out
}

// resolved returns a copy of s with defaults made explicit: layer names,
// MNIST's class count, the sample count of synthetic sets, the prune scope,
// the low-rank layer and the fine-tuning rate. It is idempotent.
func (s Spec) resolved() Spec {
	if s.Dataset.Name == "mnist" && s.Dataset.Classes == 0 {
		s.Dataset.Classes = mnistClasses
	}
	if s.Dataset.Name != "mnist" && s.Dataset.Samples == 0 {
		s.Dataset.Samples = defaultSamples
	}
	s.Model.Layers = slices.Clone(s.Model.Layers)
	count := map[string]int{}
	for i, l := range s.Model.Layers {
		count[l.Type]++
		if l.Name == "" {
			switch l.Type {
			case "dense":
				s.Model.Layers[i].Name = fmt.Sprintf("fc%d", count[l.Type])
			case "relu", "dropout":
				s.Model.Layers[i].Name = fmt.Sprintf("%s%d", l.Type, count[l.Type])
			}
		}
	}
	s.Compress = slices.Clone(s.Compress)
	for i := range s.Compress {
		s.Compress[i] = s.resolveStep(s.Compress[i])
	}
	return s
}

// resolveStep fills one compression step's defaults (s has its layer names
// resolved); a pipeline's stages get theirs too.
func (s Spec) resolveStep(st StepSpec) StepSpec {
	st.Layers = slices.Clone(st.Layers)
	st.Targets = slices.Clone(st.Targets)
	st.Ratios = slices.Clone(st.Ratios)
	st.PerLayer = maps.Clone(st.PerLayer)
	st.resolveNew(s)
	if st.Technique == "prune" {
		st.resolvePrune(s.Train)
	}
	if st.Technique == "sensitivity" && len(st.Ratios) == 0 {
		st.Ratios = slices.Clone(defaultSensitivityRatios)
	}
	if dense := s.denseNames(); st.Technique == "lowrank" && st.Layer == "" && len(st.Layers) == 0 && len(st.Ranks) == 0 && len(dense) > 0 {
		st.Layer = dense[0]
	}
	// Lottery rounds retrain with the training schedule itself; sensitivity
	// analyses, Huffman coding and pipelines (whose stages train) do not
	// train.
	if st.FinetuneLR == 0 && st.takesFinetuneLR() {
		st.FinetuneLR = s.Train.LR * finetuneLRFactor
	}
	return st
}

// denseNames lists the dense layers' names in order (after resolving).
func (s Spec) denseNames() []string {
	var names []string
	for _, l := range s.Model.Layers {
		if l.Type == "dense" {
			names = append(names, l.Name)
		}
	}
	return names
}

// inputDim is the width of one example of the dataset.
func (d DatasetSpec) inputDim() int {
	switch d.Name {
	case "mnist":
		return mnistDim
	case "spirals":
		return 2
	default:
		return d.Dim
	}
}

// Validate checks every field against its allowed values and the pieces
// against each other (the last dense layer gives one score per class,
// compression steps name existing dense layers, a rank fits its layer). The
// error is a *SpecError naming the field; ParseSpec adds the file and line.
func (s Spec) Validate() error {
	if err := s.resolved().validate(); err != nil {
		err.Source = s.Source
		return err
	}
	return nil
}

func (s Spec) validate() *SpecError {
	if strings.TrimSpace(s.Name) == "" {
		return fieldError("name", "must be a non-empty name for the experiment", `""`)
	}
	if strings.ContainsAny(s.Description, "\n\r") {
		return fieldError("description", "must be one line", "several lines")
	}
	if err := s.Dataset.validate(); err != nil {
		return err
	}
	if err := s.validateModel(); err != nil {
		return err
	}
	if err := s.Train.validate(); err != nil {
		return err
	}
	for i, st := range s.Compress {
		if err := s.validateStep(fmt.Sprintf("compress[%d]", i), st, s.Compress[:i]); err != nil {
			return err
		}
	}
	return nil
}

func (d DatasetSpec) validate() *SpecError {
	if !slices.Contains(datasetNames, d.Name) {
		return fieldError("dataset.name", "must be one of "+strings.Join(datasetNames, ", "), quote(d.Name))
	}
	if d.Limit < 0 {
		return fieldError("dataset.limit", "must be ≥ 0 (0 = every training example)", d.Limit)
	}
	if d.TestLimit < 0 {
		return fieldError("dataset.test_limit", "must be ≥ 0 (0 = every test example)", d.TestLimit)
	}
	if d.Name == "mnist" {
		switch {
		case d.Limit > mnistTrainSize:
			return fieldError("dataset.limit", fmt.Sprintf("must be in [0, %d] for mnist", mnistTrainSize), d.Limit)
		case d.TestLimit > mnistTestSize:
			return fieldError("dataset.test_limit", fmt.Sprintf("must be in [0, %d] for mnist", mnistTestSize), d.TestLimit)
		case d.Classes != mnistClasses:
			return fieldError("dataset.classes", "must be 10 for mnist (or left out)", d.Classes)
		case d.Dim != 0:
			return fieldError("dataset.dim", "applies only to blobs (mnist images are 784 pixels)", d.Dim)
		case d.Noise != 0:
			return fieldError("dataset.noise", "applies only to spirals", d.Noise)
		case d.Samples != 0:
			return fieldError("dataset.samples", "applies only to blobs and spirals (mnist has 60000 + 10000 images)", d.Samples)
		}
		return nil
	}
	if d.Classes < 2 || d.Classes > maxClasses {
		return fieldError("dataset.classes", fmt.Sprintf("must be in [2, %d] for %s", maxClasses, d.Name), d.Classes)
	}
	if d.Samples < 10 || d.Samples > maxSamples {
		return fieldError("dataset.samples", fmt.Sprintf("must be in [10, %d] (0 = %d)", maxSamples, defaultSamples), d.Samples)
	}
	switch d.Name {
	case "blobs":
		if d.Dim < 1 || d.Dim > maxDim {
			return fieldError("dataset.dim", fmt.Sprintf("must be in [1, %d] for blobs", maxDim), d.Dim)
		}
		if d.Noise != 0 {
			return fieldError("dataset.noise", "applies only to spirals", d.Noise)
		}
	case "spirals":
		if d.Dim != 0 && d.Dim != 2 {
			return fieldError("dataset.dim", "applies only to blobs (spirals are 2-D)", d.Dim)
		}
		if !(d.Noise >= 0 && d.Noise <= 10) {
			return fieldError("dataset.noise", "must be in [0, 10]", d.Noise)
		}
	}
	return nil
}

func (s Spec) validateModel() *SpecError {
	layers := s.Model.Layers
	if len(layers) == 0 {
		return fieldError("model.layers", "must list at least one dense layer", "none")
	}
	seen := map[string]int{}
	lastDense := -1
	for i, l := range layers {
		path := fmt.Sprintf("model.layers[%d]", i)
		if !slices.Contains(layerTypes, l.Type) {
			return fieldError(path+".type", "must be one of "+strings.Join(layerTypes, ", "), quote(l.Type))
		}
		if !layerNameRE.MatchString(l.Name) {
			return fieldError(path+".name", "must start with a letter and use only letters, digits, _ . -", quote(l.Name))
		}
		if j, dup := seen[l.Name]; dup {
			return fieldError(path+".name", fmt.Sprintf("must be unique, but model.layers[%d] is also named", j), quote(l.Name))
		}
		seen[l.Name] = i
		switch l.Type {
		case "dense":
			lastDense = i
			if l.Units < 1 || l.Units > maxUnits {
				return fieldError(path+".units", fmt.Sprintf("must be in [1, %d]", maxUnits), l.Units)
			}
			if l.Rate != 0 {
				return fieldError(path+".rate", "applies only to dropout layers", l.Rate)
			}
			if l.Init != "" && l.Init != "he" && l.Init != "glorot" {
				return fieldError(path+".init", "must be he or glorot", quote(l.Init))
			}
		case "dropout":
			if !(l.Rate >= 0 && l.Rate < 1) {
				return fieldError(path+".rate", "must be in [0, 1)", l.Rate)
			}
			if l.Units != 0 {
				return fieldError(path+".units", "applies only to dense layers", l.Units)
			}
			if l.Init != "" {
				return fieldError(path+".init", "applies only to dense layers", quote(l.Init))
			}
		case "relu":
			if l.Init != "" {
				return fieldError(path+".init", "applies only to dense layers", quote(l.Init))
			}
			if l.Units != 0 {
				return fieldError(path+".units", "applies only to dense layers", l.Units)
			}
			if l.Rate != 0 {
				return fieldError(path+".rate", "applies only to dropout layers", l.Rate)
			}
		}
	}
	last := len(layers) - 1
	if lastDense != last {
		return fieldError(fmt.Sprintf("model.layers[%d].type", last), "the last layer must be dense: it gives one score per class", quote(layers[last].Type))
	}
	if layers[last].Units != s.Dataset.Classes {
		return fieldError(fmt.Sprintf("model.layers[%d].units", last),
			fmt.Sprintf("the last dense layer's units must equal the dataset's class count %d", s.Dataset.Classes), layers[last].Units)
	}
	return nil
}

func (t TrainSpec) validate() *SpecError {
	if !slices.Contains(optimizerNames, t.Optimizer) {
		return fieldError("train.optimizer", "must be one of "+strings.Join(optimizerNames, ", "), quote(t.Optimizer))
	}
	if !(t.LR > 0 && t.LR <= 1) {
		return fieldError("train.lr", "must be in (0, 1]", t.LR)
	}
	if t.Optimizer == "sgd" && !(t.Momentum >= 0 && t.Momentum < 1) {
		return fieldError("train.momentum", "must be in [0, 1)", t.Momentum)
	}
	if t.Optimizer != "sgd" && t.Momentum != 0 {
		return fieldError("train.momentum", "applies only to optimizer sgd (adam keeps its own moments)", t.Momentum)
	}
	if t.Epochs < 1 || t.Epochs > maxEpochs {
		return fieldError("train.epochs", fmt.Sprintf("must be in [1, %d]", maxEpochs), t.Epochs)
	}
	if t.Batch < 1 || t.Batch > maxBatch {
		return fieldError("train.batch", fmt.Sprintf("must be in [1, %d]", maxBatch), t.Batch)
	}
	if !(t.LRDecay >= 0 && t.LRDecay <= 1) {
		return fieldError("train.lr_decay", "must be in (0, 1] (0 or left out = constant rate)", t.LRDecay)
	}
	return nil
}

func (s Spec) validateStep(path string, st StepSpec, earlier []StepSpec) *SpecError {
	if !slices.Contains(techniqueNames, st.Technique) {
		return fieldError(path+".technique", "must be one of "+strings.Join(techniqueNames, ", "), quote(st.Technique))
	}
	dense := s.denseNames()
	// The techniques of quantspec.go check every key themselves.
	var newErr *SpecError
	switch names := (weightNames{dense: dense}); st.Technique {
	case "quantize":
		newErr = s.validateQuantize(path, st, earlier, names)
	case "lowrank":
		newErr = s.validateLowrank(path, st, names)
	case techniqueKMeans:
		newErr = s.validateKMeans(path, st, names)
	case techniqueBitSensitivity:
		newErr = s.validateBitSensitivity(path, st, names)
	case techniquePipeline:
		return s.validatePipeline(path, st, earlier)
	default: // prune and sensitivity take none of the newer keys
		if k, owners := misplacedKey(st, newStepKeys); k != "" {
			return misplaced(path, st, k, owners)
		}
	}
	if newErr != nil {
		return newErr
	}
	if st.Technique != "prune" && st.Technique != "sensitivity" {
		return checkFinetune(path, st)
	}
	notFor := func(field, applies string) *SpecError {
		return &SpecError{Field: path + "." + field, Msg: "applies only to technique " + applies + "; remove it from this " + st.Technique + " step"}
	}
	if st.Technique != "prune" {
		if field := st.pruneOnlyField(); field != "" {
			return notFor(field, "prune")
		}
	}
	if st.Technique != "sensitivity" && len(st.Ratios) != 0 {
		return notFor("ratios", "sensitivity")
	}
	switch st.Technique {
	case "prune":
		if err := s.validatePrune(path, st, earlier); err != nil {
			return err
		}
	case "sensitivity":
		if err := s.validateSensitivity(path, st); err != nil {
			return err
		}
	}
	if st.FinetuneEpochs < 0 || st.FinetuneEpochs > maxEpochs {
		return fieldError(path+".finetune_epochs", fmt.Sprintf("must be in [0, %d]", maxEpochs), st.FinetuneEpochs)
	}
	if !(st.FinetuneLR >= 0 && st.FinetuneLR <= 1) {
		return fieldError(path+".finetune_lr", "must be in (0, 1] (0 or left out = train.lr)", st.FinetuneLR)
	}
	return nil
}

// checkDenseNames checks that every name in names (the list at path) is one
// of the dense layers.
func checkDenseNames(path string, names, dense []string) *SpecError {
	for j, name := range names {
		if !slices.Contains(dense, name) {
			return fieldError(fmt.Sprintf("%s[%d]", path, j), "must name a dense layer ("+strings.Join(dense, ", ")+")", quote(name))
		}
	}
	return nil
}

// denseShape returns the input and output width of the dense layer at index
// i of the model, following the widths through the stack.
func (s Spec) denseShape(i int) (in, out int) {
	in = s.Dataset.inputDim()
	for j, l := range s.Model.Layers {
		if l.Type != "dense" {
			continue
		}
		if j == i {
			return in, l.Units
		}
		in = l.Units
	}
	return in, 0
}

// BuildModel validates s and builds its model with freshly initialized
// weights. The same Seed always gives the same weights and dropout masks.
func (s Spec) BuildModel() (*nn.Sequential, error) {
	r := s.resolved()
	if err := r.validate(); err != nil {
		err.Source = s.Source
		return nil, err
	}
	rng := rand.New(rand.NewPCG(r.Seed, streamInit))
	m := &nn.Sequential{}
	in := r.Dataset.inputDim()
	for i, l := range r.Model.Layers {
		switch l.Type {
		case "dense":
			init := nn.He
			if l.Init == "glorot" {
				init = nn.Glorot
			}
			m.Layers = append(m.Layers, nn.NewDenseInit(l.Name, in, l.Units, init, rng))
			in = l.Units
		case "relu":
			m.Layers = append(m.Layers, nn.NewReLU(l.Name))
		case "dropout":
			m.Layers = append(m.Layers, nn.NewDropout(l.Name, float32(l.Rate), r.Seed^(streamDropout+uint64(i))))
		}
	}
	return m, nil
}

// Independent random streams derived from Spec.Seed.
const (
	streamInit     = 0x1417
	streamShuffle  = 0x5a0f
	streamDropout  = 0xd20b << 16
	streamFineTune = 0xf17e
)

// describeModel gives the widths through the model, e.g. "784-300-100-10".
func (s Spec) describeModel() string {
	r := s.resolved()
	parts := []string{fmt.Sprint(r.Dataset.inputDim())}
	for _, l := range r.Model.Layers {
		if l.Type == "dense" {
			parts = append(parts, fmt.Sprint(l.Units))
		}
	}
	return strings.Join(parts, "-")
}

// SpecError is a problem with a spec: which file, which line, which field,
// and what is allowed. Field is a path like "train.lr" or
// "compress[1].ratio" (list indices start at 0); Line is 1-based, 0 when
// unknown (a Spec built in Go has no lines).
type SpecError struct {
	Source string
	Line   int
	Field  string
	Msg    string

	want    string // what is allowed, without "got ...": used when the field is missing
	unnamed bool   // Msg already names the field
}

func (e *SpecError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(filepath.ToSlash(e.Source) + ": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" && !e.unnamed {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// fieldError says field must be want but is got.
func fieldError(field, want string, got any) *SpecError {
	if f, ok := got.(float64); ok {
		got = formatFloat(f)
	}
	return &SpecError{Field: field, Msg: fmt.Sprintf("%s, got %v", want, got), want: want}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return fmt.Sprintf("%g", f)
}
