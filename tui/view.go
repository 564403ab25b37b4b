package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/tui/common"
	"github.com/prunerlab/pruner-tui/tui/components/dialog"
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
//
// In a short window (80×24 and up to compactHeight rows) the layers and
// the results share the bottom place as two tabs, each with the room to
// show every layer or several rows; tab (or a click on its name) goes
// from one to the other:
//
//	┌ curves ─────────────┐┌ knobs ────────┐
//	└─────────────────────┘└───────────────┘
//	┌ Results 9 rows ────────────── Layers ┐
//	└──────────────────────────────────────┘

// Pane sizes, frames included.
const (
	minChartHeight   = 9
	minResultsHeight = 6
	minLayersHeight  = 5
	maxLayerRows     = 6
	compactHeight    = 28 // windows less tall get the compact layout
	compactTop       = 13 // the chart and the knobs in the compact layout
)

// layout hands every pane its size for the current window, and notes
// where each is for the mouse.
func (m *model) layout() {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return
	}
	m.help.Width = w
	m.status.SetSize(w, 1)
	bodyH := h - 2 - lipgloss.Height(m.helpView())
	m.picker.SetSize(w, bodyH)

	// The knobs get a fixed column; the curves and layers share the rest.
	knobsW := min(max(w*2/5, 38), 48)
	leftW := w - knobsW
	m.compact = h < compactHeight
	if m.compact {
		topH := min(compactTop, bodyH-minResultsHeight)
		m.place(paneChart, geometry{0, 1, leftW, topH})
		m.place(paneControls, geometry{leftW, 1, knobsW, topH})
		m.place(paneResults, geometry{0, 1 + topH, w, bodyH - topH})
		m.place(paneLayers, geometry{0, 1 + topH, w, bodyH - topH})
		return
	}
	layersH := max(min(m.layerRows(), maxLayerRows)+4, minLayersHeight)
	resultsH := min(max(m.results.Len()+5, minResultsHeight), max(bodyH*2/5, minResultsHeight))
	chartH := bodyH - layersH - resultsH
	if chartH < minChartHeight {
		resultsH = max(resultsH-(minChartHeight-chartH), minResultsHeight)
		chartH = bodyH - layersH - resultsH
	}
	m.place(paneChart, geometry{0, 1, leftW, chartH})
	m.place(paneLayers, geometry{0, 1 + chartH, leftW, layersH})
	m.place(paneControls, geometry{leftW, 1, knobsW, chartH + layersH})
	m.place(paneResults, geometry{0, 1 + chartH + layersH, w, resultsH})
}

// place gives pane p its place.
func (m *model) place(p pane, g geometry) {
	m.rects[p] = g
	switch p {
	case paneChart:
		m.chart.SetSize(g.w, g.h)
		m.charts.setSize(g.w, g.h)
	case paneControls:
		m.controls.SetSize(g.w, g.h)
	case paneLayers:
		m.layers.SetSize(g.w, g.h)
	case paneResults:
		m.results.SetSize(g.w, g.h)
	}
}

// layerRows is how many weight layers the layers pane lists.
func (m *model) layerRows() int {
	return max(m.layers.Rows(), 2)
}

// View draws the screen, a dialog over it when one asks.
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
		body = m.panesView()
	}
	if m.dialog != nil {
		bodyH := m.height - 2 - lipgloss.Height(m.helpView())
		body = dialog.Overlay(body, m.dialog.View(m.width), m.width, bodyH)
	}
	return lipgloss.JoinVertical(lipgloss.Left, m.headerView(), body, m.status.View(), m.helpView())
}

// panesView draws the panes in their places.
func (m *model) panesView() string {
	var chartView string
	if c := m.knobChart(); c != nil {
		chartView = c.View()
	} else {
		chartView = m.chart.View()
	}
	if m.compact {
		top := lipgloss.JoinHorizontal(lipgloss.Top, chartView, m.controls.View())
		return lipgloss.JoinVertical(lipgloss.Left, top, m.bottomView())
	}
	left := lipgloss.JoinVertical(lipgloss.Left, chartView, m.layers.View())
	top := lipgloss.JoinHorizontal(lipgloss.Top, left, m.controls.View())
	return lipgloss.JoinVertical(lipgloss.Left, top, m.results.View())
}

// bottomView is the compact layout's tabbed place: the results or the
// layers, the other's name at the right end of the frame's top edge.
func (m *model) bottomView() string {
	st := m.common.Styles
	shown, other := m.results.View(), "Layers"
	if m.bottom == paneLayers {
		shown, other = m.layers.View(), "Results"
	}
	lines := strings.Split(shown, "\n")
	w := m.rects[paneResults].w
	tab := " " + other + " "
	if room := w - lipgloss.Width(tab) - 2; room > 0 && len(lines) > 0 {
		border := st.Border
		if m.focus == m.bottom {
			border = st.BorderFocused
		}
		lines[0] = ansi.Truncate(lines[0], room, "") + st.Tab.Render(tab) + border.Render("─╮")
	}
	return strings.Join(lines, "\n")
}

// tabAt reports whether x on the compact layout's top edge of the bottom
// place is the other tab's name.
func (m *model) tabAt(x int) bool {
	other := "Layers"
	if m.bottom == paneLayers {
		other = "Results"
	}
	w := m.rects[paneResults].w
	return x >= w-len(other)-4 && x < w-2
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
	if m.layers.ShowsClasses() {
		m.common.Keys.Classes.SetHelp("c", "layers")
	} else {
		m.common.Keys.Classes.SetHelp("c", "per-class accuracy")
	}
	return m.help.View(helpKeys{m})
}

// helpKeys is the help.KeyMap of the whole screen: a dialog's keys, or
// the picker's, or the focused pane's, then the global ones.
type helpKeys struct{ m *model }

func (h helpKeys) global() []key.Binding {
	k := h.m.common.Keys
	keys := []key.Binding{k.NextPane}
	if h.m.chart.HasSensitivity() {
		keys = append(keys, k.View)
	}
	if h.m.session.classNames != nil {
		keys = append(keys, k.Classes)
	}
	return append(keys, k.Presets, k.Export, k.Help, k.Quit)
}

func (h helpKeys) ShortHelp() []key.Binding {
	k := h.m.common.Keys
	switch {
	case h.m.dialog != nil:
		return h.m.dialog.ShortHelp()
	case h.m.state == statePicker && h.m.picker.Filtering():
		return h.m.picker.ShortHelp()
	case h.m.state == statePicker:
		return append(h.m.picker.ShortHelp(), k.Help, k.Quit)
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
	switch {
	case h.m.dialog != nil:
		return append(h.m.dialog.FullHelp(), []key.Binding{k.Help})
	case h.m.state == statePicker:
		return append(h.m.picker.FullHelp(), []key.Binding{k.Help, k.Quit})
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
	last := []key.Binding{k.Back, k.Help, k.Quit}
	if h.m.chart.HasSensitivity() {
		last = []key.Binding{k.View, k.Back, k.Help, k.Quit}
	}
	return [][]key.Binding{
		append(first, k.Less, k.More),
		{k.LessFine, k.MoreFine, k.FineTune, k.AddRow},
		{k.NextPane, k.PrevPane, k.Presets, k.Export},
		last,
	}
}
