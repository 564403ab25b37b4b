package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/tui/common"
	"github.com/prunerlab/pruner-tui/tui/components/chart"
	"github.com/prunerlab/pruner-tui/tui/components/controls"
	"github.com/prunerlab/pruner-tui/tui/components/dialog"
	"github.com/prunerlab/pruner-tui/tui/components/layers"
	"github.com/prunerlab/pruner-tui/tui/components/picker"
	"github.com/prunerlab/pruner-tui/tui/components/statusbar"
	"github.com/prunerlab/pruner-tui/tui/components/table"
)

// Config is what the program starts with.
type Config struct {
	Spec   spec.Spec           // the experiment to run first
	Extra  []spec.Spec         // specs from YAML files on the command line, shown in the picker too
	Opts   experiments.Options // data dir
	Export string              // path prefix for the export key (e.g. "results"); "" uses the experiment name
}

// The smallest terminal the layout works in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Run runs the program full-screen until the user quits. The mouse
// scrolls and clicks the panes (hold shift to select text in most
// terminals).
func Run(cfg Config) error {
	_, err := tea.NewProgram(New(cfg), tea.WithAltScreen(), tea.WithMouseCellMotion()).Run()
	return err
}

// state is which screen shows.
type state int

const (
	stateMain   state = iota // the panes
	statePicker              // the preset picker
)

// pane is a focusable pane, in tab order.
type pane int

const (
	paneControls pane = iota
	paneChart
	paneResults
	paneLayers
	paneCount
)

// model is the root: it owns the panes, routes messages and lays out.
// The session (session.go) owns the run and the fine-tunes; the knob
// charts (knobcharts.go) what takes the curves' place; dialogs.go asks
// before work is lost and how to export; mouse.go routes the mouse.
type model struct {
	cfg    Config
	common *common.Common
	state  state
	focus  pane
	help   help.Model
	width  int
	height int

	session  *session
	chart    *chart.Model
	charts   *knobCharts
	controls *controls.Model
	layers   *layers.Model
	results  *table.Model
	status   *statusbar.Model
	picker   *picker.Model

	dialog  *dialog.Model       // the question on screen, nil for none
	pending *picker.Item        // the experiment chosen while the table was at stake
	after   func() tea.Cmd      // what runs once the export a dialog started is written
	compact bool                // a short window: results and layers share one place, as tabs
	bottom  pane                // in the compact layout, which of them shows
	rects   [paneCount]geometry // where each pane is on screen, for the mouse
}

// geometry is a pane's place on screen.
type geometry struct{ x, y, w, h int }

func (g geometry) contains(x, y int) bool { return x >= g.x && x < g.x+g.w && y >= g.y && y < g.y+g.h }

// New returns the root model; Init starts cfg.Spec.
func New(cfg Config) tea.Model {
	c := common.New()
	h := help.New()
	h.Styles.ShortKey, h.Styles.FullKey = c.Styles.HelpKey, c.Styles.HelpKey
	h.Styles.ShortDesc, h.Styles.FullDesc = c.Styles.HelpDesc, c.Styles.HelpDesc
	h.Styles.ShortSeparator, h.Styles.FullSeparator = c.Styles.HelpSep, c.Styles.HelpSep
	h.Styles.Ellipsis = c.Styles.HelpSep
	m := &model{
		cfg:      cfg,
		common:   c,
		help:     h,
		chart:    chart.New(c),
		charts:   newKnobCharts(c),
		controls: controls.New(c),
		layers:   layers.New(c),
		results:  table.New(c),
		status:   statusbar.New(c),
		picker:   picker.New(c, presets(), pickerExtras(cfg)),
		bottom:   paneResults,
	}
	m.session = newSession(cfg, runPanes{status: m.status, chart: m.chart, layers: m.layers,
		results: m.results, knobs: m.controls, charts: m.charts})
	m.setFocus(paneControls)
	return m
}

