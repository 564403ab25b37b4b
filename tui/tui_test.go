package tui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/tui/components/controls"
	"github.com/prunerlab/pruner-tui/tui/components/picker"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

var testSpec = spec.Spec{Name: "mnist-mlp", Description: "A 784-128-10 MLP on MNIST, pruned and quantized."}

// newTestModel returns a root model of w×h cells whose run is a fake job
// (no goroutine): tests feed its events by hand. cancelled reports whether
// the job's context was cancelled.
func newTestModel(t *testing.T, w, h int) (m *model, cancelled *bool) {
	t.Helper()
	m = New(Config{Spec: testSpec, Export: filepath.Join(t.TempDir(), "results")}).(*model)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	var c bool
	m.session.lastJob++
	m.session.runJob = m.session.lastJob
	m.session.jobs[m.session.runJob] = &job{kind: jobRun, events: make(chan tea.Msg), cancel: func() { c = true }}
	m.session.running = true
	return m, &c
}

func (m *model) feed(events ...experiments.Event) {
	for _, e := range events {
		m.Update(jobEventMsg{Job: m.session.runJob, Event: e})
	}
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func (m *model) press(keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyMsg(k))
	}
	return cmd
}

// mnistLayers are the layer stats of a 784-128-10 MLP whose fc1 keeps
// nonzero1 of its 100,480 parameters (its 128 biases among them).
func mnistLayers(nonzero1 int) []nn.LayerStats {
	return []nn.LayerStats{
		{Name: "fc1", Kind: "dense", In: 784, Out: 128, Params: 100480, NonZero: nonzero1, Weights: 100352, NonZeroW: nonzero1 - 128,
			Bits: 32, FullRank: 128, SizeBytes: 401920},
		{Name: "relu1", Kind: "relu"},
		{Name: "fc2", Kind: "dense", In: 128, Out: 10, Params: 1290, NonZero: 1290, Weights: 1280, NonZeroW: 1280, Bits: 32, FullRank: 10, SizeBytes: 5160},
	}
}

func row(technique, setting string, size int64, test, delta float64) results.Row {
	return results.Row{Experiment: "mnist-mlp", Technique: technique, Setting: setting,
		ParamsTotal: 101770, ParamsNonzero: 101770, SizeBytes: size, CompressionRatio: 407080 / float64(size),
		TrainAcc: test + 1.25, TestAcc: test, DeltaAccPP: delta, GapPP: 1.25, LatencyUsB1: results.Measure(40), LatencyUsB256: results.Measure(2900)}
}

// tinyTrained is a real, untrained 4→8→3 model on blobs, for Apply.
func tinyTrained() *experiments.Trained {
	rng := rand.New(rand.NewPCG(1, 2))
	model := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 4, 8, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 8, 3, rng),
	}}
	train, test := data.Blobs(64, 3, 4, 1)
	return &experiments.Trained{Spec: spec.Spec{Name: "tiny"}, Model: model, Train: train, Test: test,
		Baseline: results.Row{Experiment: "tiny", Technique: "dense", Setting: "fp32",
			ParamsTotal: 67, ParamsNonzero: 67, SizeBytes: model.Totals().SizeBytes, CompressionRatio: 1, TrainAcc: 40, TestAcc: 37.5}}
}

func TestEventsReachPanes(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	v := m.View()
	if !strings.Contains(v, "pruner-tui") || !strings.Contains(v, "mnist-mlp — A 784-128-10 MLP on MNIST") {
		t.Errorf("header:\n%s", v)
	}
	m.feed(
		experiments.StageEvent{Stage: experiments.StageLoading, Detail: "MNIST"},
		experiments.LogEvent{Text: "loaded 60000 training images"},
	)
	v = m.View()
	if !strings.Contains(v, "loading data MNIST") || !strings.Contains(v, "loaded 60000 training images") {
		t.Errorf("status after loading:\n%s", v)
	}
	m.feed(
		experiments.LayersEvent{Phase: "baseline", Layers: mnistLayers(100480)},
		experiments.StageEvent{Stage: experiments.StageTraining, Detail: "epoch 3/10"},
		experiments.StepEvent{Phase: "baseline", Epoch: 3, Epochs: 10, Step: 10, Steps: 100, Loss: 0.4},
		experiments.EpochEvent{Phase: "baseline", Epoch: 1, Epochs: 10, TrainAcc: 0.9, TestAcc: 0.89},
	)
	v = m.View()
	for _, want := range []string{"training epoch 3/10", "784→128", "100,352", "total", "101,632", "training…",
		"epoch 3/10 · dense baseline", "waiting for the baseline…"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	m.feed(
		experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)},
		experiments.StageEvent{Stage: experiments.StageCompressing, Detail: "prune ratio=0.90"},
		experiments.ResultEvent{Row: row("prune", "ratio=0.90 finetune=2", 61440, 96.1, -1.4)},
	)
	v = m.View()
	for _, want := range []string{"compressing prune ratio=0.90", "fp32", "ratio=0.90 finetune=2", "6.6×", "-1.40", "2 rows"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	m.feed(
		experiments.StageEvent{Stage: experiments.StageDone, Detail: "2 rows"},
		experiments.DoneEvent{Elapsed: 83 * time.Second},
	)
	if v = m.View(); !strings.Contains(v, "✓ done 2 rows  1:23") {
		t.Errorf("status after done:\n%s", v)
	}
}

