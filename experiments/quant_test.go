package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// TestQuantSpecErrors: every key of the quantize, kmeans, lowrank,
// bit-sensitivity steps and of pipelines, given a bad value or on the wrong
// step, is an error naming the file, the line and the field, and what is
// allowed. The model is pruneSpec's 16-32-16-3 MLP: fc1 16×32 and fc2 32×16
// save parameters up to rank 10, fc3 16×3 up to rank 2.
func TestQuantSpecErrors(t *testing.T) {
	cases := []struct {
		name, step string
		want       string
	}{
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
		{"mode on sensitivity", "{technique: sensitivity, mode: asymmetric}", "compress[0].mode: applies only to technique bit-sensitivity and quantize; remove it from this sensitivity step"},
		// bit-sensitivity
		{"bit_widths range", "{technique: bit-sensitivity, bit_widths: [8, 0]}", "compress[0].bit_widths[1]: must be in [1, 8], got 0"},
		{"bit-sensitivity finetune", "{technique: bit-sensitivity, finetune_epochs: 2}", "compress[0].finetune_epochs: applies only to technique kmeans and lowrank and quantize; remove it from this bit-sensitivity step"},
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
		{"rank saves nothing", "{technique: lowrank, layer: fc1, rank: 11}", "compress[0].rank: must be in [1, 10] for fc1 (16×32): a rank r saves parameters only while r·(in+out) < in·out, got 11"},
		{"ranks saves nothing", "{technique: lowrank, ranks: {fc1: 4, fc3: 3}}", "compress[0].ranks.fc3: must be in [1, 2] for fc3 (16×3)"},
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
		{"finetune finetune_epochs", "{pipeline: [{technique: finetune, epochs: 1, finetune_epochs: 2}]}", "compress[0].pipeline[0].finetune_epochs: applies only to technique kmeans and lowrank and quantize; remove it from this finetune step"},
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
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := `name: p
dataset: {name: blobs, classes: 3, dim: 16, samples: 240}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 16}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 16}
compress:
  - ` + c.step + "\n"
			_, err := ParseSpec("p.yaml", []byte(yaml))
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
	_, err := ParseSpec("p.yaml", []byte(yaml))
	if err == nil || !strings.HasPrefix(err.Error(), `p.yaml: line 13: compress[0].pipeline[1].init: must be one of linear, random, density, got "spread"`) {
		t.Errorf("error %v", err)
	}
	yaml = strings.Replace(yaml, "        init: spread\n", "        kmeans_init: linear\n", 1)
	_, err = ParseSpec("p.yaml", []byte(yaml))
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
	if !slices.Equal(c[0].BitWidths, defaultBitWidths) || c[0].FinetuneLR != 0 {
		t.Errorf("bit-sensitivity defaults: widths %v, finetune_lr %v", c[0].BitWidths, c[0].FinetuneLR)
	}
	if c[1].Percentile != 99.9 || c[1].CalibrationSamples != 1000 {
		t.Errorf("percentile %v, calibration samples %d; want 99.9, 1000", c[1].Percentile, c[1].CalibrationSamples)
	}
	if c[2].MaxLossPP != 1 || c[3].Init != "linear" || c[4].Layer != "fc1" || c[5].Layer != "" {
		t.Errorf("max_loss_pp %v, init %q, energy layer %q, ranks layer %q", c[2].MaxLossPP, c[3].Init, c[4].Layer, c[5].Layer)
	}
	if c[6].Technique != techniquePipeline || c[6].FinetuneLR != 0 || c[6].Pipeline[0].Scope != "layer" || c[6].Pipeline[1].FinetuneLR != 0.01 {
		t.Errorf("pipeline: technique %q, finetune_lr %v, stage scope %q, stage finetune_lr %v", c[6].Technique, c[6].FinetuneLR, c[6].Pipeline[0].Scope, c[6].Pipeline[1].FinetuneLR)
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
			t.Errorf("step %d (%s) setting %q, want %q", i, c[i].Technique, got, w)
		}
	}
}

