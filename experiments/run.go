package experiments

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// Options tune how a run finds its inputs and what it may use; they never
// change its results.
type Options struct {
	DataDir string // the directory holding MNIST (--data); "" searches the usual places
	SaveDir string // write each row's model file here (--save); "" writes none
	// MaxMemory refuses a spec whose run would need more bytes (see
	// spec.Memory; --max-memory); 0 is DefaultMaxMemory.
	MaxMemory int64
	// Baseline is a model file holding the trained baseline of this
	// spec's model (--baseline): a .prtm as run --save writes its dense
	// row, or a .safetensors (PyTorch's layout, as model.from takes):
	// loaded instead of training it, so a run goes straight to its
	// compression steps. "" trains the baseline (or takes model.from's).
	Baseline string

	// shared is a baseline trained once for the runs of a sweep that
	// differ only in compression (see RunSweep): used instead of loading
	// the data and training.
	shared *sharedBaseline
	// skip are compress entries not to run: a sweep ran them at an earlier
	// point, where they gave the same rows.
	skip map[int]bool
}

// Run runs s: load data → build model → train the baseline → for each
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
// Every StageEvent says which part of the run it belongs to: part 1 is
// the baseline (data, model, training), part 2+i compress entry i.
//
// and returns the report: the result table and the sensitivity tables.
// Cancelling ctx stops it within one batch: it then emits
// StageEvent(cancelled) and DoneEvent{Err: ctx.Err()} with the rows made
// so far, and returns them with ctx.Err(). Any other failure emits
// StageEvent(failed) and DoneEvent{Err}.
//
// Rows: train_acc is over the whole training set used, test_acc over the
// whole test set; latencies are medians of repeated forward passes; wall_s
// is the baseline's training time, or a step's compress + fine-tune time.
// The same spec gives the same table, apart from latencies and wall_s.
func Run(ctx context.Context, s spec.Spec, opts Options, sink Sink) (results.Report, error) {
	if sink == nil {
		sink = SinkFunc(func(Event) {})
	}
	part := &runPart{index: 1, count: 1 + len(s.Compress)}
	r := &runner{env: env{ctx: ctx, reporter: reporter{sink: sink, start: time.Now(), part: part}}}
	err := r.runSafely(s, opts)
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

// reporter sends events stamped with the time since start and, in a run,
// with the part of the run they belong to.
type reporter struct {
	sink  Sink
	start time.Time
	part  *runPart // nil outside a run (the knobs' fine-tunes)
}

// runPart is where a run is: part Index of Count (see StageEvent.Part).
type runPart struct{ index, count int }

func (r reporter) emit(e Event) {
	if r.sink != nil {
		r.sink.Emit(e)
	}
}

func (r reporter) stage(s Stage, detail string) {
	e := StageEvent{Stage: s, Detail: detail, Elapsed: time.Since(r.start)}
	if r.part != nil {
		e.Part, e.Parts = r.part.index, r.part.count
	}
	r.emit(e)
}

// runner is one run of a spec.
type runner struct {
	env                     // the spec, its data, the baseline's row once trained
	report   results.Report // the rows and sensitivity points so far
	saveDir  string         // --save: where rows' model files go
	baseline *nn.Sequential // the trained dense model: clone it, never change it
	// snapshots are the baseline's weights after N epochs (0: at init),
	// for lottery rewinding.
	snapshots map[int]prune.Weights
	// analyses are the sensitivity tables of the steps so far, by compress
	// index, for ratios_from and bits_from.
	analyses map[int]results.Sensitivity
}

// runSafely turns a panic in the numerics into an error, so a bad model
// never takes the terminal down with it.
func (r *runner) runSafely(s spec.Spec, opts Options) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return r.run(s, opts)
}