func TestRunFailureShown(t *testing.T) {
	m, _ := newTestModel(t, 100, 30)
	m.Update(jobEndMsg{Job: m.session.runJob, Err: os.ErrNotExist})
	v := m.View()
	if !strings.Contains(v, "✗ failed") || !strings.Contains(v, "error: file does not exist") {
		t.Errorf("failure not shown:\n%s", v)
	}
}

func TestStaleJobIgnored(t *testing.T) {
	m, _ := newTestModel(t, 100, 30)
	old := m.session.runJob
	m.session.lastJob++
	m.session.runJob = m.session.lastJob // as if a new run had started
	m.session.jobs[m.session.runJob] = &job{kind: jobRun, events: make(chan tea.Msg), cancel: func() {}}
	m.Update(jobEventMsg{Job: old, Event: experiments.ResultEvent{Row: row("prune", "ratio=0.33", 1000, 90, -7)}})
	m.Update(jobEventMsg{Job: old, Event: experiments.StageEvent{Stage: experiments.StageDone}})
	if v := m.View(); strings.Contains(v, "ratio=0.33") || strings.Contains(v, "done") {
		t.Errorf("an old run's events reached the panes:\n%s", v)
	}
	if m.results.Len() != 0 {
		t.Errorf("results has %d rows from an old run", m.results.Len())
	}
	// Its channel is drained to the end, then forgotten.
	_, cmd := m.Update(jobEventMsg{Job: old, Event: experiments.LogEvent{Text: "x"}})
	if cmd == nil {
		t.Error("stopped listening to a stale job before its channel closed")
	}
	m.Update(jobClosedMsg{Job: old})
	if _, ok := m.session.jobs[old]; ok {
		t.Error("closed job still tracked")
	}
}

// TestTooSmallWraps: at 20×10 the message is wrapped to the width, every
// word of it on screen, none cut.
func TestTooSmallWraps(t *testing.T) {
	m, _ := newTestModel(t, 20, 10)
	v := m.View()
	want := "Terminal too small 20×10, needs at least 80×24 enlarge the window, or press q to quit"
	if got := strings.Join(strings.Fields(v), " "); got != want {
		t.Errorf("too-small view at 20×10 says %q, want %q:\n%s", got, want, v)
	}
	if lipgloss.Height(v) != 10 || lipgloss.Width(v) != 20 {
		t.Errorf("too-small view is %d×%d, want 20×10", lipgloss.Width(v), lipgloss.Height(v))
	}
}

// TestHeaderEscapesNames: a spec's name and description reach the header
// escaped, so they can neither retitle nor clear the terminal (the test's
// colour profile writes no escape codes of its own).
func TestHeaderEscapesNames(t *testing.T) {
	evil := spec.Spec{Name: "x\x1b]0;owned\x07", Description: "clear\x1b[2J now"}
	m := New(Config{Spec: evil, Export: filepath.Join(t.TempDir(), "results")}).(*model)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	header := m.headerView()
	if strings.ContainsAny(header, "\x1b\x07") {
		t.Errorf("the header holds raw escape codes: %q", header)
	}
	for _, want := range []string{`x\x1b]0;owned\a`, `clear\x1b[2J now`} {
		if !strings.Contains(header, want) {
			t.Errorf("the header lacks %s: %q", want, header)
		}
	}
}

func TestTooSmall(t *testing.T) {
	m, _ := newTestModel(t, 40, 10)
	v := m.View()
	for _, want := range []string{"Terminal too small", "40×10", "at least 80×24"} {
		if !strings.Contains(v, want) {
			t.Errorf("too-small view lacks %q:\n%s", want, v)
		}
	}
	if lipgloss.Height(v) != 10 || lipgloss.Width(v) != 40 {
		t.Errorf("too-small view is %d×%d, want 40×10", lipgloss.Width(v), lipgloss.Height(v))
	}
	m.Update(tea.WindowSizeMsg{Width: MinWidth, Height: MinHeight})
	v = m.View()
	if strings.Contains(v, "too small") {
		t.Errorf("80×24 reported too small")
	}
	if h := lipgloss.Height(v); h != MinHeight {
		t.Errorf("view at 80×24 is %d rows high", h)
	}
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > MinWidth {
			t.Errorf("line %d is %d wide at 80 columns: %q", i, w, l)
		}
	}
}

func TestLayoutFillsWindow(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {120, 40}, {200, 60}} {
		m, _ := newTestModel(t, size[0], size[1])
		m.feed(experiments.LayersEvent{Phase: "baseline", Layers: mnistLayers(100480)})
		for i := range 8 {
			m.feed(experiments.ResultEvent{Row: row("prune", "ratio=0."+string(rune('1'+i)), 1000, 90, -7)})
		}
		v := m.View()
		if h := lipgloss.Height(v); h != size[1] {
			t.Errorf("%dx%d: view is %d rows", size[0], size[1], h)
		}
		for i, l := range strings.Split(v, "\n") {
			if w := lipgloss.Width(l); w != size[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
				break
			}
		}
	}
}

