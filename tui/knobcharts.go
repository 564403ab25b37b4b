package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
	"github.com/prunerlab/pruner-tui/tui/components/controls"
	"github.com/prunerlab/pruner-tui/tui/components/histogram"
	"github.com/prunerlab/pruner-tui/tui/components/spectrum"
)

// Messages of the knob charts.
type (
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

// knobCharts are the charts that take the curves' place while the
// bit-width or rank knob is selected: it chooses which one shows and
// fetches what it draws off the UI goroutine.
type knobCharts struct {
	histogram *histogram.Model
	spectrum  *spectrum.Model
	specGen   int    // the latest spectrum request
	specKey   string // "layer@rank" of the spectrum shown or asked for
}

func newKnobCharts(c *common.Common) *knobCharts {
	return &knobCharts{histogram: histogram.New(c), spectrum: spectrum.New(c)}
}

// reset forgets both charts (a new experiment starts).
func (k *knobCharts) reset() {
	k.histogram.Reset()
	k.spectrum.Reset()
	k.specKey = ""
}

// newBaseline forgets what was drawn of the baseline before: the
// histograms, and which spectrum was asked for.
func (k *knobCharts) newBaseline() {
	k.histogram.Reset()
	k.specKey = ""
}

// shown is what takes the curves' place: the weight histogram while the
// bit-width knob is selected, the spectrum while the rank knob is, nil
// otherwise (and while a fine-tune runs, whose curves matter more).
func (k *knobCharts) shown(knobs *controls.Model, fineTuning bool) common.Component {
	if !knobs.Ready() || fineTuning {
		return nil
	}
	switch knobs.Selected() {
	case controls.KnobBitWidth:
		return k.histogram
	case controls.KnobRank:
		if knobs.RankLayer() != "" {
			return k.spectrum
		}
	}
	return nil
}

// request fetches what the selected knob's chart needs, off the UI
// goroutine: the spectrum at the rank knob's cut (cached SVD, so cheap),
// or, before any preview, the histograms of the current setting.
func (k *knobCharts) request(knobs *controls.Model) tea.Cmd {
	t := knobs.Trained()
	if t == nil {
		return nil
	}
	switch knobs.Selected() {
	case controls.KnobRank:
		layer, rank := knobs.RankLayer(), knobs.Rank()
		key := fmt.Sprintf("%s@%d", layer, rank)
		if layer == "" || key == k.specKey {
			return nil
		}
		k.specGen++
		k.specKey = key
		gen := k.specGen
		return func() tea.Msg {
			s, err := t.Spectrum(layer, rank)
			return spectrumMsg{Gen: gen, Spectrum: s, Err: err}
		}
	case controls.KnobBitWidth:
		if k.histogram.HasData() {
			return nil
		}
		gen, s := knobs.Generation(), knobs.Setting()
		return func() tea.Msg {
			hs, err := t.Histograms(s)
			return histogramsMsg{Gen: gen, Label: s.String(), Histograms: hs, Err: err}
		}
	}
	return nil
}

// preview shows the histograms of the knob preview ev, when it has some.
func (k *knobCharts) preview(ev experiments.Evaluation) {
	if len(ev.Histograms) > 0 {
		k.histogram.SetData(ev.Setting.String(), ev.Histograms)
	}
}

// update takes in what request fetched, unless a newer request or knob
// setting (generation) made it stale; a preview's histograms win over the
// baseline's.
func (k *knobCharts) update(msg tea.Msg, knobs *controls.Model) {
	switch msg := msg.(type) {
	case spectrumMsg:
		if msg.Gen == k.specGen {
			k.spectrum.SetData(msg.Spectrum, msg.Err)
		}
	case histogramsMsg:
		if msg.Gen == knobs.Generation() && msg.Err == nil && !k.histogram.HasData() {
			k.histogram.SetData(msg.Label, msg.Histograms)
		}
	}
}

// setSize gives both charts the curves' size.
func (k *knobCharts) setSize(width, height int) {
	k.histogram.SetSize(width, height)
	k.spectrum.SetSize(width, height)
}

// focus gives or takes the focus of both: they share the curves' place
// and its focus.
func (k *knobCharts) focus(on bool) {
	if on {
		k.histogram.Focus()
		k.spectrum.Focus()
		return
	}
	k.histogram.Blur()
	k.spectrum.Blur()
}
