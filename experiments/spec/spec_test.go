package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/lexer"

	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/presets"
)

// validSpec is a small, valid spec; the error cases below break one line.
const validSpec = `name: tiny
description: a tiny test spec
seed: 7
dataset:
  name: blobs
  classes: 3
  dim: 4
  samples: 120
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dropout, rate: 0.1}
    - {type: dense, units: 3, name: out}
train:
  optimizer: adam
  lr: 0.01
  epochs: 2
  batch: 16
compress:
  - {technique: prune, ratio: 0.5, finetune_epochs: 1}
  - {technique: quantize, bits: 4}
  - {technique: lowrank, layer: fc1, rank: 2}
`

func TestParseValid(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "tiny" || s.Seed != 7 || s.Source != "tiny.yaml" {
		t.Errorf("name/seed/source = %q/%d/%q", s.Name, s.Seed, s.Source)
	}
	wantNames := []string{"fc1", "relu1", "dropout1", "out"}
	for i, l := range s.Model.Layers {
		if l.Name != wantNames[i] {
			t.Errorf("layer %d name = %q, want %q", i, l.Name, wantNames[i])
		}
	}
	if s.Model.Layers[2].Rate != 0.1 {
		t.Errorf("dropout rate = %v, want 0.1", s.Model.Layers[2].Rate)
	}
	p := s.Compress[0].(Prune)
	if got := p.Scope; got != "layer" {
		t.Errorf("default prune scope = %q, want layer", got)
	}
	if got := p.FinetuneLR; got != 0.01 {
		t.Errorf("default finetune_lr = %v, want train.lr = 0.01", got)
	}
	if got := s.Compress[2].Setting(); got != "rank=2@fc1" {
		t.Errorf("lowrank setting = %q", got)
	}
	if got := s.Compress[0].Setting(); got != "ratio=0.50 finetune=1" {
		t.Errorf("prune setting = %q", got)
	}
}

