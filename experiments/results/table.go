package results

import (
	"io"
	"strconv"
)

// Row is one line of the result table: one (experiment, technique, setting).
// The json tags are the stable column names every export uses.
type Row struct {
	Experiment       string   `json:"experiment"`
	Technique        string   `json:"technique"`
	Setting          string   `json:"setting"`
	ParamsTotal      int64    `json:"params_total"`
	ParamsNonzero    int64    `json:"params_nonzero"`
	SizeBytes        int64    `json:"size_bytes"`
	CompressionRatio float64  `json:"compression_ratio"`
	TrainAcc         float64  `json:"train_acc"`
	TestAcc          float64  `json:"test_acc"`
	DeltaAccPP       float64  `json:"delta_acc_pp"`
	GapPP            float64  `json:"gap_pp"`
	FLOPs            int64    `json:"flops"`
	LatencyUsB1      Measured `json:"latency_us_b1"` // empty (null) until measured
	LatencyUsB256    Measured `json:"latency_us_b256"`
	WallS            float64  `json:"wall_s"`
}

// Columns are the result table's column names, in order.
var Columns = []string{
	"experiment", "technique", "setting",
	"params_total", "params_nonzero", "size_bytes", "compression_ratio",
	"train_acc", "test_acc", "delta_acc_pp", "gap_pp",
	"flops", "latency_us_b1", "latency_us_b256", "wall_s",
}

// Cells renders the row's values as text, in Columns order. Accuracies and
// deltas get two decimals, ratios two, latencies one (empty when not
// measured), wall time two.
func (r Row) Cells() []string {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []string{
		r.Experiment, r.Technique, r.Setting,
		i(r.ParamsTotal), i(r.ParamsNonzero), i(r.SizeBytes), f(r.CompressionRatio, 2),
		f(r.TrainAcc, 2), f(r.TestAcc, 2), f(r.DeltaAccPP, 2), f(r.GapPP, 2),
		i(r.FLOPs), r.LatencyUsB1.Format(1), r.LatencyUsB256.Format(1), f(r.WallS, 2),
	}
}

// SetStored makes the row's size the model file's and its compression
// ratio the dense float32 file's size over it.
func (r *Row) SetStored(size, denseBytes int64) {
	r.SizeBytes = size
	r.CompressionRatio = 0
	if size > 0 {
		r.CompressionRatio = float64(denseBytes) / float64(size)
	}
}

// Table is the result table.
type Table []Row

func (t Table) columns() []string { return Columns }

func (t Table) cells() [][]string {
	out := make([][]string, len(t))
	for i, r := range t {
		out[i] = r.Cells()
	}
	return out
}

func (t Table) jsonRows() any {
	if t == nil {
		return Table{}
	}
	return t
}

// WriteCSV writes a header row of Columns and one record per row.
func (t Table) WriteCSV(w io.Writer) error { return writeCSV(w, t) }

// WriteMarkdown writes a GitHub-style Markdown table with Columns as headers.
func (t Table) WriteMarkdown(w io.Writer) error { return writeMarkdown(w, t) }

// WriteJSON writes a JSON array of objects keyed by Columns; numbers stay
// numbers.
func (t Table) WriteJSON(w io.Writer) error { return writeJSON(w, t) }

// WriteText writes the table for a terminal: a header of Columns and one
// line per row, text columns left-aligned and numbers right-aligned, two
// spaces apart.
func (t Table) WriteText(w io.Writer) error {
	return writeAligned(w, append([][]string{Columns}, t.cells()...), 3) // experiment, technique, setting: text
}
