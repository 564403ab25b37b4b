package spec

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// pruneSpec is a 16-32-16-3 MLP on blobs; compress is the YAML list of
// steps.
func pruneSpec(t *testing.T, compress string) Spec {
	t.Helper()
	s, err := Parse("p.yaml", []byte(`name: prunes
seed: 3
dataset: {name: blobs, classes: 3, dim: 16, samples: 240}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 16}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 16}
compress:
`+compress))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPruneSpecErrors(t *testing.T) {
	cases := []stepErrorCase{
		{"l1 unstructured", "{technique: prune, ratio: 0.5, criterion: l1}", "compress[0].criterion: must be one of magnitude, random (l1 and l2 rank neurons: add structured: true)"},
		{"unknown criterion", "{technique: prune, ratio: 0.5, criterion: taylor}", `compress[0].criterion: must be one of magnitude, random, got "taylor"`},
		{"unknown schedule", "{technique: prune, ratio: 0.5, schedule: cyclic}", `compress[0].schedule: must be one of one-shot, gradual, iterative, lottery, got "cyclic"`},
		{"structured magnitude", "{technique: prune, ratio: 0.5, structured: true, criterion: magnitude}", "must be l1 or l2 for structured pruning"},
		{"structured gradual", "{technique: prune, ratio: 0.5, structured: true, schedule: gradual, end_epoch: 2}", "must be one-shot or iterative for structured pruning"},
		{"structured global", "{technique: prune, ratio: 0.5, structured: true, scope: global}", "compress[0].scope: structured pruning removes the same fraction"},
		{"structured output", "{technique: prune, ratio: 0.5, structured: true, layers: [fc3]}", `compress[0].layers[0]: must name a hidden weight layer (fc1, fc2); the output layer's neurons are the classes, got "fc3"`},
		{"per_layer unknown", "{technique: prune, ratio: 0.5, per_layer: {fc9: 0.5}}", `compress[0].per_layer.fc9: layer "fc9": per_layer keys name a weight layer (fc1, fc2, fc3)`},
		{"layers repeated", "{technique: prune, ratio: 0.5, layers: [fc2, fc2]}", `compress[0].layers[1]: must not repeat a layer, got "fc2"`},
		{"per_layer range", "{technique: prune, ratio: 0.5, per_layer: {fc1: 1.5}}", "compress[0].per_layer.fc1: must be in [0, 0.99], got 1.5"},
		{"per_layer type", "{technique: prune, ratio: 0.5, per_layer: [fc1]}", "compress[0].per_layer: must be a mapping of names to values, got a list"},
		{"structured type", "{technique: prune, ratio: 0.5, structured: yes please}", "compress[0].structured: must be true or false"},
		{"targets and ratio", "{technique: prune, ratio: 0.5, targets: [0.9]}", "compress[0].ratio: give ratio or targets, not both"},
		{"targets lottery", "{technique: prune, schedule: lottery, rounds: 2, targets: [0.9]}", "compress[0].targets: applies only to schedules one-shot, gradual and iterative"},
		{"targets rounds", "{technique: prune, schedule: iterative, rounds: 2, targets: [0.9]}", "compress[0].rounds: must equal the number of targets, 1 (or be left out), got 2"},
		{"targets falling", "{technique: prune, schedule: iterative, targets: [0.5, 0.9, 0.8]}", "compress[0].targets[2]: must be above the round before (0.9): iterative rounds only prune further, got 0.8"},
		{"target range", "{technique: prune, targets: [0.5, 1]}", "compress[0].targets[1]: must be in (0, 0.99], got 1"},
		{"budget with ratio", "{technique: prune, ratio: 0.5, budget: {max_nonzero: 10}}", "a budget decides how much to prune: remove ratio"},
		{"budget both", "{technique: prune, budget: {max_nonzero: 10, max_bytes: 100}}", "compress[0].budget: set max_nonzero or max_bytes, not both"},
		{"budget empty", "{technique: prune, budget: {}}", "compress[0].budget: must set max_nonzero or max_bytes"},
		{"budget layer scope", "{technique: prune, scope: layer, budget: {max_bytes: 100}}", "compress[0].scope: a budget ranks all weights together"},
		{"budget negative", "{technique: prune, budget: {max_bytes: -3}}", "compress[0].budget.max_bytes: must be ≥ 1 byte, got -3"},
		{"missing ratio", "{technique: prune, scope: global}", "compress[0].ratio: required field is missing; must be in [0, 0.99] (or give targets, round_ratio, budget or ratios_from instead)"},
		{"gradual end", "{technique: prune, ratio: 0.9, schedule: gradual, start_epoch: 2, end_epoch: 2}", "compress[0].end_epoch: must be in [start_epoch+1, 1000] = [3, 1000], got 2"},
		{"gradual initial", "{technique: prune, ratio: 0.5, schedule: gradual, end_epoch: 2, initial: 0.6}", "compress[0].initial: must be in [0, 0.5] (at most the final ratio), got 0.6"},
		{"every one-shot", "{technique: prune, ratio: 0.5, every: 10}", "compress[0].every: applies only to schedule gradual; remove it from this one-shot step"},
		{"rounds missing", "{technique: prune, ratio: 0.5, schedule: iterative}", "compress[0].rounds: must be in [1, 100], got 0"},
		{"rounds one-shot", "{technique: prune, ratio: 0.5, rounds: 3}", "compress[0].rounds: applies only to schedules iterative and lottery"},
		{"round_ratio too much", "{technique: prune, schedule: iterative, rounds: 10, round_ratio: 0.5}", "compress[0].round_ratio: compounds to 0.9990 over 10 rounds"},
		{"round_ratio and ratio", "{technique: prune, schedule: lottery, rounds: 2, ratio: 0.5, round_ratio: 0.2}", "give ratio (the final ratio) or round_ratio"},
		{"rewind too late", "{technique: prune, schedule: lottery, rounds: 2, round_ratio: 0.2, rewind_epoch: 3}", "compress[0].rewind_epoch: must be in [0, 2]"},
		{"rewind one-shot", "{technique: prune, ratio: 0.2, rewind_epoch: 1}", "compress[0].rewind_epoch: applies only to schedule lottery"},
		{"lottery lr", "{technique: prune, schedule: lottery, rounds: 2, round_ratio: 0.2, finetune_lr: 0.1}", "lottery rounds retrain with train's optimizer"},
		{"lottery random", "{technique: prune, schedule: lottery, rounds: 2, round_ratio: 0.2, criterion: random}", "must be magnitude for lottery tickets"},
		{"ratios_from first", "{technique: prune, ratios_from: sensitivity}", "compress[0].ratios_from: needs a sensitivity step earlier in compress"},
		{"ratios_from other", "{technique: prune, ratios_from: paper}", `compress[0].ratios_from: must be sensitivity, got "paper"`},
		{"max_loss alone", "{technique: prune, ratio: 0.5, max_loss_pp: 1}", "compress[0].max_loss_pp: applies only with ratios_from: sensitivity"},
		{"schedule on quantize", "{technique: quantize, bits: 4, schedule: gradual}", "compress[0].schedule: applies only to technique prune; remove it from this quantize step"},
		{"ratios on prune", "{technique: prune, ratio: 0.5, ratios: [0.5]}", "compress[0].ratios: applies only to technique sensitivity"},
		{"sensitivity finetune", "{technique: sensitivity, finetune_epochs: 2}", "compress[0].finetune_epochs: applies only to technique kmeans, lowrank, prune or quantize; remove it from this sensitivity step (it prunes each layer alone at each of ratios, without fine-tuning)"},
		{"sensitivity ratio", "{technique: sensitivity, ratios: [0.5, 1.2]}", "compress[0].ratios[1]: must be in [0, 0.99], got 1.2"},
		{"sensitivity layer", "{technique: sensitivity, layers: [relu1]}", `compress[0].layers[0]: must name a weight layer (fc1, fc2, fc3), got "relu1"`},
	}
	checkStepErrors(t, cases)
}

func TestPruneSpecDefaultsAndSettings(t *testing.T) {
	spec := pruneSpec(t, `  - {technique: prune, schedule: gradual, targets: [0.9, 0.95], scope: global, end_epoch: 4, finetune_epochs: 2}
  - {technique: prune, schedule: lottery, rounds: 5, round_ratio: 0.2}
  - {technique: prune, budget: {max_bytes: 2000}, finetune_epochs: 1}
  - {technique: sensitivity}
  - {technique: prune, structured: true, ratio: 0.5, finetune_epochs: 3}
`)
	g, l, b, s, st := spec.Compress[0].(Prune), spec.Compress[1].(Prune), spec.Compress[2].(Prune), spec.Compress[3].(Sensitivity), spec.Compress[4].(Prune)
	if g.Every != 100 || g.Criterion != "magnitude" || g.FinetuneLR != 0.01 {
		t.Errorf("gradual defaults: every %d criterion %q lr %v", g.Every, g.Criterion, g.FinetuneLR)
	}
	if l.FinetuneEpochs != 3 || l.FinetuneLR != 0 || math.Abs(l.FinalRatio()-(1-math.Pow(0.8, 5))) > 1e-15 {
		t.Errorf("lottery defaults: epochs %d lr %v final %v", l.FinetuneEpochs, l.FinetuneLR, l.FinalRatio())
	}
	if b.Scope != "global" || len(s.Ratios) != 20 || s.Ratios[19] != 0.95 || st.Criterion != "l1" {
		t.Errorf("budget scope %q, sensitivity ratios %v, structured criterion %q", b.Scope, s.Ratios, st.Criterion)
	}
	for _, c := range []struct{ got, want string }{
		{Phase(g), "prune-gradual ratio=0.90,0.95 scope=global epochs=0-4 every=100 finetune=2"},
		{Phase(l), "lottery rounds=5 round_ratio=0.20 rewind=init epochs=3"},
		{Phase(b), "prune max_bytes=2000 finetune=1"},
		{Phase(s), "sensitivity ratios=0.00-0.95 (20)"},
		{Phase(st), "prune-structured neurons=0.50 norm=l1 finetune=3"},
	} {
		if c.got != c.want {
			t.Errorf("phase %q, want %q", c.got, c.want)
		}
	}
}

// quantSpecErrorCases (TestQuantSpecErrors): every key of the quantize, kmeans, lowrank,
// bit-sensitivity steps and of pipelines, given a bad value or on the wrong
// step, is an error naming the file, the line and the field, and what is
// allowed. The model is pruneSpec's 16-32-16-3 MLP: fc1 16×32 and fc2 32×16
// save parameters up to rank 10, fc3 16×3 up to rank 2.
var quantSpecErrorCases = []stepErrorCase{
	// quantize
	{"mode", "{technique: quantize, bits: 4, mode: affine}", `compress[0].mode: must be one of symmetric, asymmetric, got "affine"`},
	{"granularity", "{technique: quantize, bits: 4, granularity: row}", `compress[0].granularity: must be one of channel, tensor (a scale per output channel, or one per layer), got "row"`},
	{"calibration", "{technique: quantize, bits: 4, calibration: kl}", `compress[0].calibration: must be one of minmax, percentile, got "kl"`},
	{"percentile alone", "{technique: quantize, bits: 4, percentile: 99}", "compress[0].percentile: applies only with calibration: percentile"},
	{"percentile range", "{technique: quantize, bits: 4, calibration: percentile, percentile: 30}", "compress[0].percentile: must be in [50, 100], e.g. 99.9 (the share of weights inside the range), got 30"},
	{"no bits", "{technique: quantize, mode: asymmetric}", "compress[0].bits: required field is missing; must be in [1, 8], or 32 for float32 (or give bits_per_layer or bits_from instead)"},
	{"bits_per_layer layer", "{technique: quantize, bits_per_layer: {fc7: 4}}", `compress[0].bits_per_layer.fc7: layer "fc7": keys must name a weight layer (fc1, fc2, fc3)`},
	{"bits_per_layer width", "{technique: quantize, bits_per_layer: {fc1: 9}}", "compress[0].bits_per_layer.fc1: must be in [1, 8], or 32 to keep the layer float32, got 9"},
	{"bits_per_layer type", "{technique: quantize, bits_per_layer: {fc1: four}}", `compress[0].bits_per_layer.fc1: must be a whole number, got "four"`},
	{"bits_from value", "{technique: quantize, bits_from: paper}", `compress[0].bits_from: must be sensitivity, got "paper"`},
	{"bits_from first", "{technique: quantize, bits_from: sensitivity}", "compress[0].bits_from: needs a bit-sensitivity step earlier in compress"},
	{"max_loss alone", "{technique: quantize, bits: 4, max_loss_pp: 1}", "compress[0].max_loss_pp: applies only with bits_from: sensitivity"},
	{"activation_bits", "{technique: quantize, bits: 4, activation_bits: 1}", "compress[0].activation_bits: must be in [2, 8] (or left out: activations stay float32), got 1"},
	{"calibration_samples alone", "{technique: quantize, bits: 4, calibration_samples: 100}", "compress[0].calibration_samples: applies only with activation_bits"},
	{"calibration_samples range", "{technique: quantize, bits: 4, activation_bits: 8, calibration_samples: -5}", "compress[0].calibration_samples: must be in [1, 100000] training examples (0 or left out = 1000), got -5"},
	{"qat without epochs", "{technique: quantize, bits: 2, qat: true}", "compress[0].finetune_epochs: must be ≥ 1 with qat: true (the epochs of quantization-aware training), got 0"},
	{"qat float", "{technique: quantize, bits: 32, qat: true, finetune_epochs: 1}", "compress[0].qat: needs a bit width of 1 to 8 to train through, got bits 32 (float32)"},
	{"qat type", "{technique: quantize, bits: 2, qat: yes please}", "compress[0].qat: must be true or false"},
	{"quantize layers", "{technique: quantize, bits: 4, layers: [fc1, fc1]}", `compress[0].layers[1]: must not repeat a layer, got "fc1"`},
	{"clusters on quantize", "{technique: quantize, bits: 4, clusters: 16}", "compress[0].clusters: applies only to technique kmeans; remove it from this quantize step"},
	{"bit_widths on quantize", "{technique: quantize, bits: 4, bit_widths: [4]}", "compress[0].bit_widths: applies only to technique bit-sensitivity; remove it from this quantize step"},
	{"rank on quantize", "{technique: quantize, bits: 4, rank: 3}", "compress[0].rank: applies only to technique lowrank; remove it from this quantize step"},
	{"qat on prune", "{technique: prune, ratio: 0.5, qat: true}", "compress[0].qat: applies only to technique quantize; remove it from this prune step"},
	{"mode on sensitivity", "{technique: sensitivity, mode: asymmetric}", "compress[0].mode: applies only to technique bit-sensitivity or quantize; remove it from this sensitivity step"},
	// bit-sensitivity
	{"bit_widths range", "{technique: bit-sensitivity, bit_widths: [8, 0]}", "compress[0].bit_widths[1]: must be in [1, 8], got 0"},
	{"bit-sensitivity finetune", "{technique: bit-sensitivity, finetune_epochs: 2}", "compress[0].finetune_epochs: applies only to technique kmeans, lowrank, prune or quantize; remove it from this bit-sensitivity step (it quantizes each layer alone at each of bit_widths, without fine-tuning)"},
	{"bit-sensitivity layer", "{technique: bit-sensitivity, layers: [relu1]}", `compress[0].layers[0]: must name a weight layer (fc1, fc2, fc3), got "relu1"`},
	// kmeans
	{"clusters missing", "{technique: kmeans, init: density}", "compress[0].clusters: required field is missing; must be in [1, 256]"},
	{"clusters range", "{technique: kmeans, clusters: 300}", "compress[0].clusters: must be in [1, 256] (shared values per layer; 2^bits for bits-wide indices), got 300"},
	{"clusters_per_layer", "{technique: kmeans, clusters: 8, clusters_per_layer: {fc2: 0}}", "compress[0].clusters_per_layer.fc2: must be in [1, 256], got 0"},
	{"clusters_per_layer layer", "{technique: kmeans, clusters_per_layer: {out: 8}}", `compress[0].clusters_per_layer.out: layer "out"`},
	{"init", "{technique: kmeans, clusters: 8, init: kmeans++}", `compress[0].init: must be one of linear, random, density, got "kmeans++"`},
	{"bits on kmeans", "{technique: kmeans, clusters: 8, bits: 3}", "compress[0].bits: applies only to technique quantize; remove it from this kmeans step"},
	{"ratio on kmeans", "{technique: kmeans, clusters: 8, ratio: 0.5}", "compress[0].ratio: applies only to technique prune; remove it from this kmeans step"},
	// lowrank
	{"rank saves nothing", "{technique: lowrank, layer: fc1, rank: 11}", "compress[0].rank: must be in [1, 10] for fc1 (16→32): a rank r saves parameters only while r·(in+out) < in·out, got 11"},
	{"ranks saves nothing", "{technique: lowrank, ranks: {fc1: 4, fc3: 3}}", "compress[0].ranks.fc3: must be in [1, 2] for fc3 (16→3)"},
	{"ranks layer", "{technique: lowrank, ranks: {relu1: 4}}", `compress[0].ranks.relu1: must name a dense layer (fc1, fc2, fc3), got "relu1"`},
	{"ranks and layer", "{technique: lowrank, layer: fc1, ranks: {fc2: 4}}", "compress[0].ranks: ranks names its layers: remove layer and layers"},
	{"rank and energy", "{technique: lowrank, rank: 4, energy: 0.9}", "compress[0].rank: give one of rank (with layer), ranks or energy"},
	{"no rank", "{technique: lowrank, layer: fc2}", "compress[0].rank: required field is missing; must be given: a rank for layer, ranks by layer, or energy"},
	{"energy range", "{technique: lowrank, energy: 1.5}", "compress[0].energy: must be in (0, 1]: the share of Σσ² the kept singular values hold, got 1.5"},
	{"energy layers", "{technique: lowrank, energy: 0.9, layers: [fc1, fc9]}", `compress[0].layers[1]: must name a dense layer (fc1, fc2, fc3), got "fc9"`},
	{"rank with layers", "{technique: lowrank, rank: 4, layers: [fc1]}", "compress[0].layers: a rank applies to one layer: use layer (or ranks for several layers)"},
	{"randomized type", "{technique: lowrank, rank: 4, randomized: 2}", "compress[0].randomized: must be true or false, got 2"},
	{"randomized on prune", "{technique: prune, ratio: 0.5, randomized: true}", "compress[0].randomized: applies only to technique lowrank; remove it from this prune step"},
	// pipelines
	{"pipeline empty", "{technique: pipeline, pipeline: []}", "compress[0].pipeline: must list at least one stage, got an empty list"},
	{"pipeline with technique", "{technique: prune, ratio: 0.5, pipeline: [{technique: huffman}]}", "compress[0].pipeline: applies only to technique pipeline; remove it from this prune step"},
	{"pipeline ratio", "{pipeline: [{technique: huffman}], ratio: 0.5}", "compress[0].ratio: applies only to technique prune; remove it from this pipeline step"},
	{"stage technique", "{pipeline: [{technique: sensitivity}]}", `compress[0].pipeline[0].technique: must be one of prune, quantize, kmeans, lowrank, finetune, huffman in a pipeline, got "sensitivity"`},
	{"stage order", "{pipeline: [{technique: kmeans, clusters: 4}, {technique: prune, ratio: 0.5}]}", "compress[0].pipeline[1].technique: a prune stage must come before the kmeans stage"},
	{"two quantizers", "{pipeline: [{technique: quantize, bits: 4}, {technique: kmeans, clusters: 4}]}", "compress[0].pipeline[1].technique: a pipeline quantizes its weights once: it already has a quantize stage"},
	{"two huffman", "{pipeline: [{technique: huffman}, {technique: huffman}]}", "compress[0].pipeline[1].technique: a pipeline Huffman-codes once"},
	{"huffman key", "{pipeline: [{technique: huffman, bits: 4}]}", "compress[0].pipeline[0].bits: applies only to technique quantize; remove it from this huffman step"},
	{"finetune epochs", "{pipeline: [{technique: finetune}]}", "compress[0].pipeline[0].epochs: required field is missing; must be in [1, 1000]"},
	{"finetune finetune_epochs", "{pipeline: [{technique: finetune, epochs: 1, finetune_epochs: 2}]}", "compress[0].pipeline[0].finetune_epochs: applies only to technique kmeans, lowrank, prune or quantize; remove it from this finetune step"},
	{"epochs on quantize", "{technique: quantize, bits: 4, epochs: 2}", "compress[0].epochs: applies only to technique finetune; remove it from this quantize step"},
	{"finetune step", "{technique: finetune, epochs: 2}", `compress[0].technique: must be one of prune, quantize, lowrank, sensitivity, kmeans, bit-sensitivity, pipeline, got "finetune"`},
	{"stage missing ratio", "{pipeline: [{technique: prune, scope: global}]}", "compress[0].pipeline[0].ratio: required field is missing"},
	{"stage targets", "{pipeline: [{technique: prune, targets: [0.5]}]}", "compress[0].pipeline[0].targets: does not apply to a prune stage of a pipeline (a stage makes one row: give ratio); remove it"},
	{"stage lottery", "{pipeline: [{technique: prune, schedule: lottery, rounds: 2, round_ratio: 0.3}]}", `compress[0].pipeline[0].schedule: must be one-shot, gradual or iterative in a pipeline, got "lottery"`},
	{"stage gradual", "{pipeline: [{technique: prune, ratio: 0.5, schedule: gradual}]}", "compress[0].pipeline[0].end_epoch: must be in [start_epoch+1, 1000]"},
	{"factor before lowrank", "{pipeline: [{technique: prune, ratio: 0.5, layers: [fc1.A]}]}", `compress[0].pipeline[0].layers[0]: must name a weight layer (fc1, fc2, fc3), got "fc1.A"`},
	{"factorize twice", "{pipeline: [{technique: lowrank, layer: fc1, rank: 4}, {technique: lowrank, layer: fc1, rank: 2}]}", `compress[0].pipeline[1].layer: must name a dense layer not yet factorized (fc2, fc3), got "fc1"`},
	{"stage bad clusters", "{pipeline: [{technique: lowrank, layer: fc1, rank: 4}, {technique: kmeans, clusters_per_layer: {fc1.C: 4}}]}", `compress[0].pipeline[1].clusters_per_layer.fc1.C: layer "fc1.C": keys must name a weight layer (fc2, fc3, fc1, fc1.A, fc1.B)`},
	{"name on prune", "{technique: prune, ratio: 0.5, name: x}", "compress[0].name: applies only to technique pipeline; remove it from this prune step"},
}

func TestQuantSpecErrors(t *testing.T) { checkStepErrors(t, quantSpecErrorCases) }

// stepErrorCase is a compress entry, written on line 7 of a spec of
// pruneSpec's model, and the error it must give.
type stepErrorCase struct {
	name, step string
	want       string
}

// checkStepErrors parses each case and checks its error names the file,
// line 7 and says what the case wants.
func checkStepErrors(t *testing.T, cases []stepErrorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := `name: p
dataset: {name: blobs, classes: 3, dim: 16, samples: 240}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 16}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 16}
compress:
  - ` + c.step + "\n"
			_, err := Parse("p.yaml", []byte(yaml))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "p.yaml: line 7: ") {
				t.Errorf("error %q\nwant it on line 7 and to contain %q", err, c.want)
			}
		})
	}
}

