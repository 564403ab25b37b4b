package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/prunerlab/pruner-tui/core/bench"
	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// Options tune how a run finds its inputs; they never change its results.
type Options struct {
	DataDir string // the directory holding MNIST (--data); "" searches the usual places
	SaveDir string // write each row's model file here (--save); "" writes none
}

const (
	// quickTrainLimit bounds the training examples scored for an epoch's
	// TrainAcc and for Trained.Apply's train accuracy: the first 10,000.
	quickTrainLimit = 10000
	// stepEventInterval coalesces StepEvents to at most ~10 a second.
	stepEventInterval = 100 * time.Millisecond
	evalChunk         = 1024 // rows per cancellation check when evaluating
	evalBatch         = 256
)

// Run runs spec: load data → build model → train the baseline → for each
// compression step: copy the baseline, compress, fine-tune, evaluate. It
// reports events to sink (nil discards them) in this order:
//
//	StageEvent(loading) → StageEvent(building) → LayersEvent(baseline)
//	→ per epoch: StageEvent(training, "epoch e/E"), StepEvents, EpochEvent
//	→ BaselineEvent → ResultEvent(technique "dense", setting "fp32")
//	→ per step: StageEvent(compressing) → LayersEvent → [per fine-tuning
//	  epoch: StageEvent(fine-tuning), StepEvents, EpochEvent]
//	  → StageEvent(evaluating) → ResultEvent
//	→ StageEvent(done) → DoneEvent
//
// and returns the table. Cancelling ctx stops it within one batch: it then
// emits StageEvent(cancelled) and DoneEvent{Err: ctx.Err()} with the rows
// made so far, and returns them with ctx.Err(). Any other failure emits
// StageEvent(failed) and DoneEvent{Err}.
//
// Rows: train_acc is over the whole training set used, test_acc over the
// whole test set; latencies are medians of repeated forward passes; wall_s
// is the baseline's training time, or a step's compress + fine-tune time.
// The same spec gives the same table, apart from latencies and wall_s.
func Run(ctx context.Context, spec Spec, opts Options, sink Sink) (results.Report, error) {
	if sink == nil {
		sink = SinkFunc(func(Event) {})
	}
	r := &runner{reporter: reporter{sink: sink, start: time.Now()}, ctx: ctx}
	err := r.runSafely(spec, opts)
	rows := len(r.report.Rows)
	switch {
	case err == nil:
		r.stage(StageDone, fmt.Sprintf("%d rows", rows))
	case ctx.Err() != nil:
		err = ctx.Err()
		r.stage(StageCancelled, fmt.Sprintf("%d rows kept", rows))
	default:
		r.stage(StageFailed, err.Error())
	}
	sink.Emit(DoneEvent{Report: r.report.Clone(), Err: err, Elapsed: time.Since(r.start)})
	return r.report.Clone(), err
}

// reporter sends events stamped with the time since start.
type reporter struct {
	sink  Sink
	start time.Time
}

func (r reporter) emit(e Event) {
	if r.sink != nil {
		r.sink.Emit(e)
	}
}

func (r reporter) stage(s Stage, detail string) {
	r.emit(StageEvent{Stage: s, Detail: detail, Elapsed: time.Since(r.start)})
}

type runner struct {
	reporter
	ctx    context.Context
	report results.Report // the rows and sensitivity points so far

	snapshots   map[int]prune.Weights       // baseline weights after N epochs (0: at init), for lottery rewinding
	sensitivity map[int]results.Sensitivity // by compress index, for ratios_from
	bitSens     map[int]results.Sensitivity // by compress index, for bits_from
	saveDir     string                      // --save: where rows' model files go
}

// stepEnv is what a compression step works from.
type stepEnv struct {
	spec        Spec
	index       int // in spec.Compress
	st          StepSpec
	baseline    *nn.Sequential // the trained dense model: clone it, never change it
	train, test *data.Set
	base        results.Row // the dense baseline's row
}

// runSafely turns a panic in the numerics into an error, so a bad model
// never takes the terminal down with it.
func (r *runner) runSafely(spec Spec, opts Options) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return r.run(spec, opts)
}

