package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/tui/common"
	"github.com/prunerlab/pruner-tui/tui/components/chart"
	"github.com/prunerlab/pruner-tui/tui/components/controls"
	"github.com/prunerlab/pruner-tui/tui/components/layers"
	"github.com/prunerlab/pruner-tui/tui/components/statusbar"
	"github.com/prunerlab/pruner-tui/tui/components/table"
)

// Messages of the session (the jobs' own are in bridge.go).
type (
	// tickMsg advances the elapsed-time clock once a second.
	tickMsg struct{ Gen int }
	// specLoadedMsg carries a preset loaded by name from the picker.
	specLoadedMsg struct {
		Spec spec.Spec
		Err  error
	}
	// exportedMsg says how writing the result table (and the sensitivity
	// tables beside it, when there are some) went: where, and which path
	// was taken already (Taken, "" when the wanted one was free).
	exportedMsg struct {
		Written []results.Written // absolute paths
		Taken   string
		Rows    int // the rows written
		Err     error
	}
)

// runPanes are the panes a session writes to: what its jobs report, and
// the knobs (and their charts) the trained baseline unlocks.
type runPanes struct {
	status  *statusbar.Model
	chart   *chart.Model
	layers  *layers.Model
	results *table.Model
	knobs   *controls.Model
	charts  *knobCharts
}

// reset empties every pane for a new experiment.
func (p runPanes) reset() {
	p.knobs.Reset()
	p.chart.Reset()
	p.charts.reset()
	p.layers.Reset()
	p.results.Reset()
	p.status.Reset()
}

// session is the experiment on screen: its run and the fine-tunes started
// from the knobs, each a job in its own goroutine. It turns their events
// into pane updates, keeps the status line and its clock, and keeps the
// finished sensitivity analyses to export beside the result table. The
// session is where the TUI runs, loads and exports experiments.
type session struct {
	opts   experiments.Options
	prefix string // export path prefix; "" uses the experiment name
	panes  runPanes

	spec    spec.Spec
	jobs    map[int]*job
	lastJob int
	runJob  int // the run whose events the panes show; 0 for none
	ftJob   int // the fine-tune in progress; 0 for none

	// Status of the run and of a fine-tune, combined into the status line.
	runStage    experiments.Stage
	runDetail   string
	runEpoch    string // "epoch 3/10" from the latest step event
	runPart     [2]int // stage k of N of the run
	ftText      string
	running     bool
	activeSince time.Time // start of the run or fine-tune the clock counts
	tickGen     int
	eta         eta // time left in the training under way

	queued   *experiments.Setting // a fine-tune asked for while the run still works, started when it ends
	latency  latencyQueue         // rows added with a, waiting for their latency
	userRows int                  // rows the user added (a, f) since the table was last exported
	savedLen int                  // the table's length when last exported; -1 before

	sensitivity results.Report // the run's finished sensitivity analyses (no rows), exported beside the table
	classNames  []string       // the dataset's classes, when it names them: the per-class accuracies are kept
}

func newSession(cfg Config, panes runPanes) *session {
	return &session{opts: cfg.Opts, prefix: cfg.Export, panes: panes, spec: cfg.Spec, jobs: map[int]*job{}, savedLen: -1}
}

// presets are the experiments shipped in the binary, for the picker.
func presets() []spec.PresetInfo { return spec.Presets() }

// update takes in the session's messages: job events and ends, clock
// ticks, loaded specs and finished exports.
func (s *session) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobEventMsg:
		j, ok := s.jobs[msg.Job]
		if !ok {
			return nil
		}
		return tea.Batch(s.handleEvent(msg.Job, j, msg.Event), listen(msg.Job, j.events))
	case jobEndMsg:
		j, ok := s.jobs[msg.Job]
		if !ok {
			return nil
		}
		return tea.Batch(s.handleEnd(msg.Job, j, msg), listen(msg.Job, j.events))
	case jobClosedMsg:
		delete(s.jobs, msg.Job)
	case tickMsg:
		if msg.Gen != s.tickGen || !s.busy() {
			return nil
		}
		s.panes.status.SetElapsed(time.Since(s.activeSince))
		return s.tick()
	case specLoadedMsg:
		if msg.Err != nil {
			s.panes.status.SetError(msg.Err)
			return nil
		}
		return s.start(msg.Spec)
	case latencyMsg:
		return s.measured(msg)
	case spinner.TickMsg:
		return s.panes.status.Spin(msg)
	}
	return nil
}

// load loads the preset called name in a tea.Cmd, then runs it.
func (s *session) load(name string) tea.Cmd {
	s.panes.status.SetNote("loading " + name + "…")
	return func() tea.Msg {
		spec, err := spec.Load(name)
		return specLoadedMsg{Spec: spec, Err: err}
	}
}

