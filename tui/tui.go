package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
	"github.com/prunerlab/pruner-tui/tui/components/chart"
	"github.com/prunerlab/pruner-tui/tui/components/controls"
	"github.com/prunerlab/pruner-tui/tui/components/histogram"
	"github.com/prunerlab/pruner-tui/tui/components/layers"
	"github.com/prunerlab/pruner-tui/tui/components/picker"
	"github.com/prunerlab/pruner-tui/tui/components/spectrum"
	"github.com/prunerlab/pruner-tui/tui/components/statusbar"
	"github.com/prunerlab/pruner-tui/tui/components/table"
)

// Config is what the program starts with.
type Config struct {
	Spec   experiments.Spec    // the experiment to run first
	Extra  []experiments.Spec  // specs from YAML files on the command line, shown in the picker too
	Opts   experiments.Options // data dir
	Export string              // path prefix for the export key (e.g. "results"); "" uses the experiment name
}

// The smallest terminal the layout works in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Run runs the program full-screen until the user quits.
func Run(cfg Config) error {
	_, err := tea.NewProgram(New(cfg), tea.WithAltScreen()).Run()
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
	paneResults
	paneLayers
	paneChart
	paneCount
)

// Messages of the root model (job messages are in bridge.go; knob
// evaluation messages in the controls package).
type (
	// tickMsg advances the elapsed-time clock once a second.
	tickMsg struct{ Gen int }
	// specLoadedMsg carries a preset loaded by name from the picker.
	specLoadedMsg struct {
		Spec experiments.Spec
		Err  error
	}
	// exportedMsg says how writing the result table (and the sensitivity
	// tables beside it, when there are some) went.
	exportedMsg struct {
		Written []results.Written // absolute paths
		Err     error
	}
	// spectrumMsg carries the rank knob's spectrum for request Gen.
	spectrumMsg struct {
		Gen      int
		Spectrum experiments.Spectrum
		Err      error
	}
	// histogramsMsg carries the weight histograms of the knob setting of
	// controls generation Gen, before any knob has turned.
	histogramsMsg struct {
		Gen        int
		Label      string
		Histograms []experiments.WeightHistogram
		Err        error
	}
)

// model is the root: it owns the panes, routes messages and lays out.
type model struct {
	cfg    Config
	common *common.Common
	state  state
	focus  pane
	help   help.Model
	width  int
	height int

	spec    experiments.Spec
	jobs    map[int]*job
	lastJob int
	runJob  int // the run whose events the panes show; 0 for none
	ftJob   int // the fine-tune in progress; 0 for none

	// Status of the run and of a fine-tune, combined into the status line.
	runStage    experiments.Stage
	runDetail   string
	runEpoch    string // "epoch 3/10" from the latest step event
	ftText      string
	running     bool
	activeSince time.Time // start of the run or fine-tune the clock counts
	tickGen     int

	sensitivity results.Report // the run's finished sensitivity analyses (no rows), exported beside the table

	chart    *chart.Model
	controls *controls.Model
	// The knob charts take the curves' place while the bit-width or rank
	// knob is selected.
	histogram *histogram.Model
	spectrum  *spectrum.Model
	specGen   int    // the latest spectrum request
	specKey   string // "layer@rank" of the spectrum shown or asked for
	layers    *layers.Model
	results   *table.Model
	status    *statusbar.Model
	picker    *picker.Model
}

// New returns the root model; Init starts cfg.Spec.
func New(cfg Config) tea.Model {
	c := common.New()
	h := help.New()
	h.Styles.ShortKey, h.Styles.FullKey = c.Styles.HelpKey, c.Styles.HelpKey
	h.Styles.ShortDesc, h.Styles.FullDesc = c.Styles.HelpDesc, c.Styles.HelpDesc
	h.Styles.ShortSeparator, h.Styles.FullSeparator = c.Styles.HelpSep, c.Styles.HelpSep
	h.Styles.Ellipsis = c.Styles.HelpSep
	m := &model{
		cfg:       cfg,
		common:    c,
		help:      h,
		spec:      cfg.Spec,
		jobs:      map[int]*job{},
		chart:     chart.New(c),
		controls:  controls.New(c),
		histogram: histogram.New(c),
		spectrum:  spectrum.New(c),
		layers:    layers.New(c),
		results:   table.New(c),
		status:    statusbar.New(c),
		picker:    picker.New(c, experiments.ListPresets(), pickerExtras(cfg)),
	}
	m.setFocus(paneControls)
	return m
}