func (r *runner) run(spec Spec, opts Options) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	spec = spec.resolved()
	if err := checkSaveDir(opts.SaveDir); err != nil {
		return err
	}
	r.saveDir = opts.SaveDir
	r.stage(StageLoading, describeDataset(spec.Dataset))
	train, test, err := loadData(spec, opts)
	if err != nil {
		return err
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}

	r.stage(StageBuilding, spec.describeModel())
	model, err := spec.BuildModel()
	if err != nil {
		return err
	}
	r.emit(LayersEvent{Phase: "baseline", Layers: model.Stats()})

	// Lottery steps rewind to the weights at initialization or after a few
	// epochs of this very training: keep those snapshots.
	r.snapshots = map[int]prune.Weights{}
	rewindTo := map[int]bool{}
	for _, st := range spec.Compress {
		if st.Technique == "prune" && st.Schedule == "lottery" {
			rewindTo[st.RewindEpoch] = true
		}
	}
	if rewindTo[0] {
		r.snapshots[0] = prune.Snapshot(model)
	}
	epochsDone := 0
	trainStart := time.Now()
	last, err := fit(r.ctx, r.reporter, fitJob{
		phase: "baseline", stage: StageTraining,
		model: model, opt: newOptimizer(spec.Train, spec.Train.LR),
		epochs: spec.Train.Epochs, batch: spec.Train.Batch,
		lrAt: func(epoch int) float64 { return scheduledLR(spec.Train, epoch) },
		rng:  rand.New(rand.NewPCG(spec.Seed, streamShuffle)),
		afterEpoch: func() error {
			epochsDone++
			if rewindTo[epochsDone] {
				r.snapshots[epochsDone] = prune.Snapshot(model)
			}
			return nil
		},
		train: train, test: test,
	})
	if err != nil {
		return err
	}
	wall := time.Since(trainStart)
	_, trainAcc, err := evaluate(r.ctx, model, train, 0)
	if err != nil {
		return err
	}
	// The baseline's file is dense float32: what compression ratios
	// divide.
	stored, err := storeModel(model, true, false)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	run := model.Clone()
	run.PrepareInference()
	base := newRow(spec.Name, "dense", "fp32", run, stored.size(), trainAcc, last.TestAcc, 0)
	base.SetStored(stored.size(), stored.size())
	base.DeltaAccPP = 0
	base.WallS = wall.Seconds()
	if base.LatencyUsB1, base.LatencyUsB256, err = measureLatency(r.ctx, run, test); err != nil {
		return err
	}
	r.emit(BaselineEvent{Trained: &Trained{Spec: spec, Model: model.Clone(), Train: train, Test: test, Baseline: base}})
	if err := r.saveRow(base, stored, model); err != nil {
		return err
	}
	r.addRow(base)

	for i, st := range spec.Compress {
		env := stepEnv{spec: spec, index: i, st: st, baseline: model, train: train, test: test, base: base}
		if err := r.runStep(env); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) addRow(row results.Row) {
	r.report.Rows = append(r.report.Rows, row)
	r.emit(ResultEvent{Row: row})
}

// runStep runs compression step env.st and adds its rows: one for a
// one-shot step, one per target or round for the others, none for a
// sensitivity analysis.
func (r *runner) runStep(env stepEnv) error {
	st := env.st
	switch st.Technique {
	case "sensitivity":
		return r.runSensitivity(env)
	case techniqueBitSensitivity:
		return r.runBitSensitivity(env)
	case techniquePipeline:
		return r.runPipeline(env)
	case "quantize", "lowrank", techniqueKMeans:
		return r.runSingle(env)
	}
	plan, err := r.newPrunePlan(env)
	if err != nil {
		return fmt.Errorf("%s: %w", st.Phase(), err)
	}
	switch {
	case st.Schedule == "gradual":
		return r.runGradual(env, plan)
	case st.Schedule == "iterative":
		return r.runIterative(env, plan)
	case st.Schedule == "lottery":
		return r.runLottery(env, plan)
	case st.Budget.set():
		return r.runBudget(env)
	}
	return r.runPruneOneShot(env, plan)
}

// fineTune trains m for epochs epochs with a fresh copy of the training
// optimizer, its rate falling linearly from the step's finetune_lr to 0.
// stream tells apart the fine-tunings of one step (rounds, targets).
func (r *runner) fineTune(env stepEnv, phase string, m *nn.Sequential, epochs int, stream uint64, afterEpoch func() error) error {
	if epochs <= 0 {
		return nil
	}
	st := env.st
	_, err := fit(r.ctx, r.reporter, fitJob{
		phase: phase, stage: StageFineTuning,
		model: m, opt: newOptimizer(env.spec.Train, st.FinetuneLR), annealFrom: st.FinetuneLR,
		epochs: epochs, batch: env.spec.Train.Batch,
		rng:        rand.New(rand.NewPCG(env.spec.Seed, streamFineTune+uint64(env.index)+stream<<32)),
		afterEpoch: afterEpoch,
		train:      env.train, test: env.test,
	})
	return err
}

// score evaluates m on the whole training and test sets, builds its
// inference plan (so the FLOPs and latency columns are those of the
// sparse or int8 form it runs as) and adds its row, its size that of its
// Huffman-coded model file (see scoreWith).
func (r *runner) score(env stepEnv, technique, setting string, m *nn.Sequential, wall time.Duration) error {
	return r.scoreWith(env, technique, setting, m, wall, true)
}

