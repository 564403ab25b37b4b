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
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// TestPipelineRows: a pipeline adds a row per stage, in order, each stage
// working on the model the stage before left: the sparsity stays through
// k-means and its fine-tuning, the codebook holds at most k values per
// layer, Huffman coding only shrinks the file, and wall_s adds up.
func TestPipelineRows(t *testing.T) {
	sp := pruneSpec(t, `  - name: dc
    pipeline:
      - {technique: prune, ratio: 0.75, scope: global}
      - {technique: finetune, epochs: 1}
      - {technique: kmeans, clusters: 4}
      - {technique: finetune, epochs: 1}
      - {technique: huffman}
`)
	dir := t.TempDir()
	rec := &recorder{}
	report, err := Run(context.Background(), sp, Options{SaveDir: dir}, rec)
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
	sp := pruneSpec(t, `  - pipeline:
      - {technique: lowrank, layer: fc1, rank: 4}
      - {technique: prune, ratio: 0.5, layers: [fc1.A]}
      - {technique: quantize, bits: 3, layers: [fc1], qat: true, finetune_epochs: 1}
`)
	dir := t.TempDir()
	report, err := Run(context.Background(), sp, Options{SaveDir: dir}, nil)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, table, []string{
		"lowrank | rank=4@fc1",
		"+prune | ratio=0.50 layers=fc1.A",
		"+quantize | bits=3 qat layers=fc1 finetune=1",
	})
	m, err := loadModel(t, filepath.Join(dir, RowFileStem(table[3], 3)+ModelFileExt))
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
	sp := pruneSpec(t, `  - {technique: quantize, bits: 3, mode: asymmetric, granularity: tensor}
  - {technique: quantize, bits: 1, qat: true, finetune_epochs: 2}
  - {technique: quantize, bits: 4, activation_bits: 8, calibration_samples: 64}
  - {technique: kmeans, clusters: 8, clusters_per_layer: {fc3: 2}, init: density, finetune_epochs: 1}
`)
	dir := t.TempDir()
	rec := &recorder{}
	report, err := Run(context.Background(), sp, Options{SaveDir: dir}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	checkQuantizedFiles(t, dir, table)
	if table[2].TestAcc < 60 {
		t.Errorf("1-bit QAT row scores %.2f%%: training through the quantizer should beat chance (33%%) by far", table[2].TestAcc)
	}
	// The first row's model, rebuilt from the baseline, and its file give
	// the same prediction on every test example, run as floats or on the
	// inference plan's kernels.
	_, test, _ := loadData(sp, Options{})
	want := baselineOf(rec.events).Model.Clone()
	if _, err := quant.QuantizeModel(want, quant.Options{Bits: 3, Asymmetric: true, PerTensor: true}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := loadModel(t, filepath.Join(dir, RowFileStem(table[1], 1)+ModelFileExt))
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
	checkFilesScoreRows(t, dir, table, test)
}

// checkQuantizedFiles checks what TestQuantizeSteps' model files store:
// row 1 asymmetric 3-bit per-tensor codes, row 2 one bit, row 3 an
// activation quantizer per weight layer, row 4 codebooks.
func checkQuantizedFiles(t *testing.T, dir string, table results.Table) {
	t.Helper()
	for _, ts := range tensorsOf(inspectRow(t, dir, table, 1)) {
		if ts.Encoding != "uniform" || ts.Groups != "tensor" || ts.CodeBits > 3 {
			t.Errorf("asymmetric 3-bit per-tensor: %s stored %s/%s/%d bits", ts.Name, ts.Encoding, ts.Groups, ts.CodeBits)
		}
	}
	for _, ts := range tensorsOf(inspectRow(t, dir, table, 2)) {
		if ts.Bits != 1 || ts.Encoding == "f32" {
			t.Errorf("1-bit QAT: %s stored at %d bits as %s", ts.Name, ts.Bits, ts.Encoding)
		}
	}
	act := 0
	for _, l := range inspectRow(t, dir, table, 3).Layers {
		if l.Kind == "actquant" {
			act++
		}
	}
	if act != 3 {
		t.Errorf("activation quantization: %d activation quantizers in the file, want one per weight layer (3)", act)
	}
	for _, ts := range tensorsOf(inspectRow(t, dir, table, 4)) {
		want := 8
		if ts.Name == "fc3" {
			want = 2
		}
		if ts.Encoding != "codebook" || ts.Centroids > want {
			t.Errorf("kmeans: %s stored %s with %d centroids, want a codebook of ≤ %d", ts.Name, ts.Encoding, ts.Centroids, want)
		}
	}
}

// TestBitSensitivityAndBitsFrom: a bit-sensitivity step scores each layer
// at each width without adding rows; bits_from then gives each layer the
// fewest bits within max_loss_pp, as PickBits says of the very table.
func TestBitSensitivityAndBitsFrom(t *testing.T) {
	sp := pruneSpec(t, `  - {technique: bit-sensitivity, bit_widths: [8, 2, 1], layers: [fc2, fc1]}
  - {technique: quantize, bits: 8, bits_from: sensitivity, max_loss_pp: 2}
`)
	rec := &recorder{}
	report, err := Run(context.Background(), sp, Options{}, rec)
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
	sp := pruneSpec(t, `  - {technique: lowrank, layer: fc1, energy: 0.6}
  - {technique: lowrank, ranks: {fc1: 3, fc2: 2}}
  - {technique: lowrank, layer: fc2, rank: 3, randomized: true}
`)
	rec := &recorder{}
	report, err := Run(context.Background(), sp, Options{}, rec)
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
	sp := pruneSpec(t, "  - {technique: lowrank, layer: fc3, energy: 1}\n")
	_, err := Run(context.Background(), sp, Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "saves no parameters for a 16→3 layer (ranks up to 2 do)") {
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
	sp := pruneSpec(t, "  - {technique: quantize, bits: 8}\n")
	var trained *Trained
	if _, err := Run(context.Background(), sp, Options{}, SinkFunc(func(e Event) {
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
	ms, _, _, err := trained.compressed(Setting{PruneRatio: 0.5, Bits: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	m := ms.m
	q := m.Layers[0].(*nn.Dense)
	for i := 0; i < q.In; i++ {
		w := float64(q.W.Value.At(i, h.LevelsChannel))
		if !slices.ContainsFunc(h.Levels, func(l float64) bool { return math.Abs(l-w) < 1e-6 }) {
			t.Errorf("channel %d weight %v is not one of the levels %v", h.LevelsChannel, w, h.Levels)
		}
	}
	// Apply's sizes are the model file's.
	stored, err := storeModel(m, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Row.SizeBytes != stored.size() {
		t.Errorf("Apply row size %d, its file %d", ev.Row.SizeBytes, stored.size())
	}
	checkSpectrum(t, trained)
}

// checkSpectrum checks the rank knob's view of fc2: its singular values
// and the share of Σσ² a cut at rank 3 keeps, worked out from the SVD.
func checkSpectrum(t *testing.T, trained *Trained) {
	t.Helper()
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
}

// TestWeightPrunerGlobalOverFactors: a global prune stage ranks the
// factors of a factorized layer with the other layers it names.
func TestWeightPrunerGlobalOverFactors(t *testing.T) {
	m := &nn.Sequential{}
	a := nn.NewDenseNoBias("fc1.A", 2, 2)
	b := nn.NewDenseNoBias("fc1.B", 2, 2)
	copy(a.W.Value.Data, []float32{1, -5, 3, 0.5})
	copy(b.W.Value.Data, []float32{-2, 6, 0.25, 4})
	m.Layers = []nn.Layer{&lowrank.Layer{LayerName: "fc1", First: a, Second: b, In: 2, Out: 2, Rank: 2}}
	p := weightPruner{ratio: 0.5, layers: []string{"fc1"}, opts: prune.Options{Scope: prune.ScopeGlobal}}
	if err := p.prune(m, identity); err != nil {
		t.Fatal(err)
	}
	// The four smallest of |1, 5, 3, 0.5, 2, 6, 0.25, 4| go: 0.25, 0.5, 1, 2.
	if got, want := append(slices.Clone(a.W.Value.Data), b.W.Value.Data...), []float32{0, -5, 3, 0, 0, 6, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("pruned %v, want %v", got, want)
	}
	p.layers = []string{"fc2"}
	if err := p.prune(m, identity); err == nil || !strings.Contains(err.Error(), "fc1.A, fc1.B") {
		t.Errorf("unknown layer: %v", err)
	}
}
