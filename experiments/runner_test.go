package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/spec"

	"github.com/prunerlab/pruner-tui/experiments/results"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
)

func parseValid(t *testing.T, yaml string) spec.Spec {
	t.Helper()
	s, err := spec.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder is a Sink that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// token names an event for order checks; runs of StepEvents of one epoch
// collapse into one token ending in the last step seen.
func token(e Event) string {
	switch e := e.(type) {
	case StageEvent:
		if e.Detail == "" {
			return "stage " + string(e.Stage)
		}
		return "stage " + string(e.Stage) + ": " + e.Detail
	case StepEvent:
		return fmt.Sprintf("steps %s %d/%d ..%d/%d", e.Phase, e.Epoch, e.Epochs, e.Step, e.Steps)
	case EpochEvent:
		return fmt.Sprintf("epoch %s %d/%d", e.Phase, e.Epoch, e.Epochs)
	case LayersEvent:
		return "layers " + e.Phase
	case ResultEvent:
		return "result " + e.Row.Technique + " " + e.Row.Setting
	case BaselineEvent:
		return "baseline"
	case DoneEvent:
		return fmt.Sprintf("done %d rows err=%v", len(e.Report.Rows), e.Err)
	}
	return fmt.Sprintf("%T", e)
}

func tokens(events []Event) []string {
	var out []string
	for _, e := range events {
		tk := token(e)
		if _, step := e.(StepEvent); step && len(out) > 0 && strings.HasPrefix(out[len(out)-1], "steps ") {
			prev := out[len(out)-1]
			if prev[:strings.LastIndex(prev, " ..")] == tk[:strings.LastIndex(tk, " ..")] {
				out[len(out)-1] = tk
				continue
			}
		}
		out = append(out, tk)
	}
	return out
}

func TestRunEventOrder(t *testing.T) {
	sp := parseValid(t, validSpec)
	rec := &recorder{}
	report, err := Run(context.Background(), sp, Options{}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	// blobs: 120 training points in batches of 16 → 8 steps per epoch.
	want := []string{
		"stage loading data: blobs: 120 samples, 3 classes, 4-D",
		"stage building model: 4-8-3",
		"layers baseline",
		"stage training: epoch 1/2", "steps baseline 1/2 ..8/8", "epoch baseline 1/2",
		"stage training: epoch 2/2", "steps baseline 2/2 ..8/8", "epoch baseline 2/2",
		"baseline",
		"result dense fp32",
		"stage compressing: prune ratio=0.50 finetune=1",
		"layers prune ratio=0.50 finetune=1",
		"stage fine-tuning: prune ratio=0.50 finetune=1: epoch 1/1",
		"steps prune ratio=0.50 finetune=1 1/1 ..8/8",
		"epoch prune ratio=0.50 finetune=1 1/1",
		"stage evaluating: prune ratio=0.50 finetune=1",
		"layers prune ratio=0.50 finetune=1",
		"result prune ratio=0.50 finetune=1",
		"stage compressing: quantize bits=4",
		"layers quantize bits=4",
		"stage evaluating: quantize bits=4",
		"layers quantize bits=4",
		"result quantize bits=4",
		"stage compressing: lowrank rank=2@fc1",
		"layers lowrank rank=2@fc1",
		"stage evaluating: lowrank rank=2@fc1",
		"layers lowrank rank=2@fc1",
		"result lowrank rank=2@fc1",
		"stage done: 4 rows",
		"done 4 rows err=<nil>",
	}
	got := tokens(rec.events)
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(table) != 4 {
		t.Fatalf("%d rows, want 4", len(table))
	}
	done := rec.events[len(rec.events)-1].(DoneEvent)
	if !slices.Equal(done.Report.Rows, table) {
		t.Error("DoneEvent.Table differs from the returned table")
	}
	for _, e := range rec.events {
		if b, ok := e.(BaselineEvent); ok && b.Trained.Baseline != table[0] {
			t.Errorf("Trained.Baseline = %+v, want the first row %+v", b.Trained.Baseline, table[0])
		}
	}
	for _, r := range table {
		if r.Experiment != "tiny" || r.LatencyUsB1.Or(0) <= 0 || r.LatencyUsB256.Or(0) <= 0 || r.WallS <= 0 {
			t.Errorf("row %s %s: experiment %q, latency %v/%v, wall %v", r.Technique, r.Setting, r.Experiment, r.LatencyUsB1, r.LatencyUsB256, r.WallS)
		}
		if math.Abs(r.GapPP-(r.TrainAcc-r.TestAcc)) > 1e-9 || math.Abs(r.DeltaAccPP-(r.TestAcc-table[0].TestAcc)) > 1e-9 {
			t.Errorf("row %s %s: gap %v / delta %v inconsistent with the accuracies", r.Technique, r.Setting, r.GapPP, r.DeltaAccPP)
		}
	}
}

// TestRunRowSizes checks the size columns: every row's size_bytes is the
// length of its model file, written with --save (the dense baseline's as
// dense float32, the others compressed and Huffman-coded), and the file
// loads back into the very model the row scored.
func TestRunRowSizes(t *testing.T) {
	sp := parseValid(t, validSpec)
	rec := &recorder{}
	dir := t.TempDir()
	report, err := Run(context.Background(), sp, Options{SaveDir: dir}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	trained := baselineOf(rec.events)
	// Dense float32 file of the 4-8-3 model: 16-byte preamble, header,
	// (4·8 + 8 + 8·3 + 3)·4 = 268 bytes of weights and biases, 4-byte CRC.
	denseFile, err := modelfile.Size(trained.Model, modelfile.WriteOptions{Uncompressed: true})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		setting        string
		params, flops  int64
		nonzeroWeights int64 // weights only; biases are added below
	}{
		{"fp32", 67, 56, 56},
		// prune 0.5: both layers are 50% sparse, past the measured
		// crossover (0.48 for layers this small), so the inference plan
		// runs them sparse: 16 + 12 multiply-adds.
		{"ratio=0.50 finetune=1", 67, 16 + 12, 28},
		{"bits=4", 67, 56, -1},
		// rank 2: A 4×2 (no bias), B 2×8 + bias; out unchanged.
		{"rank=2@fc1", 8 + 16 + 8 + 27, 4*2 + 2*8 + 24, 8 + 16 + 24},
	}
	if len(table) != len(cases) {
		t.Fatalf("%d rows, want %d", len(table), len(cases))
	}
	for i, c := range cases {
		r := table[i]
		if r.Setting != c.setting {
			t.Fatalf("row %d setting %q, want %q", i, r.Setting, c.setting)
		}
		if r.ParamsTotal != c.params || r.FLOPs != c.flops {
			t.Errorf("%s: params %d flops %d, want %d %d", c.setting, r.ParamsTotal, r.FLOPs, c.params, c.flops)
		}
		// A ReLU unit that never fires keeps its bias at exactly 0, so
		// count the trained biases rather than assume 8 + 3.
		if biases := nonzeroBiases(trained.Model); c.nonzeroWeights >= 0 && r.ParamsNonzero != c.nonzeroWeights+biases {
			t.Errorf("%s: %d non-zero params, want %d weights + %d biases", c.setting, r.ParamsNonzero, c.nonzeroWeights, biases)
		}
		checkRowFileSize(t, dir, r, i, denseFile)
	}
	_, test, _ := loadData(sp, Options{})
	checkFilesScoreRows(t, dir, table, test)
	if table[0].SizeBytes != denseFile || table[0].CompressionRatio != 1 {
		t.Errorf("baseline: %d bytes, ratio %v; want the dense float32 file, %d bytes, ratio 1", table[0].SizeBytes, table[0].CompressionRatio, denseFile)
	}
	if _, err := os.Stat(filepath.Join(dir, RowFileStem(table[0], 0)+SafetensorsExt)); err != nil {
		t.Errorf("the baseline's safetensors: %v", err)
	}
	checkLayerSizes(t, dir, table, rec.events)
}

// checkRowFileSize checks that row i's size_bytes is its file's length,
// and its compression ratio the dense file's size over it.
func checkRowFileSize(t *testing.T, dir string, r results.Row, i int, denseFile int64) {
	t.Helper()
	path := filepath.Join(dir, RowFileStem(r, i)+ModelFileExt)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", r.Setting, err)
	}
	if r.SizeBytes != info.Size() {
		t.Errorf("%s: size_bytes %d, its file %s has %d", r.Setting, r.SizeBytes, filepath.Base(path), info.Size())
	}
	if want := float64(denseFile) / float64(r.SizeBytes); math.Abs(r.CompressionRatio-want) > 1e-12 {
		t.Errorf("%s: compression ratio %v, want %v", r.Setting, r.CompressionRatio, want)
	}
}

// checkLayerSizes checks each row's per-layer sizes (its last LayersEvent)
// are its layers' bytes in the file: they sum to the file less its header,
// preamble and checksum.
func checkLayerSizes(t *testing.T, dir string, table results.Table, events []Event) {
	t.Helper()
	layers := map[string][]nn.LayerStats{}
	for _, e := range events {
		if l, ok := e.(LayersEvent); ok {
			layers[l.Phase] = l.Layers
		}
	}
	for i, r := range table[1:] {
		var size int64
		for _, s := range layers[r.Technique+" "+r.Setting] {
			size += s.SizeBytes
		}
		sum := inspectRow(t, dir, table, i+1)
		if want := r.SizeBytes - sum.HeaderBytes - 20; size != want {
			t.Errorf("%s: layers sum to %d bytes, the file holds %d of layers", r.Setting, size, want)
		}
	}
}

func TestRunCancel(t *testing.T) {
	for _, c := range []struct {
		name     string
		phase    string // cancel on the first StepEvent of this phase
		wantRows int
	}{
		{"during baseline training", "baseline", 0},
		{"during fine-tuning", "prune ratio=0.50 finetune=1", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := parseValid(t, validSpec)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &recorder{}
			cancelledAt := -1
			sink := SinkFunc(func(e Event) {
				rec.Emit(e)
				if s, ok := e.(StepEvent); ok && cancelledAt < 0 && s.Phase == c.phase {
					cancelledAt = len(rec.events)
					cancel()
				}
			})
			report, err := Run(ctx, sp, Options{}, sink)
			table := report.Rows
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run error = %v, want context.Canceled", err)
			}
			if len(table) != c.wantRows {
				t.Errorf("%d rows, want %d", len(table), c.wantRows)
			}
			// Within one batch: the epoch's last StepEvent (always sent)
			// never comes, nor anything else but the end.
			after := tokens(rec.events[cancelledAt:])
			want := []string{"stage cancelled: " + fmt.Sprint(c.wantRows) + " rows kept", fmt.Sprintf("done %d rows err=context canceled", c.wantRows)}
			if !slices.Equal(after, want) {
				t.Errorf("events after cancelling: %q, want %q", after, want)
			}
		})
	}
}