// Phase names the step in events: technique and setting, e.g.
// "prune ratio=0.90".
func (st StepSpec) Phase() string { return st.rowTechnique() + " " + st.Setting() }

// Setting is the step's setting column, e.g. "ratio=0.90 scope=global
// finetune=2" or "rank=20@fc1". A step that makes several rows (targets,
// rounds) says what it does as a whole: "rounds=5 ratio=0.92 finetune=2";
// each row's setting names its target or round.
func (st StepSpec) Setting() string {
	var parts []string
	switch st.Technique {
	case "prune":
		return st.pruneSetting(st.pruneAmount())
	case "sensitivity":
		return st.sensitivitySetting()
	case "quantize":
		return st.quantizeSetting(st.BitsPerLayer)
	case "lowrank":
		return st.lowrankSetting(nil)
	case techniqueKMeans:
		return st.kmeansSetting()
	case techniqueBitSensitivity:
		return st.bitSensitivitySetting()
	case techniquePipeline:
		return st.pipelineSetting()
	case techniqueFinetune:
		return fmt.Sprintf("epochs=%d", st.Epochs)
	case techniqueHuffman:
		return "codes+gaps"
	}
	if len(st.Layers) > 0 {
		parts = append(parts, "layers="+strings.Join(st.Layers, ","))
	}
	if st.FinetuneEpochs > 0 {
		parts = append(parts, fmt.Sprintf("finetune=%d", st.FinetuneEpochs))
	}
	return strings.Join(parts, " ")
}

// quantizes reports whether bits asks for quantization (1..8); 0 and 32
// keep float32.
func quantizes(bits int) bool { return bits >= 1 && bits <= maxQuantizeBits }

// denseLayerNames lists m's dense layers (factor layers included).
func denseLayerNames(m *nn.Sequential) []string {
	var names []string
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			names = append(names, d.LayerName)
		}
	}
	return names
}

// newRow fills a result row from a model and its accuracies (fractions).
// denseBytes is the dense fp32 baseline's size; baseTestAcc its test
// accuracy in percent.
func newRow(experiment, technique, setting string, m *nn.Sequential, denseBytes int64, trainAcc, testAcc, baseTestAcc float64) results.Row {
	t := m.Totals()
	row := results.Row{
		Experiment: experiment, Technique: technique, Setting: setting,
		ParamsTotal: int64(t.Params), ParamsNonzero: int64(t.NonZero),
		SizeBytes: t.SizeBytes, FLOPs: t.FLOPs,
		TrainAcc: 100 * trainAcc, TestAcc: 100 * testAcc,
	}
	if t.SizeBytes > 0 {
		row.CompressionRatio = float64(denseBytes) / float64(t.SizeBytes)
	}
	row.DeltaAccPP = row.TestAcc - baseTestAcc
	row.GapPP = row.TrainAcc - row.TestAcc
	return row
}

func newOptimizer(t TrainSpec, lr float64) nn.Optimizer {
	if t.Optimizer == "sgd" {
		return nn.NewSGD(lr, t.Momentum)
	}
	return nn.NewAdam(lr)
}

// scheduledLR is the rate of epoch (1-based): LR·LRDecay^(epoch−1).
func scheduledLR(t TrainSpec, epoch int) float64 {
	if t.LRDecay == 0 || t.LRDecay == 1 {
		return t.LR
	}
	return t.LR * math.Pow(t.LRDecay, float64(epoch-1))
}

// fitJob is one training phase: the baseline or a step's fine-tuning.
type fitJob struct {
	phase       string
	stage       Stage
	model       *nn.Sequential
	opt         nn.Optimizer
	epochs      int
	batch       int
	lrAt        func(epoch int) float64       // nil keeps the optimizer's rate
	annealFrom  float64                       // > 0: the rate falls linearly from this to 0 over all steps
	lrAtStep    func(done, total int) float64 // the rate of the step after done of total steps; overrides lrAt and annealFrom
	rng         *rand.Rand
	afterStep   func(done int) error // run after each optimizer step, done counting the job's steps from 1
	afterEpoch  func() error         // run after each epoch, before scoring
	train, test *data.Set
}