func TestHelpToggles(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	v := m.View()
	if !strings.Contains(v, "? help") || !strings.Contains(v, "q quit") || strings.Contains(v, "prev pane") {
		t.Errorf("short help:\n%s", v)
	}
	m.press("?")
	v = m.View()
	for _, want := range []string{"prev pane", "fine-tune", "less compression", "fine step up", "export", "presets", "esc back", "close help"} {
		if !strings.Contains(v, want) {
			t.Errorf("full help lacks %q:\n%s", want, v)
		}
	}
	if lipgloss.Height(v) != 40 {
		t.Errorf("with full help the view is %d rows, want 40", lipgloss.Height(v))
	}
	m.press("?")
	if v = m.View(); strings.Contains(v, "prev pane") {
		t.Errorf("help did not toggle back:\n%s", v)
	}
}

func TestFocusCycles(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	if !m.controls.Focused() {
		t.Fatal("the knobs are not focused at start")
	}
	m.press("tab")
	if !m.chart.Focused() || m.controls.Focused() {
		t.Error("tab did not move focus to the chart")
	}
	m.press("tab")
	if !m.results.Focused() {
		t.Error("a second tab did not move focus to the results")
	}
	if v := m.View(); !strings.Contains(v, "↑/↓ scroll") {
		t.Errorf("help does not follow the focus:\n%s", v)
	}
	m.press("tab", "tab")
	if !m.controls.Focused() {
		t.Error("four tabs did not come back to the knobs")
	}
	m.Update(tea.KeyMsg{Type: tea.KeyShiftTab})
	if !m.layers.Focused() {
		t.Error("shift+tab did not go back to the layers")
	}
	m.press("esc")
	if !m.controls.Focused() {
		t.Error("esc did not bring the focus back to the knobs")
	}
}

func TestKnobsThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	if cmd := m.press("right"); cmd != nil {
		t.Error("right before the baseline issued a command")
	}
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	v := m.View()
	if strings.Contains(v, "waiting for the baseline") || !strings.Contains(v, "prune ratio   0.00") {
		t.Fatalf("knobs after the baseline:\n%s", v)
	}

	// Knobs turn from any pane.
	m.press("tab")
	cmd := m.press("right")
	if cmd == nil {
		t.Fatal("right on the prune ratio issued no command")
	}
	if v := m.View(); !strings.Contains(v, "prune ratio   0.05") || !strings.Contains(v, "evaluating…") {
		t.Errorf("after right:\n%s", v)
	}
	stale := m.controls.Generation()
	m.press("right")
	cur := m.controls.Generation()

	m.Update(controls.EvalResultMsg{Gen: stale, Eval: experiments.Evaluation{
		Setting: experiments.Setting{PruneRatio: 0.05},
		Row:     results.Row{Setting: "ratio=0.05", TestAcc: 12.34},
		Layers:  mnistLayers(95456)}})
	if v := m.View(); strings.Contains(v, "12.34%") || strings.Contains(v, "preview: ratio=0.05") {
		t.Errorf("stale evaluation shown:\n%s", v)
	}
	m.Update(controls.EvalResultMsg{Gen: cur, Eval: experiments.Evaluation{
		Setting: experiments.Setting{PruneRatio: 0.1},
		Row:     results.Row{Technique: "prune", Setting: "ratio=0.10", TestAcc: 43.21, DeltaAccPP: 5.71, SizeBytes: 250, CompressionRatio: 1.2},
		Layers:  mnistLayers(90432)}})
	v = m.View()
	for _, want := range []string{"43.21%", "Δ +5.71 pp", "Layers preview: ratio=0.10", "90,304", "10.0%"} {
		if !strings.Contains(v, want) {
			t.Errorf("current evaluation: view lacks %q:\n%s", want, v)
		}
	}

	// a adds the preview as a row.
	m.press("a")
	if m.results.Len() != 1 || m.results.Table()[0].Setting != "ratio=0.10" {
		t.Errorf("a added %+v", m.results.Table())
	}
	if v := m.View(); !strings.Contains(v, "added ratio=0.10 to the results") {
		t.Errorf("status after a:\n%s", v)
	}
}

func TestRealEvaluationThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	m.settle(m.press("right")) // accuracies → exact size, and the magnitudes
	v := m.View()
	if !strings.Contains(v, "Preview ratio=0.05") || !strings.Contains(v, "Layers preview: ratio=0.05") {
		t.Errorf("after a real evaluation:\n%s", v)
	}
}

// exportAs exports the table with e and the format's key, and takes in
// the answer.
func (m *model) exportAs(t *testing.T, format string) {
	t.Helper()
	m.press("e")
	if m.dialog == nil {
		t.Fatal("e asked no format")
	}
	m.settle(m.press(format))
}

