package spectrum

import (
	"errors"
	"os"
	"strings"
	"testing"

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

// spectrum of a 40×30 layer: σ_i = 30 − i (i from 0), cut at rank.
func spectrumAt(rank int) experiments.Spectrum {
	s := experiments.Spectrum{Layer: "fc1", In: 40, Out: 30, Rank: rank, EnergyKept: 1, MaxSavingRank: 17}
	var kept, total float64
	for i := range 30 {
		v := float64(30 - i)
		s.Values = append(s.Values, v)
		total += v * v
		if i < rank {
			kept += v * v
		}
	}
	if rank > 0 {
		s.EnergyKept = kept / total
	}
	return s
}

func TestEmptyAndError(t *testing.T) {
	m := New(common.New())
	m.SetSize(60, 12)
	if v := m.View(); !strings.Contains(v, "The singular values appear once the rank knob is picked.") {
		t.Errorf("empty pane:\n%s", v)
	}
	m.SetData(experiments.Spectrum{}, errors.New("no such layer"))
	if v := m.View(); !strings.Contains(v, "spectrum: no such layer") {
		t.Errorf("error pane:\n%s", v)
	}
}

// TestCutAndEnergy: the cut is drawn at the rank's column, the legend and
// summary give the energy kept (Σ_{i<10} (30−i)² / Σ_{i<30} (30−i)² =
// 6,585/9,455 = 69.6%), and the highest saving rank is marked.
func TestCutAndEnergy(t *testing.T) {
	m := New(common.New())
	const w, h = 72, 16
	m.SetSize(w, h)
	m.SetData(spectrumAt(10), nil)
	v := m.View()
	for _, want := range []string{"σ of fc1 (40→30)", "rank 10: 69.6% of Σσ²", "ranks ≤ 17 save bytes"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if got, want := m.Summary(), "fc1 40→30: rank 10 keeps 69.6% of the energy; ranks ≤ 17 save parameters"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// One column of the chart holds the cut from the axis to the top, and
	// it lies left of the column of the saving limit.
	cutCol, saveCol := column(v, cutMark), column(v, savingMark)
	if cutCol < 0 || saveCol < 0 || cutCol >= saveCol {
		t.Errorf("cut at column %d, saving limit at %d:\n%s", cutCol, saveCol, v)
	}
	// Past the limit the legend says the rank saves nothing.
	m.SetData(spectrumAt(20), nil)
	if v := m.View(); !strings.Contains(v, "saves no bytes (┊ ranks ≤ 17 do)") {
		t.Errorf("rank 20 > 17 not flagged:\n%s", v)
	}
	m.SetData(spectrumAt(0), nil)
	if v := m.View(); !strings.Contains(v, "not factorized") || column(v, cutMark) >= 0 {
		t.Errorf("rank 0 view:\n%s", v)
	}
}

// column is the column where r appears most often in the chart's rows
// (not the frame's), -1 when it appears in at most one row.
func column(v string, r rune) int {
	counts := map[int]int{}
	lines := strings.Split(v, "\n")
	for _, line := range lines[2 : len(lines)-1] {
		runes := []rune(line)
		for i := 1; i < len(runes)-1; i++ {
			if runes[i] == r {
				counts[i]++
			}
		}
	}
	best, n := -1, 1
	for col, c := range counts {
		if c > n {
			best, n = col, c
		}
	}
	return best
}

// TestGoldenSpectrum pins the pane at 72×16 with the cut at rank 10 of a
// 40×30 layer.
func TestGoldenSpectrum(t *testing.T) {
	m := New(common.New())
	m.SetSize(72, 16)
	m.SetData(spectrumAt(10), nil)
	golden.RequireEqual(t, []byte(m.View()))
}