// fit trains job.model for job.epochs epochs, reporting a StageEvent per
// epoch, coalesced StepEvents and an EpochEvent (TrainAcc over the first
// quickTrainLimit training examples, TestAcc over the whole test set). It
// returns the last EpochEvent.
func fit(ctx context.Context, rep reporter, job fitJob) (EpochEvent, error) {
	n := job.train.Len()
	steps := (n + job.batch - 1) / job.batch
	var last EpochEvent
	done, total := 0, steps*job.epochs
	anneal := func() {
		switch {
		case job.lrAtStep != nil:
			job.opt.SetLR(job.lrAtStep(done, total))
		case job.annealFrom > 0:
			job.opt.SetLR(job.annealFrom * (1 - float64(done)/float64(total)))
		}
	}
	anneal()
	for epoch := 1; epoch <= job.epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return last, err
		}
		if job.lrAt != nil && job.lrAtStep == nil {
			job.opt.SetLR(job.lrAt(epoch))
		}
		detail := fmt.Sprintf("epoch %d/%d", epoch, job.epochs)
		if job.phase != "baseline" {
			detail = job.phase + ": " + detail
		}
		rep.stage(job.stage, detail)
		var ema float64
		var lastEmit time.Time
		trainLoss, err := nn.TrainEpoch(ctx, job.model, job.opt, job.train.X, job.train.Y, job.batch, job.rng, func(step int, loss float64) error {
			// Exponential moving average over ~20 batches; the first
			// batch seeds it.
			done++
			if job.afterStep != nil {
				if err := job.afterStep(done); err != nil {
					return err
				}
			}
			anneal()
			if step == 0 {
				ema = loss
			} else {
				ema += 0.1 * (loss - ema)
			}
			if step == steps-1 || time.Since(lastEmit) >= stepEventInterval {
				lastEmit = time.Now()
				rep.emit(StepEvent{Phase: job.phase, Epoch: epoch, Epochs: job.epochs, Step: step + 1, Steps: steps, Loss: ema,
					Sparsity: weightSparsity(job.model)})
			}
			return ctx.Err()
		})
		if err != nil {
			return last, err
		}
		if job.afterEpoch != nil {
			if err := job.afterEpoch(); err != nil {
				return last, fmt.Errorf("%s: %w", job.phase, err)
			}
		}
		testLoss, testAcc, err := evaluate(ctx, job.model, job.test, 0)
		if err != nil {
			return last, err
		}
		_, trainAcc, err := evaluate(ctx, job.model, job.train, quickTrainLimit)
		if err != nil {
			return last, err
		}
		last = EpochEvent{Phase: job.phase, Epoch: epoch, Epochs: job.epochs,
			TrainLoss: trainLoss, TestLoss: testLoss, TrainAcc: trainAcc, TestAcc: testAcc,
			Sparsity: weightSparsity(job.model)}
		rep.emit(last)
	}
	return last, nil
}

// evaluate returns m's mean loss and accuracy (a fraction) on the first
// limit examples of s (limit 0: all), checking ctx between chunks.
func evaluate(ctx context.Context, m *nn.Sequential, s *data.Set, limit int) (loss, acc float64, err error) {
	n := s.Len()
	if limit > 0 && limit < n {
		n = limit
	}
	if n == 0 {
		return 0, 0, nil
	}
	var sumLoss float64
	correct := 0
	for from := 0; from < n; from += evalChunk {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		to := min(from+evalChunk, n)
		l, a := nn.Evaluate(m, s.X.Slice(from, to), s.Y[from:to], evalBatch)
		sumLoss += l * float64(to-from)
		correct += int(math.Round(a * float64(to-from)))
	}
	return sumLoss / float64(n), float64(correct) / float64(n), nil
}

// measureLatency is bench.Latency over the test images.
func measureLatency(ctx context.Context, m *nn.Sequential, test *data.Set) (b1, b256 float64, err error) {
	return bench.Latency(ctx, m, test.X)
}

// loadData loads the spec's dataset and applies its limits.
func loadData(spec Spec, opts Options) (train, test *data.Set, err error) {
	d := spec.Dataset
	switch d.Name {
	case "mnist":
		dir, err := data.FindMNIST(opts.DataDir)
		if err != nil {
			return nil, nil, err
		}
		train, test, err = data.LoadMNIST(dir, d.Limit, d.TestLimit)
		if err != nil {
			return nil, nil, err
		}
	case "blobs":
		train, test = data.Blobs(d.Samples, d.Classes, d.Dim, spec.Seed)
	case "spirals":
		train, test = data.Spirals(d.Samples, d.Classes, d.Noise, spec.Seed)
	default:
		return nil, nil, fmt.Errorf("dataset %q: unknown (allowed: %s)", d.Name, strings.Join(datasetNames, ", "))
	}
	if d.Limit > 0 && d.Limit < train.Len() {
		train = train.Subset(d.Limit)
	}
	if d.TestLimit > 0 && d.TestLimit < test.Len() {
		test = test.Subset(d.TestLimit)
	}
	switch {
	case train.Len() == 0:
		return nil, nil, errors.New("dataset " + d.Name + ": no training examples")
	case test.Len() == 0:
		return nil, nil, errors.New("dataset " + d.Name + ": no test examples")
	case train.X.Cols != d.inputDim():
		return nil, nil, fmt.Errorf("dataset %s: examples have %d features, the model expects %d", d.Name, train.X.Cols, d.inputDim())
	}
	return train, test, nil
}

func describeDataset(d DatasetSpec) string {
	switch d.Name {
	case "mnist":
		s := "mnist"
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
