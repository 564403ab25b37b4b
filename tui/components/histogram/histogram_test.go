package histogram

import (
	"math"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// layerHist is a histogram over [−1, 1] with every weight in the bins of
// −0.5 and +0.5, and the levels of a 2-bit grid: −1, 0, +1.
func layerHist(name string, bits int) experiments.WeightHistogram {
	h := experiments.WeightHistogram{Layer: name, Lo: -1, Hi: 1, Counts: make([]int, experiments.HistogramBins), Total: 110, Zeros: 10, Bits: bits}
	h.Counts[experiments.HistogramBins/4] = 60   // −0.5
	h.Counts[3*experiments.HistogramBins/4] = 40 // +0.5
	if bits != 0 {
		h.Levels = []float64{-1, 0, 1}
		h.LevelsChannel = 3
	}
	return h
}

func TestEmpty(t *testing.T) {
	m := New(common.New())
	m.SetSize(60, 12)
	if v := m.View(); !strings.Contains(v, "The weight histogram appears with the knob preview.") {
		t.Errorf("empty pane:\n%s", v)
	}
}

// TestBarsAndLevels: the bars stand where the weights are, as tall as
// their counts say, and a level mark sits under each level's column.
func TestBarsAndLevels(t *testing.T) {
	m := New(common.New())
	const w, h = 42, 14 // inner 40×12: legend, 10 chart rows, x labels
	m.SetSize(w, h)
	all := layerHist(experiments.AllLayers, 2)
	all.Levels = nil
	m.SetData("bits=2", []experiments.WeightHistogram{all, layerHist("fc1", 2)})
	v := m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), h, v)
	}
	inner := func(row int) []rune { return []rune(lines[row])[1 : w-1] }
	if !strings.Contains(lines[0], "fc1 · 2 bits, 3 levels") {
		t.Errorf("title %q lacks the layer and levels", lines[0])
	}
	// Columns: 40 over [−1, 1]; −0.5 → column 10, +0.5 → 30; the levels
	// −1, 0, +1 → columns 0, 20, 39. The chart is rows 2–11 of the pane:
	// 8 rows of bars, the axis (row 10), the marks (row 11).
	marks := inner(11)
	for col, r := range marks {
		want := col == 0 || col == 20 || col == 39
		if (r == levelMark) != want {
			t.Errorf("marks row %q: column %d is %q", string(marks), col, r)
		}
	}
	// The taller bar (60 weights) fills all 8 rows; the other 40/60 of them.
	height := func(col int) int {
		n := 0
		for row := 2; row <= 9; row++ {
			if inner(row)[col] != ' ' {
				n++
			}
		}
		return n
	}
	if got := height(10); got != 8 {
		t.Errorf("bar at −0.5 is %d rows, want 8:\n%s", got, v)
	}
	if got := height(30); got < 5 || got > 6 {
		t.Errorf("bar at +0.5 is %d rows, want 5⅓:\n%s", got, v)
	}
	if got := height(20); got != 0 {
		t.Errorf("no weight at 0, yet a bar of %d rows:\n%s", got, v)
	}
	labels := string(inner(12))
	if !strings.HasPrefix(labels, "-1") || !strings.HasSuffix(labels, "+1") || labels[20] != '0' {
		t.Errorf("x labels %q", labels)
	}
	if got, want := m.Summary(), "fc1: 2 bits, 3 levels; 110 weights, 10 zero"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// TestLayerKeys: up/down step through the layers when focused, and new
// data keeps the layer shown.
func TestLayerKeys(t *testing.T) {
	m := New(common.New())
	m.SetSize(60, 12)
	hs := []experiments.WeightHistogram{layerHist(experiments.AllLayers, 0), layerHist("fc1", 0), layerHist("fc2", 0)}
	m.SetData("dense", hs)
	if h, _ := m.Shown(); h.Layer != "fc1" {
		t.Fatalf("first shown %q, want fc1", h.Layer)
	}
	down := tea.KeyMsg{Type: tea.KeyDown}
	m.Update(down)
	if h, _ := m.Shown(); h.Layer != "fc1" {
		t.Errorf("unfocused pane moved to %q", h.Layer)
	}
	m.Focus()
	m.Update(down)
	if h, _ := m.Shown(); h.Layer != "fc2" {
		t.Errorf("down: %q, want fc2", h.Layer)
	}
	m.Update(down)
	if h, _ := m.Shown(); h.Layer != experiments.AllLayers {
		t.Errorf("down past the last: %q, want %q", h.Layer, experiments.AllLayers)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	m.SetData("bits=4", hs)
	if h, _ := m.Shown(); h.Layer != "fc2" {
		t.Errorf("after new data: %q, want fc2 kept", h.Layer)
	}
	if v := m.View(); !strings.Contains(v, "float32: no levels") {
		t.Errorf("float32 legend missing:\n%s", v)
	}
}

// TestGoldenHistogram pins the pane at 72×16 on a bell of weights over
// [−0.3, 0.3] snapped to a 3-bit grid (7 levels), with 120 zeros.
func TestGoldenHistogram(t *testing.T) {
	m := New(common.New())
	m.SetSize(72, 16)
	h := experiments.WeightHistogram{Layer: "fc1", Lo: -0.3, Hi: 0.3, Counts: make([]int, experiments.HistogramBins),
		Total: 235200, Zeros: 120, Bits: 3, LevelsChannel: 17}
	for i := range h.Counts {
		x := (float64(i)+0.5)/float64(len(h.Counts))*0.6 - 0.3
		h.Counts[i] = int(4000 * math.Exp(-x*x/(2*0.08*0.08)))
	}
	for l := -3; l <= 3; l++ {
		h.Levels = append(h.Levels, 0.09*float64(l))
	}
	m.SetData("bits=3", []experiments.WeightHistogram{h})
	golden.RequireEqual(t, []byte(m.View()))
}
