package results

import (
	"io"
	"slices"
	"strconv"
)

// SweepRow is a row of a sweep's table: a result row and the run it came
// from. Point is the run's axis values ("compress[0].ratio=0.5
// compress[1].bits=2"; for a dense row only the axes outside compress,
// since the baseline does not depend on the others), Seed its seed.
type SweepRow struct {
	Point string `json:"point"`
	Seed  uint64 `json:"seed"`
	Row
	// BaseTestAcc is the test accuracy of the run's dense baseline, what
	// Aggregate tests the row's against.
	BaseTestAcc float64 `json:"-"`
}

// SweepColumns are the sweep table's columns: the result table's with
// point and seed after experiment.
var SweepColumns = slices.Concat(Columns[:1], []string{"point", "seed"}, Columns[1:])

// SweepTable is a sweep's table: every run's rows, the dense baseline once
// per trained baseline, in the order of the sweep's points.
type SweepTable []SweepRow

func (t SweepTable) columns() []string { return SweepColumns }

func (t SweepTable) cells() [][]string {
	out := make([][]string, len(t))
	for i, r := range t {
		c := r.Cells()
		out[i] = slices.Concat(c[:1], []string{r.Point, strconv.FormatUint(r.Seed, 10)}, c[1:])
	}
	return out
}

func (t SweepTable) jsonRows() any {
	if t == nil {
		return SweepTable{}
	}
	return t
}

// Export writes the table to path in the format its extension names.
func (t SweepTable) Export(path string) error { return export(path, t) }

// WriteText writes the table for a terminal, as Table.WriteText does.
func (t SweepTable) WriteText(w io.Writer) error {
	return writeAligned(w, append([][]string{SweepColumns}, t.cells()...), 5)
}

// Results is the result rows alone.
func (t SweepTable) Results() Table {
	out := make(Table, len(t))
	for i, r := range t {
		out[i] = r.Row
	}
	return out
}

// SweepReport is what a sweep exports: every run's rows and, when its
// points ran with several seeds, their statistics.
type SweepReport struct {
	Rows  SweepTable
	Stats StatsTable // nil when every point ran once
}

// Export writes the report to path, in the format its extension names:
// the statistics when there are any, with every run's rows beside them as
// NAME-runs.EXT; the rows alone otherwise.
func (r SweepReport) Export(path string) ([]Written, error) {
	if _, err := FormatFor(path); err != nil {
		return nil, err
	}
	if r.Stats == nil {
		if err := export(path, r.Rows); err != nil {
			return nil, err
		}
		return []Written{{"sweep table (" + rowCount(len(r.Rows)) + ")", path}}, nil
	}
	if err := export(path, r.Stats); err != nil {
		return nil, err
	}
	done := []Written{{"sweep statistics (" + rowCount(len(r.Stats)) + ")", path}}
	runs := RunsPath(path)
	if err := export(runs, r.Rows); err != nil {
		return done, err
	}
	return append(done, Written{"sweep runs (" + rowCount(len(r.Rows)) + ")", runs}), nil
}

// RunsPath is where a sweep's every run goes beside its statistics at
// path: "sweep.csv" → "sweep-runs.csv".
func RunsPath(path string) string { return sidePath(path, "-runs") }
