package magnitudes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Glyphs of the filter images: a kept weight is a cell in its shade, a
// pruned one a dot, a filter removed whole is hatched.
const (
	keptGlyph    = "█"
	prunedGlyph  = "·"
	removedGlyph = "░"
)

// filterRows is how many rows the filter images take at width w: a title
// line, then K rows per band of filters (a blank line between bands), at
// most bands bands.
func filterRows(f *experiments.Filters, w, bands int) int {
	if f == nil || f.K == 0 {
		return 0
	}
	per := max((w+1)/(f.K+1), 1)
	n := min((len(f.Before)+per-1)/per, bands)
	return 1 + n*f.K + (n - 1)
}

// filterView draws the first convolution's filters as small images, a
// pixel per cell in shades of grey (dark negative, light positive, on one
// scale for all), in bands that fit the width w, at most rows rows: what
// the prune stage zeroed is a dot, a filter it removed is hatched.
func (m *Model) filterView(f *experiments.Filters, w, rows int) []string {
	st := m.common.Styles
	per := max((w+1)/(f.K+1), 1)
	bands := max((rows+1)/(f.K+1), 1)
	lines := []string{common.FitWidth(m.filterTitle(f), w)}
	scale := 0.0
	for _, fw := range f.Before {
		for _, v := range fw {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
	}
	shown := min(len(f.Before), per*bands)
	for b := 0; b*per < shown; b++ {
		if b > 0 {
			lines = append(lines, "")
		}
		for ky := 0; ky < f.K; ky++ {
			var line strings.Builder
			for i := b * per; i < min((b+1)*per, shown); i++ {
				if i > b*per {
					line.WriteByte(' ')
				}
				for kx := 0; kx < f.K; kx++ {
					line.WriteString(m.pixel(f, i, ky, kx, scale))
				}
			}
			lines = append(lines, line.String())
		}
	}
	if shown < len(f.Before) {
		last := len(lines) - 1
		lines[last] = common.FitWidth(lines[last]+st.Muted.Render(fmt.Sprintf("  +%d more", len(f.Before)-shown)), w)
	}
	return lines
}

// filterTitle says what the images show and what pruning did to them.
func (m *Model) filterTitle(f *experiments.Filters) string {
	st := m.common.Styles
	s := st.Value.Render(f.Layer+" filters") + st.Muted.Render(fmt.Sprintf(" %d×%d", f.K, f.K))
	if f.C > 1 {
		s += st.Muted.Render(fmt.Sprintf(", mean of %d channels", f.C))
	}
	zeroed, kept := f.Zeroed()
	switch removed := f.Removed(); {
	case removed > 0:
		s += st.Muted.Render(fmt.Sprintf(" · %d of %d kept, ", len(f.Before)-removed, len(f.Before))) +
			st.BaselineLine.Render(removedGlyph) + st.Muted.Render(" removed")
	case zeroed > 0:
		s += st.Muted.Render(fmt.Sprintf(" · %.0f%% of their weights zeroed, ", 100*float64(zeroed)/float64(max(kept, 1)))) +
			st.BaselineLine.Render(prunedGlyph) + st.Muted.Render(" pruned")
	default:
		s += st.Muted.Render(" · nothing pruned")
	}
	return s
}

// pixel is one cell of filter i's image at (ky, kx).
func (m *Model) pixel(f *experiments.Filters, i, ky, kx int, scale float64) string {
	st := m.common.Styles
	after := f.After[i]
	if after == nil {
		return st.BaselineLine.Render(removedGlyph)
	}
	var v float64
	zeroed := true
	for c := 0; c < f.C; c++ {
		j := (ky*f.K+kx)*f.C + c
		v += float64(f.Before[i][j])
		zeroed = zeroed && (after[j] == 0 && f.Before[i][j] != 0)
	}
	if zeroed {
		return st.Muted.Render(prunedGlyph)
	}
	return lipgloss.NewStyle().Foreground(shade(v/float64(f.C), scale)).Render(keptGlyph)
}

// shade maps v in [−scale, scale] onto the 24 greys of the 256-colour
// palette (232 darkest, 255 lightest).
func shade(v, scale float64) lipgloss.Color {
	if scale <= 0 {
		return lipgloss.Color("244")
	}
	level := int(math.Round((v/scale + 1) / 2 * 23))
	return lipgloss.Color(strconv.Itoa(232 + min(max(level, 0), 23)))
}
