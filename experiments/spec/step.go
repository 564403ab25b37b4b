package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Step is one entry of compress, or one stage of a pipeline: a technique
// and its keys. Each technique is a type of its own (Prune, Quantize,
// KMeans, Lowrank, Sensitivity, BitSensitivity, Pipeline, and the stages
// Finetune and Huffman), and each holds, in one file, its keys (the
// struct's fields), its defaults, its checks and its row label.
type Step interface {
	// Technique is the value of the step's technique key.
	Technique() string
	// Label is the technique column of the step's rows: the technique, or
	// what the schedule makes of it (prune-gradual, lottery, ...).
	Label() string
	// Setting is the setting column, e.g. "ratio=0.90 scope=global
	// finetune=2" or "rank=20@fc1". A step that makes several rows
	// (targets, rounds) says what it does as a whole; each row's setting
	// names its target or round.
	Setting() string

	// resolved returns the step with its defaults filled in.
	resolved(r *resolver) Step
	// check validates the resolved step.
	check(c *checker) *Error
}

// Phase names a step in events and errors: "prune ratio=0.90".
func Phase(st Step) string { return st.Label() + " " + st.Setting() }

// technique is the schema's entry for one technique.
type technique struct {
	name   string
	typ    reflect.Type // the step's struct
	decode func(unmarshal func(any) error) (Step, error)
	alone  bool   // may be a compress entry
	stage  bool   // may be a pipeline stage
	note   string // why a key of another technique makes no sense here
}

// techniques lists every technique, in the order error messages name them.
var techniques = []technique{
	entry[Prune]("prune", true, true),
	entry[Quantize]("quantize", true, true),
	entry[Lowrank]("lowrank", true, true),
	entry[Sensitivity]("sensitivity", true, false).because("it prunes each layer alone at each of ratios, without fine-tuning"),
	entry[KMeans]("kmeans", true, true),
	entry[BitSensitivity]("bit-sensitivity", true, false).because("it quantizes each layer alone at each of bit_widths, without fine-tuning"),
	entry[Pipeline]("pipeline", true, false),
	entry[Finetune]("finetune", false, true),
	entry[Huffman]("huffman", false, true),
}

// stageOrder is the order a pipeline's error message lists its stages in.
var stageOrder = []string{"prune", "quantize", "kmeans", "lowrank", "finetune", "huffman"}

func entry[T Step](name string, alone, stage bool) technique {
	return technique{
		name: name, typ: reflect.TypeFor[withTechnique[T]](), alone: alone, stage: stage,
		decode: func(unmarshal func(any) error) (Step, error) {
			var v withTechnique[T]
			err := unmarshal(&v)
			return v.Step, err
		},
	}
}

func (t technique) because(note string) technique {
	t.note = note
	return t
}

// withTechnique is what a step's mapping decodes into: the technique key
// beside the technique's own keys.
type withTechnique[T any] struct {
	Technique string `yaml:"technique"`
	Step      T      `yaml:",inline"`
}

// lookupTechnique returns the schema entry named name.
func lookupTechnique(name string) (technique, bool) {
	i := slices.IndexFunc(techniques, func(t technique) bool { return t.name == name })
	if i < 0 {
		return technique{}, false
	}
	return techniques[i], true
}

// allowedTechniques names the techniques a compress entry (stage false) or
// a pipeline stage may use, in message order.
func allowedTechniques(stage bool) []string {
	if stage {
		return stageOrder
	}
	var names []string
	for _, t := range techniques {
		if t.alone {
			names = append(names, t.name)
		}
	}
	return names
}

// owners names the techniques that take key, sorted.
func owners(key string) []string {
	var out []string
	for _, t := range techniques {
		if key != "technique" && slices.Contains(yamlKeys(t.typ), key) {
			out = append(out, t.name)
		}
	}
	slices.Sort(out)
	return out
}

// Steps is a list of compression steps (or of a pipeline's stages), each
// decoded into its technique's type.
type Steps []Step

// UnmarshalYAML decodes each entry by its technique key (an entry with a
// pipeline and no technique is a pipeline). The syntax-tree walk of Parse
// has already checked every key and the technique's name.
func (s *Steps) UnmarshalYAML(unmarshal func(any) error) error {
	var entries []stepEntry
	if err := unmarshal(&entries); err != nil {
		return err
	}
	*s = make(Steps, len(entries))
	for i, e := range entries {
		(*s)[i] = e.step
	}
	return nil
}

type stepEntry struct{ step Step }

func (e *stepEntry) UnmarshalYAML(unmarshal func(any) error) error {
	var head map[string]any
	if err := unmarshal(&head); err != nil {
		return err
	}
	name, _ := head["technique"].(string)
	if _, ok := head["technique"]; !ok && head["pipeline"] != nil {
		name = "pipeline"
	}
	t, ok := lookupTechnique(name)
	if !ok {
		return fmt.Errorf("technique %q: %s", name, oneOf(allowedTechniques(false)))
	}
	step, err := t.decode(unmarshal)
	e.step = step
	return err
}

// resolved fills every step's defaults.
func (s Steps) resolved(r *resolver) Steps {
	if s == nil {
		return nil
	}
	out := make(Steps, len(s))
	for i, st := range s {
		out[i] = st.resolved(r)
	}
	return out
}

// check validates compress (at path "compress") step by step.
func (s Steps) check(spec *Spec, path string, present func(string) bool) *Error {
	for i, st := range s {
		c := &checker{spec: spec, path: fmt.Sprintf("%s[%d]", path, i), present: present,
			earlier: s[:i], names: weightNames{layers: spec.WeightNames()}}
		if t, ok := lookupTechnique(st.Technique()); !ok || !t.alone {
			return c.wrong("technique", fmt.Sprintf("%s, got %q", oneOf(allowedTechniques(false)), st.Technique()))
		}
		if err := st.check(c); err != nil {
			return err
		}
	}
	return nil
}

