package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
	"github.com/prunerlab/pruner-tui/tui/components/controls"
	"github.com/prunerlab/pruner-tui/tui/components/histogram"
	"github.com/prunerlab/pruner-tui/tui/components/magnitudes"
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
	// magnitudesMsg carries the weight magnitudes of the knob setting of
	// controls generation Gen, before any knob has turned.
	magnitudesMsg struct {
		Gen        int
		Label      string
		Magnitudes []experiments.MagnitudeHistogram
		Filters    *experiments.Filters
		Err        error
	}
)

// knobCharts are the charts that take the curves' place while a knob is
// selected: the weight magnitudes and the prune threshold for the prune
// knob, the weights and their levels for the bit width, the spectrum for
// the rank. It chooses which one shows and fetches what it draws off the
// UI goroutine.
type knobCharts struct {
	magnitudes *magnitudes.Model
	histogram  *histogram.Model
	spectrum   *spectrum.Model
	specGen    int    // the latest spectrum request
	specKey    string // "layer@rank" of the spectrum shown or asked for
}

func newKnobCharts(c *common.Common) *knobCharts {
	return &knobCharts{magnitudes: magnitudes.New(c), histogram: histogram.New(c), spectrum: spectrum.New(c)}
}

// reset forgets every chart (a new experiment starts).
func (k *knobCharts) reset() {
	k.magnitudes.Reset()
	k.histogram.Reset()
	k.spectrum.Reset()
	k.specKey = ""
}

// newBaseline forgets what was drawn of the baseline before: the
// histograms, and which spectrum was asked for.
func (k *knobCharts) newBaseline() {
	k.magnitudes.Reset()
	k.histogram.Reset()
	k.specKey = ""
}

// shown is what takes the curves' place: the magnitudes while the prune
// knob is selected and on (or its scope is selected), the weight
// histogram while the bit-width knob is selected, the spectrum while the
// rank knob (or its layer) is; nil before the baseline, with the prune
// knob off (the curves of a preset still running show), and while a
// fine-tune runs, whose curves matter more.
func (k *knobCharts) shown(knobs *controls.Model, fineTuning bool) common.Component {
	if !knobs.Ready() || fineTuning {
		return nil
	}
	switch knobs.Selected().Of() {
	case controls.KnobPruneRatio:
		if knobs.Selected() == controls.KnobPruneScope || knobs.Setting().PruneRatio > 0 {
			return k.magnitudes
		}
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
	switch knobs.Selected().Of() {
	case controls.KnobPruneRatio:
		if k.magnitudes.HasData() {
			return nil
		}
		gen, s := knobs.Generation(), knobs.Setting()
		return func() tea.Msg {
			hs, fs, err := t.Magnitudes(s)
			return magnitudesMsg{Gen: gen, Label: s.String(), Magnitudes: hs, Filters: fs, Err: err}
		}
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
	if len(ev.Magnitudes) > 0 {
		k.magnitudes.SetData(ev.Setting.String(), ev.Magnitudes, ev.Filters)
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
	case magnitudesMsg:
		if msg.Gen == knobs.Generation() && msg.Err == nil && !k.magnitudes.HasData() {
			k.magnitudes.SetData(msg.Label, msg.Magnitudes, msg.Filters)
		}
	}
}

// setSize gives every chart the curves' size.
func (k *knobCharts) setSize(width, height int) {
	k.magnitudes.SetSize(width, height)
	k.histogram.SetSize(width, height)
	k.spectrum.SetSize(width, height)
}

// focus gives or takes the focus of every chart: they share the curves'
// place and its focus.
func (k *knobCharts) focus(on bool) {
	for _, c := range []interface {
		Focus()
		Blur()
	}{k.magnitudes, k.histogram, k.spectrum} {
		if on {
			c.Focus()
		} else {
			c.Blur()
		}
	}
}