// pickerExtras are the specs the picker lists besides the presets: the
// first spec too when it came from a file, so the user can go back to it.
func pickerExtras(cfg Config) []experiments.Spec {
	if cfg.Spec.Source == "" || strings.HasPrefix(cfg.Spec.Source, "preset:") {
		return cfg.Extra
	}
	for _, s := range cfg.Extra {
		if s.Source == cfg.Spec.Source {
			return cfg.Extra
		}
	}
	return append([]experiments.Spec{cfg.Spec}, cfg.Extra...)
}

// Init starts the first experiment.
func (m *model) Init() tea.Cmd {
	return m.startRun(m.spec)
}

// Update handles global keys first, then hands the message to whoever
// it belongs to. It never blocks: work runs in jobs and tea.Cmds.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
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

	case jobEventMsg:
		j, ok := m.jobs[msg.Job]
		if !ok {
			return nil
		}
		cmd := m.handleEvent(msg.Job, j, msg.Event)
		return tea.Batch(cmd, listen(msg.Job, j.events))
	case jobEndMsg:
		j, ok := m.jobs[msg.Job]
		if !ok {
			return nil
		}
		m.handleEnd(msg.Job, j, msg)
		return listen(msg.Job, j.events)
	case jobClosedMsg:
		delete(m.jobs, msg.Job)
		return nil

	case tickMsg:
		if msg.Gen != m.tickGen || !m.busy() {
			return nil
		}
		m.status.SetElapsed(time.Since(m.activeSince))
		return m.tick()

	case controls.EvalResultMsg, controls.SizeResultMsg:
		if ev, ok := m.controls.Current(msg); ok {
			m.layers.SetLayers("preview: "+ev.Setting.String(), ev.Layers)
			if len(ev.Histograms) > 0 {
				m.histogram.SetData(ev.Setting.String(), ev.Histograms)
			}
		}
		_, cmd := m.controls.Update(msg)
		return cmd
	case spectrumMsg:
		if msg.Gen == m.specGen {
			m.spectrum.SetData(msg.Spectrum, msg.Err)
		}
		return nil
	case histogramsMsg:
		if msg.Gen == m.controls.Generation() && msg.Err == nil && !m.histogram.HasData() {
			m.histogram.SetData(msg.Label, msg.Histograms)
		}
		return nil

	case picker.ChosenMsg:
		m.state = stateMain
		if msg.Item.Spec != nil {
			return m.startRun(*msg.Item.Spec)
		}
		m.status.SetNote("loading " + msg.Item.Name + "…")
		name := msg.Item.Name
		return func() tea.Msg {
			s, err := experiments.LoadSpec(name)
			return specLoadedMsg{Spec: s, Err: err}
		}
	case picker.ClosedMsg:
		m.state = stateMain
		return nil
	case specLoadedMsg:
		if msg.Err != nil {
			m.status.SetError(msg.Err)
			return nil
		}
		return m.startRun(msg.Spec)

	case exportedMsg:
		if msg.Err != nil {
			m.status.SetError(msg.Err)
			return nil
		}
		m.status.SetError(nil)
		var parts []string
		for _, w := range msg.Written {
			parts = append(parts, "the "+w.What+" to "+w.Path)
		}
		m.status.SetNote("exported " + strings.Join(parts, " and "))
		return nil
	}

	// Anything else (the list's own messages) goes to the active screen.
	if m.state == statePicker {
		_, cmd := m.picker.Update(msg)
		return cmd
	}
	return nil
}

