package experiments

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

const (
	// quickTrainLimit bounds the training examples scored for an epoch's
	// TrainAcc and for a knob preview's train accuracy: the first 10,000.
	quickTrainLimit = 10000
	// stepEventInterval coalesces StepEvents to at most ~10 a second.
	stepEventInterval = 100 * time.Millisecond
	evalChunk         = 1024 // rows per cancellation check when evaluating
	evalBatch         = 256
)

// fitJob is one training phase: the baseline, a fine-tuning, a gradual
// pruning or a lottery round.
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
	steps := (job.train.Len() + job.batch - 1) / job.batch
	var last EpochEvent
	done, total := 0, steps*job.epochs
	setRate := func() {
		switch {
		case job.lrAtStep != nil:
			job.opt.SetLR(job.lrAtStep(done, total))
		case job.annealFrom > 0:
			job.opt.SetLR(job.annealFrom * (1 - float64(done)/float64(total)))
		}
	}
	setRate()
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
		trainLoss, err := trainEpoch(ctx, rep, job, epoch, steps, func() error {
			done++
			if job.afterStep != nil {
				if err := job.afterStep(done); err != nil {
					return err
				}
			}
			setRate()
			return nil
		})
		if err != nil {
			return last, err
		}
		if job.afterEpoch != nil {
			if err := job.afterEpoch(); err != nil {
				return last, fmt.Errorf("%s: %w", job.phase, err)
			}
		}
		if last, err = scoreEpoch(ctx, job, epoch, trainLoss); err != nil {
			return last, err
		}
		rep.emit(last)
	}
	return last, nil
}

// trainEpoch runs one epoch of job, calling afterStep after every
// optimizer step and reporting the loss, an exponential moving average
// over ~20 batches (the first batch seeds it), a few times a second.
func trainEpoch(ctx context.Context, rep reporter, job fitJob, epoch, steps int, afterStep func() error) (float64, error) {
	var ema float64
	var lastEmit time.Time
	var aug nn.Augmenter
	if job.train.Augment != nil {
		aug = job.train.Augment
	}
	return nn.TrainEpochAugmented(ctx, job.model, job.opt, job.train.X, job.train.Y, job.batch, job.rng, aug, func(step int, loss float64) error {
		if err := afterStep(); err != nil {
			return err
		}
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
}

// scoreEpoch is the EpochEvent of an epoch that just ended.
func scoreEpoch(ctx context.Context, job fitJob, epoch int, trainLoss float64) (EpochEvent, error) {
	testLoss, testAcc, err := evaluate(ctx, job.model, job.test, 0)
	if err != nil {
		return EpochEvent{}, err
	}
	_, trainAcc, err := evaluate(ctx, job.model, job.train, quickTrainLimit)
	if err != nil {
		return EpochEvent{}, err
	}
	return EpochEvent{Phase: job.phase, Epoch: epoch, Epochs: job.epochs,
		TrainLoss: trainLoss, TestLoss: testLoss, TrainAcc: trainAcc, TestAcc: testAcc,
		Sparsity: weightSparsity(job.model)}, nil
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
	sumLoss, correct, err := evaluateRange(ctx, m, s, 0, n)
	if err != nil {
		return 0, 0, err
	}
	return sumLoss / float64(n), float64(correct) / float64(n), nil
}

// evaluateRange returns m's summed loss and its count of correct answers
// on the examples from to to-1 of s, checking ctx between chunks.
func evaluateRange(ctx context.Context, m *nn.Sequential, s *data.Set, from, to int) (sumLoss float64, correct int, err error) {
	for ; from < to; from += evalChunk {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		end := min(from+evalChunk, to)
		l, a := nn.Evaluate(m, s.X.Slice(from, end), s.Y[from:end], evalBatch)
		sumLoss += l * float64(end-from)
		correct += int(math.Round(a * float64(end-from)))
	}
	return sumLoss, correct, nil
}

// classAccuracy is m's accuracy (percent) on the test examples of each
// class of s, in label order.
func classAccuracy(ctx context.Context, m *nn.Sequential, s *data.Set) ([]float64, error) {
	correct, total := make([]int, s.Classes), make([]int, s.Classes)
	for from := 0; from < s.Len(); from += evalChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		to := min(from+evalChunk, s.Len())
		for i, p := range nn.Predict(m, s.X.Slice(from, to), evalBatch) {
			y := s.Y[from+i]
			total[y]++
			if p == y {
				correct[y]++
			}
		}
	}
	acc := make([]float64, s.Classes)
	for c := range acc {
		if total[c] > 0 {
			acc[c] = 100 * float64(correct[c]) / float64(total[c])
		}
	}
	return acc, nil
}

func newOptimizer(t spec.Train, lr float64) nn.Optimizer {
	if t.Optimizer == "sgd" {
		o := nn.NewSGD(lr, t.Momentum)
		o.WeightDecay = t.WeightDecay
		return o
	}
	o := nn.NewAdam(lr)
	o.WeightDecay = t.WeightDecay
	return o
}

// weightSparsity is the fraction of m's weights (not biases) that are zero.
func weightSparsity(m *nn.Sequential) float64 {
	total, nonzero := 0, 0
	for _, d := range nn.WeightLayers(m) {
		total += len(d.W.Value.Data)
		nonzero += d.W.NonZero()
	}
	if total == 0 {
		return 0
	}
	return 1 - float64(nonzero)/float64(total)
}