// pickerExtras are the specs the picker lists besides the presets: the
// first spec too when it came from a file, so the user can go back to it.
func pickerExtras(cfg Config) []spec.Spec {
	if cfg.Spec.Source == "" || strings.HasPrefix(cfg.Spec.Source, "preset:") {
		return cfg.Extra
	}
	for _, s := range cfg.Extra {
		if s.Source == cfg.Spec.Source {
			return cfg.Extra
		}
	}
	return append([]spec.Spec{cfg.Spec}, cfg.Extra...)
}

// Init starts the first experiment.
func (m *model) Init() tea.Cmd {
	return m.session.start(m.cfg.Spec)
}

// Update handles global keys first, then hands the message to whoever
// it belongs to. It never blocks: work runs in jobs and tea.Cmds.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if m.layers.ShowsClasses() {
		m.syncClasses() // the selection or the rows may have moved
	}
	m.layout()
	return m, cmd
}

func (m *model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.common.Width, m.common.Height = msg.Width, msg.Height
		return nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	case tea.MouseMsg:
		return m.handleMouse(msg)
	case dialog.ChosenMsg:
		return m.answered(msg)
	case exportedMsg:
		return m.exported(msg)
	case jobEventMsg, jobEndMsg, jobClosedMsg, tickMsg, specLoadedMsg, latencyMsg, spinner.TickMsg:
		return m.session.update(msg)
	case controls.EvalResultMsg, controls.SizeResultMsg:
		return m.preview(msg)
	case spectrumMsg, histogramsMsg, magnitudesMsg:
		m.charts.update(msg, m.controls)
		return nil
	case picker.ChosenMsg:
		return m.choose(msg.Item)
	case picker.ClosedMsg:
		m.state = stateMain
		return nil
	}
	// Anything else (the filter's cursor blink) goes to the active screen.
	if m.state == statePicker {
		_, cmd := m.picker.Update(msg)
		return cmd
	}
	return nil
}

// preview hands a knob evaluation's answer to the knobs; an answer for
// the knobs on screen also shows its layers and weight histograms. (A
// preview row's setting column is its Setting in words.)
func (m *model) preview(msg tea.Msg) tea.Cmd {
	if ev, ok := m.controls.Current(msg); ok {
		m.layers.SetLayers("preview: "+ev.Row.Setting, ev.Layers)
		m.charts.preview(ev)
	}
	_, cmd := m.controls.Update(msg)
	return cmd
}

// nextChartView cycles the chart pane through the training curves and
// each kind of sensitivity analysis the run has, and says what v shows
// next.
func (m *model) nextChartView() {
	if !m.chart.HasSensitivity() {
		m.status.SetNote("no sensitivity analysis in this experiment: the chart shows the training curves")
		return
	}
	m.chart.NextView()
	m.status.SetNote("the chart shows the " + m.chart.ViewName() + "; v shows the " + m.chart.NextViewName() + " next")
}

// knobChart is what takes the curves' place, nil for the curves.
func (m *model) knobChart() common.Component {
	return m.charts.shown(m.controls, m.session.fineTuning())
}

// focused is the pane keys go to.
func (m *model) focused() common.Component {
	switch m.focus {
	case paneResults:
		return m.results
	case paneLayers:
		return m.layers
	case paneChart:
		if c := m.knobChart(); c != nil {
			return c
		}
		return m.chart
	default:
		return m.controls
	}
}

func (m *model) setFocus(p pane) {
	m.focus = p
	m.controls.Blur()
	m.results.Blur()
	m.layers.Blur()
	m.chart.Blur()
	m.charts.focus(false)
	switch p {
	case paneResults:
		m.results.Focus()
		m.bottom = paneResults
	case paneLayers:
		m.layers.Focus()
		m.bottom = paneLayers
	case paneChart:
		// The knob charts share the curves' place and its focus.
		m.chart.Focus()
		m.charts.focus(true)
	default:
		m.controls.Focus()
	}
}

// quit cancels every job and evaluation and ends the program.
func (m *model) quit() tea.Cmd {
	m.session.stop()
	m.controls.Cancel()
	return tea.Quit
}