// stop cancels every job and every latency measurement.
func (s *session) stop() {
	for _, j := range s.jobs {
		j.cancel() // their channels drain until closed; their messages are ignored
	}
	s.latency.stop()
}

// start cancels whatever runs, clears the panes and runs spec.
func (s *session) start(spec spec.Spec) tea.Cmd {
	s.stop()
	s.runJob, s.ftJob, s.queued, s.userRows, s.savedLen = 0, 0, nil, 0, -1
	s.eta.clear()
	s.panes.reset()
	s.sensitivity = results.Report{}
	s.spec = spec
	s.runStage, s.runDetail, s.runEpoch, s.ftText, s.runPart = "", "", "", "", [2]int{}
	s.running = true
	spin := s.panes.status.SetBusy(true)
	s.refreshStatus()

	s.lastJob++
	id := s.lastJob
	opts := s.opts
	// A trained baseline given on the command line is the first
	// experiment's: another one trains its own.
	s.opts.Baseline = ""
	events, cancel := startJob(id, func(ctx context.Context, sink experiments.Sink) jobEndMsg {
		if spec.Sweep != nil {
			return runSweep(ctx, spec, opts, sink)
		}
		report, err := experiments.Run(ctx, spec, opts, sink)
		return jobEndMsg{Table: report.Rows, Err: err}
	})
	s.jobs[id] = &job{kind: jobRun, events: events, cancel: cancel}
	s.runJob = id
	return tea.Batch(listen(id, events), s.restartClock(), spin)
}

// fineTune fine-tunes the knob setting for controls.FineTuneEpochs epochs.
// While the run still works it is queued, and starts when the run ends:
// one job on the model at a time keeps the run's curves, status and rows
// its own (and its latencies unperturbed).
func (s *session) fineTune() tea.Cmd {
	knobs := s.panes.knobs
	switch {
	case !knobs.Ready():
		s.panes.status.SetNote("fine-tuning needs the trained baseline: wait for it")
		return nil
	case s.ftJob != 0:
		s.panes.status.SetNote("a fine-tune is already running")
		return nil
	case s.running:
		setting := knobs.Setting()
		s.queued = &setting
		knobs.SetBusy("fine-tune queued: starts after the run")
		s.panes.status.SetNote("fine-tune of " + setting.String() + " queued: it starts when " + s.spec.Name + "'s run ends")
		return nil
	}
	return s.startFineTune(knobs.Trained(), knobs.Setting())
}

// startFineTune starts the fine-tune of setting on t.
func (s *session) startFineTune(t *experiments.Trained, setting experiments.Setting) tea.Cmd {
	s.queued = nil
	s.lastJob++
	id := s.lastJob
	events, cancel := startJob(id, func(ctx context.Context, sink experiments.Sink) jobEndMsg {
		ev, err := t.FineTune(ctx, setting, controls.FineTuneEpochs, sink)
		return jobEndMsg{Eval: ev, Err: err}
	})
	s.jobs[id] = &job{kind: jobFineTune, events: events, cancel: cancel, setting: setting}
	s.ftJob = id
	s.ftText = fmt.Sprintf("%s (%d epochs)", setting.String(), controls.FineTuneEpochs)
	s.panes.knobs.SetBusy("fine-tuning… watch the curves")
	s.panes.status.SetError(nil)
	spin := s.panes.status.SetBusy(true)
	s.refreshStatus()
	return tea.Batch(listen(id, events), s.restartClock(), spin)
}

// fineTuning reports whether a fine-tune is in progress.
func (s *session) fineTuning() bool { return s.ftJob != 0 }

