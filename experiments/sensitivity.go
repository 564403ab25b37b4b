package experiments

import (
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SensitivityRow is one point of a sensitivity analysis: the test accuracy
// (percent) of the baseline with only Layer pruned by magnitude at Ratio,
// without fine-tuning. The json tags are the stable column names.
type SensitivityRow struct {
	Layer   string  `json:"layer"`
	Ratio   float64 `json:"ratio"`
	TestAcc float64 `json:"test_acc"`
}

// SensitivityColumns are the sensitivity table's column names, in order.
var SensitivityColumns = []string{"layer", "ratio", "test_acc"}

// SensitivityTable is the outcome of sensitivity steps, layer by layer.
type SensitivityTable []SensitivityRow

// Cells renders the row in SensitivityColumns order: the ratio with two
// decimals, the accuracy with two.
func (r SensitivityRow) Cells() []string {
	return []string{r.Layer, strconv.FormatFloat(r.Ratio, 'f', 2, 64), strconv.FormatFloat(r.TestAcc, 'f', 2, 64)}
}

// WriteCSV writes a header of SensitivityColumns and a record per row.
func (t SensitivityTable) WriteCSV(w io.Writer) error { return writeCSV(w, SensitivityColumns, t) }

// WriteMarkdown writes a Markdown table with SensitivityColumns as headers.
func (t SensitivityTable) WriteMarkdown(w io.Writer) error {
	return writeMarkdown(w, SensitivityColumns, t)
}

// WriteJSON writes a JSON array of objects keyed by SensitivityColumns.
func (t SensitivityTable) WriteJSON(w io.Writer) error { return writeJSON(w, t, SensitivityTable{}) }

// Export writes the table to path as CSV, Markdown or JSON, chosen by the
// extension as for Table.Export, replacing any file there atomically.
func (t SensitivityTable) Export(path string) error {
	return export(path, t.WriteCSV, t.WriteMarkdown, t.WriteJSON)
}

// SensitivityPath is where a run's sensitivity table goes beside its
// result table: "results.csv" → "results-sensitivity.csv".
func SensitivityPath(resultPath string) string { return besidePath(resultPath, "-sensitivity") }

// besidePath inserts suffix before resultPath's extension.
func besidePath(resultPath, suffix string) string {
	ext := filepath.Ext(resultPath)
	return strings.TrimSuffix(resultPath, ext) + suffix + ext
}

// Layers lists the layers of the table in the order they first appear.
func (t SensitivityTable) Layers() []string {
	return layersInOrder(t, func(r SensitivityRow) string { return r.Layer })
}

// layersInOrder lists the distinct layers of rows in the order they first
// appear.
func layersInOrder[R any](rows []R, layer func(R) string) []string {
	var names []string
	for _, r := range rows {
		if name := layer(r); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// WriteText writes the table for a terminal as a grid: a line per layer,
// a column per ratio, test accuracies in percent.
//
//	layer     0%    50%    90%
//	fc1    98.37  98.31  96.02
func (t SensitivityTable) WriteText(w io.Writer) error {
	var ratios []float64
	for _, r := range t {
		if !slices.Contains(ratios, r.Ratio) {
			ratios = append(ratios, r.Ratio)
		}
	}
	slices.Sort(ratios)
	layers := t.Layers()
	grid := [][]string{append([]string{"layer"}, make([]string, len(ratios))...)}
	for j, ratio := range ratios {
		// Rounded to a millionth of a percent: 100·0.55 is 55.00000000000001.
		grid[0][j+1] = strconv.FormatFloat(math.Round(1e8*ratio)/1e6, 'f', -1, 64) + "%"
	}
	for _, name := range layers {
		line := make([]string, len(ratios)+1)
		line[0] = name
		for _, r := range t {
			if r.Layer == name {
				line[slices.Index(ratios, r.Ratio)+1] = strconv.FormatFloat(r.TestAcc, 'f', 2, 64)
			}
		}
		grid = append(grid, line)
	}
	return writeAligned(w, grid, 1)
}

// RatiosWithin picks a prune ratio per layer from a sensitivity table: the
// largest ratio tried at which, and at every smaller ratio tried, the test
// accuracy with that layer pruned alone stays at or above minTestAcc
// (percent). A layer that misses it even at its smallest ratio gets 0.
// This is how Han et al. chose per-layer thresholds: the curve's knee.
func RatiosWithin(t SensitivityTable, minTestAcc float64) map[string]float64 {
	out := map[string]float64{}
	for _, name := range t.Layers() {
		var points []SensitivityRow
		for _, r := range t {
			if r.Layer == name {
				points = append(points, r)
			}
		}
		slices.SortStableFunc(points, func(a, b SensitivityRow) int {
			switch {
			case a.Ratio < b.Ratio:
				return -1
			case a.Ratio > b.Ratio:
				return 1
			}
			return 0
		})
		out[name] = 0
		for _, p := range points {
			if !(p.TestAcc >= minTestAcc) {
				break
			}
			out[name] = p.Ratio
		}
	}
	return out
}