func (m *model) handleKey(k tea.KeyMsg) tea.Cmd {
	keys := m.common.Keys
	// Global keys first. q is text while typing a filter in the picker.
	if k.String() == "ctrl+c" || key.Matches(k, keys.Quit) && !(m.state == statePicker && m.picker.Filtering()) {
		return m.quit()
	}
	if m.state == statePicker {
		_, cmd := m.picker.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil
	case key.Matches(k, keys.NextPane):
		m.setFocus((m.focus + 1) % paneCount)
		return nil
	case key.Matches(k, keys.PrevPane):
		m.setFocus((m.focus + paneCount - 1) % paneCount)
		return nil
	case key.Matches(k, keys.Presets):
		m.state = statePicker
		m.picker.Select(m.spec.Name)
		return nil
	case key.Matches(k, keys.Export):
		return m.export()
	case key.Matches(k, keys.FineTune):
		return m.fineTune()
	case key.Matches(k, keys.AddRow):
		m.addPreviewRow()
		return nil
	case key.Matches(k, keys.View):
		if !m.chart.HasSensitivity() {
			m.status.SetNote("no sensitivity analysis in this experiment: the chart shows the training curves")
			return nil
		}
		m.chart.ToggleView()
		return nil
	case keys.TurnsKnob(k):
		_, cmd := m.controls.Update(k)
		return tea.Batch(cmd, m.knobChartCmd())
	}
	_, cmd := m.focused().Update(k)
	if m.focus == paneControls {
		cmd = tea.Batch(cmd, m.knobChartCmd())
	}
	return cmd
}

// knobChart is what takes the curves' place: the weight histogram while
// the bit-width knob is selected, the spectrum while the rank knob is, nil
// otherwise (and while a fine-tune runs, whose curves matter more).
func (m *model) knobChart() common.Component {
	if !m.controls.Ready() || m.ftJob != 0 {
		return nil
	}
	switch m.controls.Selected() {
	case controls.KnobBitWidth:
		return m.histogram
	case controls.KnobRank:
		if m.controls.RankLayer() != "" {
			return m.spectrum
		}
	}
	return nil
}

// knobChartCmd fetches what the knob chart needs off the UI goroutine: the
// spectrum at the rank knob's cut (cached SVD, so cheap), or, before any
// preview, the histograms of the current setting.
func (m *model) knobChartCmd() tea.Cmd {
	t := m.controls.Trained()
	if t == nil {
		return nil
	}
	switch m.controls.Selected() {
	case controls.KnobRank:
		layer, rank := m.controls.RankLayer(), m.controls.Rank()
		key := fmt.Sprintf("%s@%d", layer, rank)
		if layer == "" || key == m.specKey {
			return nil
		}
		m.specGen++
		m.specKey = key
		gen := m.specGen
		return func() tea.Msg {
			s, err := t.Spectrum(layer, rank)
			return spectrumMsg{Gen: gen, Spectrum: s, Err: err}
		}
	case controls.KnobBitWidth:
		if m.histogram.HasData() {
			return nil
		}
		gen, s := m.controls.Generation(), m.controls.Setting()
		return func() tea.Msg {
			hs, err := t.Histograms(s)
			return histogramsMsg{Gen: gen, Label: s.String(), Histograms: hs, Err: err}
		}
	}
	return nil
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
	m.histogram.Blur()
	m.spectrum.Blur()
	switch p {
	case paneResults:
		m.results.Focus()
	case paneLayers:
		m.layers.Focus()
	case paneChart:
		// The knob charts share the curves' place and its focus.
		m.chart.Focus()
		m.histogram.Focus()
		m.spectrum.Focus()
	default:
		m.controls.Focus()
	}
}

// quit cancels every job and evaluation and ends the program.
func (m *model) quit() tea.Cmd {
	for _, j := range m.jobs {
		j.cancel()
	}
	m.controls.Cancel()
	return tea.Quit
}

// startRun cancels whatever runs, clears the panes and runs spec.
func (m *model) startRun(spec experiments.Spec) tea.Cmd {
	for _, j := range m.jobs {
		j.cancel() // their channels drain until closed; their messages are ignored
	}
	m.runJob, m.ftJob = 0, 0
	m.controls.Reset()
	m.chart.Reset()
	m.histogram.Reset()
	m.spectrum.Reset()
	m.specKey = ""
	m.layers.Reset()
	m.results.Reset()
	m.status.Reset()
	m.sensitivity = results.Report{}
	m.spec = spec
	m.runStage, m.runDetail, m.runEpoch, m.ftText = "", "", "", ""
	m.running = true
	m.refreshStatus()

	m.lastJob++
	id := m.lastJob
	opts := m.cfg.Opts
	events, cancel := startJob(id, func(ctx context.Context, sink experiments.Sink) jobEndMsg {
		report, err := experiments.Run(ctx, spec, opts, sink)
		return jobEndMsg{Table: report.Rows, Err: err}
	})
	m.jobs[id] = &job{kind: jobRun, events: events, cancel: cancel}
	m.runJob = id
	return tea.Batch(listen(id, events), m.restartClock())
}

