package controls

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// EvalResultMsg is the first answer of Trained.Preview for generation
// Gen: accuracies, with sizes estimated. Sized, when set, encodes the model
// file for the exact sizes (a SizeResultMsg).
type EvalResultMsg struct {
	Gen   int
	Eval  experiments.Evaluation
	Err   error
	Sized func() (experiments.Evaluation, error)
}

// SizeResultMsg is the second answer for generation Gen: the Evaluation
// with the model file's exact sizes.
type SizeResultMsg struct {
	Gen  int
	Eval experiments.Evaluation
	Err  error
}

// evaluation is the life of the knob preview. Every knob setting is a
// generation: starting one cancels the evaluation in flight and evaluates
// the new setting at once (a cancelled evaluation stops within one chunk
// of rows, so holding an arrow key costs little). The answer comes in two
// stages, the test accuracy, then the train accuracy with the model
// file's exact size; an answer of an older generation is dropped, so the
// preview always matches the knobs on screen.
type evaluation struct {
	gen     int
	cancel  context.CancelFunc // cancels the evaluation in flight
	pending bool               // a setting is being evaluated, no answer yet
	sizing  bool               // the test accuracy in, the model file's size not yet
	// trainPending: the answer taken in has no train accuracy yet (it
	// comes with the size).
	trainPending bool
	// testSubset: the answer's test accuracy is over its first testSubset
	// images, an estimate until the sizing scores the rest (0: all).
	testSubset int

	// The last answer taken in.
	row   results.Row
	label string // what the setting does, in a few words
	err   error
}

// stop cancels the evaluation in flight, if any.
func (e *evaluation) stop() {
	if e.cancel != nil {
		e.cancel()
		e.cancel = nil
	}
}

// show ends the generation and shows row, of a setting needing no
// evaluation (the baseline itself, every knob off).
func (e *evaluation) show(row results.Row) {
	e.stop()
	e.gen++
	e.pending, e.sizing = false, false
	e.row, e.label, e.err = row, settingLabel(experiments.Setting{}), nil
}

// start begins a generation: it cancels the evaluation in flight and
// returns the command that previews s on t.
func (e *evaluation) start(t *experiments.Trained, s experiments.Setting) tea.Cmd {
	e.stop()
	e.gen++
	e.pending, e.sizing, e.err = true, false, nil
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	gen := e.gen
	return func() tea.Msg {
		if t.Model != nil {
			if err := s.Validate(t.Model); err != nil {
				return EvalResultMsg{Gen: gen, Err: err}
			}
		}
		ev, sized, err := t.Preview(ctx, s)
		return EvalResultMsg{Gen: gen, Eval: ev, Err: err, Sized: sized}
	}
}

// current is the evaluation msg brings when msg is a successful answer of
// the current generation.
func (e *evaluation) current(msg tea.Msg) (experiments.Evaluation, bool) {
	switch msg := msg.(type) {
	case EvalResultMsg:
		return msg.Eval, msg.Gen == e.gen && msg.Err == nil
	case SizeResultMsg:
		return msg.Eval, msg.Gen == e.gen && msg.Err == nil
	}
	return experiments.Evaluation{}, false
}

// answer takes in an answer of the current generation and drops any
// other. After the accuracies it returns the command that sizes the model
// file.
func (e *evaluation) answer(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case EvalResultMsg:
		if msg.Gen != e.gen {
			return nil // an answer for knobs no longer on screen
		}
		e.pending = false
		if msg.Err != nil || msg.Sized == nil {
			e.stop() // the sizing, when there is one, runs on its context
		}
		if msg.Err != nil {
			if !errors.Is(msg.Err, context.Canceled) {
				e.err = msg.Err
			}
			return nil
		}
		e.row, e.label, e.err = msg.Eval.Row, settingLabel(msg.Eval.Setting), nil
		e.trainPending, e.testSubset = msg.Eval.TrainPending, msg.Eval.TestSubset
		if msg.Sized == nil {
			return nil
		}
		e.sizing = true
		gen, sized := msg.Gen, msg.Sized
		return func() tea.Msg {
			ev, err := sized()
			return SizeResultMsg{Gen: gen, Eval: ev, Err: err}
		}
	case SizeResultMsg:
		if msg.Gen != e.gen {
			return nil
		}
		e.stop()
		e.sizing = false
		if msg.Err != nil {
			e.err = msg.Err
			return nil
		}
		e.row, e.trainPending, e.testSubset = msg.Eval.Row, false, 0
	}
	return nil
}

// final reports whether the answer shown is the whole answer for the
// setting on screen: no evaluation or sizing pending, no error.
func (e *evaluation) final() bool { return !e.pending && !e.sizing && e.err == nil }

// settingLabel says what a setting does in a few words.
func settingLabel(s experiments.Setting) string {
	if s.PruneRatio == 0 && (s.Bits == 0 || s.Bits == FloatBits) && s.Rank == 0 {
		return "dense baseline, all knobs off"
	}
	return s.String()
}
