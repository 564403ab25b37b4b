package experiments

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Row is one line of the result table: one (experiment, technique, setting).
// The json tags are the stable column names every export uses.
type Row struct {
	Experiment       string  `json:"experiment"`
	Technique        string  `json:"technique"`
	Setting          string  `json:"setting"`
	ParamsTotal      int64   `json:"params_total"`
	ParamsNonzero    int64   `json:"params_nonzero"`
	SizeBytes        int64   `json:"size_bytes"`
	CompressionRatio float64 `json:"compression_ratio"`
	TrainAcc         float64 `json:"train_acc"`
	TestAcc          float64 `json:"test_acc"`
	DeltaAccPP       float64 `json:"delta_acc_pp"`
	GapPP            float64 `json:"gap_pp"`
	FLOPs            int64   `json:"flops"`
	LatencyUsB1      float64 `json:"latency_us_b1"`
	LatencyUsB256    float64 `json:"latency_us_b256"`
	WallS            float64 `json:"wall_s"`
}

// Columns are the result table's column names, in order.
var Columns = []string{
	"experiment", "technique", "setting",
	"params_total", "params_nonzero", "size_bytes", "compression_ratio",
	"train_acc", "test_acc", "delta_acc_pp", "gap_pp",
	"flops", "latency_us_b1", "latency_us_b256", "wall_s",
}

// Cells renders the row's values as text, in Columns order. Accuracies and
// deltas get two decimals, ratios two, latencies one, wall time two.
func (r Row) Cells() []string {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []string{
		r.Experiment, r.Technique, r.Setting,
		i(r.ParamsTotal), i(r.ParamsNonzero), i(r.SizeBytes), f(r.CompressionRatio, 2),
		f(r.TrainAcc, 2), f(r.TestAcc, 2), f(r.DeltaAccPP, 2), f(r.GapPP, 2),
		i(r.FLOPs), f(r.LatencyUsB1, 1), f(r.LatencyUsB256, 1), f(r.WallS, 2),
	}
}

// Table is the result table.
type Table []Row

// WriteCSV writes a header row of Columns and one record per row.
func (t Table) WriteCSV(w io.Writer) error { return writeCSV(w, Columns, t) }

// WriteMarkdown writes a GitHub-style Markdown table with Columns as headers.
func (t Table) WriteMarkdown(w io.Writer) error { return writeMarkdown(w, Columns, t) }

// WriteJSON writes a JSON array of objects keyed by Columns; numbers stay
// numbers.
func (t Table) WriteJSON(w io.Writer) error { return writeJSON(w, t, Table{}) }

// Export writes the table to path in the format its extension names. It
// writes a temporary file beside path and renames it into place, so an
// existing file is never left half-written.
func (t Table) Export(path string) error {
	return export(path, t.WriteCSV, t.WriteMarkdown, t.WriteJSON)
}

// cellRow is a row of any of the exported tables: its cells in column
// order.
type cellRow interface{ Cells() []string }

// writeCSV writes a header of columns and a record per row.
func writeCSV[R cellRow](w io.Writer, columns []string, rows []R) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(r.Cells()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeMarkdown writes a GitHub-style Markdown table with columns as
// headers, escaping | in cells.
func writeMarkdown[R cellRow](w io.Writer, columns []string, rows []R) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(columns, " | ") + " |\n|")
	for range columns {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		cells := r.Cells()
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON writes rows as an indented JSON array (empty, never null, when
// rows is nil: pass the empty table as empty).
func writeJSON[T ~[]R, R any](w io.Writer, rows, empty T) error {
	if rows == nil {
		rows = empty
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// export writes a table to path in the format its extension names,
// through a temporary file renamed into place (see writeFileAtomic).
func export(path string, csvTo, mdTo, jsonTo func(io.Writer) error) error {
	format, err := FormatFor(path)
	if err != nil {
		return err
	}
	write := map[string]func(io.Writer) error{"csv": csvTo, "md": mdTo, "json": jsonTo}[format]
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}

// FormatFor returns the export format named by path's extension: "csv",
// "md" or "json".
func FormatFor(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		return "csv", nil
	case ".md", ".markdown":
		return "md", nil
	case ".json":
		return "json", nil
	default:
		return "", fmt.Errorf("export %s: unknown extension %q: use .csv, .md or .json", path, ext)
	}
}
