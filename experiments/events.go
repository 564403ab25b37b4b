package experiments

import (
	"time"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// Stage is what a run is doing now, in the user's words.
type Stage string

const (
	StageLoading     Stage = "loading data"
	StageBuilding    Stage = "building model"
	StageTraining    Stage = "training"
	StageCompressing Stage = "compressing"
	StageFineTuning  Stage = "fine-tuning"
	StagePruning     Stage = "pruning"   // training while the masks follow a gradual schedule
	StageSensitivity Stage = "analysing" // a sensitivity analysis: each layer pruned alone
	StageEvaluating  Stage = "evaluating"
	StageDone        Stage = "done"
	StageCancelled   Stage = "cancelled"
	StageFailed      Stage = "failed"
)

// Event is anything a run reports. Events carry copies, never slices the
// runner goes on mutating, so a sink may keep them.
type Event interface{ event() }

// StageEvent: the run entered a stage. Detail says more ("epoch 3/10",
// "prune ratio=0.90"). Elapsed is the time since the run started. A run's
// stages come in Parts parts: part 1 trains the baseline (loading and
// building included), part 1+i runs the spec's compress entry i; the last
// stage (done, cancelled, failed) keeps the part it ended in. Both are 0
// outside a run (a fine-tune of the knobs).
type StageEvent struct {
	Stage       Stage
	Detail      string
	Elapsed     time.Duration
	Part, Parts int
}

// StepEvent: training progress within an epoch, coalesced by the runner to
// a few per second. Loss is an exponential moving average of batch losses.
type StepEvent struct {
	Phase       string // "baseline", or the compression step being fine-tuned
	Epoch       int    // 1-based
	Epochs      int
	Step, Steps int // Step is 1-based within the epoch
	Loss        float64
	Sparsity    float64 // fraction of the weights (not biases) that are zero now
}

// EpochEvent: an epoch finished; accuracies are fractions in [0, 1].
type EpochEvent struct {
	Phase     string
	Epoch     int // 1-based
	Epochs    int
	TrainLoss float64 // mean batch loss over the epoch
	TestLoss  float64
	TrainAcc  float64
	TestAcc   float64
	Sparsity  float64 // fraction of the weights (not biases) that are zero
}

// LayersEvent: per-layer stats of the model a phase is working on.
type LayersEvent struct {
	Phase  string
	Layers []nn.LayerStats
}

// ResultEvent: a row of the result table is ready.
type ResultEvent struct {
	Row results.Row
	// Classes is the row's test accuracy (percent) on each class, in
	// label order, when the dataset names its classes (Trained.Test's
	// ClassNames); nil otherwise.
	Classes []float64
}

// BaselineEvent: the dense baseline is trained; Trained lets a UI apply its
// own compression settings to copies of it.
type BaselineEvent struct{ Trained *Trained }

// SensitivityEvent: a sensitivity step (pruning or bit width) scored
// another point. Table holds every point of the step so far, layer by layer
// in model order, values in the order of the step's list; Done says the
// step is complete. BaseTestAcc is the dense baseline's test accuracy in
// percent, the reference the curves fall from.
type SensitivityEvent struct {
	Phase       string
	Layers      []string  // the layers analysed, in model order
	Values      []float64 // the prune ratios or bit widths tried on each
	Table       results.Sensitivity
	BaseTestAcc float64
	Done        bool
}

// LogEvent: a line for the log.
type LogEvent struct{ Text string }

// DoneEvent: the run ended. Err is nil on success, context.Canceled when
// cancelled, or what went wrong. Report holds every row produced and every
// sensitivity point (the points of all steps of one kind in one table).
type DoneEvent struct {
	Report  results.Report
	Err     error
	Elapsed time.Duration
}

func (StageEvent) event()       {}
func (StepEvent) event()        {}
func (EpochEvent) event()       {}
func (LayersEvent) event()      {}
func (ResultEvent) event()      {}
func (BaselineEvent) event()    {}
func (LogEvent) event()         {}
func (SensitivityEvent) event() {}
func (DoneEvent) event()        {}

// Sink receives a run's events in order. Emit is called from the run's
// goroutine; it should return quickly.
type Sink interface{ Emit(Event) }

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

func (f SinkFunc) Emit(e Event) { f(e) }
