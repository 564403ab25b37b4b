package magnitudes

import (
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

// layerHist is a histogram over [0, 1]: a falling ramp of magnitudes
// (most weights small), cut at |w| ≤ 0.25 when cut.
func layerHist(name string, cut bool) experiments.MagnitudeHistogram {
	h := experiments.MagnitudeHistogram{Layer: name, Hi: 1, Counts: make([]int, experiments.HistogramBins)}
	for i := range h.Counts {
		h.Counts[i] = experiments.HistogramBins - i
		h.Total += h.Counts[i]
		if i < experiments.HistogramBins/4 {
			h.Pruned += h.Counts[i]
		}
	}
	if cut {
		h.Threshold, h.HasThreshold = 0.25, true
	}
	return h
}

func TestEmpty(t *testing.T) {
	m := New(common.New())
	m.SetSize(60, 12)
	if v := m.View(); !strings.Contains(v, "The weights' magnitudes appear with the knob preview.") {
		t.Errorf("empty pane:\n%s", v)
	}
}

// TestThresholdDrawn: the cut stands at the threshold's column, through
// the bars, labelled under the axis; the legend says the share pruned.
func TestThresholdDrawn(t *testing.T) {
	m := New(common.New())
	const w, h = 62, 14 // inner 60×12: legend, 10 chart rows (9 bars + axis), x labels
	m.SetSize(w, h)
	all := layerHist(experiments.AllLayers, false)
	m.SetData("ratio=0.44", []experiments.MagnitudeHistogram{all, layerHist("fc1", true)}, nil)
	lines := strings.Split(m.View(), "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d", len(lines), h)
	}
	inner := func(row int) []rune { return []rune(lines[row])[1 : w-1] }
	// 60 columns over [0, 1]: 0.25 is column 15, in every bar row.
	for row := 2; row <= 9; row++ {
		for col, r := range inner(row) {
			if (r == cutMark) != (col == 15) {
				t.Errorf("row %d: column %d is %q", row, col, r)
			}
		}
	}
	if !strings.Contains(lines[0], "|w| of fc1 · ratio=0.44") {
		t.Errorf("title %q", lines[0])
	}
	if !strings.Contains(lines[1], "┃ |w| ≤ 0.25: 43.7% of 32,896") {
		t.Errorf("legend %q", lines[1])
	}
	if labels := string(inner(12)); !strings.HasPrefix(labels, "0") || !strings.HasSuffix(labels, "1") || !strings.Contains(labels, "0.25") {
		t.Errorf("x labels %q", labels)
	}
	if got, want := m.Summary(), "fc1: 14,368 of 32,896 weights at or below |w| 0.25"; got != want {
		t.Errorf("Summary %q, want %q", got, want)
	}

	// Up steps to the pooled layers, whose cuts differ by layer.
	m.Focus()
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	v := m.View()
	if !strings.Contains(v, "a cut per layer: ↑/↓ picks one") || strings.ContainsRune(v, cutMark) {
		t.Errorf("pooled layers drawn with one cut:\n%s", v)
	}
	// New data keeps the layer shown.
	m.SetData("ratio=0.50", []experiments.MagnitudeHistogram{all, layerHist("fc1", true)}, nil)
	if s, _ := m.Shown(); s.Layer != experiments.AllLayers {
		t.Errorf("new data moved the pane to %q", s.Layer)
	}
	none := layerHist("fc2", false)
	none.Pruned = 0
	m.SetData("dense", []experiments.MagnitudeHistogram{none}, nil)
	if v := m.View(); !strings.Contains(v, "nothing pruned") || m.Summary() != "fc2: 32,896 weights, none pruned" {
		t.Errorf("unpruned: %q\n%s", m.Summary(), v)
	}
}

// TestGoldenMagnitudes pins the pane at 72×16 on a ramp cut at a quarter.
func TestGoldenMagnitudes(t *testing.T) {
	m := New(common.New())
	m.SetSize(72, 16)
	m.SetData("ratio=0.44", []experiments.MagnitudeHistogram{layerHist(experiments.AllLayers, true), layerHist("fc1", true)}, nil)
	golden.RequireEqual(t, []byte(m.View()))
}

// TestFilterImages: under the bars, each filter of the first convolution
// is a K×K image, a cell per weight; a pruned weight is a dot, a filter
// removed whole is hatched, and the title says how many were kept. Too
// short a pane leaves them out rather than squeezing the bars.
func TestFilterImages(t *testing.T) {
	// Three 2×2 filters: the first kept whole, the second with its
	// first-row weights pruned, the third removed.
	f := &experiments.Filters{Layer: "conv1", K: 2, C: 1,
		Before: [][]float32{{1, -1, 0.5, -0.5}, {0.1, 0.2, 0.9, -0.9}, {0.3, 0.3, 0.3, 0.3}},
		After:  [][]float32{{1, -1, 0.5, -0.5}, {0, 0, 0.9, -0.9}, nil}}
	m := New(common.New())
	m.SetSize(62, 20)
	whole := layerHist("conv1", false)
	whole.Whole = "filters"
	m.SetData("filters=0.33", []experiments.MagnitudeHistogram{layerHist(experiments.AllLayers, false), whole}, f)
	v := m.View()
	if !strings.Contains(v, "whole filters removed, not small weights") {
		t.Errorf("legend:\n%s", v)
	}
	lines := strings.Split(v, "\n")
	if len(lines) != 20 {
		t.Fatalf("%d lines, want 20", len(lines))
	}
	// The frame's last two inner rows are the images, the title above.
	inner := func(row int) string { return strings.TrimRight(strings.Trim(lines[row], "│"), " ") }
	if got := inner(16); !strings.Contains(got, "conv1 filters 2×2 · 2 of 3 kept, ░ removed") {
		t.Errorf("title %q\n%s", got, v)
	}
	if top, bottom := inner(17), inner(18); top != "██ ·· ░░" || bottom != "██ ██ ░░" {
		t.Errorf("images\n%q\n%q\nwant\n%q\n%q\n%s", top, bottom, "██ ·· ░░", "██ ██ ░░", v)
	}
	// Nothing removed: the title says what share of the weights went.
	f.After[2] = []float32{0.3, 0.3, 0.3, 0.3}
	m.SetData("ratio=0.17", []experiments.MagnitudeHistogram{layerHist(experiments.AllLayers, false), layerHist("conv1", false)}, f)
	if v := m.View(); !strings.Contains(v, "conv1 filters 2×2 · 17% of their weights zeroed, · pruned") {
		t.Errorf("unstructured title:\n%s", v)
	}
	m.SetSize(62, 10)
	if v := m.View(); strings.Contains(v, "conv1 filters") {
		t.Errorf("a 10-row pane still draws the filters:\n%s", v)
	}
}

// TestShade: the 24 greys span the scale, the middle is zero.
func TestShade(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{-1, "232"}, {1, "255"}, {0, "244"}, {-3, "232"}, {0.5, "249"}} {
		if got := string(shade(c.v, 1)); got != c.want {
			t.Errorf("shade(%v) = %s, want %s", c.v, got, c.want)
		}
	}
}