func TestRunInvalidSpecFails(t *testing.T) {
	sp := parseValid(t, validSpec)
	sp.Train.Epochs = 0
	rec := &recorder{}
	_, err := Run(context.Background(), sp, Options{}, rec)
	if err == nil || !strings.Contains(err.Error(), "train.epochs: must be in [1, 1000], got 0") {
		t.Fatalf("error = %v", err)
	}
	got := tokens(rec.events)
	if len(got) != 2 || !strings.HasPrefix(got[0], "stage failed: test.yaml: train.epochs") || !strings.HasPrefix(got[1], "done 0 rows err=") {
		t.Errorf("events = %q", got)
	}
}

// TestRunDeterministic runs a shrunken quickstart twice: every column but
// latency and wall time must match exactly.
func TestRunDeterministic(t *testing.T) {
	sp, err := spec.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	// Fewer points and epochs keep the test fast under -race; the flow and
	// every step of the preset stay.
	sp.Dataset.Samples, sp.Train.Epochs = 2000, 10
	var tables [2]results.Table
	for i := range tables {
		report, err := Run(context.Background(), sp, Options{}, nil)
		tables[i] = report.Rows
		if err != nil {
			t.Fatal(err)
		}
		for j := range tables[i] {
			tables[i][j].LatencyUsB1, tables[i][j].LatencyUsB256, tables[i][j].WallS = results.Measured{}, results.Measured{}, 0
		}
	}
	if len(tables[0]) != 1+len(sp.Compress) {
		t.Fatalf("%d rows, want %d", len(tables[0]), 1+len(sp.Compress))
	}
	for j := range tables[0] {
		if tables[0][j] != tables[1][j] {
			t.Errorf("row %d differs:\n%+v\n%+v", j, tables[0][j], tables[1][j])
		}
	}
	// The quickstart baseline must learn the spirals, or its rows teach
	// nothing.
	if acc := tables[0][0].TestAcc; acc < 90 {
		t.Errorf("quickstart baseline test accuracy %.2f%%, want ≥ 90%%", acc)
	}
}