// TestPipelineSpecLines: an error in a stage of a pipeline written over
// several lines names the stage's own line.
func TestPipelineSpecLines(t *testing.T) {
	yaml := `name: p
dataset: {name: blobs, classes: 3, dim: 16, samples: 240}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 16}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 16}
compress:
  - name: dc
    pipeline:
      - technique: prune
        ratio: 0.5
      - technique: kmeans
        clusters: 4
        init: spread
`
	_, err := Parse("p.yaml", []byte(yaml))
	if err == nil || !strings.HasPrefix(err.Error(), `p.yaml: line 13: compress[0].pipeline[1].init: must be one of linear, random, density, got "spread"`) {
		t.Errorf("error %v", err)
	}
	yaml = strings.Replace(yaml, "        init: spread\n", "        kmeans_init: linear\n", 1)
	_, err = Parse("p.yaml", []byte(yaml))
	if err == nil || !strings.HasPrefix(err.Error(), `p.yaml: line 13: unknown field "kmeans_init" in compress[0].pipeline[1] (allowed: technique,`) {
		t.Errorf("error %v", err)
	}
}

// TestQuantSpecDefaultsAndSettings: defaults filled in, and the setting
// column of each new kind of row.
func TestQuantSpecDefaultsAndSettings(t *testing.T) {
	spec := pruneSpec(t, `  - {technique: bit-sensitivity}
  - {technique: quantize, bits: 4, mode: asymmetric, granularity: tensor, calibration: percentile, activation_bits: 8, layers: [fc1, fc2]}
  - {technique: quantize, bits_from: sensitivity, bits_per_layer: {fc3: 8}, qat: true, finetune_epochs: 2}
  - {technique: kmeans, clusters: 8, clusters_per_layer: {fc3: 4}, finetune_epochs: 1}
  - {technique: lowrank, energy: 0.9, randomized: true}
  - {technique: lowrank, ranks: {fc2: 3, fc1: 4}}
  - pipeline: [{technique: prune, ratio: 0.5}, {technique: finetune, epochs: 1}, {technique: huffman}]
`)
	c := spec.Compress
	if bs := c[0].(BitSensitivity); !slices.Equal(bs.BitWidths, defaultBitWidths) {
		t.Errorf("bit-sensitivity defaults: widths %v", bs.BitWidths)
	}
	if q := c[1].(Quantize); q.Percentile != 99.9 || q.CalibrationSamples != 1000 {
		t.Errorf("percentile %v, calibration samples %d; want 99.9, 1000", q.Percentile, q.CalibrationSamples)
	}
	q2, k, l4, l5 := c[2].(Quantize), c[3].(KMeans), c[4].(Lowrank), c[5].(Lowrank)
	if q2.MaxLossPP != 1 || k.Init != "linear" || l4.Layer != "fc1" || l5.Layer != "" {
		t.Errorf("max_loss_pp %v, init %q, energy layer %q, ranks layer %q", q2.MaxLossPP, k.Init, l4.Layer, l5.Layer)
	}
	p := c[6].(Pipeline)
	if p.Technique() != "pipeline" || p.Stages[0].(Prune).Scope != "layer" || p.Stages[1].(Finetune).FinetuneLR != 0.01 {
		t.Errorf("pipeline: technique %q, stage scope %q, stage finetune_lr %v", p.Technique(), p.Stages[0].(Prune).Scope, p.Stages[1].(Finetune).FinetuneLR)
	}
	want := []string{
		"bits=8-1 (8)",
		"bits=4 asym per-tensor p99.9 act=8 layers=fc1,fc2",
		"bits_from=sensitivity(1pp) per_layer=fc3:8 qat finetune=2",
		"clusters=8 per_layer=fc3:4 init=linear finetune=1",
		"energy=0.90@fc1 randomized",
		"ranks=fc1:4,fc2:3",
		"prune>finetune>huffman",
	}
	for i, w := range want {
		if got := c[i].Setting(); got != w {
			t.Errorf("step %d (%s) setting %q, want %q", i, c[i].Technique(), got, w)
		}
	}
}