// handleEvent applies one event of a job to the panes.
func (s *session) handleEvent(id int, j *job, ev experiments.Event) tea.Cmd {
	if id != s.runJob && id != s.ftJob {
		return nil
	}
	p := s.panes
	switch e := ev.(type) {
	case experiments.StageEvent:
		if !trains(e.Stage) {
			s.eta.clear()
		}
		if j.kind == jobRun {
			s.runStage, s.runDetail, s.runEpoch = e.Stage, e.Detail, ""
			s.runPart = [2]int{e.Part, e.Parts}
		} else {
			s.ftText = e.Detail
		}
		s.refreshStatus()
	case experiments.StepEvent:
		p.chart.AddStep(e)
		s.eta.step(e, time.Now())
		if j.kind == jobRun {
			s.runEpoch = fmt.Sprintf("epoch %d/%d", e.Epoch, e.Epochs)
		}
		s.refreshStatus()
	case experiments.EpochEvent:
		p.chart.AddEpoch(e)
	case experiments.LayersEvent:
		label := e.Phase
		if j.kind == jobFineTune {
			label = "fine-tuning " + j.setting.String()
		}
		p.layers.SetLayers(label, e.Layers)
		// The run's first layers are the baseline's, before it trains.
		p.layers.SetTraining(j.kind == jobRun && e.Phase == chart.BaselinePhase && !p.knobs.Ready())
	case experiments.ResultEvent:
		p.results.SetClasses(p.results.Add(e.Row), e.Classes)
		j.gotResult = true
	case experiments.BaselineEvent:
		if j.kind == jobRun && e.Trained != nil {
			s.classNames = nil
			if experiments.NamesClasses(e.Trained.Spec) {
				s.classNames = e.Trained.Test.ClassNames
			}
			p.layers.SetTraining(false)
			p.knobs.SetTrained(e.Trained)
			p.charts.newBaseline()
			p.status.SetNote("baseline trained: turn the knobs (←/→) to compress it")
			return p.charts.request(p.knobs)
		}
	case experiments.SensitivityEvent:
		if j.kind == jobRun {
			p.chart.SetSensitivity(e)
			if e.Done {
				s.sensitivity.Add(e.Table.Kind, e.Table.Points...)
			}
		}
	case experiments.LogEvent:
		p.status.SetLog(e.Text)
	case experiments.DoneEvent:
		if j.kind == jobRun {
			return s.finishRun(e.Report.Rows, e.Err, e.Elapsed)
		}
	}
	return nil
}

// handleEnd takes in a job's return value.
func (s *session) handleEnd(id int, j *job, end jobEndMsg) tea.Cmd {
	switch {
	case id == s.runJob && j.kind == jobRun:
		return s.finishRun(end.Table, end.Err, 0)
	case id == s.ftJob && j.kind == jobFineTune:
		s.finishFineTune(j, end)
		return s.latency.next(s.busy())
	}
	return nil
}

// finishFineTune adds a fine-tune's row (unless its ResultEvent did) and
// says how it went.
func (s *session) finishFineTune(j *job, end jobEndMsg) {
	p := s.panes
	s.ftJob, s.ftText = 0, ""
	s.eta.clear()
	p.knobs.SetBusy("")
	switch {
	case end.Err == nil:
		if !j.gotResult {
			p.results.SetClasses(p.results.Add(end.Eval.Row), end.Eval.Classes)
		}
		s.userRows++
		if len(end.Eval.Layers) > 0 {
			p.layers.SetLayers("fine-tuned "+j.setting.String(), end.Eval.Layers)
		}
		r := end.Eval.Row
		p.status.SetNote(fmt.Sprintf("fine-tuned %s: test %.2f%% (Δ %s pp), added to the results",
			j.setting.String(), r.TestAcc, common.Signed(r.DeltaAccPP, 2)))
	case errors.Is(end.Err, context.Canceled):
		p.status.SetNote("fine-tune cancelled")
	default:
		p.status.SetError(fmt.Errorf("fine-tune %s: %w", j.setting.String(), end.Err))
	}
	s.refreshStatus()
}

// finishRun marks the run ended and starts what waited for it: a queued
// fine-tune (when the run succeeded), else the latency measurements. The
// runner's DoneEvent and its return both come here, so it must be
// idempotent.
func (s *session) finishRun(table results.Table, err error, elapsed time.Duration) tea.Cmd {
	if !s.running {
		return nil
	}
	p := s.panes
	s.running = false
	s.eta.clear()
	if elapsed == 0 && !s.activeSince.IsZero() {
		elapsed = time.Since(s.activeSince)
	}
	p.status.SetElapsed(elapsed)
	if p.results.Len() == 0 {
		for _, r := range table {
			p.results.Add(r)
		}
	}
	s.runEpoch = ""
	// The runner's last StageEvent already says how it ended ("done", "6
	// rows"); only fill in when it did not get to send one.
	switch {
	case err == nil:
		if s.runStage != experiments.StageDone {
			s.runStage, s.runDetail = experiments.StageDone, fmt.Sprintf("%d rows", len(table))
		}
		p.status.SetNote("finished: turn the knobs to try your own settings, e exports the table")
	case errors.Is(err, context.Canceled):
		s.runStage = experiments.StageCancelled
	default:
		s.runStage, s.runDetail = experiments.StageFailed, ""
		p.status.SetError(err)
	}
	s.refreshStatus()
	if q := s.queued; q != nil {
		if err == nil && p.knobs.Ready() {
			p.status.SetNote("the run is done: fine-tuning " + q.String() + ", as queued")
			return s.startFineTune(p.knobs.Trained(), *q)
		}
		s.queued = nil
		p.knobs.SetBusy("")
		p.status.SetNote("the queued fine-tune of " + q.String() + " was dropped: the run did not finish")
	}
	return s.latency.next(s.busy())
}

