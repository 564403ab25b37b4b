package results

import (
	"io"
	"math"
	"slices"
	"strconv"
)

// Kind says which knob a sensitivity analysis sweeps.
type Kind int

const (
	// Pruning: each layer pruned alone by magnitude at each ratio.
	Pruning Kind = iota
	// Bits: each layer quantized alone at each bit width.
	Bits
	// PerClass is not a sensitivity: it names the per-class accuracy
	// table (Classes) among a report's side tables.
	PerClass
)

// valueColumn is the name of the swept value's column.
func (k Kind) valueColumn() string {
	if k == Bits {
		return "bits"
	}
	return "ratio"
}

// String names the kind in messages: "pruning" or "bit-width".
func (k Kind) String() string {
	switch k {
	case Bits:
		return "bit-width"
	case PerClass:
		return "per-class"
	}
	return "pruning"
}

// Point is one point of a sensitivity analysis: the test accuracy
// (percent) of the baseline with only Layer changed to Value (a prune
// ratio, or a bit width), without fine-tuning.
type Point struct {
	Layer   string
	Value   float64
	TestAcc float64
}

// Sensitivity is the outcome of sensitivity analyses of one kind, layer by
// layer: the table per-layer ratios (Pruning) or mixed-precision bit
// widths (Bits) are read from. Its columns are layer, ratio (or bits) and
// test_acc.
type Sensitivity struct {
	Kind   Kind
	Points []Point
}

// Columns are the table's column names, in order.
func (s Sensitivity) Columns() []string { return []string{"layer", s.Kind.valueColumn(), "test_acc"} }

func (s Sensitivity) columns() []string { return s.Columns() }

// Cells renders point p in Columns order: a ratio with two decimals or a
// bit width as a whole number, the accuracy with two decimals.
func (s Sensitivity) Cells(p Point) []string {
	value := strconv.FormatFloat(p.Value, 'f', 2, 64)
	if s.Kind == Bits {
		value = strconv.Itoa(int(p.Value))
	}
	return []string{p.Layer, value, strconv.FormatFloat(p.TestAcc, 'f', 2, 64)}
}

func (s Sensitivity) cells() [][]string {
	out := make([][]string, len(s.Points))
	for i, p := range s.Points {
		out[i] = s.Cells(p)
	}
	return out
}

// The JSON objects of the two kinds, keys in column order.
type (
	ratioJSON struct {
		Layer   string  `json:"layer"`
		Ratio   float64 `json:"ratio"`
		TestAcc float64 `json:"test_acc"`
	}
	bitsJSON struct {
		Layer   string  `json:"layer"`
		Bits    int     `json:"bits"`
		TestAcc float64 `json:"test_acc"`
	}
)

func (s Sensitivity) jsonRows() any {
	if s.Kind == Bits {
		out := make([]bitsJSON, 0, len(s.Points))
		for _, p := range s.Points {
			out = append(out, bitsJSON{p.Layer, int(p.Value), p.TestAcc})
		}
		return out
	}
	out := make([]ratioJSON, 0, len(s.Points))
	for _, p := range s.Points {
		out = append(out, ratioJSON{p.Layer, p.Value, p.TestAcc})
	}
	return out
}

// WriteCSV writes a header of Columns and a record per point.
func (s Sensitivity) WriteCSV(w io.Writer) error { return writeCSV(w, s) }

// WriteMarkdown writes a Markdown table with Columns as headers.
func (s Sensitivity) WriteMarkdown(w io.Writer) error { return writeMarkdown(w, s) }

// WriteJSON writes a JSON array of objects keyed by Columns.
func (s Sensitivity) WriteJSON(w io.Writer) error { return writeJSON(w, s) }

// Layers lists the layers of the table in the order they first appear.
func (s Sensitivity) Layers() []string {
	var names []string
	for _, p := range s.Points {
		if !slices.Contains(names, p.Layer) {
			names = append(names, p.Layer)
		}
	}
	return names
}

// Values lists the swept values in the order a reader expects them: ratios
// rising, bit widths falling (from the gentlest change to the harshest).
func (s Sensitivity) Values() []float64 {
	var vs []float64
	for _, p := range s.Points {
		if !slices.Contains(vs, p.Value) {
			vs = append(vs, p.Value)
		}
	}
	slices.Sort(vs)
	if s.Kind == Bits {
		slices.Reverse(vs)
	}
	return vs
}

// Of returns the points of one layer, in the table's order.
func (s Sensitivity) Of(layer string) []Point {
	var out []Point
	for _, p := range s.Points {
		if p.Layer == layer {
			out = append(out, p)
		}
	}
	return out
}

// WriteText writes the table for a terminal as a grid: a line per layer, a
// column per value (ratios as percentages, bit widths widest first), test
// accuracies in percent.
//
//	layer     0%    50%    90%        layer  8 bits  4 bits  2 bits
//	fc1    98.37  98.31  96.02        fc1     98.36   98.30   91.20
func (s Sensitivity) WriteText(w io.Writer) error {
	values := s.Values()
	header := []string{"layer"}
	for _, v := range values {
		header = append(header, s.valueHeading(v))
	}
	grid := [][]string{header}
	for _, name := range s.Layers() {
		line := make([]string, len(values)+1)
		line[0] = name
		for _, p := range s.Of(name) {
			line[slices.Index(values, p.Value)+1] = strconv.FormatFloat(p.TestAcc, 'f', 2, 64)
		}
		grid = append(grid, line)
	}
	return writeAligned(w, grid, 1)
}

// valueHeading is a grid column's heading: "55%" or "4 bits".
func (s Sensitivity) valueHeading(v float64) string {
	if s.Kind == Bits {
		if v == 1 {
			return "1 bit"
		}
		return strconv.Itoa(int(v)) + " bits"
	}
	// Rounded to a millionth of a percent: 100·0.55 is 55.00000000000001.
	return strconv.FormatFloat(math.Round(1e8*v)/1e6, 'f', -1, 64) + "%"
}