func TestExport(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	if cmd := m.press("e"); cmd != nil || m.dialog != nil {
		t.Error("export with no rows issued a command or asked")
	}
	if v := m.View(); !strings.Contains(v, "nothing to export yet") {
		t.Errorf("status after e with no rows:\n%s", v)
	}
	m.feed(experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)},
		experiments.ResultEvent{Row: row("prune", "ratio=0.90", 61440, 96.1, -1.4)})
	m.press("e")
	v := m.View()
	for _, want := range []string{"Export the results", "CSV", "Markdown", "JSON", "writes " + m.cfg.Export + ".csv"} {
		if !strings.Contains(v, want) {
			t.Errorf("export dialog lacks %q:\n%s", want, v)
		}
	}
	if v := lastLines(v, 1); !strings.Contains(v, "c csv") || !strings.Contains(v, "esc cancel") {
		t.Errorf("the help bar does not list the dialog's keys:\n%s", v)
	}
	m.settle(m.press("esc"))
	if m.dialog != nil {
		t.Fatal("esc did not cancel the export")
	}
	m.exportAs(t, "c")
	path := m.cfg.Export + ".csv"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "experiment,technique,setting,") || !strings.Contains(lines[2], "ratio=0.90") {
		t.Errorf("exported file:\n%s", b)
	}
	if v := m.View(); !strings.Contains(v, "exported the result table (2 rows) to "+path) {
		t.Errorf("status does not say where:\n%s", v)
	}
	// Again: the file is there, so the export takes a new name and says so.
	m.exportAs(t, "c")
	if b2, err := os.ReadFile(m.cfg.Export + "-2.csv"); err != nil || string(b2) != string(b) {
		t.Errorf("the second export: %v", err)
	}
	m.Update(tea.WindowSizeMsg{Width: 300, Height: 40})
	if v := m.View(); !strings.Contains(v, "to "+m.cfg.Export+"-2.csv ("+path+" exists: kept)") {
		t.Errorf("status does not say the first file was kept:\n%s", lastLines(v, 2))
	}
	// Markdown and JSON too; the JSON says null for a latency not measured.
	m.feed(experiments.ResultEvent{Row: results.Row{Technique: "prune", Setting: "ratio=0.50"}})
	m.exportAs(t, "m")
	if b, err := os.ReadFile(m.cfg.Export + ".md"); err != nil || !strings.HasPrefix(string(b), "| experiment |") {
		t.Errorf("Markdown export: %v\n%s", err, b)
	}
	m.exportAs(t, "j")
	if b, err := os.ReadFile(m.cfg.Export + ".json"); err != nil || !strings.Contains(string(b), `"latency_us_b1": null`) {
		t.Errorf("JSON export: %v\n%s", err, b)
	}
}

func TestExportPath(t *testing.T) {
	cases := []struct{ prefix, experiment, format, want string }{
		{"results", "quickstart", "csv", "results.csv"},
		{"", "quickstart", "md", "quickstart.md"},
		{"", "my run/2", "csv", "my-run-2.csv"},
		{"", "", "json", "results.json"},
		{"out/table.md", "x", "md", "out/table.md"},
		{"table.json", "x", "csv", "table.csv"},
	}
	for _, c := range cases {
		if got := ExportPath(c.prefix, c.experiment, c.format); got != c.want {
			t.Errorf("ExportPath(%q, %q, %q) = %q, want %q", c.prefix, c.experiment, c.format, got, c.want)
		}
	}
	dir := t.TempDir()
	taken := filepath.Join(dir, "r.csv")
	os.WriteFile(taken, nil, 0o644)
	os.WriteFile(filepath.Join(dir, "r-2-sensitivity.csv"), nil, 0o644)
	if got := freePath(taken, []results.Kind{results.Pruning}); got != filepath.Join(dir, "r-3.csv") {
		t.Errorf("freePath = %q, want r-3.csv (r.csv and r-2's side table exist)", got)
	}
	if got := freePath(filepath.Join(dir, "new.csv"), nil); got != filepath.Join(dir, "new.csv") {
		t.Errorf("freePath of a free name = %q", got)
	}
}

func TestPicker(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.cfg.Extra = nil
	m.press("p")
	v := m.View()
	if !strings.Contains(v, "Choose an experiment") || !strings.Contains(v, fmt.Sprintf("%d experiments", len(presets()))) {
		t.Errorf("picker:\n%s", v)
	}
	if !strings.Contains(v, "enter run") || !strings.Contains(v, "esc back") || !strings.Contains(v, "? help") {
		t.Errorf("picker help:\n%s", v)
	}
	// ? shows every key of the picker, esc closes the help first.
	m.press("?")
	if v := m.View(); !strings.Contains(v, "next page") || !strings.Contains(v, "close help") {
		t.Errorf("? in the picker:\n%s", v)
	}
	m.press("esc")
	if m.help.ShowAll || m.state != statePicker {
		t.Error("esc did not close the picker's help first")
	}
	// While filtering, q and ? are text.
	m.press("/")
	for _, k := range []string{"q", "?"} {
		if cmd := m.press(k); cmd != nil {
			if _, quit := cmd().(tea.QuitMsg); quit {
				t.Error("q quit while typing a filter")
			}
		}
	}
	if m.picker.Query() != "q?" || m.help.ShowAll {
		t.Errorf("typed %q, help %v", m.picker.Query(), m.help.ShowAll)
	}
	m.press("esc") // leave the filter
	m.settle(m.press("esc"))
	if v := m.View(); strings.Contains(v, "Choose an experiment") {
		t.Errorf("picker still open after esc:\n%s", v)
	}
}

