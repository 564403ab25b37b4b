package tui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// handleMouse routes the mouse: the wheel scrolls the focused pane (as
// its ↑/↓ keys do: rows, layers, curves, knobs) or the picker; a click
// focuses the pane under it and selects the row, knob or experiment
// clicked, or switches the compact layout's tabs. A dialog takes no
// mouse.
func (m *model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if m.dialog != nil || m.width < MinWidth || m.height < MinHeight {
		return nil
	}
	wheel := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		wheel = -1
	case tea.MouseButtonWheelDown:
		wheel = +1
	}
	if m.state == statePicker {
		switch {
		case wheel != 0:
			m.picker.Move(wheel)
		case msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft:
			if i, ok := m.picker.ItemAt(msg.Y - 1); ok { // the picker starts under the header
				m.picker.SelectIndex(i)
			}
		}
		return nil
	}
	if wheel != 0 {
		k := tea.KeyMsg{Type: tea.KeyDown}
		if wheel < 0 {
			k = tea.KeyMsg{Type: tea.KeyUp}
		}
		_, cmd := m.focused().Update(k)
		if m.focus == paneControls {
			cmd = tea.Batch(cmd, m.charts.request(m.controls))
		}
		return cmd
	}
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft {
		return nil
	}
	return m.click(msg.X, msg.Y)
}

// click focuses the pane at x, y and selects what is under it.
func (m *model) click(x, y int) tea.Cmd {
	for _, p := range []pane{paneControls, paneChart, m.bottom} {
		g := m.rects[p]
		if !g.contains(x, y) {
			continue
		}
		if m.compact && p == m.bottom && y == g.y && m.tabAt(x-g.x) {
			p = paneResults + paneLayers - m.bottom // the other tab
		}
		m.setFocus(p)
		switch p {
		case paneResults:
			if i, ok := m.results.RowAt(y - g.y); ok {
				m.results.Select(i)
			}
		case paneControls:
			if k, ok := m.controls.KnobAt(y - g.y); ok {
				m.controls.Select(k)
				return m.charts.request(m.controls)
			}
		}
		return nil
	}
	return nil
}