func (r *runner) run(s spec.Spec, opts Options) error {
	if err := Preflight(s, opts); err != nil {
		return err
	}
	s = s.Resolved()
	r.part.count = 1 + len(s.Compress)
	r.spec, r.saveDir = s, opts.SaveDir
	if opts.shared != nil {
		if err := r.useShared(opts.shared); err != nil {
			return err
		}
		return r.compressAll(opts.skip)
	}
	r.stage(StageLoading, s.Dataset.Describe())
	var err error
	if r.train, r.test, err = loadData(s, opts); err != nil {
		return err
	}
	if NamesClasses(s) {
		r.report.Classes = &results.Classes{Names: r.test.ClassNames}
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	r.stage(StageBuilding, s.DescribeModel())
	model := buildModel(s)
	r.emit(LayersEvent{Phase: "baseline", Layers: model.Stats()})
	if err := r.loadOrTrain(model, opts); err != nil {
		return err
	}
	return r.compressAll(nil)
}

// compressAll runs the compress entries on the baseline, but those in
// skip.
func (r *runner) compressAll(skip map[int]bool) error {
	for i, st := range r.spec.Compress {
		if skip[i] {
			continue
		}
		r.part.index = 2 + i
		if err := r.compress(i, st); err != nil {
			return err
		}
	}
	return nil
}

// loadOrTrain trains the dense model, or loads it from the file model.from
// or --baseline names, and adds its row.
func (r *runner) loadOrTrain(model *nn.Sequential, opts Options) error {
	path, what, err := baselineFrom(r.spec, opts)
	switch {
	case err != nil:
		return err
	case path != "":
		return r.loadedBaseline(path, what, model)
	}
	return r.trainBaseline(model, rewindEpochs(r.spec))
}

// rewindEpochs are the epochs of the baseline's training whose weights
// the lottery steps of specs rewind to.
func rewindEpochs(specs ...spec.Spec) map[int]bool {
	rewindTo := map[int]bool{}
	for _, s := range specs {
		for _, st := range s.Compress {
			if p, ok := st.(spec.Prune); ok && p.Schedule == "lottery" {
				rewindTo[p.RewindEpoch] = true
			}
		}
	}
	return rewindTo
}

// trainBaseline trains the dense model, keeping the snapshots of the
// epochs in rewindTo (lottery steps rewind to them), and adds its row.
func (r *runner) trainBaseline(model *nn.Sequential, rewindTo map[int]bool) error {
	s := r.spec
	r.snapshots = map[int]prune.Weights{}
	if rewindTo[0] {
		r.snapshots[0] = prune.Snapshot(model)
	}
	epochsDone := 0
	start := time.Now()
	last, err := fit(r.ctx, r.reporter, fitJob{
		phase: "baseline", stage: StageTraining,
		model: model, opt: newOptimizer(s.Train, s.Train.LR),
		epochs: s.Train.Epochs, batch: s.Train.Batch,
		lrAt: s.Train.LRAt,
		rng:  rand.New(rand.NewPCG(s.Seed, streamShuffle)),
		afterEpoch: func() error {
			epochsDone++
			if rewindTo[epochsDone] {
				r.snapshots[epochsDone] = prune.Snapshot(model)
			}
			return nil
		},
		train: r.train, test: r.test,
	})
	if err != nil {
		return err
	}
	r.baseline = model
	return r.scoreBaseline(time.Since(start), last.TestAcc)
}

// loadedBaseline takes the trained baseline from the model file path and
// adds its row: no training, so its wall_s is 0.
func (r *runner) loadedBaseline(path, what string, model *nn.Sequential) error {
	r.stage(StageLoading, "baseline "+path)
	if err := loadBaseline(path, what, model); err != nil {
		return err
	}
	r.stage(StageEvaluating, "baseline from "+path)
	r.snapshots = map[int]prune.Weights{}
	_, testAcc, err := evaluate(r.ctx, model, r.test, 0)
	if err != nil {
		return err
	}
	r.baseline = model
	return r.scoreBaseline(0, testAcc)
}

// addRow adds row to the table, with the per-class accuracies of its
// model m when the dataset names its classes.
func (r *runner) addRow(row results.Row, m *nn.Sequential) error {
	ev := ResultEvent{Row: row}
	if r.report.Classes != nil {
		acc, err := classAccuracy(r.ctx, m, r.test)
		if err != nil {
			return err
		}
		r.report.Classes.Rows = append(r.report.Classes.Rows, results.ClassRow{Technique: row.Technique, Setting: row.Setting, TestAcc: acc})
		ev.Classes = acc
	}
	r.report.Rows = append(r.report.Rows, row)
	r.emit(ev)
	return nil
}
