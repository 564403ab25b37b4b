package spec

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prunerlab/pruner-tui/internal/printable"
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
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Seed        uint64  `yaml:"seed"` // every random choice (data, init, shuffling, dropout) derives from it
	Dataset     Dataset `yaml:"dataset"`
	Model       Model   `yaml:"model"`
	Train       Train   `yaml:"train"`
	Compress    Steps   `yaml:"compress"`
	// Sweep is the spec's sweep block, its points expanded and checked
	// (see sweep.go); nil for a single experiment. Parse reads the block
	// itself: the decoder never sees it.
	Sweep  *Sweep `yaml:"sweep"`
	Source string `yaml:"-"` // the file path, or "preset:NAME"
}

// Dataset names the data: MNIST, or a synthetic set made from the seed.
type Dataset struct {
	Name      string  `yaml:"name"`       // mnist, fashion-mnist, blobs or spirals
	Limit     int     `yaml:"limit"`      // use only the first Limit training examples; 0 = all
	TestLimit int     `yaml:"test_limit"` // use only the first TestLimit test examples; 0 = all
	Classes   int     `yaml:"classes"`    // blobs, spirals: number of classes (the image sets: 10)
	Dim       int     `yaml:"dim"`        // blobs: input dimension (spirals are 2-D, the image sets 28×28)
	Noise     float64 `yaml:"noise"`      // spirals: standard deviation of the noise added to each point
	Samples   int     `yaml:"samples"`    // blobs, spirals: training examples generated (the test set gets samples/4); 0 = 2000
}

// Train says how the baseline is trained.
//
// Learning-rate schedule: epoch e (1-based) runs at LR·LRDecay^(e−1), a
// per-epoch exponential decay; LRDecay 0 or 1 keeps the rate constant.
type Train struct {
	Optimizer string  `yaml:"optimizer"` // adam or sgd
	LR        float64 `yaml:"lr"`
	Momentum  float64 `yaml:"momentum"` // sgd only; 0 = plain SGD
	Epochs    int     `yaml:"epochs"`
	Batch     int     `yaml:"batch"`
	LRDecay   float64 `yaml:"lr_decay"` // multiply the rate by this after every epoch; 0 = 1 = constant
	Augment   Augment `yaml:"augment"`  // image datasets: random changes of the training images
	// WeightDecay shrinks the weight matrices (not the biases) toward zero:
	// decoupled from the moments for adam (AdamW: w −= lr·λ·w each step),
	// as an L2 term of the loss for sgd (g += λ·w); 0 = none.
	WeightDecay float64 `yaml:"weight_decay"`
}

// Augment changes each training image at random as a batch draws it,
// during the baseline's training and every fine-tuning (never the test
// set): flipped left–right with probability ½, shifted by up to Shift
// pixels each way, the uncovered pixels the background.
type Augment struct {
	Flip  bool `yaml:"flip"`
	Shift int  `yaml:"shift"` // 0 to MaxShift
}

// On reports whether any change is asked for.
func (a Augment) On() bool { return a.Flip || a.Shift > 0 }

// MaxShift is the largest shift an augmentation may ask for: a seventh of
// a 28-pixel image.
const MaxShift = 4

// Allowed values, shared by validation and the error messages.
var (
	datasetNames   = []string{"mnist", "fashion-mnist", "blobs", "spirals"}
	optimizerNames = []string{"adam", "sgd"}
)

// Limits of the schema.
const (
	MNISTClasses   = 10
	MNISTDim       = 28 * 28
	mnistTrainSize = 60000
	mnistTestSize  = 10000
	defaultSamples = 2000
	MaxEpochs      = 1000
	maxBatch       = 65536
	maxUnits       = 100000
	maxClasses     = 1000
	maxDim         = 100000
	maxSamples     = 10_000_000
	// MaxPruneRatio is the largest fraction of weights a prune step may
	// remove.
	MaxPruneRatio = 0.99
	// MaxBits is the widest quantized width; 32 means float32.
	MaxBits = 8
	// MaxNameLength bounds the names of the experiment, its layers and
	// its pipelines, in characters: they reach file names (--save writes
	// EXPERIMENT-NN-TECHNIQUE.safetensors, which must fit the 255 bytes a
	// file system allows) and table columns.
	MaxNameLength        = 64
	maxDescriptionLength = 500
)