// resolver is what defaults are filled from: the spec, its layer names
// resolved.
type resolver struct{ spec *Spec }

// finetuneLR is the default fine-tuning rate: train.lr.
func (r *resolver) finetuneLR() float64 { return r.spec.Train.LR }

// checker is what a step is checked against: the resolved spec, where the
// step is, the steps before it, and the layers it may name.
type checker struct {
	spec    *Spec
	path    string                 // "compress[2]", "compress[0].pipeline[1]"
	present func(path string) bool // nil: every field counts as given
	earlier []Step                 // the compress entries before this one
	names   weightNames
	stage   bool // a pipeline stage
}

// field is the path of one of the step's keys.
func (c *checker) field(key string) string { return c.path + "." + key }

// bad says key must be want, got got.
func (c *checker) bad(key, want string, got any) *Error { return fieldError(c.field(key), want, got) }

// wrong says what is wrong with key.
func (c *checker) wrong(key, msg string) *Error { return problem(c.field(key), msg) }

// has reports whether the file gives key.
func (c *checker) has(key string) bool { return c.present == nil || c.present(c.field(key)) }

// ranEarlier reports whether a compress entry of technique name comes
// before this one.
func (c *checker) ranEarlier(name string) bool {
	return slices.ContainsFunc(c.earlier, func(s Step) bool { return s.Technique() == name })
}

// weightNames is what a step may name as a layer: the model's weight
// layers (dense layers and convolutions) and, in a pipeline after a
// lowrank stage, the factorized layers (a name that means both factors)
// and their factors ("fc1.A", "fc1.B").
type weightNames struct {
	layers   []string // weight layers not factorized, in model order
	factored []string // factorized layers
}

// list is every name a step may use, for error messages.
func (w weightNames) list() []string {
	names := slices.Clone(w.layers)
	for _, f := range w.factored {
		names = append(names, f, f+".A", f+".B")
	}
	return names
}

func (w weightNames) has(name string) bool { return slices.Contains(w.list(), name) }

// factorize marks layer as factorized.
func (w weightNames) factorize(layer string) weightNames {
	w.layers = slices.DeleteFunc(slices.Clone(w.layers), func(n string) bool { return n == layer })
	w.factored = append(slices.Clone(w.factored), layer)
	return w
}

// checkList checks that every name of the list at key is a weight layer,
// named once.
func (c *checker) checkList(key string, names []string) *Error {
	seen := map[string]bool{}
	for j, name := range names {
		p := fmt.Sprintf("%s[%d]", c.field(key), j)
		if !c.names.has(name) {
			return fieldError(p, "must name a weight layer ("+strings.Join(c.names.list(), ", ")+")", quote(name))
		}
		if seen[name] {
			return fieldError(p, "must not repeat a layer", quote(name))
		}
		seen[name] = true
	}
	return nil
}

// checkDense checks that every name of the list at key is one of allowed
// (what says which), named once.
func (c *checker) checkDense(key string, names, allowed []string, what string) *Error {
	for j, name := range names {
		p := fmt.Sprintf("%s[%d]", c.field(key), j)
		if !slices.Contains(allowed, name) {
			return fieldError(p, what, quote(name))
		}
		if slices.Contains(names[:j], name) {
			return fieldError(p, "must not repeat a layer", quote(name))
		}
	}
	return nil
}

// checkKeys checks the layer names of a per-layer map at key.
func (c *checker) checkKeys(key string, keys []string) *Error {
	for _, name := range keys {
		if !c.names.has(name) {
			return problem(c.field(key)+"."+name, fmt.Sprintf("layer %q: keys must name a weight layer (%s)", name, strings.Join(c.names.list(), ", ")))
		}
	}
	return nil
}

// Tune holds the fine-tuning keys of the techniques that train after
// compressing: prune, quantize, kmeans and lowrank. Fine-tuning uses the
// training optimizer, fresh, with a rate that starts at FinetuneLR
// (default train.lr) and falls linearly to 0 over the fine-tuning steps.
type Tune struct {
	FinetuneEpochs int     `yaml:"finetune_epochs"` // epochs of fine-tuning after compressing (iterative, lottery: per round); 0 = none
	FinetuneLR     float64 `yaml:"finetune_lr"`     // starting rate; 0 = train.lr
}

// resolved gives the rate its default.
func (t Tune) resolved(r *resolver) Tune {
	if t.FinetuneLR == 0 {
		t.FinetuneLR = r.finetuneLR()
	}
	return t
}

// check checks the epochs and the rate.
func (t Tune) check(c *checker) *Error {
	if t.FinetuneEpochs < 0 || t.FinetuneEpochs > MaxEpochs {
		return c.bad("finetune_epochs", fmt.Sprintf("must be in [0, %d]", MaxEpochs), t.FinetuneEpochs)
	}
	if !(t.FinetuneLR >= 0 && t.FinetuneLR <= 1) {
		return c.bad("finetune_lr", "must be in (0, 1] (0 or left out = train.lr)", t.FinetuneLR)
	}
	return nil
}

// finetuneSuffix is " finetune=N" for a step that fine-tunes.
func (t Tune) finetuneSuffix(parts []string) []string {
	if t.FinetuneEpochs > 0 {
		parts = append(parts, fmt.Sprintf("finetune=%d", t.FinetuneEpochs))
	}
	return parts
}

// layersPart is "layers=a,b" when a step names its layers.
func layersPart(parts []string, layers []string) []string {
	if len(layers) > 0 {
		parts = append(parts, "layers="+strings.Join(layers, ","))
	}
	return parts
}