// fineTune fine-tunes the knob setting for controls.FineTuneEpochs epochs.
func (m *model) fineTune() tea.Cmd {
	switch {
	case !m.controls.Ready():
		m.status.SetNote("fine-tuning needs the trained baseline: wait for it")
		return nil
	case m.ftJob != 0:
		m.status.SetNote("a fine-tune is already running")
		return nil
	}
	t, s := m.controls.Trained(), m.controls.Setting()
	m.lastJob++
	id := m.lastJob
	events, cancel := startJob(id, func(ctx context.Context, sink experiments.Sink) jobEndMsg {
		ev, err := t.FineTune(ctx, s, controls.FineTuneEpochs, sink)
		return jobEndMsg{Eval: ev, Err: err}
	})
	m.jobs[id] = &job{kind: jobFineTune, events: events, cancel: cancel, setting: s}
	m.ftJob = id
	m.ftText = fmt.Sprintf("%s (%d epochs)", s.String(), controls.FineTuneEpochs)
	m.controls.SetBusy("fine-tuning… watch the curves")
	m.status.SetError(nil)
	m.refreshStatus()
	return tea.Batch(listen(id, events), m.restartClock())
}

// addPreviewRow appends the knob preview to the results without
// fine-tuning.
func (m *model) addPreviewRow() {
	row, ok := m.controls.Preview()
	switch {
	case !m.controls.Ready():
		m.status.SetNote("no preview yet: the knobs unlock once the baseline is trained")
	case !ok:
		m.status.SetNote("the preview is not ready yet")
	case m.controls.Setting() == (experiments.Setting{}):
		m.status.SetNote("every knob is off: that is the dense baseline, already in the table")
	default:
		m.results.Add(row)
		m.status.SetNote("added " + row.Setting + " to the results")
	}
}

// ExportPath is where the export key writes: prefix (or the experiment
// name) with ".csv" added unless it already names a format.
func ExportPath(prefix, experiment string) string {
	if prefix == "" {
		prefix = strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == ' ' {
				return '-'
			}
			return r
		}, experiment)
		if prefix == "" {
			prefix = "results"
		}
	}
	if _, err := results.FormatFor(prefix); err == nil {
		return prefix
	}
	return prefix + ".csv"
}

// export writes the result table in a tea.Cmd.
func (m *model) export() tea.Cmd {
	table := m.results.Table()
	if len(table) == 0 {
		m.status.SetNote("nothing to export yet: no result rows")
		return nil
	}
	path := ExportPath(m.cfg.Export, m.spec.Name)
	report := m.sensitivity.Clone()
	report.Rows = table
	return func() tea.Msg {
		written, err := report.Export(path)
		for i, w := range written {
			if abs, err := filepath.Abs(w.Path); err == nil {
				written[i].Path = abs
			}
		}
		return exportedMsg{Written: written, Err: err}
	}
}

// handleEvent applies one event of a job to the panes.
func (m *model) handleEvent(id int, j *job, ev experiments.Event) tea.Cmd {
	current := id == m.runJob || id == m.ftJob
	if !current {
		return nil
	}
	switch e := ev.(type) {
	case experiments.StageEvent:
		if j.kind == jobRun {
			m.runStage, m.runDetail, m.runEpoch = e.Stage, e.Detail, ""
		} else {
			m.ftText = e.Detail
		}
		m.refreshStatus()
	case experiments.StepEvent:
		m.chart.AddStep(e)
		if j.kind == jobRun {
			m.runEpoch = fmt.Sprintf("epoch %d/%d", e.Epoch, e.Epochs)
			m.refreshStatus()
		}
	case experiments.EpochEvent:
		m.chart.AddEpoch(e)
	case experiments.LayersEvent:
		label := e.Phase
		if j.kind == jobFineTune {
			label = "fine-tuning " + j.setting.String()
		}
		m.layers.SetLayers(label, e.Layers)
	case experiments.ResultEvent:
		m.results.Add(e.Row)
		j.gotResult = true
	case experiments.BaselineEvent:
		if j.kind == jobRun && e.Trained != nil {
			m.controls.SetTrained(e.Trained)
			m.histogram.Reset()
			m.specKey = ""
			m.status.SetNote("baseline trained: turn the knobs (←/→) to compress it")
			return m.knobChartCmd()
		}
	case experiments.SensitivityEvent:
		if j.kind == jobRun {
			m.chart.SetSensitivity(e)
			if e.Done {
				m.sensitivity.Add(e.Table.Kind, e.Table.Points...)
			}
		}
	case experiments.LogEvent:
		m.status.SetLog(e.Text)
	case experiments.DoneEvent:
		if j.kind == jobRun {
			m.finishRun(e.Report.Rows, e.Err, e.Elapsed)
		}
	}
	return nil
}

