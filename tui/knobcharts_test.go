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

// TestKnobChartsThroughRoot: picking the bit-width knob puts the weight
// histogram in the curves' place, with the preview's levels once it
// turns; picking the rank knob puts the spectrum there, the cut following
// the knob; the prune knob brings the curves back.
func TestKnobChartsThroughRoot(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	if v := m.View(); !strings.Contains(v, "Curves") || strings.Contains(v, "Weights") {
		t.Fatalf("prune knob: the curves should show:\n%s", v)
	}

	m.settle(m.press("down")) // the bit-width knob
	v := m.View()
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
	m.settle(m.press("right", "right", "right", "right", "right", "right")) // 2 bits
	if got := m.charts.histogram.Summary(); got != "fc1: 2 bits, 3 levels; 32 weights, 0 zero" {
		t.Errorf("after 2 bits: %q", got)
	}
	if v := m.View(); !strings.Contains(v, "▲ 3 levels of channel") {
		t.Errorf("2 bits: no levels drawn:\n%s", v)
	}

	m.settle(m.press("down")) // the rank knob: fc1, 4×8
	v = m.View()
	for _, want := range []string{"Spectrum σ of fc1 (4→8)", "not factorized", "ranks ≤ 2 save bytes"} {
		if !strings.Contains(v, want) {
			t.Errorf("rank knob picked: view lacks %q:\n%s", want, v)
		}
	}
	m.settle(m.press("right")) // full rank 4: saves nothing
	if got := m.charts.spectrum.Summary(); !strings.HasPrefix(got, "fc1 4→8: rank 4 keeps 100.0% of the energy") {
		t.Errorf("rank 4: %q", got)
	}
	if v := m.View(); !strings.Contains(v, "saves no bytes") {
		t.Errorf("rank 4 not flagged:\n%s", v)
	}
	m.settle(m.press("right", "right")) // rank 2
	if s := m.charts.spectrum.Spectrum(); s == nil || s.Rank != 2 || !(s.EnergyKept > 0 && s.EnergyKept < 1) {
		t.Errorf("rank 2: spectrum %+v", s)
	}

	// Back to the bit-width knob; the chart pane's keys step through layers.
	m.settle(m.press("up"))
	m.press("tab", "tab", "tab")
	if m.focus != paneChart {
		t.Fatalf("focus %v, want the chart pane", m.focus)
	}
	// The preview factorized fc1 at rank 2: its layers are fc1.A, fc1.B, fc2.
	if h, _ := m.charts.histogram.Shown(); h.Layer != "fc1.A" {
		t.Errorf("histogram shows %q, want fc1.A", h.Layer)
	}
	m.press("down")
	if h, _ := m.charts.histogram.Shown(); h.Layer != "fc1.B" {
		t.Errorf("down in the histogram: %q, want fc1.B", h.Layer)
	}
	m.press("tab")
	m.settle(m.press("up")) // the prune knob (from the knobs pane)
	if v := m.View(); !strings.Contains(v, "Curves") {
		t.Errorf("prune knob: the curves should be back:\n%s", v)
	}
}
