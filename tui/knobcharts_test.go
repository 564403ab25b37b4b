package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
)

// settle runs cmd and every command its messages lead to, feeding each
// message to m (what Bubble Tea's loop would do), batches included.
func (m *model) settle(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		for _, c := range batch {
			m.settle(c)
		}
		return
	}
	if msg == nil {
		return
	}
	_, next := m.Update(msg)
	m.settle(next)
}

// TestPruneChartThroughRoot: turning the prune knob puts the weight
// magnitudes and the threshold in the curves' place, for either scope.
func TestPruneChartThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	if v := m.View(); !strings.Contains(v, "Curves") || strings.Contains(v, "Magnitudes") {
		t.Fatalf("prune knob off: the curves should show:\n%s", v)
	}
	m.settle(m.press("right", "right", "right", "right", "right", "right", "right", "right", "right", "right")) // ratio 0.50
	v := m.View()
	for _, want := range []string{"Magnitudes", "|w| of fc1 · ratio=0.50", "kept", "pruned", "┃ |w| ≤"} {
		if !strings.Contains(v, want) {
			t.Errorf("prune knob at 0.50: view lacks %q:\n%s", want, v)
		}
	}
	// fc1 4→8: half of its 32 weights go.
	if got := m.charts.magnitudes.Summary(); !strings.HasPrefix(got, "fc1: 16 of 32 weights at or below |w|") {
		t.Errorf("magnitudes: %q", got)
	}
	m.settle(m.press("down", "right")) // scope: global
	if got := m.controls.Setting(); got.PruneScope != "global" {
		t.Errorf("setting %+v, want global scope", got)
	}
	if v := m.View(); !strings.Contains(v, "ratio=0.50 scope=global") || !strings.Contains(v, "one cut for all") {
		t.Errorf("global scope:\n%s", v)
	}
}

// TestKnobChartsThroughRoot: picking the bit-width knob puts the weight
// histogram in the curves' place, with the preview's levels once it
// turns; picking the rank knob puts the spectrum there, the cut following
// the knob and starting at the largest rank that saves bytes; the prune
// knob, off, brings the curves back.
func TestKnobChartsThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	var v string
	m.settle(m.press("down", "down")) // the bit-width knob
	v = m.View()
	for _, want := range []string{"Weights", "fc1 · float32", "float32: no levels"} {
		if !strings.Contains(v, want) {
			t.Errorf("bit-width knob picked: view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "Curves") {
		t.Errorf("the curves still show:\n%s", v)
	}
	m.settle(m.press("right")) // 8 bits
	if got := m.charts.histogram.Summary(); got != "fc1: 8 bits, 255 levels; 32 weights, 0 zero" {
		t.Errorf("after 8 bits: %q", got)
	}
	m.settle(m.press("right", "right", "right", "right", "right", "right", "right")) // 1 bit
	if got := m.charts.histogram.Summary(); got != "fc1: 1 bit, 2 levels; 32 weights, 0 zero" {
		t.Errorf("after 1 bit: %q", got)
	}
	if v := m.View(); !strings.Contains(v, "Weights fc1 · 1 bit, 2 levels") || !strings.Contains(v, "(1 bit instead of 32)") {
		t.Errorf("1 bit: not in the singular:\n%s", v)
	}

	m.settle(m.press("down")) // the rank knob: fc1, 4→8
	v = m.View()
	for _, want := range []string{"Spectrum σ of fc1 (4→8)", "not factorized", "ranks ≤ 2 save bytes"} {
		if !strings.Contains(v, want) {
			t.Errorf("rank knob picked: view lacks %q:\n%s", want, v)
		}
	}
	m.settle(m.press("right")) // the largest rank that saves bytes: 2, not the full rank 4
	if got := m.charts.spectrum.Summary(); !strings.HasPrefix(got, "fc1 4→8: rank 2 keeps") {
		t.Errorf("rank knob's first step: %q", got)
	}
	if v := m.View(); strings.Contains(v, "saves no bytes") || strings.Contains(v, "Preview error") {
		t.Errorf("the rank knob's first step saves nothing or fails:\n%s", v)
	}
	m.settle(m.press("right")) // rank 1
	if s := m.charts.spectrum.Spectrum(); s == nil || s.Rank != 1 || !(s.EnergyKept > 0 && s.EnergyKept < 1) {
		t.Errorf("rank 1: spectrum %+v", s)
	}
	m.settle(m.press("down", "right")) // its layer: fc2 (8→3)
	if v := m.View(); !strings.Contains(v, "Spectrum σ of fc2 (8→3)") {
		t.Errorf("the layer line moved the spectrum:\n%s", v)
	}

	// Back to the bit-width knob; the chart pane's keys step through layers.
	m.settle(m.press("up", "up"))
	m.press("tab")
	if m.focus != paneChart {
		t.Fatalf("focus %v, want the chart pane", m.focus)
	}
	// The preview factorized fc2 at rank 1: its layers are fc1, fc2.A, fc2.B.
	if h, _ := m.charts.histogram.Shown(); h.Layer != "fc1" {
		t.Errorf("histogram shows %q, want fc1", h.Layer)
	}
	m.press("down")
	if h, _ := m.charts.histogram.Shown(); h.Layer != "fc2.A" {
		t.Errorf("down in the histogram: %q, want fc2.A", h.Layer)
	}
	m.press("tab", "tab", "tab")
	m.settle(m.press("up", "up")) // the prune knob, off (from the knobs pane)
	if v := m.View(); !strings.Contains(v, "Curves") {
		t.Errorf("prune knob off: the curves should be back:\n%s", v)
	}
}