// handleEnd takes in a job's return value.
func (m *model) handleEnd(id int, j *job, end jobEndMsg) {
	switch {
	case id == m.runJob && j.kind == jobRun:
		m.finishRun(end.Table, end.Err, 0)
	case id == m.ftJob && j.kind == jobFineTune:
		m.ftJob, m.ftText = 0, ""
		m.controls.SetBusy("")
		switch {
		case end.Err == nil:
			if !j.gotResult {
				m.results.Add(end.Eval.Row)
			}
			if len(end.Eval.Layers) > 0 {
				m.layers.SetLayers("fine-tuned "+j.setting.String(), end.Eval.Layers)
			}
			r := end.Eval.Row
			m.status.SetNote(fmt.Sprintf("fine-tuned %s: test %.2f%% (Δ %s pp), added to the results",
				j.setting.String(), r.TestAcc, common.Signed(r.DeltaAccPP, 2)))
		case errors.Is(end.Err, context.Canceled):
			m.status.SetNote("fine-tune cancelled")
		default:
			m.status.SetError(fmt.Errorf("fine-tune %s: %w", j.setting.String(), end.Err))
		}
		m.refreshStatus()
	}
}

// finishRun marks the run ended; the runner's DoneEvent and its return
// both come here, so it must be idempotent.
func (m *model) finishRun(table results.Table, err error, elapsed time.Duration) {
	if !m.running {
		return
	}
	m.running = false
	if elapsed > 0 {
		m.status.SetElapsed(elapsed)
	} else {
		m.status.SetElapsed(time.Since(m.activeSince))
	}
	if m.results.Len() == 0 {
		for _, r := range table {
			m.results.Add(r)
		}
	}
	m.runEpoch = ""
	// The runner's last StageEvent already says how it ended ("done", "6
	// rows"); only fill in when it did not get to send one.
	switch {
	case err == nil:
		if m.runStage != experiments.StageDone {
			m.runStage, m.runDetail = experiments.StageDone, fmt.Sprintf("%d rows", len(table))
		}
		m.status.SetNote("finished: turn the knobs to try your own settings, e exports the table")
	case errors.Is(err, context.Canceled):
		m.runStage = experiments.StageCancelled
	default:
		m.runStage, m.runDetail = experiments.StageFailed, ""
		m.status.SetError(err)
	}
	m.refreshStatus()
}

// refreshStatus shows the fine-tune while one runs, else the run's stage.
func (m *model) refreshStatus() {
	if m.ftJob != 0 {
		m.status.SetStage(experiments.StageFineTuning, m.ftText)
		return
	}
	detail := m.runDetail
	if m.runEpoch != "" && !strings.Contains(detail, "epoch") {
		detail = strings.TrimSpace(detail + " " + m.runEpoch)
	}
	m.status.SetStage(m.runStage, detail)
}

// busy reports whether a run or fine-tune is in progress.
func (m *model) busy() bool { return m.running || m.ftJob != 0 }

// restartClock starts counting from now with a fresh tick loop.
func (m *model) restartClock() tea.Cmd {
	m.activeSince = time.Now()
	m.status.SetElapsed(0)
	m.tickGen++
	return m.tick()
}

func (m *model) tick() tea.Cmd {
	gen := m.tickGen
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{Gen: gen} })
}