// Another experiment, with rows in the table or work running, is run only
// once the user says so; "export first" writes the table, then runs it.
func TestPickerAsksBeforeDiscarding(t *testing.T) {
	m, cancelled := newTestModel(t, 120, 40)
	m.feed(experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)})
	bad := spec.Spec{Name: "broken", Description: "no layers"}
	m.press("p")
	m.Update(picker.ChosenMsg{Item: picker.Item{Name: "broken", Spec: &bad}})
	v := m.View()
	for _, want := range []string{"Run broken?", "mnist-mlp's run is still working", "The table's 1 row", "not exported", "y Run it", "e Export first", "n Stay"} {
		if !strings.Contains(v, want) {
			t.Errorf("dialog lacks %q:\n%s", want, v)
		}
	}
	if *cancelled || m.results.Len() != 1 {
		t.Fatal("the run was stopped or the table cleared before the answer")
	}
	m.settle(m.press("n"))
	if m.dialog != nil || m.state != stateMain || m.results.Len() != 1 || *cancelled {
		t.Fatalf("n: dialog %v, state %v, %d rows", m.dialog != nil, m.state, m.results.Len())
	}
	m.press("p")
	m.Update(picker.ChosenMsg{Item: picker.Item{Name: "broken", Spec: &bad}})
	m.settle(m.press("e"))
	if m.dialog == nil || m.dialog.ID() != dialogExport {
		t.Fatal("export first did not ask the format")
	}
	m.settle(m.press("c"))
	if _, err := os.Stat(m.cfg.Export + ".csv"); err != nil {
		t.Errorf("export first wrote nothing: %v", err)
	}
	if !*cancelled || m.session.spec.Name != "broken" {
		t.Errorf("after the export the new experiment did not start: %q", m.session.spec.Name)
	}
	m.quit()
}

func TestPickerRunsChosenSpec(t *testing.T) {
	m, cancelled := newTestModel(t, 120, 40)
	m.session.running = false // nothing at stake: it runs at once
	old := m.session.runJob
	// A spec that fails validation at once: the run ends without numerics.
	bad := spec.Spec{Name: "broken", Description: "no layers"}
	m.Update(picker.ChosenMsg{Item: picker.Item{Name: "broken", Spec: &bad}})
	if !*cancelled {
		t.Error("choosing a preset did not cancel the current run")
	}
	if m.session.runJob == old || m.results.Len() != 0 {
		t.Errorf("panes not reset for the new run (job %d, %d rows)", m.session.runJob, m.results.Len())
	}
	if v := m.View(); !strings.Contains(v, "broken — no layers") {
		t.Errorf("header does not show the new experiment:\n%s", v)
	}
	// Drain the new run's channel: it must end with an error, not hang.
	events := m.session.jobs[m.session.runJob].events
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case msg, ok := <-events:
			if !ok {
				done = true
				break
			}
			m.Update(msg)
		case <-deadline:
			t.Fatal("the new run did not end")
		}
	}
	if v := m.View(); !strings.Contains(v, "failed") {
		t.Errorf("a run of an invalid spec should fail:\n%s", v)
	}
	m.quit()
}

// q while work runs asks first, and q again quits; with nothing at stake
// it quits at once. ctrl+c always quits at once.
func TestQuitAsksWhileWorking(t *testing.T) {
	m, cancelled := newTestModel(t, 120, 40)
	if cmd := m.press("q"); cmd != nil || m.dialog == nil {
		t.Fatal("q while the run works did not ask")
	}
	if v := m.View(); !strings.Contains(v, "Quit pruner-tui?") || !strings.Contains(v, "mnist-mlp's run is still working") {
		t.Errorf("quit dialog:\n%s", v)
	}
	m.settle(m.press("n"))
	if m.dialog != nil || *cancelled {
		t.Fatal("n did not keep the program running")
	}
	m.press("q")
	answer := m.press("q")
	if answer == nil {
		t.Fatal("q q issued no command")
	}
	_, cmd := m.Update(answer())
	if cmd == nil {
		t.Fatal("the answer quit did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok || !*cancelled {
		t.Error("q q did not quit and cancel the run")
	}

	idle, _ := newTestModel(t, 120, 40)
	idle.session.running = false
	if cmd := idle.press("q"); cmd == nil || idle.dialog != nil {
		t.Error("q with nothing at stake did not quit at once")
	} else if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("q did not quit")
	}

	m2, cancelled2 := newTestModel(t, 120, 40)
	m2.press("p")
	if _, ok := m2.press("ctrl+c")().(tea.QuitMsg); !ok || !*cancelled2 {
		t.Error("ctrl+c in the picker did not quit and cancel")
	}
}

func TestFineTuneNeedsBaseline(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	if cmd := m.press("f"); cmd != nil {
		t.Error("f before the baseline started something")
	}
	if v := m.View(); !strings.Contains(v, "fine-tuning needs the trained baseline") {
		t.Errorf("status after early f:\n%s", v)
	}
}

