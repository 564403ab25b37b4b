package plot

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/prunerlab/pruner-tui/experiments/results"
)

// Format is the image format path's extension names: "png" or "svg".
func Format(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png", ".svg":
		return ext[1:], nil
	default:
		return "", fmt.Errorf("plot %s: unknown extension %q: use .png or .svg", path, ext)
	}
}

// Pareto draws the points, test accuracy against size in bytes on a
// logarithmic axis: every point in grey, the frontier (results.Pareto)
// in colour, joined by a step line — the best accuracy a size buys. It
// writes the image to path in the format of its extension, through a
// temporary file renamed into place. Points without a positive size are
// left out (a logarithmic axis has no room for them).
func Pareto(path, title string, points []results.ParetoPoint) error {
	format, err := Format(path)
	if err != nil {
		return err
	}
	var all, frontier plotter.XYs
	for _, p := range points {
		if !(p.SizeBytes > 0) || p.TestAcc != p.TestAcc {
			continue
		}
		all = append(all, plotter.XY{X: p.SizeBytes, Y: p.TestAcc})
		if p.Frontier {
			frontier = append(frontier, plotter.XY{X: p.SizeBytes, Y: p.TestAcc})
		}
	}
	if len(all) == 0 {
		return fmt.Errorf("plot %s: no row has a size and an accuracy to draw", path)
	}
	slices.SortFunc(frontier, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	p, err := paretoPlot(title, all, frontier)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	w, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := results.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// paretoPlot lays out the plot: the axes, the points, the frontier.
func paretoPlot(title string, all, frontier plotter.XYs) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "size_bytes (model file, log scale)"
	p.Y.Label.Text = "test_acc (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = sizeTicks{}
	p.Add(plotter.NewGrid())
	dots, err := plotter.NewScatter(all)
	if err != nil {
		return nil, err
	}
	dots.GlyphStyle.Color = color.Gray{Y: 150}
	dots.GlyphStyle.Radius = vg.Points(2)
	p.Add(dots)
	p.Legend.Add("every row", dots)
	if len(frontier) > 0 {
		line, err := plotter.NewLine(frontier)
		if err != nil {
			return nil, err
		}
		line.StepStyle = plotter.PostStep
		line.Color = color.RGBA{R: 200, G: 60, B: 40, A: 255}
		line.Width = vg.Points(1.2)
		marks, err := plotter.NewScatter(frontier)
		if err != nil {
			return nil, err
		}
		marks.GlyphStyle.Color = line.Color
		marks.GlyphStyle.Radius = vg.Points(3)
		marks.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(line, marks)
		p.Legend.Add("Pareto frontier", line, marks)
	}
	// Small and accurate is the top left: the legend goes where points
	// are rare, and a margin keeps the extreme points off the frame.
	p.Legend.Top, p.Legend.Left = false, false
	p.X.Min, p.X.Max = p.X.Min/1.25, p.X.Max*1.25
	return p, nil
}

// sizeTicks marks a logarithmic axis of bytes at 1, 2 and 5 times each
// power of ten, labelled "500", "2k", "1M", with unlabelled ticks at the
// other multiples.
type sizeTicks struct{}

func (sizeTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := math.Pow(10, math.Floor(math.Log10(min))); decade <= max; decade *= 10 {
		for m := 1.0; m < 10; m++ {
			v := m * decade
			if v < min || v > max {
				continue
			}
			label := ""
			if m == 1 || m == 2 || m == 5 {
				label = siBytes(v)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}

// siBytes writes a count of bytes as 500, 2k, 50k, 1M, 2G.
func siBytes(v float64) string {
	for _, u := range []struct {
		size   float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.size {
			return strconv.FormatFloat(v/u.size, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