// TestPipelineRows: a pipeline adds a row per stage, in order, each stage
// working on the model the stage before left: the sparsity stays through
// k-means and its fine-tuning, the codebook holds at most k values per
// layer, Huffman coding only shrinks the file, and wall_s adds up.
func TestPipelineRows(t *testing.T) {
	spec := pruneSpec(t, `  - name: dc
    pipeline:
      - {technique: prune, ratio: 0.75, scope: global}
      - {technique: finetune, epochs: 1}
      - {technique: kmeans, clusters: 4}
      - {technique: finetune, epochs: 1}
      - {technique: huffman}
`)
	dir := t.TempDir()
	rec := &recorder{}
	report, err := Run(context.Background(), spec, Options{SaveDir: dir}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, table, []string{
		"prune | dc: ratio=0.75 scope=global",
		"+finetune | dc: epochs=1",
		"+kmeans | dc: clusters=4 init=linear",
		"+finetune | dc: epochs=1 codebook",
		"+huffman | dc: codes+gaps",
	})
	kept := int64(math.Round(0.25 * pruneWeights))
	for i, r := range table[1:] {
		if nz := r.ParamsNonzero; nz > kept+51 || nz < kept {
			t.Errorf("%s: %d non-zero, want the %d weights pruning kept (+ up to 51 biases)", r.Technique, nz, kept)
		}
		if i > 0 && r.WallS < table[i].WallS {
			t.Errorf("%s: wall_s %v below the stage before's %v: it counts every stage so far", r.Technique, r.WallS, table[i].WallS)
		}
	}
	// The k-means rows hold at most 4 distinct weights per layer, the
	// fine-tuned one too (the codebook trains, not the weights), stored as
	// codebooks of 2-bit indices.
	for _, i := range []int{3, 4, 5} {
		path := filepath.Join(dir, RowFileStem(table[i], i)+ModelFileExt)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := modelfile.Inspect(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range sum.Layers {
			for _, ts := range l.Tensors {
				if ts.Encoding != "codebook" || ts.Centroids > 4 || ts.CodeBits != 2 {
					t.Errorf("row %d %s: %s stored as %s, %d centroids, %d-bit codes; want a codebook of ≤ 4, 2 bits", i, table[i].Technique, ts.Name, ts.Encoding, ts.Centroids, ts.CodeBits)
				}
				// Before the huffman stage nothing is entropy-coded (after
				// it, Huffman codes are used where they are smaller).
				if ts.Huffman && i < 5 {
					t.Errorf("row %d %s: Huffman-coded before the huffman stage", i, table[i].Technique)
				}
			}
		}
	}
	if h, before := table[5], table[4]; h.SizeBytes > before.SizeBytes || h.TestAcc != before.TestAcc {
		t.Errorf("huffman row: %d bytes, %v%%; the row before: %d bytes, %v%%", h.SizeBytes, h.TestAcc, before.SizeBytes, before.TestAcc)
	}
}

// TestFactorsPrunedAndQuantized: a pipeline factorizes fc1, then prunes
// and quantizes its factors by their names.
func TestFactorsPrunedAndQuantized(t *testing.T) {
	spec := pruneSpec(t, `  - pipeline:
      - {technique: lowrank, layer: fc1, rank: 4}
      - {technique: prune, ratio: 0.5, layers: [fc1.A]}
      - {technique: quantize, bits: 3, layers: [fc1], qat: true, finetune_epochs: 1}
`)
	dir := t.TempDir()
	report, err := Run(context.Background(), spec, Options{SaveDir: dir}, nil)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, table, []string{
		"lowrank | rank=4@fc1",
		"+prune | ratio=0.50 layers=fc1.A",
		"+quantize | bits=3 qat layers=fc1 finetune=1",
	})
	m, err := LoadModel(filepath.Join(dir, RowFileStem(table[3], 3)+ModelFileExt))
	if err != nil {
		t.Fatal(err)
	}
	f, ok := m.Layers[0].(*lowrank.Layer)
	if !ok {
		t.Fatalf("layer 0 is %T, want the factorized fc1", m.Layers[0])
	}
	// A (16×4 = 64 weights) lost half; both factors sit on a 3-bit grid:
	// at most 7 distinct values per output channel.
	if nz := f.First.W.NonZero(); nz != 32 {
		t.Errorf("fc1.A keeps %d of 64 weights, want 32", nz)
	}
	for _, d := range f.Factors() {
		if d.Bits != 3 {
			t.Errorf("%s: %d bits, want 3", d.LayerName, d.Bits)
		}
		for j := 0; j < d.Out; j++ {
			levels := map[float32]bool{}
			for i := 0; i < d.In; i++ {
				levels[d.W.Value.At(i, j)] = true
			}
			if len(levels) > 7 {
				t.Errorf("%s channel %d: %d distinct values, want ≤ 7", d.LayerName, j, len(levels))
			}
		}
	}
	if d, ok := m.Layers[2].(*nn.Dense); !ok || d.Bits != 0 {
		t.Errorf("fc2 should stay float32, got %T bits %v", m.Layers[2], d)
	}
}

