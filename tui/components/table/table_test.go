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

var dense = results.Row{Experiment: "mnist", Technique: "dense", Setting: "fp32", ParamsTotal: 101770, ParamsNonzero: 101770,
	SizeBytes: 407080, CompressionRatio: 1, TrainAcc: 98.9, TestAcc: 97.56, GapPP: 1.34, FLOPs: 101632,
	LatencyUsB1: results.Measure(38.2), LatencyUsB256: results.Measure(2710), WallS: 4.25}

func TestRowsAppear(t *testing.T) {
	m := New(common.New())
	m.SetSize(120, 8)
	if v := m.View(); !strings.Contains(v, "Rows appear as each technique finishes") {
		t.Errorf("empty pane:\n%s", v)
	}
	m.Add(prunedRow(0.5))
	v := m.View()
	for _, want := range []string{"technique", "setting", "Δ pp", "gap pp", "µs b1", "µs b256",
		"prune", "ratio=0.50", "50,885", "200 KiB", "2.0×", "97.25", "-0.31", "1.25", "41.5", "2900", "1 row"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if got := m.Table(); len(got) != 1 || got[0].Setting != "ratio=0.50" {
		t.Errorf("Table() = %+v", got)
	}
}

// At 80 columns the table keeps what compares techniques: size, ratio,
// test accuracy, its change, the gap, the batch-1 latency.
func TestNarrowDropsColumns(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 8)
	m.Add(prunedRow(0.5))
	v := m.View()
	for _, gone := range []string{"µs b256", "2900", "train%", "non-zero", "MACs", "wall s"} {
		if strings.Contains(v, gone) {
			t.Errorf("80 columns kept %q:\n%s", gone, v)
		}
	}
	for _, kept := range []string{"technique", "ratio=0.50", "test%", "Δ pp", "-0.31", "2.0×", "gap pp", "µs b1"} {
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

// At 120 columns a setting of 34 cells is whole; at 200 the table shows
// its wide-screen columns and leaves no gap after the setting: the room
// left over is at the right end.
func TestSettingWidth(t *testing.T) {
	global := prunedRow(0.9)
	global.Setting = "ratio=0.90 scope=global finetune=2"
	m := New(common.New())
	m.SetSize(120, 10)
	m.Add(dense)
	m.Add(global)
	if v := m.View(); !strings.Contains(v, "ratio=0.90 scope=global finetune=2") || strings.Contains(v, "finetun…") {
		t.Errorf("120 columns cut the setting:\n%s", v)
	}
	m.SetSize(200, 10)
	v := m.View()
	for _, want := range []string{"MACs", "101,632", "wall s", "4.25", "train%", "non-zero"} {
		if !strings.Contains(v, want) {
			t.Errorf("200 columns lack %q:\n%s", want, v)
		}
	}
	header := strings.Split(v, "\n")[1]
	setting, next := strings.Index(header, "setting"), strings.Index(header, "non-zero")
	// "non-zero" is right-aligned in its 8 cells, after the setting's 34 and a gap of 2.
	if got, want := next-setting, 34+2; got != want {
		t.Errorf("the setting column is %d cells to the next, want %d:\n%s", got, want, header)
	}
}

// A setting longer than its column is shown whole on the last line while
// its row is selected.
func TestLongSettingShownWhole(t *testing.T) {
	long := prunedRow(0.975)
	long.Technique, long.Setting = "pipeline", "deep compression: ratio=0.975 per_layer=fc2:0.90,fc3:0.60 epochs=0-8 every=100"
	m := New(common.New())
	m.SetSize(120, 10)
	m.Add(dense)
	m.Add(long)
	v := m.View()
	if !strings.Contains(v, "deep compression: ratio=0.975 per_layer=fc2:0.90,fc3:0.60 epochs=0-8 every=100") {
		t.Errorf("the selected long setting is not shown whole:\n%s", v)
	}
	m.Focus()
	m.Update(tea.KeyMsg{Type: tea.KeyUp}) // the baseline: its setting fits
	if v := m.View(); strings.Contains(v, "every=100") {
		t.Errorf("the detail line stays for a row that fits:\n%s", v)
	}
}

// The baseline stays in view however far the table scrolls; the
// selection follows new rows only while it is on the last one.
func TestBaselinePinnedAndFollow(t *testing.T) {
	m := New(common.New())
	m.SetSize(100, 8) // header and rule, the baseline, then 3 rows
	m.Add(dense)
	for i := range 10 {
		m.Add(prunedRow(float64(i) / 20))
	}
	v := m.View()
	if !strings.Contains(v, "fp32") || !strings.Contains(v, "ratio=0.45") || strings.Contains(v, "ratio=0.30") {
		t.Errorf("after adding, the baseline and the newest rows should show:\n%s", v)
	}
	if !strings.Contains(v, "11 rows · row 11 of 11") {
		t.Errorf("title lacks the position:\n%s", v)
	}
	// Unfocused: keys do nothing.
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	if m.Cursor() != 10 {
		t.Error("an unfocused table moved")
	}
	m.Focus()
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	if v := m.View(); !strings.Contains(v, "row 2 of 11") || !strings.Contains(v, "▸ prune      ratio=0.00") {
		t.Errorf("after g and down the second row is selected and marked:\n%s", v)
	}
	// Reading an older row, a new row does not scroll it away.
	m.Add(prunedRow(0.99))
	if m.Cursor() != 1 {
		t.Errorf("a new row moved the selection to %d", m.Cursor())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	m.Add(prunedRow(0.995))
	if m.Cursor() != 12 || !strings.Contains(m.View(), "fp32") {
		t.Errorf("at the end, the selection follows the new row (%d) and the baseline stays", m.Cursor())
	}
	// f is the fine-tune key, not the table's page-down.
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("f")})
	if m.Cursor() != 12 {
		t.Error("f moved the table")
	}
}

// A click selects the row under it, the pinned baseline included.
func TestRowAt(t *testing.T) {
	m := New(common.New())
	m.SetSize(100, 8)
	m.Add(dense)
	for i := range 10 {
		m.Add(prunedRow(float64(i) / 20))
	}
	// Lines: 0 border, 1 header, 2 rule, 3 baseline, 4–6 rows 8–10.
	for y, want := range map[int]int{3: 0, 4: 8, 6: 10} {
		if i, ok := m.RowAt(y); !ok || i != want {
			t.Errorf("RowAt(%d) = %d, %v; want %d", y, i, ok, want)
		}
	}
	for _, y := range []int{0, 1, 2, 7} {
		if _, ok := m.RowAt(y); ok {
			t.Errorf("RowAt(%d) is a row", y)
		}
	}
	m.Select(0)
	if m.Cursor() != 0 {
		t.Error("Select")
	}
}

func TestDeltaColouredBySign(t *testing.T) {
	st := common.DefaultStyles()
	plain := st.TableCell
	for _, c := range []struct {
		delta float64
		want  lipgloss.Style
	}{{0.25, st.Good}, {-0.31, st.Bad}, {0, plain}, {-0.001, plain}} {
		if got := deltaStyle(st, c.delta, plain); got.GetForeground() != c.want.GetForeground() {
			t.Errorf("Δ %v coloured %v, want %v", c.delta, got.GetForeground(), c.want.GetForeground())
		}
	}
}

// A row whose latency is being measured says so, then shows it.
func TestMeasuring(t *testing.T) {
	m := New(common.New())
	m.SetSize(120, 8)
	r := prunedRow(0.5)
	r.LatencyUsB1, r.LatencyUsB256 = results.Measured{}, results.Measured{}
	i := m.Add(r)
	if v := m.View(); !strings.Contains(v, "—") {
		t.Errorf("an unmeasured latency:\n%s", v)
	}
	m.SetMeasuring(i, true)
	if v := m.View(); !strings.Contains(v, "measuring latency…") || !strings.Contains(v, "…") {
		t.Errorf("while measuring:\n%s", v)
	}
	r.LatencyUsB1, r.LatencyUsB256 = results.Measure(12.5), results.Measure(700)
	m.Replace(i, r)
	m.SetMeasuring(i, false)
	if v := m.View(); !strings.Contains(v, "12.5") || strings.Contains(v, "measuring") {
		t.Errorf("after measuring:\n%s", v)
	}
	epoch := m.Epoch()
	m.Reset()
	if m.Epoch() == epoch || m.Len() != 0 {
		t.Error("Reset keeps the epoch or the rows")
	}
}

// TestGoldenResults pins the pane at 100×9 with the rows of a small run:
// the dense baseline, two prune ratios and a quantization, the last
// selected.
func TestGoldenResults(t *testing.T) {
	m := New(common.New())
	m.SetSize(100, 9)
	quant := results.Row{Experiment: "mnist", Technique: "quantize", Setting: "bits=4", ParamsTotal: 101770, ParamsNonzero: 101770,
		SizeBytes: 52224, CompressionRatio: 7.79, TrainAcc: 98.7, TestAcc: 97.41, DeltaAccPP: -0.15, GapPP: 1.29}
	for _, r := range []results.Row{dense, prunedRow(0.5), prunedRow(0.9), quant} {
		m.Add(r)
	}
	m.Focus()
	golden.RequireEqual(t, []byte(m.View()))
}
