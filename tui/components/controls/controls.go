package controls

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// FineTuneEpochs is how long the f key fine-tunes the knob setting.
const FineTuneEpochs = 2

// Model is the knobs pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	trained *experiments.Trained // nil until the baseline arrives
	knobs   Knobs
	eval    evaluation
	busy    string // what else runs on the model, e.g. a fine-tune
}

// New returns a knobs pane waiting for the baseline.
func New(c *common.Common) *Model {
	return &Model{common: c, knobs: offKnobs(nil, 0)}
}

// Reset cancels any evaluation and waits for a new baseline.
func (m *Model) Reset() {
	m.eval.stop()
	gen := m.eval.gen + 1 // answers still in flight stay stale
	*m = Model{common: m.common, focused: m.focused, width: m.width, height: m.height,
		knobs: offKnobs(nil, 0), eval: evaluation{gen: gen}}
}

// Cancel stops the evaluation in flight, if any.
func (m *Model) Cancel() { m.eval.stop() }

// SetTrained unlocks the knobs on a trained baseline. The knobs start off,
// the selected one stays, the rank knob acts on the layer with the most
// weights, and the preview is the baseline itself.
func (m *Model) SetTrained(t *experiments.Trained) {
	m.trained = t
	selected := m.knobs.Selected
	m.knobs = offKnobs(rankTargets(t.Model))
	m.knobs.Scopes = pruneScopes(t.Model)
	m.knobs.Selected = selected
	m.eval.show(t.Baseline)
}

// Ready reports whether the baseline has arrived.
func (m *Model) Ready() bool { return m.trained != nil }

// Trained is the baseline the knobs apply to, nil before it arrives.
func (m *Model) Trained() *experiments.Trained { return m.trained }

// Generation is the number of the current knob setting.
func (m *Model) Generation() int { return m.eval.gen }

// Pending reports whether an evaluation of the current knobs is running.
func (m *Model) Pending() bool { return m.eval.pending }

// Selected is the knob up/down moves between.
func (m *Model) Selected() Knob { return m.knobs.Selected }

// Select makes k the selected knob (a click on its line).
func (m *Model) Select(k Knob) {
	if k >= 0 && k < knobCount {
		m.knobs.Selected = k
	}
}

// KnobAt is the knob drawn on line y of the pane (0 is its top border),
// if any.
func (m *Model) KnobAt(y int) (Knob, bool) {
	k := Knob(y - 1)
	return k, m.trained != nil && k >= 0 && k < knobCount
}

// RankLayer is the dense layer the rank knob factorizes ("" before the
// baseline, or when the model has none).
func (m *Model) RankLayer() string { return m.knobs.RankTarget().Layer }

// Rank is the rank knob's value, 0 when off.
func (m *Model) Rank() int { return m.knobs.Rank }

// Setting is the current knob setting.
func (m *Model) Setting() experiments.Setting { return m.knobs.Setting() }

// Preview is the last accepted evaluation's row and whether it matches the
// knobs on screen (false while an evaluation is pending or failed).
func (m *Model) Preview() (results.Row, bool) {
	return m.eval.row, m.trained != nil && m.eval.final()
}

// Current is the evaluation an answer brings when it is a successful
// answer for the knobs on screen (accuracies or exact sizes); the root
// shows its layers and histograms.
func (m *Model) Current(msg tea.Msg) (experiments.Evaluation, bool) {
	if m.trained == nil {
		return experiments.Evaluation{}, false
	}
	return m.eval.current(msg)
}

// SetBusy shows what else is running on the model ("" for nothing).
func (m *Model) SetBusy(s string) { m.busy = s }

// SetSize sets the pane's outer size, frame included.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// Focus and Blur mark the pane as the one keys go to.
func (m *Model) Focus()        { m.focused = true }
func (m *Model) Blur()         { m.focused = false }
func (m *Model) Focused() bool { return m.focused }

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update turns the knobs (from any pane), moves between them (when
// focused), and takes in the evaluations' answers.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	case EvalResultMsg, SizeResultMsg:
		if m.trained == nil {
			return m, nil
		}
		return m, m.eval.answer(msg)
	}
	return m, nil
}

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if m.trained == nil {
		return nil
	}
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.More):
		return m.turn(+1, false)
	case key.Matches(k, keys.Less):
		return m.turn(-1, false)
	case key.Matches(k, keys.MoreFine):
		return m.turn(+1, true)
	case key.Matches(k, keys.LessFine):
		return m.turn(-1, true)
	case m.focused && key.Matches(k, keys.KnobPrev):
		m.knobs = m.knobs.Select(-1)
	case m.focused && key.Matches(k, keys.KnobNext):
		m.knobs = m.knobs.Select(+1)
	}
	return nil
}

// turn moves the selected knob one step and, if the setting changed,
// evaluates the new one at once, cancelling the evaluation before it.
func (m *Model) turn(dir int, fine bool) tea.Cmd {
	before := m.knobs.Setting()
	m.knobs = m.knobs.Turn(dir, fine)
	if m.knobs.Setting() == before {
		return nil
	}
	return m.eval.start(m.trained, m.knobs.Setting())
}

// ShortHelp lists the pane's keys.
func (m *Model) ShortHelp() []key.Binding {
	if m.trained == nil {
		return nil
	}
	k := m.common.Keys
	return []key.Binding{k.PickKnob, k.Adjust, k.FineTune, k.AddRow}
}

// FullHelp lists the pane's keys.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.common.Keys
	return [][]key.Binding{{k.KnobPrev, k.KnobNext}, {k.Less, k.More, k.LessFine, k.MoreFine}, {k.FineTune, k.AddRow}}
}