func TestParseMNISTDefaults(t *testing.T) {
	s, err := Parse("m.yaml", []byte(`name: m
dataset: {name: mnist, limit: 100}
model: {layers: [{type: dense, units: 10}]}
train: {optimizer: sgd, lr: 0.1, momentum: 0.9, epochs: 1, batch: 10, lr_decay: 0.5}
compress: [{technique: lowrank, rank: 3}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Dataset.Classes != 10 {
		t.Errorf("mnist classes = %d, want 10", s.Dataset.Classes)
	}
	if l := s.Compress[0].(Lowrank); l.Layer != "fc1" {
		t.Errorf("lowrank layer default = %q, want fc1", l.Layer)
	}
	// lr_decay 0.5: epoch 3 runs at 0.1·0.5² = 0.025.
	if got := s.Train.LRAt(3); got != 0.025 {
		t.Errorf("epoch 3 lr = %v, want 0.025", got)
	}
	if got := (Train{LR: 0.1}).LRAt(5); got != 0.1 {
		t.Errorf("no decay: epoch 5 lr = %v, want 0.1", got)
	}
}

// replaceLine returns validSpec with the line starting with old (after
// indentation) replaced by repl, keeping the indentation.
func replaceLine(old, repl string) string {
	lines := strings.Split(validSpec, "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		if strings.HasPrefix(trimmed, old) {
			indent := l[:len(l)-len(trimmed)]
			lines[i] = indent + repl
			if repl == "" {
				lines = append(lines[:i], lines[i+1:]...)
			}
			return strings.Join(lines, "\n")
		}
	}
	panic(fmt.Sprintf("validSpec has no line starting with %q", old))
}

// parseErrorCases each break one line of validSpec.
var parseErrorCases = []struct {
	name string
	yaml string
	want []string // substrings of the error, in order
}{
	{"negative lr", replaceLine("lr: 0.01", "lr: -0.5"),
		[]string{"bad.yaml: line 17: train.lr: must be in (0, 1], got -0.5"}},
	{"unknown key", replaceLine("epochs: 2", "epoch: 2"),
		[]string{"bad.yaml: line 18: ", `unknown field "epoch" in train (allowed: optimizer, lr, momentum, epochs, batch, lr_decay, augment, weight_decay)`}},
	{"unknown top-level key", replaceLine("seed: 7", "sead: 7"),
		[]string{"line 3: ", `unknown field "sead" in the spec (allowed: name, description, seed, dataset, model, train, compress, sweep)`}},
	{"wrong type int", replaceLine("epochs: 2", "epochs: two"),
		[]string{"line 18: train.epochs: must be a whole number, got \"two\""}},
	{"float for int", replaceLine("epochs: 2", "epochs: 2.5"),
		[]string{"line 18: train.epochs: must be a whole number, got 2.5"}},
	{"string for float", replaceLine("lr: 0.01", "lr: fast"),
		[]string{"line 17: train.lr: must be a number, got \"fast\""}},
	{"list for mapping", "name: a\ntrain: [1, 2]\n",
		[]string{"line 2: train: must be a mapping of keys (optimizer, lr, momentum, epochs, batch, lr_decay, augment, weight_decay), got a list"}},
	{"negative seed", replaceLine("seed: 7", "seed: -1"),
		[]string{"line 3: seed: must be a whole number ≥ 0, got -1"}},
	{"missing required lr", replaceLine("lr: 0.01", ""),
		[]string{"line 15: train.lr: required field is missing; must be in (0, 1]"}},
	{"missing required name", replaceLine("name: tiny", ""),
		[]string{"line 1: name: required field is missing; must be a non-empty name"}},
	{"missing dense units", replaceLine("- {type: dense, units: 8}", "- {type: dense}"),
		[]string{"line 11: model.layers[0].units: required field is missing; must be in [1, 100000]"}},
	{"missing dropout rate", replaceLine("- {type: dropout", "- {type: dropout}"),
		[]string{"line 13: model.layers[2].rate: required field is missing; must be in [0, 1)"}},
	{"unknown init", replaceLine("- {type: dense, units: 8}", "- {type: dense, units: 8, init: lecun}"),
		[]string{"line 11: model.layers[0].init: must be he or glorot", `"lecun"`}},
	{"init on relu", replaceLine("- {type: relu}", "- {type: relu, init: he}"),
		[]string{"line 12: model.layers[1].init: applies only to dense and conv layers"}},
	{"missing prune ratio", replaceLine("- {technique: prune", "- {technique: prune}"),
		[]string{"line 21: compress[0].ratio: required field is missing; must be in [0, 0.99]"}},
	{"class count", replaceLine("- {type: dense, units: 3, name: out}", "- {type: dense, units: 4, name: out}"),
		[]string{"line 14: model.layers[3].units: the last dense layer's units must equal the dataset's class count 3, got 4"}},
	{"last layer not dense", replaceLine("- {type: dense, units: 3, name: out}", "- {type: relu, name: out}"),
		[]string{"line 14: model.layers[3].type: the last layer must be dense"}},
	{"bad dataset", replaceLine("name: blobs", "name: cifar"),
		[]string{"line 5: dataset.name: must be one of mnist, fashion-mnist, blobs, spirals, got \"cifar\""}},
	{"bad optimizer", replaceLine("optimizer: adam", "optimizer: rmsprop"),
		[]string{"line 16: train.optimizer: must be one of adam, sgd, got \"rmsprop\""}},
	{"momentum with adam", replaceLine("optimizer: adam", "optimizer: adam\n  momentum: 0.9"),
		[]string{"line 17: train.momentum: applies only to optimizer sgd"}},
	{"augment without images", replaceLine("optimizer: adam", "optimizer: adam\n  augment: {flip: true}"),
		[]string{"train.augment: applies only to the image datasets (mnist, fashion-mnist); blobs has no images"}},
	{"augment shift range", replaceLine("optimizer: adam", "optimizer: adam\n  augment: {shift: 5}"),
		[]string{"line 17: train.augment.shift: must be in [0, 4] pixels, got 5"}},
	{"epochs range", replaceLine("epochs: 2", "epochs: 0"),
		[]string{"line 18: train.epochs: must be in [1, 1000], got 0"}},
	{"lr_decay range", replaceLine("epochs: 2", "epochs: 2\n  lr_decay: 1.5"),
		[]string{"line 19: train.lr_decay: must be in (0, 1]", "got 1.5"}},
	{"weight_decay range", replaceLine("epochs: 2", "epochs: 2\n  weight_decay: -0.1"),
		[]string{"line 19: train.weight_decay: must be in [0, 1) (adam: AdamW's λ", "got -0.1"}},
	{"prune ratio range", replaceLine("- {technique: prune", "- {technique: prune, ratio: 1.2}"),
		[]string{"line 21: compress[0].ratio: must be in [0, 0.99], got 1.2"}},
	{"bits range", replaceLine("- {technique: quantize", "- {technique: quantize, bits: 16}"),
		[]string{"line 22: compress[1].bits: must be in [1, 8], or 32 for float32, got 16"}},
	{"rank too big", replaceLine("- {technique: lowrank", "- {technique: lowrank, layer: fc1, rank: 5}"),
		[]string{"line 23: compress[2].rank: must be in [1, 2] for fc1 (4→8): a rank r saves parameters only while r·(in+out) < in·out, got 5"}},
	{"lowrank unknown layer", replaceLine("- {technique: lowrank", "- {technique: lowrank, layer: fc9, rank: 2}"),
		[]string{"line 23: compress[2].layer: must name a dense layer (fc1, out), got \"fc9\""}},
	{"prune unknown layer", replaceLine("- {technique: prune", "- {technique: prune, ratio: 0.5, layers: [fc1, relu1]}"),
		[]string{"line 21: compress[0].layers[1]: must name a weight layer (fc1, out), got \"relu1\""}},
	{"bits on prune", replaceLine("- {technique: prune", "- {technique: prune, ratio: 0.5, bits: 4}"),
		[]string{"line 21: compress[0].bits: applies only to technique quantize"}},
	{"unknown technique", replaceLine("- {technique: prune", "- {technique: distill}"),
		[]string{"line 21: compress[0].technique: must be one of prune, quantize, lowrank, sensitivity, kmeans, bit-sensitivity, pipeline, got \"distill\""}},
	{"unknown key in step", replaceLine("- {technique: quantize", "- {technique: quantize, bit: 4}"),
		[]string{"line 22: ", `unknown field "bit" in compress[1] (allowed: technique, bits, layers, mode, granularity, calibration, percentile, bits_per_layer, bits_from, max_loss_pp, activation_bits, calibration_samples, qat, finetune_epochs, finetune_lr); did you mean "bits"?`}},
	{"misspelt section key", replaceLine("epochs: 2", "epocs: 2"),
		[]string{"line 18: ", `unknown field "epocs" in train (allowed: optimizer, lr, momentum, epochs, batch, lr_decay, augment, weight_decay); did you mean "epochs"?`}},
	{"no technique", replaceLine("- {technique: prune", "- {ratio: 0.5}"),
		[]string{"line 21: compress[0].technique: required field is missing; must be one of prune, quantize, lowrank, sensitivity, kmeans, bit-sensitivity, pipeline"}},
	{"duplicate layer name", replaceLine("- {type: relu}", "- {type: relu, name: fc1}"),
		[]string{"line 12: model.layers[1].name: must be unique"}},
	{"dim on mnist", "name: m\ndataset: {name: mnist, dim: 3}\nmodel: {layers: [{type: dense, units: 10}]}\ntrain: {optimizer: adam, lr: 0.1, epochs: 1, batch: 1}\n",
		[]string{"m.yaml: line 2: dataset.dim: applies only to blobs"}},
	{"syntax error", "name: 'tiny\n",
		[]string{"line 1: YAML syntax error:"}},
	{"bad indentation", "name: tiny\n  train: x\n",
		[]string{"line 1: YAML syntax error:"}},
	{"duplicate key", "name: a\nname: b\n",
		[]string{"line 2: YAML syntax error:", `"name" already defined`}},
	{"empty", "", []string{"the spec is empty"}},
	{"comment only", "# nothing\n", []string{"the spec is empty"}},
	{"list at top", "- 1\n- 2\n", []string{"line 1: the spec must be a mapping of keys (name,", "got a list"}},
	{"two documents", validSpec + "---\nname: x\n", []string{"line 25: only one YAML document"}},
	{"null section", "name: a\ntrain:\n", []string{"line 2: train: must be a mapping", "got nothing"}},
}

func TestParseErrors(t *testing.T) {
	for _, c := range parseErrorCases {
		t.Run(c.name, func(t *testing.T) {
			file := "bad.yaml"
			if strings.HasPrefix(c.yaml, "name: m\n") {
				file = "m.yaml"
			}
			_, err := Parse(file, []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, file+": ") {
				t.Errorf("error %q does not start with the file name %q", msg, file)
			}
			rest := msg
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q\nlacks %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Errorf("error is %T, want *Error", err)
			}
		})
	}
}

func TestValidateWithoutSource(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	s.Source = ""
	s.Train.Batch = 0
	err = s.Validate()
	if err == nil || err.Error() != "train.batch: must be in [1, 65536], got 0" {
		t.Errorf("Validate() = %v", err)
	}
}

func TestPresetsParseAndValidate(t *testing.T) {
	names := presets.Names()
	for _, want := range []string{"lenet-300-100", "overfitting", "quickstart", "seed-mlp",
		"han2015-lenet300", "agp-lenet300", "lottery-lenet300", "sensitivity-lenet300", "structured-lenet300"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("preset %s missing from %v", want, names)
		}
	}
	infos := Presets()
	if len(infos) != len(names) {
		t.Fatalf("ListPresets: %d presets, Names: %d", len(infos), len(names))
	}
	for i, name := range names {
		s, err := Load(name)
		if err != nil {
			t.Errorf("preset %s: %v", name, err)
			continue
		}
		if s.Name != name {
			t.Errorf("preset %s: name field %q differs from the file name", name, s.Name)
		}
		if s.Source != "preset:"+name {
			t.Errorf("preset %s: Source = %q", name, s.Source)
		}
		if s.Description == "" || infos[i].Description != s.Description || infos[i].Name != name {
			t.Errorf("preset %s: description %q, info %+v", name, s.Description, infos[i])
		}
		if err := s.Validate(); err != nil {
			t.Errorf("preset %s: Validate: %v", name, err)
		}
		if len(s.Compress) == 0 {
			t.Errorf("preset %s: no compression steps", name)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte(validSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil || s.Name != "tiny" || s.Source != path {
		t.Fatalf("Load(path) = %q, %q, %v", s.Name, s.Source, err)
	}
	if _, err := Load("no-such-preset"); err == nil || !strings.Contains(err.Error(), "quickstart") {
		t.Errorf("unknown preset: error %v should list the presets", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nepochs: 3\n"), 0o644)
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), filepath.ToSlash(bad)+": line 2: ") {
		t.Errorf("bad file: error %v should name the file and line", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range presets.Names() {
		data, err := presets.Read(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		validSpec, "", "name: 'x\n", "- 1\n", "name: a\nname: b\n", "train: [1,\n",
		"a: &x {b: 1}\nc: *x\n", "<<: {name: x}\n", "name: !!int 5\n", "? [a]\n: b\n",
		"name: x\ncompress: [{technique: lowrank, rank: 99999999999999999999}]\n",
		"model: {layers: [{type: dense, units: -1}]}\n", "dataset: {name: spirals, noise: .nan}\n",
		"---\n---\n", "name: |\n  two\n  lines\n",
		// Aliases, merges and deep nesting: the hostile shapes.
		laughs(3, 3), laughs(6, 9), "name: x\ncompress: &a [*a]\n", "a: &x 1\nb: &x 2\n",
		"name: &n x\ndescription: *n\n", "train: &t {lr: 0.1}\ncompress: [{<<: *t, technique: prune}]\n",
		"name: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n",
		"name: " + strings.Repeat("- ", 40) + "x\n", nestedBlock(40), nestedBlock(8),
		"name: " + strings.Repeat("{a: ", 20) + strings.Repeat("}", 20) + "\n",
		"\xef\xbb\xbf" + validSpec, "name: caf\xe9\n", "name: \"\\e[2J\"\n", "name: a\x00b\n",
		// Sweep blocks.
		validSpec + "sweep:\n  grid:\n    compress[0].ratio: [0.5, 0.9]\n    compress[1].bits: [2, 4]\n  repeats: 2\n",
		validSpec + "sweep:\n  random: {n: 3, seed: 1, axes: {train.lr: {log_uniform: [1e-4, 1e-2]}, train.batch: {int_uniform: [8, 9]}}}\n",
		validSpec + "sweep: {repeats: 3}\n", validSpec + "sweep: {}\n", "sweep: {repeats: 2}\n",
		validSpec + "sweep:\n  grid:\n    compress[9].ratio: [0.5]\n", validSpec + "sweep:\n  grid: {\"train.lr\": [2]}\n",
		validSpec + "sweep:\n  grid:\n    model.layers[0]: [{type: relu}]\n", validSpec + "sweep: &s {repeats: 2}\nx: *s\n",
		validSpec + "sweep:\n  random: {n: 2, axes: {compress[0].scope: {choice: [global, nope]}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if text, e := prescan(data); e == nil {
			// The bound that keeps the lexer small: between two marks at
			// most one scalar.
			marks := 0
			for _, b := range text {
				if strings.IndexByte(yamlMarks, b) >= 0 {
					marks++
				}
			}
			if n := len(lexer.Tokenize(string(text))); n > 2*marks+2 {
				t.Fatalf("%d tokens from %d marks", n, marks)
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "cannot read the YAML") {
				t.Errorf("the YAML library panicked: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Errorf("parsed spec does not validate: %v", err)
		}
		if !printable.Is(s.Name) || !printable.Is(s.Description) {
			t.Errorf("name %q or description %q is not printable", s.Name, s.Description)
		}
		if s.Memory().Total() <= 0 {
			t.Errorf("memory estimate %v", s.Memory())
		}
	})
}