// refreshStatus shows the fine-tune while one runs, else the run's stage
// (stage k of N, with the number of rows once done), and the time left
// in the training under way.
func (s *session) refreshStatus() {
	st := s.panes.status
	st.SetBusy(s.busy())
	st.SetTimeLeft(s.eta.left)
	if s.ftJob != 0 {
		st.SetStage(experiments.StageFineTuning, s.ftText)
		st.SetPart(0, 0)
		return
	}
	st.SetPart(s.runPart[0], s.runPart[1])
	detail := s.runDetail
	switch {
	case s.runStage == experiments.StageDone:
		detail = rowCount(s.panes.results.Len())
	case s.runEpoch != "" && !strings.Contains(detail, "epoch"):
		detail = strings.TrimSpace(detail + " " + s.runEpoch)
	}
	st.SetStage(s.runStage, detail)
}

// rowCount says "1 row" or "n rows".
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// trains reports whether a stage trains (its steps have a time left).
func trains(st experiments.Stage) bool {
	return st == experiments.StageTraining || st == experiments.StageFineTuning || st == experiments.StagePruning
}

// busy reports whether a run or fine-tune is in progress.
func (s *session) busy() bool { return s.running || s.ftJob != 0 }

// restartClock starts counting from now with a fresh tick loop.
func (s *session) restartClock() tea.Cmd {
	s.activeSince = time.Now()
	s.panes.status.SetElapsed(0)
	s.tickGen++
	return s.tick()
}

func (s *session) tick() tea.Cmd {
	gen := s.tickGen
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{Gen: gen} })
}

// ExportPath is where the export key writes the table in format ("csv",
// "md" or "json"): prefix (or the experiment's name) with the format's
// extension, in place of one prefix already names.
func ExportPath(prefix, experiment, format string) string {
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
		prefix = strings.TrimSuffix(prefix, filepath.Ext(prefix))
	}
	return prefix + "." + format
}

// exportPath is where an export in format goes, before checking it is free.
func (s *session) exportPath(format string) string { return ExportPath(s.prefix, s.spec.Name, format) }

// prefixFormat is the format the export prefix names, "" for none.
func (s *session) prefixFormat() string {
	f, _ := results.FormatFor(s.prefix)
	return f
}

// freePath is path, or when it (or a sensitivity table beside it) exists,
// the first of NAME-2.EXT, NAME-3.EXT, … that is free with its side
// tables: an export never overwrites a file.
func freePath(path string, kinds []results.Kind) string {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	taken := func(p string) bool {
		if _, err := os.Stat(p); err == nil {
			return true
		}
		for _, k := range kinds {
			if _, err := os.Stat(results.SidePath(p, k)); err == nil {
				return true
			}
		}
		return false
	}
	p := path
	for n := 2; taken(p); n++ {
		p = fmt.Sprintf("%s-%d%s", base, n, ext)
	}
	return p
}

// export writes the result table in format, and the sensitivity tables
// beside it, in a tea.Cmd, under a name no file has yet.
func (s *session) export(format string) tea.Cmd {
	table := s.panes.results.Table()
	if len(table) == 0 {
		s.panes.status.SetNote("nothing to export yet: no result rows")
		return nil
	}
	wanted := s.exportPath(format)
	report := s.sensitivity.Clone()
	report.Rows = table
	if s.classNames != nil {
		report.Classes = &results.Classes{Names: s.classNames}
		for i, row := range table {
			if acc := s.panes.results.Classes(i); acc != nil {
				report.Classes.Rows = append(report.Classes.Rows, results.ClassRow{Technique: row.Technique, Setting: row.Setting, TestAcc: acc})
			}
		}
	}
	rows := len(table)
	return func() tea.Msg {
		path := freePath(wanted, sideKinds(report))
		written, err := report.Export(path)
		for i, w := range written {
			if abs, err := filepath.Abs(w.Path); err == nil {
				written[i].Path = abs
			}
		}
		msg := exportedMsg{Written: written, Err: err, Rows: rows}
		if path != wanted {
			msg.Taken = wanted
		}
		return msg
	}
}

// exported says where the export went, or why it failed.
func (s *session) exported(msg exportedMsg) {
	status := s.panes.status
	if msg.Err != nil {
		status.SetError(msg.Err)
		return
	}
	status.SetError(nil)
	s.savedLen, s.userRows = msg.Rows, 0
	var parts []string
	for _, w := range msg.Written {
		parts = append(parts, "the "+w.What+" to "+w.Path)
	}
	note := "exported " + strings.Join(parts, " and ")
	if msg.Taken != "" {
		note += " (" + msg.Taken + " exists: kept)"
	}
	status.SetNote(note)
}
