package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassesExport: the per-class table goes beside the results as
// NAME-classes, a column per class named as the dataset names it, and in
// JSON a key per class in label order.
func TestClassesExport(t *testing.T) {
	dir := t.TempDir()
	r := Report{Rows: Table{{Experiment: "f", Technique: "dense", Setting: "fp32"}},
		Classes: &Classes{Names: []string{"T-shirt/top", "Trouser"},
			Rows: []ClassRow{{"dense", "fp32", []float64{85.5, 97.25}}, {"prune", "ratio=0.90", []float64{80, 96.126}}}}}
	for ext, want := range map[string]string{
		".csv":  "technique,setting,T-shirt/top,Trouser\ndense,fp32,85.50,97.25\nprune,ratio=0.90,80.00,96.13\n",
		".md":   "| technique | setting | T-shirt/top | Trouser |\n|---|---|---|---|\n| dense | fp32 | 85.50 | 97.25 |\n| prune | ratio=0.90 | 80.00 | 96.13 |\n",
		".json": "[\n  {\n    \"technique\": \"dense\",\n    \"setting\": \"fp32\",\n    \"T-shirt/top\": 85.5,\n    \"Trouser\": 97.25\n  },\n  {\n    \"technique\": \"prune\",\n    \"setting\": \"ratio=0.90\",\n    \"T-shirt/top\": 80,\n    \"Trouser\": 96.126\n  }\n]\n",
	} {
		path := filepath.Join(dir, "r"+ext)
		written, err := r.Export(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(written) != 2 || written[1].What != "per-class accuracy table (2 rows)" || written[1].Path != filepath.Join(dir, "r-classes"+ext) {
			t.Errorf("%s: wrote %+v", ext, written)
		}
		got, err := os.ReadFile(filepath.Join(dir, "r-classes"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s:\n%s\nwant\n%s", ext, got, want)
		}
	}
	// A clone is deep.
	c := r.Clone()
	c.Classes.Rows[0].TestAcc[0] = 1
	if r.Classes.Rows[0].TestAcc[0] != 85.5 || !strings.HasSuffix(SidePath("a/b.json", PerClass), "b-classes.json") {
		t.Error("Clone shares the per-class rows, or SidePath misnames them")
	}
}