func TestFineTuneEndAddsRow(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	// Stand in for a fine-tune job: the real FineTune is covered by the
	// whole-program test.
	m.session.lastJob++
	id := m.session.lastJob
	s := experiments.Setting{PruneRatio: 0.5}
	m.session.jobs[id] = &job{kind: jobFineTune, events: make(chan tea.Msg), cancel: func() {}, setting: s}
	m.session.ftJob, m.session.ftText = id, "ratio=0.50 (2 epochs)"
	m.session.refreshStatus()
	m.Update(jobEventMsg{Job: id, Event: experiments.StageEvent{Stage: experiments.StageFineTuning, Detail: "prune ratio=0.50 finetune=2: epoch 1/2"}})
	m.Update(jobEventMsg{Job: id, Event: experiments.StepEvent{Phase: "prune ratio=0.50 finetune=2", Epoch: 1, Epochs: 2, Step: 5, Steps: 10, Loss: 0.3}})
	v := m.View()
	if !strings.Contains(v, "fine-tuning prune ratio=0.50 finetune=2: epoch 1/2") || !strings.Contains(v, "epoch 1/2 · fine-tuning prune ratio=0.50 finetune=2") {
		t.Errorf("during the fine-tune:\n%s", v)
	}
	if cmd := m.press("f"); cmd != nil {
		t.Error("a second f started another fine-tune")
	}
	m.Update(jobEndMsg{Job: id, Eval: experiments.Evaluation{Setting: s,
		Row: results.Row{Technique: "prune", Setting: "ratio=0.50 finetune=2", TestAcc: 96.5, DeltaAccPP: -1}}})
	v = m.View()
	if m.results.Len() != 1 || !strings.Contains(v, "ratio=0.50 finetune=2") {
		t.Errorf("fine-tune row not added:\n%s", v)
	}
	if !strings.Contains(v, "fine-tuned ratio=0.50: test 96.50% (Δ -1.00 pp)") {
		t.Errorf("status after the fine-tune:\n%s", v)
	}
}

// TestGoldenView pins the layout of a hand-fed state at 100×30.
func TestGoldenView(t *testing.T) {
	m, _ := newTestModel(t, 100, 30)
	m.feed(
		experiments.LayersEvent{Phase: "baseline", Layers: mnistLayers(100480)},
		experiments.StageEvent{Stage: experiments.StageTraining, Detail: "epoch 4/4"},
	)
	for e := 1; e <= 4; e++ {
		for s := 1; s <= 5; s++ {
			x := float64(e-1) + float64(s)/5
			m.feed(experiments.StepEvent{Phase: "baseline", Epoch: e, Epochs: 4, Step: s, Steps: 5, Loss: 1.2 / (1 + x)})
		}
		m.feed(experiments.EpochEvent{Phase: "baseline", Epoch: e, Epochs: 4,
			TrainAcc: 0.9 + 0.02*float64(e), TestAcc: 0.89 + 0.015*float64(e)})
	}
	m.feed(
		experiments.ResultEvent{Row: row("dense", "fp32", 407080, 95, 0)},
		experiments.ResultEvent{Row: row("prune", "ratio=0.90 finetune=2", 61440, 94.2, -0.8)},
		experiments.StageEvent{Stage: experiments.StageDone, Detail: "2 rows"},
		experiments.DoneEvent{Elapsed: 12 * time.Second},
	)
	golden.RequireEqual(t, []byte(m.View()))
}

