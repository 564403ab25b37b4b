package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// handleKey routes a key: ctrl+c quits at once from anywhere; a dialog
// takes every other key (but ?); then the keys that work on every screen
// (q asks before it quits while work is at stake, ? shows every key,
// esc backs out), unless they are text in the picker's filter; then the
// active screen's.
func (m *model) handleKey(k tea.KeyMsg) tea.Cmd {
	keys := m.common.Keys
	if k.String() == "ctrl+c" {
		return m.quit()
	}
	// Keys typed faster than the terminal is read arrive as one message
	// ("/agp"): each is a key of its own (a paste stays text).
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste {
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	typing := m.state == statePicker && m.picker.Filtering()
	if key.Matches(k, keys.Help) && !typing {
		m.help.ShowAll = !m.help.ShowAll
		return nil
	}
	if m.dialog != nil {
		return m.dialog.Update(k)
	}
	if !typing && key.Matches(k, keys.Quit) {
		return m.askQuit()
	}
	if m.state == statePicker {
		if key.Matches(k, keys.Back) && m.help.ShowAll && !typing {
			m.help.ShowAll = false
			return nil
		}
		_, cmd := m.picker.Update(k)
		return cmd
	}
	return m.mainKey(k)
}

// mainKey handles a key on the panes: the global keys first, then the
// knobs (which turn from any pane), then the focused pane's keys.
func (m *model) mainKey(k tea.KeyMsg) tea.Cmd {
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.Back):
		m.back()
		return nil
	case key.Matches(k, keys.NextPane):
		m.setFocus((m.focus + 1) % paneCount)
		return nil
	case key.Matches(k, keys.PrevPane):
		m.setFocus((m.focus + paneCount - 1) % paneCount)
		return nil
	case key.Matches(k, keys.Presets):
		m.state = statePicker
		m.picker.Select(m.session.spec.Name)
		return nil
	case key.Matches(k, keys.Export):
		return m.askExport()
	case key.Matches(k, keys.FineTune):
		return m.session.fineTune()
	case key.Matches(k, keys.AddRow):
		return m.session.addPreviewRow()
	case key.Matches(k, keys.View):
		m.nextChartView()
		return nil
	case key.Matches(k, keys.Classes):
		m.toggleClasses()
		return nil
	case keys.TurnsKnob(k):
		_, cmd := m.controls.Update(k)
		return tea.Batch(cmd, m.charts.request(m.controls))
	}
	_, cmd := m.focused().Update(k)
	if m.focus == paneControls {
		cmd = tea.Batch(cmd, m.charts.request(m.controls))
	}
	return cmd
}

// toggleClasses shows the selected result row's accuracy on each class in
// the layers pane, or the layers again; a dataset without class names
// has none to show.
func (m *model) toggleClasses() {
	switch {
	case m.layers.ShowsClasses():
		m.layers.ShowLayers()
	case m.session.classNames == nil:
		m.status.SetNote("per-class accuracy: for datasets that name their classes (fashion-mnist), once the baseline is trained")
	default:
		m.syncClasses()
		m.status.SetNote("the layers pane shows the selected row's accuracy on each class; c shows the layers again")
	}
}

// syncClasses shows the selected result row's per-class accuracy against
// the dense baseline's (the first row).
func (m *model) syncClasses() {
	i := m.results.Cursor()
	row, ok := m.results.Row(i)
	if !ok || m.session.classNames == nil {
		return
	}
	m.layers.SetClasses(row.Technique+" "+row.Setting, m.session.classNames, m.results.Classes(0), m.results.Classes(i))
}

// back is esc on the panes: it closes the full help, then takes the chart
// from a sensitivity analysis back to the curves, then the focus back to
// the knobs.
func (m *model) back() {
	switch {
	case m.help.ShowAll:
		m.help.ShowAll = false
	case m.chart.ShowsSensitivity():
		m.chart.ShowCurves()
		m.status.SetNote("the chart shows the curves; v shows the " + m.chart.NextViewName() + " next")
	case m.focus != paneControls:
		m.setFocus(paneControls)
	}
}