// trainedTiny trains a 16-32-3 MLP on blobs and returns its Trained.
func trainedTiny(t *testing.T) *Trained {
	t.Helper()
	return trainedOn(t, `name: wide
dataset: {name: blobs, classes: 3, dim: 16, samples: 300}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: sgd, lr: 0.05, momentum: 0.9, epochs: 2, batch: 32}
`)
}

// trainedOn runs the spec in text and returns its trained baseline.
func trainedOn(t *testing.T, text string) *Trained {
	t.Helper()
	sp := parseValid(t, text)
	var trained *Trained
	_, err := Run(context.Background(), sp, Options{}, SinkFunc(func(e Event) {
		if b, ok := e.(BaselineEvent); ok {
			trained = b.Trained
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return trained
}

func nonzeroBiases(m *nn.Sequential) int64 {
	n := 0
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			n += d.B.NonZero()
		}
	}
	return int64(n)
}

func snapshot(m *nn.Sequential) []float32 {
	var all []float32
	for _, p := range m.Params() {
		all = append(all, p.Value.Data...)
		all = append(all, p.Mask...)
	}
	return all
}

func TestApply(t *testing.T) {
	tr := trainedTiny(t)
	before := snapshot(tr.Model)
	biases := nonzeroBiases(tr.Model)

	ev, err := tr.Apply(context.Background(), Setting{PruneRatio: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	// Per layer round(0.9·n) weights go: fc1 keeps 512−461 = 51, fc2 keeps
	// 96−86 = 10, so 61 of 608 weights (≈ 10%) stay.
	if got := ev.Row.ParamsNonzero - biases; got != 61 {
		t.Errorf("%d non-zero weights after pruning 90%%, want 61 of 608", got)
	}
	if ev.Row.Technique != "prune" || ev.Row.Setting != "ratio=0.90" || ev.Row.Experiment != "wide" {
		t.Errorf("row names: %q %q %q", ev.Row.Experiment, ev.Row.Technique, ev.Row.Setting)
	}
	if _, measured := ev.Row.LatencyUsB1.Value(); measured || ev.Row.TestAcc <= 0 {
		t.Errorf("Apply row: latency %v (want none measured), test acc %v", ev.Row.LatencyUsB1, ev.Row.TestAcc)
	}
	if !slices.Equal(before, snapshot(tr.Model)) {
		t.Error("Apply changed the Trained model")
	}
	if ev2, _ := tr.Apply(context.Background(), Setting{PruneRatio: 0.9}); ev2.Row.TestAcc != ev.Row.TestAcc || ev2.Row.ParamsNonzero != ev.Row.ParamsNonzero {
		t.Error("Apply is not repeatable")
	}

	// All knobs off: the baseline's numbers (train accuracy over the same
	// ≤10,000 examples, which here is the whole set).
	dense, err := tr.Apply(context.Background(), Setting{})
	if err != nil {
		t.Fatal(err)
	}
	if dense.Row.Setting != "dense" || dense.Row.TestAcc != tr.Baseline.TestAcc || dense.Row.TrainAcc != tr.Baseline.TrainAcc ||
		dense.Row.SizeBytes != tr.Baseline.SizeBytes || dense.Row.CompressionRatio != 1 || dense.Row.DeltaAccPP != 0 {
		t.Errorf("dense Apply row %+v differs from the baseline %+v", dense.Row, tr.Baseline)
	}

	// Every knob: factorize fc1 at rank 4, prune and quantize the factors too.
	all, err := tr.Apply(context.Background(), Setting{PruneRatio: 0.5, Bits: 4, Rank: 4})
	if err != nil {
		t.Fatal(err)
	}
	if all.Setting.RankLayer != "fc1" || all.Row.Setting != "ratio=0.50 bits=4 rank=4@fc1" || all.Row.Technique != "prune+quantize+lowrank" {
		t.Errorf("setting %+v, row %q %q", all.Setting, all.Row.Technique, all.Row.Setting)
	}
	if all.Layers[0].Kind != "lowrank" || all.Layers[0].Rank != 4 || all.Layers[0].Bits != 4 {
		t.Errorf("first layer %+v, want a 4-bit rank-4 lowrank layer", all.Layers[0])
	}
	// fc1 as A 16×4 and B 4×32, each half pruned: 32 + 64 weights kept.
	wantNZ := int64(32+64+48) + biases
	if all.Row.ParamsNonzero > wantNZ {
		t.Errorf("%d non-zero params, want at most %d", all.Row.ParamsNonzero, wantNZ)
	}
	if !slices.Equal(before, snapshot(tr.Model)) {
		t.Error("Apply changed the Trained model")
	}

	if _, err := tr.Apply(context.Background(), Setting{Bits: 9}); err == nil {
		t.Error("Apply with 9 bits: no error")
	}
}

func TestApplyConcurrent(t *testing.T) {
	tr := trainedTiny(t)
	var wg sync.WaitGroup
	accs := make([]float64, 4)
	for i := range accs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := tr.Apply(context.Background(), Setting{PruneRatio: 0.8, Bits: 2})
			if err != nil {
				t.Error(err)
			}
			accs[i] = ev.Row.TestAcc
		}()
	}
	wg.Wait()
	for _, a := range accs[1:] {
		if a != accs[0] {
			t.Errorf("concurrent Apply gave different accuracies %v", accs)
		}
	}
}

func TestFineTune(t *testing.T) {
	tr := trainedTiny(t)
	rec := &recorder{}
	ev, err := tr.FineTune(context.Background(), Setting{PruneRatio: 0.9, Bits: 4}, 2, rec)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Row.Setting != "ratio=0.90 bits=4 finetune=2" || ev.Row.LatencyUsB1.Or(0) <= 0 {
		t.Errorf("row %+v", ev.Row)
	}
	epochs := 0
	for _, e := range rec.events {
		if ep, ok := e.(EpochEvent); ok {
			epochs++
			if ep.Phase != "prune+quantize ratio=0.90 bits=4 finetune=2" || ep.Epochs != 2 {
				t.Errorf("epoch event %+v", ep)
			}
		}
	}
	if epochs != 2 {
		t.Errorf("%d epoch events, want 2", epochs)
	}
	// The masks hold through fine-tuning, and re-quantizing keeps the
	// layers at 4 bits.
	for _, l := range ev.Layers {
		if l.Kind == "dense" && l.Bits != 4 {
			t.Errorf("layer %s at %d bits after fine-tuning", l.Name, l.Bits)
		}
	}
	if nz := ev.Row.ParamsNonzero; nz > 61+35 {
		t.Errorf("%d non-zero params after fine-tuning a 90%% pruned model, want ≤ 96", nz)
	}
	if _, err := tr.FineTune(context.Background(), Setting{}, -1, nil); err == nil {
		t.Error("FineTune with -1 epochs: no error")
	}
}

func TestSettingValidate(t *testing.T) {
	m := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDenseNoBias("fc1", 20, 6), nn.NewReLU("relu1"), nn.NewDenseNoBias("fc2", 6, 3),
	}}
	cases := []struct {
		s    Setting
		want string // "" = valid
	}{
		{Setting{}, ""},
		{Setting{PruneRatio: 0.99, Bits: 8, Rank: 6}, ""},
		{Setting{Bits: 32, Rank: 3, RankLayer: "fc2"}, ""},
		{Setting{Bits: 1, RankLayer: "nonsense"}, ""}, // rank off: the layer is not used
		{Setting{PruneRatio: -0.1}, "prune ratio must be in [0, 0.99], got -0.1"},
		{Setting{PruneRatio: 1}, "prune ratio must be in [0, 0.99], got 1"},
		{Setting{PruneRatio: math.NaN()}, "prune ratio must be in [0, 0.99], got NaN"},
		{Setting{Bits: 9}, "bit width must be in [1, 8], or 0/32 for float32, got 9"},
		{Setting{Bits: -1}, "bit width must be in [1, 8], or 0/32 for float32, got -1"},
		{Setting{Rank: -2}, "rank must be ≥ 0 (0 = no factorization), got -2"},
		{Setting{Rank: 7}, "rank must be in [0, 6] for fc1 (20→6), got 7"},
		{Setting{Rank: 4, RankLayer: "fc2"}, "rank must be in [0, 3] for fc2 (6→3), got 4"},
		{Setting{Rank: 2, RankLayer: "relu1"}, `rank layer must name a dense layer or a convolution (fc1, fc2), got "relu1"`},
	}
	for _, c := range cases {
		err := c.s.Validate(m)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c.s, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%+v: error %v, want %q", c.s, err, c.want)
		}
	}
	if err := (Setting{Rank: 1000}).Validate(nil); err != nil {
		t.Errorf("without a model the rank is only checked for sign: %v", err)
	}
}