// The bridge never blocks a cancelled runner and closes the channel when
// the work returns.
func TestBridge(t *testing.T) {
	events, cancel := startJob(7, func(ctx context.Context, sink experiments.Sink) jobEndMsg {
		sink.Emit(experiments.LogEvent{Text: "one"})
		return jobEndMsg{Table: results.Table{{Setting: "x"}}}
	})
	defer cancel()
	var got []tea.Msg
	for cmd := listen(7, events); ; {
		msg := cmd()
		got = append(got, msg)
		if _, ok := msg.(jobClosedMsg); ok {
			break
		}
	}
	if len(got) != 3 {
		t.Fatalf("got %d messages, want event, end, closed: %#v", len(got), got)
	}
	if e, ok := got[0].(jobEventMsg); !ok || e.Job != 7 || e.Event.(experiments.LogEvent).Text != "one" {
		t.Errorf("first message %#v", got[0])
	}
	if e, ok := got[1].(jobEndMsg); !ok || e.Job != 7 || len(e.Table) != 1 {
		t.Errorf("second message %#v", got[1])
	}

	// A panic in the work becomes the job's error.
	events, cancel = startJob(8, func(context.Context, experiments.Sink) jobEndMsg { panic("boom") })
	defer cancel()
	end, ok := listen(8, events)().(jobEndMsg)
	if !ok || end.Err == nil || !strings.Contains(end.Err.Error(), "boom") {
		t.Errorf("panic gave %#v", end)
	}

	// Cancelled with a full buffer and nobody reading: the work still ends.
	done := make(chan struct{})
	_, cancel = startJob(9, func(ctx context.Context, sink experiments.Sink) jobEndMsg {
		defer close(done)
		for range 2 * eventBuffer {
			sink.Emit(experiments.LogEvent{Text: "spam"})
		}
		return jobEndMsg{}
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled job blocked on its full channel")
	}
}

func TestPickerExtras(t *testing.T) {
	fromFile := spec.Spec{Name: "mine", Source: "my.yaml"}
	other := spec.Spec{Name: "other", Source: "other.yaml"}
	preset := spec.Spec{Name: "quickstart", Source: "preset:quickstart"}
	if got := pickerExtras(Config{Spec: preset, Extra: []spec.Spec{other}}); len(got) != 1 {
		t.Errorf("a preset spec was added to the extras: %+v", got)
	}
	got := pickerExtras(Config{Spec: fromFile, Extra: []spec.Spec{other}})
	if len(got) != 2 || got[0].Name != "mine" || got[1].Name != "other" {
		t.Errorf("extras %+v, want the first spec's file listed first", got)
	}
	if got := pickerExtras(Config{Spec: fromFile, Extra: []spec.Spec{fromFile}}); len(got) != 1 {
		t.Errorf("a file listed twice: %+v", got)
	}
}

func TestSensitivityThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	if v := m.View(); strings.Contains(v, "sensitivity") || strings.Contains(v, "v curves") {
		t.Errorf("help offers the sensitivity view before any analysis:\n%s", v)
	}
	m.press("v")
	if v := m.View(); !strings.Contains(v, "no sensitivity analysis in this experiment") {
		t.Errorf("v without an analysis:\n%s", v)
	}
	e := experiments.SensitivityEvent{Phase: "sensitivity ratios=0.00-0.90 (2)", Layers: []string{"fc1", "fc2"},
		Values: []float64{0, 0.9}, BaseTestAcc: 97.5,
		Table: results.Sensitivity{Points: []results.Point{{Layer: "fc1", Value: 0, TestAcc: 97.5}}}}
	m.feed(experiments.StageEvent{Stage: experiments.StageSensitivity, Detail: e.Phase}, e)
	v := m.View()
	for _, want := range []string{"Sensitivity", "1 of 4 points", "─fc1", "─fc2", "v curves"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	e.Table.Points = append(e.Table.Points, results.Point{Layer: "fc1", Value: 0.9, TestAcc: 91},
		results.Point{Layer: "fc2", Value: 0, TestAcc: 97.5}, results.Point{Layer: "fc2", Value: 0.9, TestAcc: 96.25})
	e.Done = true
	m.feed(e)
	m.press("v")
	if m.chart.ShowsSensitivity() {
		t.Error("v did not switch back to the curves")
	}
	v = m.View()
	for _, want := range []string{"the chart shows the curves; v shows the pruning sensitivity next", "v pruning sensitivity"} {
		if !strings.Contains(v, want) {
			t.Errorf("after v to the curves, the view lacks %q:\n%s", want, v)
		}
	}
	m.press("v")
	if !m.chart.ShowsSensitivity() {
		t.Error("v did not switch to the sensitivity view")
	}

	// Export writes the sensitivity table beside the results.
	m.feed(experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)})
	m.exportAs(t, "c")
	b, err := os.ReadFile(m.cfg.Export + "-sensitivity.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := "layer,ratio,test_acc\nfc1,0.00,97.50\nfc1,0.90,91.00\nfc2,0.00,97.50\nfc2,0.90,96.25\n"
	if string(b) != want {
		t.Errorf("sensitivity export:\n%s\nwant:\n%s", b, want)
	}
	m.Update(tea.WindowSizeMsg{Width: 320, Height: 40}) // room for both paths
	if v := m.View(); !strings.Contains(v, "and the pruning sensitivity table (4 rows) to "+m.cfg.Export+"-sensitivity.csv") {
		t.Errorf("status does not say where the sensitivity table went:\n%s", v)
	}
}

func TestGradualPruningMovesLayersAndChart(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	phase := "prune-gradual ratio=0.90 epochs=0-1 every=100"
	for i, s := range []float64{0.2, 0.6, 0.9} {
		m.feed(
			experiments.StepEvent{Phase: phase, Epoch: 1, Epochs: 2, Step: i + 1, Steps: 3, Loss: 0.2, Sparsity: s},
			experiments.LayersEvent{Phase: phase, Layers: mnistLayers(int(float64(100480) * (1 - s)))},
		)
		v := m.View()
		// The sparsity of fc1's weights, its biases left out.
		want := fmt.Sprintf("%.1f%%", 100*(1-float64(int(float64(100480)*(1-s))-128)/100352))
		if !strings.Contains(v, want) {
			t.Errorf("after sparsity %.1f the layer pane lacks fc1's sparsity %s:\n%s", s, want, v)
		}
	}
	if v := m.View(); !strings.Contains(v, "·sparsity 90.0%") {
		t.Errorf("the chart does not show the sparsity schedule:\n%s", v)
	}
}

