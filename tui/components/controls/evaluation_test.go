package controls

import (
	"context"
	"errors"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// answerOf is an answer with the accuracies of gen, a row with test
// accuracy acc and an estimated size, sized to exact bytes by the returned
// function.
func answerOf(gen int, acc float64, estimate, exact int64) EvalResultMsg {
	s := experiments.Setting{PruneRatio: 0.5}
	ev := experiments.Evaluation{Setting: s, Row: results.Row{Setting: s.String(), TestAcc: acc, SizeBytes: estimate}}
	sized := ev
	sized.Row.SizeBytes = exact
	return EvalResultMsg{Gen: gen, Eval: ev, Sized: func() (experiments.Evaluation, error) { return sized, nil }}
}

func TestEvaluationStaleAnswerDropped(t *testing.T) {
	var e evaluation
	e.show(results.Row{TestAcc: 97})
	tr := tinyTrained()
	e.start(tr, experiments.Setting{PruneRatio: 0.05})
	old := e.gen
	e.start(tr, experiments.Setting{PruneRatio: 0.1})
	if e.gen == old {
		t.Fatal("a new setting kept the generation")
	}
	stale := answerOf(old, 11, 100, 90)
	if _, ok := e.current(stale); ok {
		t.Error("a stale answer counts as current")
	}
	if cmd := e.answer(stale); cmd != nil {
		t.Error("a stale answer started sizing")
	}
	if !e.pending || e.row.TestAcc != 97 {
		t.Errorf("a stale answer was taken in: pending %v, row %+v", e.pending, e.row)
	}
	e.answer(SizeResultMsg{Gen: old, Eval: stale.Eval})
	if e.row.TestAcc != 97 || e.sizing {
		t.Errorf("a stale size was taken in: sizing %v, row %+v", e.sizing, e.row)
	}
	// An error of an old generation is not shown either.
	e.answer(EvalResultMsg{Gen: old, Err: errors.New("rank too high")})
	if e.err != nil {
		t.Errorf("a stale error shown: %v", e.err)
	}
	cur := answerOf(e.gen, 22, 100, 90)
	if _, ok := e.current(cur); !ok {
		t.Error("the current answer does not count as current")
	}
	e.answer(cur)
	if e.pending || e.row.TestAcc != 22 {
		t.Errorf("current answer not taken in: pending %v, row %+v", e.pending, e.row)
	}
}

func TestEvaluationCancelsOnNewChange(t *testing.T) {
	var e evaluation
	tr := tinyTrained()
	first := e.start(tr, experiments.Setting{PruneRatio: 0.05})
	cancelled := 0
	stop := e.cancel
	e.cancel = func() { cancelled++; stop() }
	e.start(tr, experiments.Setting{PruneRatio: 0.1})
	if cancelled != 1 {
		t.Fatalf("a new setting cancelled the evaluation in flight %d times, want once", cancelled)
	}
	if e.cancel == nil {
		t.Fatal("the new evaluation keeps no cancel func")
	}
	// The first evaluation's context is done: it answers context.Canceled,
	// or, had it finished before looking, an answer the generation drops.
	res := first().(EvalResultMsg)
	if res.Err != nil && !errors.Is(res.Err, context.Canceled) {
		t.Errorf("the cancelled evaluation answered %v", res.Err)
	}
	e.answer(res)
	if !e.pending || e.err != nil {
		t.Errorf("the cancelled evaluation changed the state: pending %v, err %v", e.pending, e.err)
	}
	// A cancellation of the current generation is no error to show.
	e.answer(EvalResultMsg{Gen: e.gen, Err: context.Canceled})
	if e.err != nil || e.pending {
		t.Errorf("cancellation: err %v, pending %v", e.err, e.pending)
	}
	// stop cancels whatever is in flight, once.
	e.start(tr, experiments.Setting{PruneRatio: 0.15})
	stop = e.cancel
	e.cancel = func() { cancelled++; stop() }
	e.stop()
	e.stop()
	if cancelled != 2 || e.cancel != nil {
		t.Errorf("stop: %d cancels in all, cancel func %v", cancelled, e.cancel != nil)
	}
}

func TestEvaluationSizeAfterAccuracy(t *testing.T) {
	var e evaluation
	tr := tinyTrained()
	e.start(tr, experiments.Setting{PruneRatio: 0.5})
	sizeCmd := e.answer(answerOf(e.gen, 33, 100, 90))
	if sizeCmd == nil {
		t.Fatal("the accuracies started no sizing")
	}
	if e.pending || !e.sizing || e.final() {
		t.Errorf("after the accuracies: pending %v, sizing %v, final %v", e.pending, e.sizing, e.final())
	}
	if e.row.TestAcc != 33 || e.row.SizeBytes != 100 || e.label != "ratio=0.50" {
		t.Errorf("after the accuracies the row is %+v (label %q), want the estimate", e.row, e.label)
	}
	if e.cancel == nil {
		t.Error("the sizing (train accuracy and file) lost its context")
	}
	size := sizeCmd().(SizeResultMsg)
	if _, ok := e.current(size); !ok {
		t.Error("the size of the current setting does not count as current")
	}
	if cmd := e.answer(size); cmd != nil {
		t.Error("the size answer issued a command")
	}
	if e.sizing || !e.final() || e.row.SizeBytes != 90 || e.row.TestAcc != 33 {
		t.Errorf("after the size: sizing %v, final %v, row %+v", e.sizing, e.final(), e.row)
	}
	if e.cancel != nil {
		t.Error("the answered evaluation's context was not released")
	}

	// A size that comes after the next change is dropped.
	e.start(tr, experiments.Setting{PruneRatio: 0.55})
	sizeCmd = e.answer(answerOf(e.gen, 44, 100, 80))
	sizing, stopped := e.cancel, false
	e.cancel = func() { stopped = true; sizing() }
	e.start(tr, experiments.Setting{PruneRatio: 0.6})
	if !stopped {
		t.Error("the next change did not cancel the sizing in flight")
	}
	e.answer(sizeCmd())
	if e.row.SizeBytes == 80 || !e.pending || e.sizing {
		t.Errorf("a late size was taken in: row %+v, pending %v, sizing %v", e.row, e.pending, e.sizing)
	}

	// Sizing can fail: the error shows, the preview is not final.
	e.answer(answerOf(e.gen, 55, 100, 70))
	e.answer(SizeResultMsg{Gen: e.gen, Err: errors.New("encode: no space")})
	if e.err == nil || e.final() || e.sizing {
		t.Errorf("failed sizing: err %v, final %v, sizing %v", e.err, e.final(), e.sizing)
	}
}
