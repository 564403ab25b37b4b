package table

import (
	"fmt"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func prunedRow(ratio float64) results.Row {
	return results.Row{Experiment: "mnist", Technique: "prune", Setting: fmt.Sprintf("ratio=%.2f", ratio),
		ParamsTotal: 101770, ParamsNonzero: int64(101770 * (1 - ratio)), SizeBytes: 204800, CompressionRatio: 1.99,
		TrainAcc: 98.5, TestAcc: 97.25, DeltaAccPP: -0.31, GapPP: 1.25, LatencyUsB1: results.Measure(41.5), LatencyUsB256: results.Measure(2900)}
}

func TestRowsAppear(t *testing.T) {
	m := New(common.New())
	m.SetSize(120, 8)
	if v := m.View(); !strings.Contains(v, "Rows appear as each technique finishes") {
		t.Errorf("empty pane:\n%s", v)
	}
	m.Add(prunedRow(0.5))
	v := m.View()
	for _, want := range []string{"technique", "setting", "Δ pp", "gap pp", "µs b1", "µs b256",
		"prune", "ratio=0.50", "50,885", "200 KiB", "2.0×", "98.50", "97.25", "-0.31", "1.25", "41.5", "2900", "1 row"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if got := m.Table(); len(got) != 1 || got[0].Setting != "ratio=0.50" {
		t.Errorf("Table() = %+v", got)
	}
}

func TestNarrowDropsLatency(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 8)
	m.Add(prunedRow(0.5))
	v := m.View()
	for _, gone := range []string{"µs b1", "µs b256", "2900"} {
		if strings.Contains(v, gone) {
			t.Errorf("80 columns kept %q:\n%s", gone, v)
		}
	}
	for _, kept := range []string{"technique", "ratio=0.50", "test%", "Δ pp", "-0.31", "2.0×"} {
		if !strings.Contains(v, kept) {
			t.Errorf("80 columns lost %q:\n%s", kept, v)
		}
	}
	for _, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w != 80 {
			t.Errorf("line %q is %d wide, want 80", l, w)
		}
	}
}

func TestScrolls(t *testing.T) {
	m := New(common.New())
	m.SetSize(100, 7) // header and rule, then 3 rows
	for i := range 10 {
		m.Add(prunedRow(float64(i) / 20))
	}
	v := m.View()
	if !strings.Contains(v, "ratio=0.45") || strings.Contains(v, "ratio=0.00") {
		t.Errorf("after adding, the newest row should show:\n%s", v)
	}
	if !strings.Contains(v, "10 rows · row 10") {
		t.Errorf("title lacks the position:\n%s", v)
	}
	// Unfocused: keys do nothing.
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	if strings.Contains(m.View(), "ratio=0.00") {
		t.Error("an unfocused table scrolled")
	}
	m.Focus()
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	v = m.View()
	if !strings.Contains(v, "ratio=0.00") || !strings.Contains(v, "row 1") {
		t.Errorf("after g (top):\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	if !strings.Contains(m.View(), "row 2") {
		t.Errorf("after down:\n%s", m.View())
	}
	// f is the fine-tune key, not the table's page-down.
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("f")})
	if !strings.Contains(m.View(), "row 2") {
		t.Errorf("f moved the table:\n%s", m.View())
	}
}

func TestResizeKeepsCursorVisible(t *testing.T) {
	m := New(common.New())
	m.SetSize(120, 12)
	for i := range 6 {
		m.Add(prunedRow(float64(i) / 10))
	}
	m.SetSize(80, 6) // two rows visible
	v := m.View()
	if !strings.Contains(v, "ratio=0.50") {
		t.Errorf("the selected last row scrolled out after a resize:\n%s", v)
	}
}

// TestGoldenResults pins the pane at 100×9 with the rows of a small run:
// the dense baseline, two prune ratios and a quantization.
func TestGoldenResults(t *testing.T) {
	m := New(common.New())
	m.SetSize(100, 9)
	dense := results.Row{Experiment: "mnist", Technique: "dense", Setting: "fp32", ParamsTotal: 101770, ParamsNonzero: 101770,
		SizeBytes: 407080, CompressionRatio: 1, TrainAcc: 98.9, TestAcc: 97.56, GapPP: 1.34, LatencyUsB1: results.Measure(38.2), LatencyUsB256: results.Measure(2710)}
	quant := results.Row{Experiment: "mnist", Technique: "quantize", Setting: "bits=4", ParamsTotal: 101770, ParamsNonzero: 101770,
		SizeBytes: 52224, CompressionRatio: 7.79, TrainAcc: 98.7, TestAcc: 97.41, DeltaAccPP: -0.15, GapPP: 1.29}
	for _, r := range []results.Row{dense, prunedRow(0.5), prunedRow(0.9), quant} {
		m.Add(r)
	}
	golden.RequireEqual(t, []byte(m.View()))
}
