package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prunerlab/pruner-tui/internal/printable"
)

// table is what the writers need of a Table or a Sensitivity.
type table interface {
	columns() []string
	cells() [][]string
	jsonRows() any // a slice of structs keyed by the columns, never nil
}

// writeCSV writes a header of the columns and a record per row.
func writeCSV(w io.Writer, t table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.columns()); err != nil {
		return err
	}
	if err := cw.WriteAll(t.cells()); err != nil {
		return err
	}
	return cw.Error()
}

// writeMarkdown writes a GitHub-style Markdown table with the columns as
// headers, escaping | in cells.
func writeMarkdown(w io.Writer, t table) error {
	columns := t.columns()
	var b strings.Builder
	b.WriteString("| " + strings.Join(columns, " | ") + " |\n|")
	for range columns {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, cells := range t.cells() {
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON writes the rows as an indented JSON array (empty, never null).
func writeJSON(w io.Writer, t table) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t.jsonRows())
}

// writeAligned writes rows as text columns two spaces apart: the first
// leftCols columns left-aligned, the rest right-aligned, as numbers read
// best; no line ends in blanks. It is for a terminal: a cell's control
// characters are escaped (printable.Escape), so none can move the cursor
// or break a line.
func writeAligned(w io.Writer, rows [][]string, leftCols int) error {
	escaped := make([][]string, len(rows))
	var widths []int
	for r, cells := range rows {
		escaped[r] = make([]string, len(cells))
		for i, c := range cells {
			c = printable.Escape(c)
			escaped[r][i] = c
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, cells := range escaped {
		var line strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if i < leftCols {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		// A missing last cell (a sensitivity point not measured) leaves no
		// trailing blanks.
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Report is everything a run exports: its result table and its
// sensitivity tables, at most one of each kind.
type Report struct {
	Rows        Table
	Sensitivity []Sensitivity
	// Classes is the per-class test accuracy of the rows, for a dataset
	// that names its classes; nil otherwise.
	Classes *Classes
}

// Of returns the report's sensitivity table of kind k, if it has one.
func (r Report) Of(k Kind) (Sensitivity, bool) {
	for _, s := range r.Sensitivity {
		if s.Kind == k {
			return s, true
		}
	}
	return Sensitivity{Kind: k}, false
}

// Add appends points of kind k to the report's table of that kind.
func (r *Report) Add(k Kind, points ...Point) {
	for i := range r.Sensitivity {
		if r.Sensitivity[i].Kind == k {
			r.Sensitivity[i].Points = append(r.Sensitivity[i].Points, points...)
			return
		}
	}
	r.Sensitivity = append(r.Sensitivity, Sensitivity{Kind: k, Points: append([]Point(nil), points...)})
}

// Clone returns a deep copy of the report, for a reader on another
// goroutine.
func (r Report) Clone() Report {
	out := Report{Rows: slices.Clone(r.Rows)}
	for _, s := range r.Sensitivity {
		out.Sensitivity = append(out.Sensitivity, Sensitivity{Kind: s.Kind, Points: slices.Clone(s.Points)})
	}
	if r.Classes != nil {
		c := Classes{Names: slices.Clone(r.Classes.Names)}
		for _, row := range r.Classes.Rows {
			c.Rows = append(c.Rows, ClassRow{row.Technique, row.Setting, slices.Clone(row.TestAcc)})
		}
		out.Classes = &c
	}
	return out
}

// Written is one file an export wrote: what it holds and where.
type Written struct {
	What string // "result table (7 rows)", "pruning sensitivity table (60 rows)"
	Path string
}

// Export writes the report's result table to path, in the format its
// extension names (.csv, .md or .json), and each sensitivity table beside
// it (see SidePath). Every file goes through a temporary file renamed into
// place, so an existing file is never left half-written; the format is
// checked before anything is written. It returns what it wrote.
func (r Report) Export(path string) ([]Written, error) {
	if _, err := FormatFor(path); err != nil {
		return nil, err
	}
	var done []Written
	if err := export(path, r.Rows); err != nil {
		return done, err
	}
	done = append(done, Written{"result table (" + rowCount(len(r.Rows)) + ")", path})
	for _, s := range r.Sensitivity {
		p := SidePath(path, s.Kind)
		if err := export(p, s); err != nil {
			return done, err
		}
		done = append(done, Written{s.Kind.String() + " sensitivity table (" + rowCount(len(s.Points)) + ")", p})
	}
	if r.Classes != nil {
		p := SidePath(path, PerClass)
		if err := export(p, *r.Classes); err != nil {
			return done, err
		}
		done = append(done, Written{"per-class accuracy table (" + rowCount(len(r.Classes.Rows)) + ")", p})
	}
	return done, nil
}

// CheckExport checks, before any work, that Export(path) can write: path
// and the sensitivity tables of kinds beside it are no folders, the
// extension names a format, and path's folder exists and takes a new file
// (one is made and removed, as Export's temporary file will be).
func CheckExport(path string, kinds ...Kind) error {
	paths := []string{path}
	for _, k := range kinds {
		paths = append(paths, SidePath(path, k))
	}
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			return fmt.Errorf("export %s: it is a directory; give a file name such as %s", p, filepath.Join(p, "results.csv"))
		}
	}
	if _, err := FormatFor(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	switch info, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("export %s: the folder %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("export %s: %w", path, err)
	case !info.IsDir():
		return fmt.Errorf("export %s: %s is not a folder", path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("export %s: cannot write in %s: %w", path, dir, err)
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// rowCount says "1 row" or "n rows".
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// Export writes the table to path in the format its extension names, as
// Report.Export does.
func (t Table) Export(path string) error { return export(path, t) }

// Export writes the table to path in the format its extension names, as
// Report.Export does.
func (s Sensitivity) Export(path string) error { return export(path, s) }

// SidePath is where a side table of kind k goes beside the result table
// at path: "results.csv" → "results-sensitivity.csv" (pruning),
// "results-bit-sensitivity.csv" (bits) or "results-classes.csv" (the
// per-class accuracies).
func SidePath(path string, k Kind) string {
	suffix := "-sensitivity"
	switch k {
	case Bits:
		suffix = "-bit-sensitivity"
	case PerClass:
		suffix = "-classes"
	}
	return sidePath(path, suffix)
}

// sidePath puts suffix before path's extension.
func sidePath(path, suffix string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + suffix + ext
}

// export writes t to path in the format its extension names.
func export(path string, t table) error {
	format, err := FormatFor(path)
	if err != nil {
		return err
	}
	write := map[string]func(io.Writer, table) error{"csv": writeCSV, "md": writeMarkdown, "json": writeJSON}[format]
	var buf bytes.Buffer
	if err := write(&buf, t); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := WriteFileAtomic(path, buf.Bytes()); err != nil {
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

// WriteFileAtomic writes b to a temporary file beside path, makes it
// readable by all (0644) and renames it into place, so a reader never sees
// a half-written file and a failed write leaves the old one.
func WriteFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
