package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// The screen, top to bottom:
//
//	header                                   1 row
//	┌ curves ─────────────┐┌ knobs ────────┐
//	│                     ││               │
//	└─────────────────────┘│               │
//	┌ layers ─────────────┐│               │
//	└─────────────────────┘└───────────────┘
//	┌ results ─────────────────────────────┐
//	└──────────────────────────────────────┘
//	status                                   1 row
//	help                                     1 row (more with ?)

// Pane sizes, frames included.
const (
	minChartHeight   = 9
	minResultsHeight = 6
	minLayersHeight  = 5
	maxLayerRows     = 6
)

// layout hands every pane its size for the current window.
func (m *model) layout() {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return
	}
	m.help.Width = w
	m.status.SetSize(w, 1)
	bodyH := h - 2 - lipgloss.Height(m.helpView())

	// The knobs get a fixed column; the curves and layers share the rest.
	knobsW := min(max(w*2/5, 38), 48)
	leftW := w - knobsW

	// In a short window the curves come first: the layers and results
	// panes shrink to a couple of rows and scroll.
	maxLayers, minResults := maxLayerRows, minResultsHeight
	if bodyH < 26 {
		maxLayers, minResults = 2, minResultsHeight-1
	}
	layersH := max(min(m.layerRows(), maxLayers)+4, minLayersHeight)
	resultsH := min(max(m.results.Len()+5, minResults), max(bodyH*2/5, minResults))
	chartH := bodyH - layersH - resultsH
	if chartH < minChartHeight {
		resultsH = max(resultsH-(minChartHeight-chartH), minResults)
		chartH = bodyH - layersH - resultsH
	}
	m.chart.SetSize(leftW, chartH)
	m.charts.setSize(leftW, chartH)
	m.layers.SetSize(leftW, layersH)
	m.controls.SetSize(knobsW, chartH+layersH)
	m.results.SetSize(w, resultsH)
	m.picker.SetSize(w, bodyH)
}

// layerRows is how many weight layers the layers pane lists.
func (m *model) layerRows() int {
	return max(m.layers.Rows(), 2)
}

// View draws the screen.
func (m *model) View() string {
	if m.width == 0 || m.height == 0 {
		return "starting…"
	}
	if m.width < MinWidth || m.height < MinHeight {
		return m.tooSmallView()
	}
	var body string
	if m.state == statePicker {
		body = m.picker.View()
	} else {
		var chartView string
		if c := m.knobChart(); c != nil {
			chartView = c.View()
		} else {
			chartView = m.chart.View()
		}
		left := lipgloss.JoinVertical(lipgloss.Left, chartView, m.layers.View())
		top := lipgloss.JoinHorizontal(lipgloss.Top, left, m.controls.View())
		body = lipgloss.JoinVertical(lipgloss.Left, top, m.results.View())
	}
	return lipgloss.JoinVertical(lipgloss.Left, m.headerView(), body, m.status.View(), m.helpView())
}

// tooSmallView says the window is too small, centred, each line wrapped
// to the width so that a narrow window still shows all of it.
func (m *model) tooSmallView() string {
	st := m.common.Styles
	wrap := lipgloss.NewStyle().Width(m.width).Align(lipgloss.Center)
	msg := lipgloss.JoinVertical(lipgloss.Center,
		wrap.Inherit(st.Bad).Render("Terminal too small"),
		wrap.Render(fmt.Sprintf("%d×%d, needs at least %d×%d", m.width, m.height, MinWidth, MinHeight)),
		wrap.Inherit(st.Muted).Render("enlarge the window, or press q to quit"))
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
}

// headerView is the app name, the experiment and what it is about.
func (m *model) headerView() string {
	st := m.common.Styles
	spec := m.session.spec
	// The name and description come from a file: escaped, they cannot
	// retitle or clear the terminal.
	name := printable.Escape(spec.Name)
	if name == "" {
		name = "(unnamed experiment)"
	}
	line := st.AppName.Render(" pruner-tui ") + st.Header.Render("│ ") + st.Experiment.Render(name)
	if d := strings.TrimSpace(spec.Description); d != "" {
		line += st.Description.Render(" — " + printable.Escape(strings.Join(strings.Fields(d), " ")))
	}
	line = common.Truncate(line, m.width)
	if pad := m.width - lipgloss.Width(line); pad > 0 {
		line += st.Header.Render(strings.Repeat(" ", pad))
	}
	return line
}

// helpView is the help bar, generated from the keymap.
func (m *model) helpView() string {
	if m.help.ShowAll {
		m.common.Keys.Help.SetHelp("?", "close help")
	} else {
		m.common.Keys.Help.SetHelp("?", "help")
	}
	// v says what it shows next: the curves or a kind of sensitivity.
	if next := m.chart.NextViewName(); next != "" {
		m.common.Keys.View.SetHelp("v", next)
	}
	return m.help.View(helpKeys{m})
}

// helpKeys is the help.KeyMap of the whole screen: the focused pane's keys,
// then the global ones.
type helpKeys struct{ m *model }

func (h helpKeys) global() []key.Binding {
	k := h.m.common.Keys
	if h.m.chart.HasSensitivity() {
		return []key.Binding{k.NextPane, k.View, k.Presets, k.Export, k.Help, k.Quit}
	}
	return []key.Binding{k.NextPane, k.Presets, k.Export, k.Help, k.Quit}
}

func (h helpKeys) ShortHelp() []key.Binding {
	k := h.m.common.Keys
	if h.m.state == statePicker {
		return append(h.m.picker.ShortHelp(), k.Quit)
	}
	pane := h.m.focused().ShortHelp()
	if h.m.focus == paneControls && len(pane) > 0 {
		// The knob keys are many: keep only the ones that always fit.
		return append(pane, k.NextPane, k.Help, k.Quit)
	}
	return append(pane, h.global()...)
}

func (h helpKeys) FullHelp() [][]key.Binding {
	k := h.m.common.Keys
	if h.m.state == statePicker {
		return append(h.m.picker.FullHelp(), []key.Binding{k.Quit})
	}
	// First column: the focused pane's keys (up/down pick a knob only in
	// the knobs pane); the knobs turn from anywhere.
	first := []key.Binding{k.KnobPrev, k.KnobNext}
	if h.m.focus != paneControls {
		first = nil
		for _, g := range h.m.focused().FullHelp() {
			first = append(first, g...)
		}
	}
	last := []key.Binding{k.Help, k.Quit}
	if h.m.chart.HasSensitivity() {
		last = []key.Binding{k.View, k.Help, k.Quit}
	}
	return [][]key.Binding{
		append(first, k.Less, k.More),
		{k.LessFine, k.MoreFine, k.FineTune, k.AddRow},
		{k.NextPane, k.PrevPane, k.Presets, k.Export},
		last,
	}
}
