package results

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
)

// Classes is the test accuracy of every row class by class, for a dataset
// that names its classes (Fashion-MNIST): where a compression costs, and
// on what. Its columns are technique, setting, then one per class.
type Classes struct {
	Names []string // the classes, in label order
	Rows  []ClassRow
}

// ClassRow is one result row's accuracy on each class's test examples.
type ClassRow struct {
	Technique, Setting string
	TestAcc            []float64 // percent, by class label
}

// Columns are the table's column names, in order.
func (c Classes) Columns() []string {
	return append([]string{"technique", "setting"}, c.Names...)
}

func (c Classes) columns() []string { return c.Columns() }

func (c Classes) cells() [][]string {
	out := make([][]string, len(c.Rows))
	for i, r := range c.Rows {
		cells := []string{r.Technique, r.Setting}
		for _, a := range r.TestAcc {
			cells = append(cells, strconv.FormatFloat(a, 'f', 2, 64))
		}
		out[i] = cells
	}
	return out
}

// classJSON is a row as a JSON object, its keys in column order.
type classJSON struct {
	names []string
	row   ClassRow
}

func (j classJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	add := func(key string, v any) error {
		k, err := json.Marshal(key)
		if err != nil {
			return err
		}
		val, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
		return nil
	}
	if err := add("technique", j.row.Technique); err != nil {
		return nil, err
	}
	if err := add("setting", j.row.Setting); err != nil {
		return nil, err
	}
	for i, name := range j.names {
		if err := add(name, j.row.TestAcc[i]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (c Classes) jsonRows() any {
	out := make([]classJSON, 0, len(c.Rows))
	for _, r := range c.Rows {
		out = append(out, classJSON{c.Names, r})
	}
	return out
}

// WriteText writes the table as aligned text columns for a terminal.
func (c Classes) WriteText(w io.Writer) error {
	return writeAligned(w, append([][]string{c.Columns()}, c.cells()...), 2)
}

// Export writes the table to path in the format its extension names, as
// Report.Export does.
func (c Classes) Export(path string) error { return export(path, c) }