// Load loads a spec by preset name (as listed by Presets) or from a path
// to a .yaml file. A name containing a path separator or ending in
// .yaml/.yml is always treated as a path.
//
// A path ending in .safetensors is a model file given by itself: its spec
// is FromModelFile's.
func Load(nameOrPath string) (Spec, error) {
	if strings.EqualFold(filepath.Ext(nameOrPath), SafetensorsExt) {
		return FromModelFile(nameOrPath)
	}
	isPath := strings.ContainsAny(nameOrPath, `/\`) ||
		strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml")
	if !isPath {
		if data, err := presets.Read(nameOrPath); err == nil {
			return Parse("preset:"+nameOrPath, data)
		}
	}
	data, err := readSpecFile(nameOrPath)
	if err != nil {
		if !isPath && os.IsNotExist(err) {
			return Spec{}, fmt.Errorf("no preset named %q and no such file (presets: %s)", nameOrPath, strings.Join(presets.Names(), ", "))
		}
		return Spec{}, fmt.Errorf("spec %s: %w", nameOrPath, err)
	}
	return Parse(nameOrPath, data)
}

// readSpecFile reads at most one byte more than MaxSpecBytes, so Parse
// can refuse a file too large without its all being read (/dev/zero never
// ends).
func readSpecFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSpecBytes+1))
}

// PresetInfo describes a shipped preset.
type PresetInfo struct {
	Name, Description, Source string
}

// Presets lists every embedded preset, sorted by name. A preset that does
// not parse (a bug caught by the tests) is listed with the error as its
// description, so a UI can still show it.
func Presets() []PresetInfo {
	var out []PresetInfo
	for _, name := range presets.Names() {
		info := PresetInfo{Name: name, Source: "preset:" + name}
		if s, err := Load(name); err != nil {
			info.Description = "invalid preset: " + err.Error()
		} else {
			info.Description = s.Description
		}
		out = append(out, info)
	}
	return out
}

// Resolved returns s with its defaults made explicit, as Parse returns
// it; a Spec built in Go runs resolved.
func (s Spec) Resolved() Spec { return s.resolved() }

// resolved returns a copy of s with defaults made explicit: layer names,
// MNIST's class count, the sample count of synthetic sets, and every
// step's own defaults (see each technique). It is idempotent.
func (s Spec) resolved() Spec {
	if s.Dataset.Images() && s.Dataset.Classes == 0 {
		s.Dataset.Classes = MNISTClasses
	}
	if !s.Dataset.Images() && s.Dataset.Samples == 0 {
		s.Dataset.Samples = defaultSamples
	}
	s.Model.Layers = slices.Clone(s.Model.Layers)
	s.Model.resolve()
	s.Compress = s.Compress.resolved(&resolver{spec: &s})
	return s
}

// Validate checks every field against its allowed values and the pieces
// against each other (the last dense layer gives one score per class,
// compression steps name existing layers, a rank fits its layer). The
// error is an *Error naming the field; Parse adds the file and line.
func (s Spec) Validate() error {
	if err := s.resolved().validate(nil); err != nil {
		err.Source = s.Source
		return err
	}
	return nil
}

// validate checks a resolved spec; present reports whether a field path is
// in the file (nil: a Spec built in Go, where every field counts as given).
func (s Spec) validate(present func(path string) bool) *Error {
	if strings.TrimSpace(s.Name) == "" {
		return fieldError("name", "must be a non-empty name for the experiment", `""`)
	}
	if err := checkText("name", s.Name, MaxNameLength); err != nil {
		return err
	}
	if err := checkText("description", s.Description, maxDescriptionLength); err != nil {
		return err
	}
	if err := s.Dataset.validate(); err != nil {
		return err
	}
	if err := s.validateModel(present); err != nil {
		return err
	}
	if err := s.Train.validate(); err != nil {
		return err
	}
	if s.Train.Augment.On() && !s.Dataset.Images() {
		return problem("train.augment", "applies only to the image datasets (mnist, fashion-mnist); "+s.Dataset.Name+" has no images to flip or shift")
	}
	if len(s.Compress) > MaxListLength {
		return fieldError("compress", fmt.Sprintf("must have at most %d steps", MaxListLength), len(s.Compress))
	}
	return s.Compress.check(&s, "compress", present)
}

// checkText checks a name or a description that reaches the terminal
// and file names: one line of printable characters (no escape codes, no
// tabs, no invisible ones), at most max of them.
func checkText(field, s string, max int) *Error {
	if n := utf8.RuneCountInString(s); n > max {
		return fieldError(field, fmt.Sprintf("must be at most %d characters", max), n)
	}
	if !printable.Is(s) {
		what := "characters that are not printable"
		if strings.ContainsAny(s, "\n\r") {
			what = "several lines"
		}
		return fieldError(field, "must be one line of printable characters (no control characters or escape codes)", fmt.Sprintf("%s in %q", what, s))
	}
	return nil
}

func (d Dataset) validate() *Error {
	if !slices.Contains(datasetNames, d.Name) {
		return fieldError("dataset.name", oneOf(datasetNames), quote(d.Name))
	}
	if d.Limit < 0 {
		return fieldError("dataset.limit", "must be ≥ 0 (0 = every training example)", d.Limit)
	}
	if d.TestLimit < 0 {
		return fieldError("dataset.test_limit", "must be ≥ 0 (0 = every test example)", d.TestLimit)
	}
	if d.Images() {
		return d.validateImages()
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

// validateImages checks the keys of MNIST and Fashion-MNIST, which have
// 60,000 training and 10,000 test images of 28×28 pixels in 10 classes.
func (d Dataset) validateImages() *Error {
	switch {
	case d.Limit > mnistTrainSize:
		return fieldError("dataset.limit", fmt.Sprintf("must be in [0, %d] for %s", mnistTrainSize, d.Name), d.Limit)
	case d.TestLimit > mnistTestSize:
		return fieldError("dataset.test_limit", fmt.Sprintf("must be in [0, %d] for %s", mnistTestSize, d.Name), d.TestLimit)
	case d.Classes != MNISTClasses:
		return fieldError("dataset.classes", "must be 10 for "+d.Name+" (or left out)", d.Classes)
	case d.Dim != 0:
		return fieldError("dataset.dim", "applies only to blobs ("+d.Name+" images are 28×28 pixels)", d.Dim)
	case d.Noise != 0:
		return fieldError("dataset.noise", "applies only to spirals", d.Noise)
	case d.Samples != 0:
		return fieldError("dataset.samples", "applies only to blobs and spirals ("+d.Name+" has 60000 + 10000 images)", d.Samples)
	}
	return nil
}

// Images reports whether the dataset is of 28×28 grey images (MNIST,
// Fashion-MNIST), which convolutions can take.
func (d Dataset) Images() bool { return d.Name == "mnist" || d.Name == "fashion-mnist" }

func (t Train) validate() *Error {
	if !slices.Contains(optimizerNames, t.Optimizer) {
		return fieldError("train.optimizer", oneOf(optimizerNames), quote(t.Optimizer))
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
	if t.Epochs < 1 || t.Epochs > MaxEpochs {
		return fieldError("train.epochs", inRange(1, MaxEpochs), t.Epochs)
	}
	if t.Batch < 1 || t.Batch > maxBatch {
		return fieldError("train.batch", inRange(1, maxBatch), t.Batch)
	}
	if !(t.LRDecay >= 0 && t.LRDecay <= 1) {
		return fieldError("train.lr_decay", "must be in (0, 1] (0 or left out = constant rate)", t.LRDecay)
	}
	if !(t.WeightDecay >= 0 && t.WeightDecay < 1) {
		return fieldError("train.weight_decay", "must be in [0, 1) (adam: AdamW's λ, often 0.01 to 0.1; sgd: the L2 factor, often 1e-4 to 5e-4)", t.WeightDecay)
	}
	if t.Augment.Shift < 0 || t.Augment.Shift > MaxShift {
		return fieldError("train.augment.shift", inRange(0, MaxShift)+" pixels", t.Augment.Shift)
	}
	return nil
}

// LRAt is the rate of epoch (1-based): LR·LRDecay^(epoch−1).
func (t Train) LRAt(epoch int) float64 {
	if t.LRDecay == 0 || t.LRDecay == 1 {
		return t.LR
	}
	return t.LR * math.Pow(t.LRDecay, float64(epoch-1))
}

// InputDim is the width of one example of the dataset.
func (d Dataset) InputDim() int {
	switch {
	case d.Images():
		return MNISTDim
	case d.Name == "spirals":
		return 2
	default:
		return d.Dim
	}
}

// Describe says what the data is, for a progress line.
func (d Dataset) Describe() string {
	switch d.Name {
	case "mnist", "fashion-mnist":
		s := d.Name
		if d.Limit > 0 {
			s += fmt.Sprintf(" (first %d training images)", d.Limit)
		}
		return s
	case "blobs":
		return fmt.Sprintf("blobs: %d samples, %d classes, %d-D", d.Samples, d.Classes, d.Dim)
	default:
		return fmt.Sprintf("spirals: %d samples, %d classes, noise %g", d.Samples, d.Classes, d.Noise)
	}
}