// TestQuantizeSteps runs the quantizers as steps: asymmetric per-tensor
// codes, QAT at one bit, k-means with a tuned codebook, activation
// quantization; each row's file stores what the step asked for and loads
// back into the model it scored.
func TestQuantizeSteps(t *testing.T) {
	spec := pruneSpec(t, `  - {technique: quantize, bits: 3, mode: asymmetric, granularity: tensor}
  - {technique: quantize, bits: 1, qat: true, finetune_epochs: 2}
  - {technique: quantize, bits: 4, activation_bits: 8, calibration_samples: 64}
  - {technique: kmeans, clusters: 8, clusters_per_layer: {fc3: 2}, init: density, finetune_epochs: 1}
`)
	dir := t.TempDir()
	rec := &recorder{}
	report, err := Run(context.Background(), spec, Options{SaveDir: dir}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	events := rec.events
	inspect := func(i int) modelfile.Summary {
		f, err := os.Open(filepath.Join(dir, RowFileStem(table[i], i)+ModelFileExt))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := modelfile.Inspect(f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tensors := func(s modelfile.Summary) []modelfile.TensorSummary {
		var out []modelfile.TensorSummary
		for _, l := range s.Layers {
			out = append(out, l.Tensors...)
		}
		return out
	}
	for _, ts := range tensors(inspect(1)) {
		if ts.Encoding != "uniform" || ts.Groups != "tensor" || ts.CodeBits > 3 {
			t.Errorf("asymmetric 3-bit per-tensor: %s stored %s/%s/%d bits", ts.Name, ts.Encoding, ts.Groups, ts.CodeBits)
		}
	}
	for _, ts := range tensors(inspect(2)) {
		if ts.Bits != 1 || ts.Encoding == "f32" {
			t.Errorf("1-bit QAT: %s stored at %d bits as %s", ts.Name, ts.Bits, ts.Encoding)
		}
	}
	if table[2].TestAcc < 60 {
		t.Errorf("1-bit QAT row scores %.2f%%: training through the quantizer should beat chance (33%%) by far", table[2].TestAcc)
	}
	act := 0
	for _, l := range inspect(3).Layers {
		if l.Kind == "actquant" {
			act++
		}
	}
	if act != 3 {
		t.Errorf("activation quantization: %d activation quantizers in the file, want one per weight layer (3)", act)
	}
	for _, ts := range tensors(inspect(4)) {
		want := 8
		if ts.Name == "fc3" {
			want = 2
		}
		if ts.Encoding != "codebook" || ts.Centroids > want {
			t.Errorf("kmeans: %s stored %s with %d centroids, want a codebook of ≤ %d", ts.Name, ts.Encoding, ts.Centroids, want)
		}
	}
	// The first row's model, rebuilt from the baseline, and its file give
	// the same prediction on every test example, run as floats or on the
	// inference plan's kernels.
	_, test, _ := loadData(spec.resolved(), Options{})
	var trained *Trained
	for _, e := range events {
		if b, ok := e.(BaselineEvent); ok {
			trained = b.Trained
		}
	}
	want := trained.Model.Clone()
	if _, err := quant.QuantizeModel(want, quant.Options{Bits: 3, Asymmetric: true, PerTensor: true}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := LoadModel(filepath.Join(dir, RowFileStem(table[1], 1)+ModelFileExt))
	if err != nil {
		t.Fatal(err)
	}
	for _, prepared := range []bool{false, true} {
		if prepared {
			want.PrepareInference()
			got.PrepareInference()
		}
		w, g := nn.Predict(want, test.X, 64), nn.Predict(got, test.X, 64)
		if !slices.Equal(w, g) {
			t.Errorf("prepared=%v: the loaded model's predictions differ from the model saved", prepared)
		}
	}
	// Every file loads into the model its row scored.
	for i, r := range table {
		m, err := LoadModel(filepath.Join(dir, RowFileStem(r, i)+ModelFileExt))
		if err != nil {
			t.Fatal(err)
		}
		if _, acc, _ := evaluate(context.Background(), m, test, 0); 100*acc != r.TestAcc {
			t.Errorf("%s %s: the saved model scores %v%%, the row %v%%", r.Technique, r.Setting, 100*acc, r.TestAcc)
		}
	}
}

// TestBitSensitivityAndBitsFrom: a bit-sensitivity step scores each layer
// at each width without adding rows; bits_from then gives each layer the
// fewest bits within max_loss_pp, as PickBits says of the very table.
func TestBitSensitivityAndBitsFrom(t *testing.T) {
	spec := pruneSpec(t, `  - {technique: bit-sensitivity, bit_widths: [8, 2, 1], layers: [fc2, fc1]}
  - {technique: quantize, bits: 8, bits_from: sensitivity, max_loss_pp: 2}
`)
	rec := &recorder{}
	report, err := Run(context.Background(), spec, Options{}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	done := rec.events[len(rec.events)-1].(DoneEvent)
	bt, _ := done.Report.Of(results.Bits)
	if _, ok := done.Report.Of(results.Pruning); ok || len(bt.Points) != 6 || !slices.Equal(bt.Layers(), []string{"fc1", "fc2"}) {
		t.Fatalf("sensitivity tables %v, want only bits: fc1 then fc2 (model order) at 8, 2, 1 bits", done.Report.Sensitivity)
	}
	for i, r := range bt.Points {
		if want := []float64{8, 2, 1}[i%3]; r.Value != want {
			t.Errorf("row %d: %v bits, want %v", i, r.Value, want)
		}
	}
	// At 8 bits a layer alone costs next to nothing.
	if base := table[0].TestAcc; bt.Points[0].TestAcc < base-1 || bt.Points[3].TestAcc < base-1 {
		t.Errorf("8 bits: fc1 %.2f%%, fc2 %.2f%%; dense %.2f%%", bt.Points[0].TestAcc, bt.Points[3].TestAcc, base)
	}
	events := 0
	for _, e := range rec.events {
		if b, ok := e.(SensitivityEvent); ok {
			events++
			if want := min(events, 6); len(b.Table.Points) != want || b.Done != (events == 7) || b.Table.Kind != results.Bits {
				t.Errorf("event %d: %d rows, done=%v, kind %v; want %d rows of bits", events, len(b.Table.Points), b.Done, b.Table.Kind, want)
			}
		}
	}
	if events != 7 {
		t.Errorf("%d bit-sensitivity events, want one per point and a last one (7)", events)
	}
	picked := PickBits(bt, table[0].TestAcc, 2)
	want := "bits=8 bits_from=sensitivity(2pp) per_layer=fc1:" + strconv.Itoa(picked["fc1"]) + ",fc2:" + strconv.Itoa(picked["fc2"])
	checkRows(t, table, []string{"quantize | " + want})
}

// TestLowrankSteps: an energy picks the smallest rank keeping it, the same
// rank RankForEnergy gives on the trained layer; ranks factorize several
// layers; randomized SVD factorizes too.
func TestLowrankSteps(t *testing.T) {
	spec := pruneSpec(t, `  - {technique: lowrank, layer: fc1, energy: 0.6}
  - {technique: lowrank, ranks: {fc1: 3, fc2: 2}}
  - {technique: lowrank, layer: fc2, rank: 3, randomized: true}
`)
	rec := &recorder{}
	report, err := Run(context.Background(), spec, Options{}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	var trained *Trained
	for _, e := range rec.events {
		if b, ok := e.(BaselineEvent); ok {
			trained = b.Trained
		}
	}
	sv, err := lowrank.SingularValues(trained.Model.Layers[0].(*nn.Dense))
	if err != nil {
		t.Fatal(err)
	}
	r := lowrank.RankForEnergy(sv, 0.6)
	if r < 1 || r > 10 {
		t.Fatalf("rank for 60%% of the energy is %d; the test needs one that saves parameters", r)
	}
	checkRows(t, table, []string{
		"lowrank | energy=0.60@fc1 ranks=fc1:" + strconv.Itoa(r),
		"lowrank | ranks=fc1:3,fc2:2",
		"lowrank | rank=3@fc2 randomized",
	})
	// fc1 16×32 at rank r: r·48 weights and 32 biases instead of 512 + 32.
	if want := int64(r*48+32) + 32*16 + 16 + 16*3 + 3; table[1].ParamsTotal != want {
		t.Errorf("energy row: %d params, want %d", table[1].ParamsTotal, want)
	}
	if want := int64(3*48+32) + int64(2*48+16) + 16*3 + 3; table[2].ParamsTotal != want {
		t.Errorf("ranks row: %d params, want %d", table[2].ParamsTotal, want)
	}
}

// TestEnergyThatSavesNothing: an energy whose rank saves no parameters
// fails the run with an error saying so.
func TestEnergyThatSavesNothing(t *testing.T) {
	spec := pruneSpec(t, "  - {technique: lowrank, layer: fc3, energy: 1}\n")
	_, err := Run(context.Background(), spec, Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "saves no parameters for a 16×3 layer (ranks up to 2 do)") {
		t.Errorf("error %v", err)
	}
}

func TestPickBits(t *testing.T) {
	table := results.Sensitivity{Kind: results.Bits, Points: []results.Point{{Layer: "fc1", Value: 8, TestAcc: 98.3}, {Layer: "fc1", Value: 2, TestAcc: 51.25}, {Layer: "fc2", Value: 8, TestAcc: 97}, {Layer: "fc2", Value: 2, TestAcc: 90}}}
	// Within 1 pp of 98.5: fc1 needs 8 bits, fc2 none of those tried.
	got := PickBits(table, 98.5, 1)
	if got["fc1"] != 8 || got["fc2"] != 32 {
		t.Errorf("PickBits = %v, want fc1 8, fc2 32", got)
	}
	if got := PickBits(table, 98.5, 9); got["fc2"] != 2 {
		t.Errorf("PickBits within 9 pp = %v, want fc2 2", got)
	}
}

func TestRowFileStem(t *testing.T) {
	cases := []struct {
		row   results.Row
		index int
		want  string
	}{
		{results.Row{Experiment: "lenet-300-100", Technique: "quantize"}, 3, "lenet-300-100-03-quantize"},
		{results.Row{Experiment: "deep compression", Technique: "+kmeans"}, 12, "deep-compression-12-kmeans"},
		{results.Row{Experiment: "../x/..", Technique: "dense"}, 0, "x-00-dense"},
		{results.Row{Experiment: "", Technique: "prune-gradual"}, 1, "model-01-prune-gradual"},
	}
	for _, c := range cases {
		if got := RowFileStem(c.row, c.index); got != c.want {
			t.Errorf("RowFileStem(%q, %q, %d) = %q, want %q", c.row.Experiment, c.row.Technique, c.index, got, c.want)
		}
	}
}

// TestSaveDirErrors: --save into a file is an error before anything runs.
func TestSaveDirErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), parseValid(t, validSpec), Options{SaveDir: file}, nil)
	if err == nil || !strings.Contains(err.Error(), "--save "+file) {
		t.Errorf("error %v", err)
	}
}

// TestKnobViews: the preview's histograms bin the weights before
// quantization and carry the widest channel's grid; the spectrum is the
// layer's singular values with the energy its cut keeps.
func TestKnobViews(t *testing.T) {
	spec := pruneSpec(t, "  - {technique: quantize, bits: 8}\n")
	var trained *Trained
	if _, err := Run(context.Background(), spec, Options{}, SinkFunc(func(e Event) {
		if b, ok := e.(BaselineEvent); ok {
			trained = b.Trained
		}
	})); err != nil {
		t.Fatal(err)
	}
	ev, err := trained.Apply(context.Background(), Setting{PruneRatio: 0.5, Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	hs := ev.Histograms
	if len(hs) != 4 || hs[0].Layer != AllLayers || hs[1].Layer != "fc1" || hs[3].Layer != "fc3" {
		t.Fatalf("histograms of %v", hs)
	}
	fc1 := trained.Model.Layers[0].(*nn.Dense)
	var top float64
	for _, w := range fc1.W.Value.Data {
		top = math.Max(top, math.Abs(float64(w)))
	}
	h := hs[1]
	binned := 0
	for _, c := range h.Counts {
		binned += c
	}
	// Half of fc1's 512 weights are pruned; the rest are binned over
	// [−max|w|, max|w|] (pruning keeps the largest).
	if h.Total != 512 || h.Zeros != 256 || binned != 256 || h.Hi != top || h.Lo != -top || len(h.Counts) != HistogramBins {
		t.Errorf("fc1: total %d zeros %d binned %d range [%v, %v]; want 512, 256, 256, ±%v", h.Total, h.Zeros, binned, h.Lo, h.Hi, top)
	}
	// 2 bits: the widest channel's grid is −max, 0, +max.
	if len(h.Levels) != 3 || h.Levels[1] != 0 || math.Abs(h.Levels[2]-top) > 1e-6*top || h.Levels[0] != -h.Levels[2] {
		t.Errorf("fc1 levels %v, want ±%v and 0", h.Levels, top)
	}
	if hs[0].Levels != nil || hs[0].Total != pruneWeights {
		t.Errorf("all layers: levels %v, total %d", hs[0].Levels, hs[0].Total)
	}
	// The levels are the values the quantized weights of that channel take.
	m, _, _, err := trained.compressed(Setting{PruneRatio: 0.5, Bits: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	q := m.Layers[0].(*nn.Dense)
	for i := 0; i < q.In; i++ {
		w := float64(q.W.Value.At(i, h.LevelsChannel))
		if !slices.ContainsFunc(h.Levels, func(l float64) bool { return math.Abs(l-w) < 1e-6 }) {
			t.Errorf("channel %d weight %v is not one of the levels %v", h.LevelsChannel, w, h.Levels)
		}
	}

	s, err := trained.Spectrum("fc2", 3)
	if err != nil {
		t.Fatal(err)
	}
	sv, _ := lowrank.SingularValues(trained.Model.Layers[2].(*nn.Dense))
	var kept, total float64
	for i, v := range sv {
		total += v * v
		if i < 3 {
			kept += v * v
		}
	}
	if s.Layer != "fc2" || s.In != 32 || s.Out != 16 || len(s.Values) != 16 || s.MaxSavingRank != 10 || math.Abs(s.EnergyKept-kept/total) > 1e-9 {
		t.Errorf("spectrum %+v, want fc2 32×16, 16 values, saving up to 10, energy %v", s, kept/total)
	}
	if s0, _ := trained.Spectrum("fc2", 0); s0.EnergyKept != 1 || s0.Rank != 0 {
		t.Errorf("rank 0: %+v", s0)
	}
	if _, err := trained.Spectrum("fc2", 17); err == nil {
		t.Error("rank 17 of a 32×16 layer: no error")
	}
	if _, err := trained.Spectrum("relu1", 1); err == nil {
		t.Error("spectrum of a ReLU: no error")
	}
	// Apply's sizes are the model file's.
	stored, err := storeModel(m, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Row.SizeBytes != stored.size() {
		t.Errorf("Apply row size %d, its file %d", ev.Row.SizeBytes, stored.size())
	}
}

// TestPruneChosenGlobalOverFactors: a global prune stage ranks the factors
// of a factorized layer with the other layers it names.
func TestPruneChosenGlobalOverFactors(t *testing.T) {
	m := &nn.Sequential{}
	a := nn.NewDenseNoBias("fc1.A", 2, 2)
	b := nn.NewDenseNoBias("fc1.B", 2, 2)
	copy(a.W.Value.Data, []float32{1, -5, 3, 0.5})
	copy(b.W.Value.Data, []float32{-2, 6, 0.25, 4})
	m.Layers = []nn.Layer{&lowrank.Layer{LayerName: "fc1", First: a, Second: b, In: 2, Out: 2, Rank: 2}}
	st := StepSpec{Technique: "prune", Ratio: 0.5, Scope: "global", Layers: []string{"fc1"}}
	if err := pruneChosen(m, st, func(f float64) float64 { return f }, nil); err != nil {
		t.Fatal(err)
	}
	// The four smallest of |1, 5, 3, 0.5, 2, 6, 0.25, 4| go: 0.25, 0.5, 1, 2.
	if got, want := append(slices.Clone(a.W.Value.Data), b.W.Value.Data...), []float32{0, -5, 3, 0, 0, 6, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("pruned %v, want %v", got, want)
	}
	if _, err := expandNames(m, []string{"fc2"}); err == nil || !strings.Contains(err.Error(), "weight layers are fc1.A, fc1.B") {
		t.Errorf("unknown layer: %v", err)
	}
}