func TestSettingString(t *testing.T) {
	cases := map[string]Setting{
		"dense":                         {},
		"dense ":                        {Bits: 32},
		"ratio=0.90":                    {PruneRatio: 0.9},
		"bits=4":                        {Bits: 4},
		"rank=20@fc1":                   {Rank: 20, RankLayer: "fc1"},
		"rank=5":                        {Rank: 5},
		"ratio=0.90 bits=4 rank=20@fc1": {PruneRatio: 0.9, Bits: 4, Rank: 20, RankLayer: "fc1"},
	}
	for want, s := range cases {
		if got := s.String(); got != strings.TrimSpace(want) {
			t.Errorf("%+v.String() = %q, want %q", s, got, want)
		}
	}
}

// The factor type the runner reaches into must stay lowrank.Layer.
var _ nn.Layer = (*lowrank.Layer)(nil)

// lrRecorder is an SGD that records the rate of every step.
type lrRecorder struct {
	nn.SGD
	rates []float64
}

func (o *lrRecorder) Step(params []*nn.Param) {
	o.rates = append(o.rates, o.LR)
	o.SGD.Step(params)
}

func TestFitAnnealsFineTuningRate(t *testing.T) {
	sp := parseValid(t, validSpec)
	m, err := BuildModel(sp)
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := loadData(sp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	opt := &lrRecorder{SGD: *nn.NewSGD(0.4, 0)}
	// 120 examples in batches of 40: 3 steps an epoch, 6 in all, so the
	// rate falls 0.4·(1 − k/6) for step k = 0..5.
	_, err = fit(context.Background(), reporter{}, fitJob{
		phase: "test", stage: StageFineTuning, model: m, opt: opt, annealFrom: 0.4,
		epochs: 2, batch: 40, rng: rand.New(rand.NewPCG(1, 2)), train: train, test: test,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.4, 0.4 * 5 / 6, 0.4 * 4 / 6, 0.4 * 3 / 6, 0.4 * 2 / 6, 0.4 * 1 / 6}
	if len(opt.rates) != len(want) {
		t.Fatalf("rates %v, want %v", opt.rates, want)
	}
	for i := range want {
		if math.Abs(opt.rates[i]-want[i]) > 1e-12 {
			t.Errorf("step %d rate %v, want %v", i, opt.rates[i], want[i])
		}
	}
}

// TestPreviewMatchesApply: Preview's first stage has Apply's test
// accuracy, and its two stages end where Apply does.
func TestPreviewMatchesApply(t *testing.T) {
	tr := trainedTiny(t)
	for _, s := range []Setting{{PruneRatio: 0.9}, {Bits: 4}, {Rank: 2}} {
		want, err := tr.Apply(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		first, sized, err := tr.Preview(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if first.Row.TestAcc != want.Row.TestAcc || !first.TrainPending {
			t.Errorf("%v: preview's first test accuracy %v (train pending %v), Apply %v", s, first.Row.TestAcc, first.TrainPending, want.Row.TestAcc)
		}
		got, err := sized()
		if err != nil {
			t.Fatal(err)
		}
		got.Row.WallS, want.Row.WallS = 0, 0
		if got.Row != want.Row {
			t.Errorf("%v: sized preview row\n%+v\nApply row\n%+v", s, got.Row, want.Row)
		}
		for i := range want.Layers {
			if got.Layers[i].SizeBytes != want.Layers[i].SizeBytes {
				t.Errorf("%v: layer %s: %d bytes, Apply says %d", s, want.Layers[i].Name, got.Layers[i].SizeBytes, want.Layers[i].SizeBytes)
			}
		}
	}
}

// TestPreviewScoresASubsetFirst: on a model over the preview's budget the
// first answer is the accuracy of the first 1,024 test images, and the
// second has Apply's row to the bit.
func TestPreviewScoresASubsetFirst(t *testing.T) {
	tr := trainedOn(t, `name: many
dataset: {name: blobs, classes: 3, dim: 16, samples: 12000}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: sgd, lr: 0.05, momentum: 0.9, epochs: 1, batch: 32}
`)
	n := tr.Test.Len()
	if n <= 2*evalChunk {
		t.Fatalf("test set of %d examples: too few for a subset", n)
	}
	flops := tr.Baseline.FLOPs
	defer func(b float64) { previewFLOPs = b }(previewFLOPs)
	previewFLOPs = float64(flops) * 1500 // room for 1,500 images: the first 1,024 scored
	s := Setting{PruneRatio: 0.7}
	want, err := tr.Apply(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	first, sized, err := tr.Preview(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if first.TestSubset != evalChunk || !first.TrainPending {
		t.Errorf("first answer over %d images (train pending %v), want %d", first.TestSubset, first.TrainPending, evalChunk)
	}
	if c := first.Row.TestAcc * evalChunk / 100; math.Abs(c-math.Round(c)) > 1e-9 {
		t.Errorf("first test accuracy %v%% is no count out of %d", first.Row.TestAcc, evalChunk)
	}
	got, err := sized()
	if err != nil {
		t.Fatal(err)
	}
	got.Row.WallS, want.Row.WallS = 0, 0
	if got.Row != want.Row || got.TestSubset != 0 || got.TrainPending {
		t.Errorf("sized preview row\n%+v (subset %d)\nApply row\n%+v", got.Row, got.TestSubset, want.Row)
	}
	previewFLOPs = 3e9
	if got := previewImages(266_200, 10_000); got != 10_000 {
		t.Errorf("LeNet-300-100 (266 thousand multiply-adds): first %d images, want all 10,000", got)
	}
	for _, c := range []struct {
		flops int64
		n     int
		want  int
	}{{2_293_000, 10_000, 1024}, {4_600_000, 10_000, 1024}, {1e9, 10_000, 1024}, {4_600_000, 500, 500}, {1_250_000, 10_000, 2048}, {0, 77, 77}} {
		if got := previewImages(c.flops, c.n); got != c.want {
			t.Errorf("previewImages(%d, %d) = %d, want %d", c.flops, c.n, got, c.want)
		}
	}
}
