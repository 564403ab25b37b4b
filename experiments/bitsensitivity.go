package experiments

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// BitSensitivityRow is one point of a bit-width sensitivity analysis: the
// test accuracy (percent) of the baseline with only Layer quantized to
// Bits, without fine-tuning. The json tags are the stable column names.
type BitSensitivityRow struct {
	Layer   string  `json:"layer"`
	Bits    int     `json:"bits"`
	TestAcc float64 `json:"test_acc"`
}

// BitSensitivityColumns are the bit-sensitivity table's column names.
var BitSensitivityColumns = []string{"layer", "bits", "test_acc"}

// BitSensitivityTable is the outcome of bit-sensitivity steps, layer by
// layer: the table from which mixed precision picks each layer's width.
type BitSensitivityTable []BitSensitivityRow

// BitSensitivityEvent: a bit-sensitivity step scored another point. Rows
// holds every point of the step so far; Done says the step is complete.
// BaseTestAcc is the dense baseline's test accuracy in percent.
type BitSensitivityEvent struct {
	Phase       string
	Layers      []string // the layers analysed, in model order
	BitWidths   []int    // the widths tried on each
	Rows        BitSensitivityTable
	BaseTestAcc float64
	Done        bool
}

func (BitSensitivityEvent) event() {}

// Cells renders the row in BitSensitivityColumns order.
func (r BitSensitivityRow) Cells() []string {
	return []string{r.Layer, strconv.Itoa(r.Bits), strconv.FormatFloat(r.TestAcc, 'f', 2, 64)}
}

// WriteCSV writes a header of BitSensitivityColumns and a record per row.
func (t BitSensitivityTable) WriteCSV(w io.Writer) error {
	return writeCSV(w, BitSensitivityColumns, t)
}

// WriteMarkdown writes a Markdown table with BitSensitivityColumns as headers.
func (t BitSensitivityTable) WriteMarkdown(w io.Writer) error {
	return writeMarkdown(w, BitSensitivityColumns, t)
}

// WriteJSON writes a JSON array of objects keyed by BitSensitivityColumns.
func (t BitSensitivityTable) WriteJSON(w io.Writer) error {
	return writeJSON(w, t, BitSensitivityTable{})
}

// Export writes the table to path as CSV, Markdown or JSON, chosen by the
// extension as for Table.Export, replacing any file there atomically.
func (t BitSensitivityTable) Export(path string) error {
	return export(path, t.WriteCSV, t.WriteMarkdown, t.WriteJSON)
}

// BitSensitivityPath is where a run's bit-sensitivity table goes beside its
// result table: "results.csv" → "results-bit-sensitivity.csv".
func BitSensitivityPath(resultPath string) string { return besidePath(resultPath, "-bit-sensitivity") }

// Layers lists the layers of the table in the order they first appear.
func (t BitSensitivityTable) Layers() []string {
	return layersInOrder(t, func(r BitSensitivityRow) string { return r.Layer })
}

// WriteText writes the table for a terminal as a grid: a line per layer, a
// column per bit width (widest first), test accuracies in percent.
//
//	layer  8 bits  4 bits  2 bits
//	fc1     98.36   98.30   91.20
func (t BitSensitivityTable) WriteText(w io.Writer) error {
	var widths []int
	for _, r := range t {
		if !slices.Contains(widths, r.Bits) {
			widths = append(widths, r.Bits)
		}
	}
	slices.Sort(widths)
	slices.Reverse(widths)
	grid := [][]string{{"layer"}}
	for _, b := range widths {
		unit := " bits"
		if b == 1 {
			unit = " bit"
		}
		grid[0] = append(grid[0], strconv.Itoa(b)+unit)
	}
	for _, name := range t.Layers() {
		line := make([]string, len(widths)+1)
		line[0] = name
		for _, r := range t {
			if r.Layer == name {
				line[slices.Index(widths, r.Bits)+1] = strconv.FormatFloat(r.TestAcc, 'f', 2, 64)
			}
		}
		grid = append(grid, line)
	}
	return writeAligned(w, grid, 1)
}

// PickBits chooses each layer's bit width from a bit-sensitivity table: the
// fewest bits at which the test accuracy with that layer quantized alone
// stays at or above baseTestAcc − maxLossPP (percent), or 32 (float32) when
// no width tried does — how mixed precision spends bits where they matter.
func PickBits(t BitSensitivityTable, baseTestAcc, maxLossPP float64) map[string]int {
	rows := make([]quant.BitSensitivityRow, len(t))
	for i, r := range t {
		rows[i] = quant.BitSensitivityRow{Layer: r.Layer, Bits: r.Bits, Accuracy: r.TestAcc}
	}
	return quant.PickBits(rows, baseTestAcc, maxLossPP)
}

// runBitSensitivity quantizes each chosen layer of the baseline alone at
// each of the step's widths, with the step's quantizer, and records the
// test accuracy without fine-tuning. Like a pruning sensitivity step it
// adds no rows: its table goes out in BitSensitivityEvents and DoneEvent,
// and a later quantize step takes its widths from it with bits_from.
func (r *runner) runBitSensitivity(env stepEnv) error {
	st := env.st
	phase := st.Phase()
	r.stage(StageSensitivity, phase)
	layers, err := expandNames(env.baseline, st.Layers)
	if err != nil {
		return fmt.Errorf("%s: %w", phase, err)
	}
	order := weightLayerNames(env.baseline)
	slices.SortStableFunc(layers, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	var rows BitSensitivityTable
	event := func(done bool) BitSensitivityEvent {
		return BitSensitivityEvent{Phase: phase, Layers: slices.Clone(layers), BitWidths: slices.Clone(st.BitWidths),
			Rows: slices.Clone(rows), BaseTestAcc: env.base.TestAcc, Done: done}
	}
	for _, layer := range layers {
		i := 0
		_, err := quant.BitSensitivityContext(r.ctx, env.baseline, []string{layer}, st.BitWidths, st.quantOptions(0), func(c *nn.Sequential) float64 {
			_, acc, err := evaluate(r.ctx, c, env.test, 0)
			if err != nil {
				return math.NaN() // cancelled: the analysis stops before the next point
			}
			rows = append(rows, BitSensitivityRow{Layer: layer, Bits: st.BitWidths[i], TestAcc: 100 * acc})
			i++
			r.emit(event(false))
			return acc
		})
		if err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.bitSens == nil {
		r.bitSens = map[int]BitSensitivityTable{}
	}
	r.bitSens[env.index] = rows
	r.bitSensAll = append(r.bitSensAll, rows...)
	r.emit(event(true))
	return nil
}

// lastBitSensitivity is the table of the last bit-sensitivity step before
// step index.
func (r *runner) lastBitSensitivity(index int) (BitSensitivityTable, bool) {
	for i := index - 1; i >= 0; i-- {
		if t, ok := r.bitSens[i]; ok {
			return t, true
		}
	}
	return nil, false
}
