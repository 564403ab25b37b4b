package results

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the level of the test that says whether a Δ is beyond
// noise: a two-sided Welch's t-test at 95%.
const Confidence = 0.95

// Summary is a column over the seeds of a point: mean, sample standard
// deviation (n−1 in the denominator; NaN for one value) and how many
// values were measured.
type Summary struct {
	Mean, Std float64
	N         int
}

// Summarize returns the mean and sample standard deviation of xs.
func Summarize(xs []float64) Summary {
	s := Summary{N: len(xs), Mean: math.NaN(), Std: math.NaN()}
	if s.N == 0 {
		return s
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	s.Mean = sum / float64(s.N)
	if s.N > 1 {
		ss := 0.0
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// Welch is Welch's t-test of two samples' means: t, the
// Welch–Satterthwaite degrees of freedom, the two-sided critical value
// of Student's t at Confidence, and whether |t| passes it.
type Welch struct {
	T, DF, Critical float64
	Beyond          bool
}

// WelchTest tests whether a's mean differs from b's: t = (ā − b̄)/se with
// se² = s²a/na + s²b/nb, df = se⁴ / ((s²a/na)²/(na−1) + (s²b/nb)²/(nb−1)),
// beyond noise when |t| > the 97.5th percentile of Student's t with df
// degrees of freedom. ok is false when a sample has fewer than two
// values. Two samples without any spread (se = 0) differ beyond noise
// when their means differ; t and df are then infinite and NaN.
func WelchTest(a, b []float64) (w Welch, ok bool) {
	sa, sb := Summarize(a), Summarize(b)
	if sa.N < 2 || sb.N < 2 {
		return Welch{}, false
	}
	va, vb := sa.Std*sa.Std/float64(sa.N), sb.Std*sb.Std/float64(sb.N)
	se2 := va + vb
	diff := sa.Mean - sb.Mean
	if se2 == 0 {
		return Welch{T: math.Copysign(math.Inf(1), diff), DF: math.NaN(), Critical: math.NaN(), Beyond: diff != 0}, true
	}
	w.T = diff / math.Sqrt(se2)
	w.DF = se2 * se2 / (va*va/float64(sa.N-1) + vb*vb/float64(sb.N-1))
	w.Critical = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: w.DF}.Quantile(1 - (1-Confidence)/2)
	w.Beyond = math.Abs(w.T) > w.Critical
	return w, true
}

// statColumn is a numeric column of the result table that the
// statistics summarize.
type statColumn struct {
	name string
	prec int
	get  func(Row) (float64, bool)
}

func always(f func(Row) float64) func(Row) (float64, bool) {
	return func(r Row) (float64, bool) { return f(r), true }
}

var statColumns = []statColumn{
	{"params_total", 0, always(func(r Row) float64 { return float64(r.ParamsTotal) })},
	{"params_nonzero", 0, always(func(r Row) float64 { return float64(r.ParamsNonzero) })},
	{"size_bytes", 0, always(func(r Row) float64 { return float64(r.SizeBytes) })},
	{"compression_ratio", 2, always(func(r Row) float64 { return r.CompressionRatio })},
	{"train_acc", 2, always(func(r Row) float64 { return r.TrainAcc })},
	{"test_acc", 2, always(func(r Row) float64 { return r.TestAcc })},
	{"delta_acc_pp", 2, always(func(r Row) float64 { return r.DeltaAccPP })},
	{"gap_pp", 2, always(func(r Row) float64 { return r.GapPP })},
	{"flops", 0, always(func(r Row) float64 { return float64(r.FLOPs) })},
	{"latency_us_b1", 1, func(r Row) (float64, bool) { return r.LatencyUsB1.Value() }},
	{"latency_us_b256", 1, func(r Row) (float64, bool) { return r.LatencyUsB256.Value() }},
	{"wall_s", 2, always(func(r Row) float64 { return r.WallS })},
}

// StatsRow is the rows of one point, technique and setting over the
// seeds it ran with: each numeric column's mean and standard deviation,
// and the test of its Δ against the baseline's runs.
type StatsRow struct {
	Experiment, Point, Technique, Setting string
	N                                     int
	Columns                               []Summary // in statColumns order
	// Delta tests the row's test accuracies against its baselines' (nil
	// for the dense rows, and with fewer than two seeds).
	Delta *Welch
}

// StatsColumns are the statistics table's columns.
var StatsColumns = statsColumns()

func statsColumns() []string {
	cols := []string{"experiment", "point", "technique", "setting", "n"}
	for _, c := range statColumns {
		cols = append(cols, c.name+"_mean", c.name+"_std")
	}
	return append(cols, "delta_welch_t", "delta_beyond_noise")
}

// StatsTable is a sweep's rows aggregated over seeds.
type StatsTable []StatsRow

// Aggregate groups the rows that differ only by seed (the same
// experiment, point, technique and setting), in the order each group
// first appears, and summarizes them; a group's Δ is tested, by
// WelchTest, as its test accuracies against its runs' baselines'.
func Aggregate(rows SweepTable) StatsTable {
	type key struct{ experiment, point, technique, setting string }
	index := map[key]int{}
	var groups [][]SweepRow
	for _, r := range rows {
		k := key{r.Experiment, r.Point, r.Technique, r.Setting}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	out := make(StatsTable, len(groups))
	for i, g := range groups {
		out[i] = summarizeGroup(g)
	}
	return out
}

func summarizeGroup(g []SweepRow) StatsRow {
	first := g[0]
	s := StatsRow{Experiment: first.Experiment, Point: first.Point, Technique: first.Technique, Setting: first.Setting, N: len(g)}
	for _, c := range statColumns {
		var xs []float64
		for _, r := range g {
			if v, ok := c.get(r.Row); ok {
				xs = append(xs, v)
			}
		}
		s.Columns = append(s.Columns, Summarize(xs))
	}
	if first.Technique != "dense" {
		acc, base := make([]float64, len(g)), make([]float64, len(g))
		for i, r := range g {
			acc[i], base[i] = r.TestAcc, r.BaseTestAcc
		}
		if w, ok := WelchTest(acc, base); ok {
			s.Delta = &w
		}
	}
	return s
}

// Column is the summary of the named column ("test_acc"), false when
// there is no such column.
func (s StatsRow) Column(name string) (Summary, bool) {
	for i, c := range statColumns {
		if c.name == name {
			return s.Columns[i], true
		}
	}
	return Summary{}, false
}

func (t StatsTable) columns() []string { return StatsColumns }

// num writes a figure with prec decimals, "" when there is none (NaN).
func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func (t StatsTable) cells() [][]string {
	out := make([][]string, len(t))
	for i, r := range t {
		c := []string{r.Experiment, r.Point, r.Technique, r.Setting, strconv.Itoa(r.N)}
		for j, col := range statColumns {
			c = append(c, num(r.Columns[j].Mean, col.prec), num(r.Columns[j].Std, col.prec))
		}
		t, beyond := "", ""
		if r.Delta != nil {
			t, beyond = num(r.Delta.T, 3), strconv.FormatBool(r.Delta.Beyond)
		}
		out[i] = append(c, t, beyond)
	}
	return out
}

func (t StatsTable) jsonRows() any {
	if t == nil {
		return []StatsRow{}
	}
	return []StatsRow(t)
}

// MarshalJSON writes the row as an object keyed by StatsColumns, in
// their order; a figure not measured (a standard deviation of one
// value) is null.
func (s StatsRow) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	field := func(name string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		val, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	orNull := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	b.WriteByte('{')
	field("experiment", s.Experiment)
	field("point", s.Point)
	field("technique", s.Technique)
	field("setting", s.Setting)
	field("n", s.N)
	for i, c := range statColumns {
		field(c.name+"_mean", orNull(s.Columns[i].Mean))
		field(c.name+"_std", orNull(s.Columns[i].Std))
	}
	var t, beyond any
	if s.Delta != nil {
		t, beyond = orNull(s.Delta.T), s.Delta.Beyond
	}
	field("delta_welch_t", t)
	field("delta_beyond_noise", beyond)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Export writes the table to path in the format its extension names.
func (t StatsTable) Export(path string) error { return export(path, t) }

// WriteText writes the statistics for a terminal: mean ± standard
// deviation of the accuracies, Δ and size, a * after a Δ beyond noise.
func (t StatsTable) WriteText(w io.Writer) error {
	rows := [][]string{{"point", "technique", "setting", "n", "size_bytes", "ratio", "train%", "test%", "Δ pp", "gap pp"}}
	pm := func(s Summary, prec int) string {
		if math.IsNaN(s.Std) {
			return num(s.Mean, prec)
		}
		return num(s.Mean, prec) + " ± " + num(s.Std, prec)
	}
	for _, r := range t {
		get := func(name string) Summary { s, _ := r.Column(name); return s }
		delta := pm(get("delta_acc_pp"), 2)
		if r.Delta != nil && r.Delta.Beyond {
			delta += " *"
		} else if r.Delta != nil {
			delta += "  "
		}
		rows = append(rows, []string{r.Point, r.Technique, r.Setting, strconv.Itoa(r.N),
			num(get("size_bytes").Mean, 0), num(get("compression_ratio").Mean, 1) + "×",
			pm(get("train_acc"), 2), pm(get("test_acc"), 2), delta, pm(get("gap_pp"), 2)})
	}
	return writeAligned(w, rows, 3)
}
