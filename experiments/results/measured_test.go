package results

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// legacyRow is Row as it was when the latencies were plain float64: the
// JSON of a measured row must not change by a byte.
type legacyRow struct {
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

func TestMeasuredRowJSONUnchanged(t *testing.T) {
	for _, lat := range [][2]float64{{1.25, 100}, {0, 0}, {14.537, 885.0000001}, {1e-7, 3e21}, {0.6, 30}} {
		r := sampleTable[0]
		r.LatencyUsB1, r.LatencyUsB256 = Measure(lat[0]), Measure(lat[1])
		old := legacyRow{r.Experiment, r.Technique, r.Setting, r.ParamsTotal, r.ParamsNonzero, r.SizeBytes,
			r.CompressionRatio, r.TrainAcc, r.TestAcc, r.DeltaAccPP, r.GapPP, r.FLOPs, lat[0], lat[1], r.WallS}
		var got, want bytes.Buffer
		if err := (Table{r}).WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		writeJSON(&want, legacyTable{old})
		if got.String() != want.String() {
			t.Errorf("latencies %v: JSON\n%s\nwant, as before,\n%s", lat, got.String(), want.String())
		}
		var back Table
		if err := json.Unmarshal(got.Bytes(), &back); err != nil || back[0] != r {
			t.Errorf("latencies %v: read back %+v, %v; want %+v", lat, back, err, r)
		}
	}
}

type legacyTable []legacyRow

func (legacyTable) columns() []string { return Columns }
func (legacyTable) cells() [][]string { return nil }
func (t legacyTable) jsonRows() any   { return []legacyRow(t) }

// A row whose latency was never measured says so: an empty cell in CSV,
// Markdown and text, null in JSON — never 0.
func TestUnmeasuredLatencyIsEmptyNotZero(t *testing.T) {
	r := sampleTable[0]
	r.LatencyUsB1, r.LatencyUsB256 = Measured{}, Measured{}
	table := Table{r}
	var b bytes.Buffer
	table.WriteCSV(&b)
	if want := "x,prune,ratio=0.90 a|b,100,10,80,5.00,99.50,98.25,-0.12,1.25,10,,,0.50\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("CSV:\n%s\nwant it to end\n%s", b.String(), want)
	}
	b.Reset()
	table.WriteMarkdown(&b)
	if !strings.Contains(b.String(), "| 10 |  |  | 0.50 |") {
		t.Errorf("Markdown:\n%s", b.String())
	}
	b.Reset()
	table.WriteJSON(&b)
	for _, want := range []string{`"latency_us_b1": null,`, `"latency_us_b256": null,`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b.String())
		}
	}
	var back Table
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if _, ok := back[0].LatencyUsB1.Value(); ok {
		t.Error("null read back as measured")
	}
	if v, ok := Measure(0).Value(); !ok || v != 0 {
		t.Error("a measured 0 is not measured")
	}
	if Measure(2).Or(-1) != 2 || (Measured{}).Or(-1) != -1 {
		t.Error("Or")
	}
}