// TestBitSensitivityThroughRoot: a run with only a bit-width analysis (as
// ptq-sweep) gets its curves with v, skipping pruning; with both kinds v
// cycles curves → pruning → bit width; export writes both tables.
func TestBitSensitivityThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.StepEvent{Phase: "baseline", Epoch: 1, Epochs: 1, Step: 1, Steps: 1, Loss: 0.3},
		experiments.EpochEvent{Phase: "baseline", Epoch: 1, Epochs: 1, TrainAcc: 0.98, TestAcc: 0.975})
	bits := experiments.SensitivityEvent{Phase: "bit-sensitivity bits=8,2", Layers: []string{"fc1", "fc2"},
		Values: []float64{8, 2}, BaseTestAcc: 97.5, Done: true,
		Table: results.Sensitivity{Kind: results.Bits, Points: []results.Point{
			{Layer: "fc1", Value: 8, TestAcc: 97.5}, {Layer: "fc1", Value: 2, TestAcc: 61.25},
			{Layer: "fc2", Value: 8, TestAcc: 97.5}, {Layer: "fc2", Value: 2, TestAcc: 88}}}}
	m.feed(experiments.StageEvent{Stage: experiments.StageSensitivity, Detail: bits.Phase}, bits)
	v := m.View()
	for _, want := range []string{"each layer quantized alone", "by the layer's bit width", "v curves"} {
		if !strings.Contains(v, want) {
			t.Errorf("bit-width analysis: view lacks %q:\n%s", want, v)
		}
	}
	m.press("v")
	if m.chart.ShowsSensitivity() {
		t.Fatal("v did not switch to the curves")
	}
	v = m.View()
	for _, want := range []string{"v shows the bit-width sensitivity next", "v bit-width sensitivity"} {
		if !strings.Contains(v, want) {
			t.Errorf("curves: view lacks %q:\n%s", want, v)
		}
	}
	m.press("v")
	if k, ok := m.chart.ShownKind(); !ok || k != results.Bits {
		t.Fatalf("v from the curves shows %v %v, want the bit widths (the run has no pruning analysis)", k, ok)
	}

	// A pruning analysis as well: v goes through both.
	prune := experiments.SensitivityEvent{Phase: "sensitivity ratios=0.00-0.90 (2)", Layers: []string{"fc1"},
		Values: []float64{0, 0.9}, BaseTestAcc: 97.5, Done: true,
		Table: results.Sensitivity{Points: []results.Point{{Layer: "fc1", Value: 0, TestAcc: 97.5}, {Layer: "fc1", Value: 0.9, TestAcc: 91}}}}
	m.feed(prune)
	var seen []string
	for range 3 {
		m.press("v")
		seen = append(seen, m.chart.ViewName())
	}
	if got, want := strings.Join(seen, ", "), "curves, pruning sensitivity, bit-width sensitivity"; got != want {
		t.Errorf("v cycles %s, want %s", got, want)
	}

	// Export writes the bit-width table beside the results.
	m.feed(experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)})
	m.exportAs(t, "c")
	b, err := os.ReadFile(m.cfg.Export + "-bit-sensitivity.csv")
	if err != nil {
		t.Fatal(err)
	}
	if want := "layer,bits,test_acc\nfc1,8,97.50\nfc1,2,61.25\nfc2,8,97.50\nfc2,2,88.00\n"; string(b) != want {
		t.Errorf("bit-width sensitivity export:\n%s\nwant:\n%s", b, want)
	}
	if _, err := os.Stat(m.cfg.Export + "-sensitivity.csv"); err != nil {
		t.Errorf("the pruning table was not exported beside it: %v", err)
	}
	m.Update(tea.WindowSizeMsg{Width: 400, Height: 40}) // room for every path
	if v := m.View(); !strings.Contains(v, "the bit-width sensitivity table (4 rows) to "+m.cfg.Export+"-bit-sensitivity.csv") {
		t.Errorf("status does not say where the bit-width table went:\n%s", v)
	}
}

// TestClassesView: on a dataset that names its classes, c shows the
// selected row's accuracy on each class against the baseline's in the
// layers pane, following the selection; a row without them says so; the
// export writes the per-class table beside the results.
func TestClassesView(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.press("c")
	if v := m.View(); !strings.Contains(v, "per-class accuracy: for datasets that name their classes") {
		t.Errorf("c before a dataset with classes:\n%s", v)
	}
	tr := tinyTrained()
	tr.Spec.Dataset.Name = "fashion-mnist"
	tr.Test.ClassNames = []string{"T-shirt/top", "Trouser", "Pullover"}
	m.feed(experiments.BaselineEvent{Trained: tr},
		experiments.ResultEvent{Row: row("dense", "fp32", 407080, 90, 0), Classes: []float64{80, 95, 90}},
		experiments.ResultEvent{Row: row("prune", "ratio=0.90", 61440, 88, -2), Classes: []float64{70, 96, 88}})
	m.press("c")
	v := m.View()
	for _, want := range []string{"Classes prune ratio=0.90", "T-shirt/top    70.00   -10.00", "Trouser        96.00    +1.00", "c: layers"} {
		if !strings.Contains(v, want) {
			t.Errorf("classes view lacks %q:\n%s", want, v)
		}
	}
	// A knob row added as it is has none.
	m.feed(experiments.ResultEvent{Row: row("prune", "ratio=0.50", 61440, 89, -1)})
	if v := m.View(); !strings.Contains(v, "This row has no per-class figures") {
		t.Errorf("a row without classes:\n%s", v)
	}
	m.exportAs(t, "j")
	data, err := os.ReadFile(m.cfg.Export + "-classes.json")
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); !strings.Contains(s, `"T-shirt/top": 70`) || strings.Count(s, `"technique"`) != 2 {
		t.Errorf("classes export:\n%s", s)
	}
	m.press("c")
	if v := m.View(); strings.Contains(v, "Classes prune") || !strings.Contains(v, "Layers") {
		t.Errorf("c again did not bring the layers back:\n%s", v)
	}
}
