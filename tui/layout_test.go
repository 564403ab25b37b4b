package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
)

// lenetLayers are LeNet-300-100's three weight layers and two ReLUs.
func lenetLayers() []nn.LayerStats {
	dense := func(name string, in, out int) nn.LayerStats {
		return nn.LayerStats{Name: name, Kind: "dense", In: in, Out: out, Params: in*out + out, NonZero: in*out + out,
			Weights: in * out, NonZeroW: in * out, Bits: 32, FullRank: min(in, out), SizeBytes: int64(4 * (in*out + out))}
	}
	return []nn.LayerStats{dense("fc1", 784, 300), {Name: "relu1", Kind: "relu"}, dense("fc2", 300, 100),
		{Name: "relu2", Kind: "relu"}, dense("fc3", 100, 10)}
}

// fedCompact is a model at 80×24 with LeNet's layers and a dozen rows.
func fedCompact(t *testing.T) *model {
	m, _ := newTestModel(t, 80, 24)
	m.feed(experiments.LayersEvent{Phase: "prune ratio=0.90", Layers: lenetLayers()},
		experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)})
	for i := range 11 {
		m.feed(experiments.ResultEvent{Row: row("prune", "ratio=0."+string(rune('1'+i%9)), 1000, 90, -7)})
	}
	return m
}

// At 80×24 the results and the layers share the bottom as tabs: each has
// the room to show all its layers, or the baseline and several rows; tab
// and a click on the other tab's name switch.
func TestCompactLayout(t *testing.T) {
	m := fedCompact(t)
	if !m.compact {
		t.Fatal("80×24 is not the compact layout")
	}
	v := m.View()
	if h := lipgloss.Height(v); h != 24 {
		t.Errorf("view is %d rows", h)
	}
	for _, want := range []string{"Results 12 rows", "Layers ─╮", "fp32", "Knobs", "Curves"} {
		if !strings.Contains(v, want) {
			t.Errorf("compact view lacks %q:\n%s", want, v)
		}
	}
	// Rows visible: the baseline and at least three others.
	if n := strings.Count(v, "ratio=0."); n < 3 {
		t.Errorf("%d result rows visible at 80×24:\n%s", n, v)
	}
	m.press("tab", "tab", "tab") // knobs → chart → results → layers
	v = m.View()
	for _, want := range []string{"fc1", "fc2", "fc3", "total", "Results ─╮"} {
		if !strings.Contains(v, want) {
			t.Errorf("layers tab lacks %q:\n%s", want, v)
		}
	}
	// A click on "Results" at the right end of the top edge goes back.
	g := m.rects[paneLayers]
	m.Update(tea.MouseMsg{X: g.w - 6, Y: g.y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.focus != paneResults || !strings.Contains(m.View(), "Results 12 rows") {
		t.Errorf("a click on the tab left focus on %v:\n%s", m.focus, m.View())
	}
	for i, l := range strings.Split(m.View(), "\n") {
		if w := lipgloss.Width(l); w != 80 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
}

// TestGoldenCompact pins the compact layout at 80×24 with the layers tab
// shown.
func TestGoldenCompact(t *testing.T) {
	m := fedCompact(t)
	m.feed(experiments.StageEvent{Stage: experiments.StageDone, Detail: "12 rows"}, experiments.DoneEvent{Elapsed: 42e9})
	m.setFocus(paneLayers)
	golden.RequireEqual(t, []byte(m.View()))
}

// The wheel scrolls the focused pane; a click focuses the pane under it
// and selects the row or knob clicked.
func TestMouse(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()},
		experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)},
		experiments.ResultEvent{Row: row("prune", "ratio=0.50", 1000, 90, -7)},
		experiments.ResultEvent{Row: row("prune", "ratio=0.90", 1000, 90, -7)})
	g := m.rects[paneResults]
	// Line 3 of the results pane is the pinned baseline.
	m.Update(tea.MouseMsg{X: 10, Y: g.y + 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.focus != paneResults || m.results.Cursor() != 0 {
		t.Errorf("click on the baseline: focus %v, row %d", m.focus, m.results.Cursor())
	}
	m.Update(tea.MouseMsg{X: 10, Y: g.y + 3, Button: tea.MouseButtonWheelDown})
	m.Update(tea.MouseMsg{X: 10, Y: g.y + 3, Button: tea.MouseButtonWheelDown})
	if m.results.Cursor() != 2 {
		t.Errorf("two wheel steps down: row %d", m.results.Cursor())
	}
	k := m.rects[paneControls]
	// Line 3 of the knobs pane is the bit width.
	m.Update(tea.MouseMsg{X: k.x + 5, Y: k.y + 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.focus != paneControls || m.controls.Selected() != 2 {
		t.Errorf("click on the bit width: focus %v, knob %d", m.focus, m.controls.Selected())
	}
	m.Update(tea.MouseMsg{X: k.x + 5, Y: k.y + 3, Button: tea.MouseButtonWheelDown})
	if m.controls.Selected() != 3 {
		t.Errorf("wheel on the knobs: knob %d, want the rank", m.controls.Selected())
	}
	// In the picker the wheel moves and a click selects.
	m.press("p")
	m.Update(tea.MouseMsg{X: 10, Y: 10, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if it, _ := m.picker.Selected(); it.Name != m.picker.Matches()[1] {
		t.Errorf("click in the picker selected %q", it.Name)
	}
}

// esc backs out of every view: the dialog, the help, the picker's filter
// and the picker, the sensitivity view, a pane other than the knobs.
func TestEscBacksOut(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.press("q")
	if m.dialog == nil {
		t.Fatal("no dialog")
	}
	m.settle(m.press("esc"))
	if m.dialog != nil {
		t.Error("esc left the dialog open")
	}
	m.press("?")
	m.press("esc")
	if m.help.ShowAll {
		t.Error("esc left the help open")
	}
	m.press("p", "/", "x")
	m.press("esc")
	if m.picker.Filtering() || m.state != statePicker {
		t.Error("esc did not clear the filter alone")
	}
	m.settle(m.press("esc"))
	if m.state != stateMain {
		t.Error("esc did not close the picker")
	}
	// ? works over a dialog too.
	m.press("q", "?")
	if v := m.View(); !m.help.ShowAll || m.dialog == nil || !strings.Contains(v, "close help") || !strings.Contains(v, "cancel") {
		t.Errorf("? over the dialog:\n%s", m.View())
	}
}

// Keys typed fast arrive as one message: "/agp" still starts the filter
// and types agp into it, and "]]" turns a knob two fine steps.
func TestKeysTypedFast(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.press("p")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/agp")})
	if !m.picker.Filtering() || m.picker.Query() != "agp" || m.picker.Matches()[0] != "agp-lenet300" {
		t.Errorf("/agp as one message: filtering %v, query %q", m.picker.Filtering(), m.picker.Query())
	}
	m.press("esc")
	m.settle(m.press("esc"))
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("]]")})
	if got := m.controls.Setting().PruneRatio; got != 0.02 {
		t.Errorf("]] as one message: ratio %v, want 0.02", got)
	}
}
