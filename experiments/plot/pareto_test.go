package plot

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/results"
)

func TestParetoWritesPNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	pts := results.Pareto([]results.ParetoPoint{
		{Label: "dense", SizeBytes: 1_066_527, TestAcc: 98.2}, {Label: "p90", SizeBytes: 123_000, TestAcc: 97.9},
		{Label: "p90 4 bits", SizeBytes: 29_000, TestAcc: 97.8}, {Label: "bad", SizeBytes: 200_000, TestAcc: 90},
		{Label: "no size", SizeBytes: 0, TestAcc: 50},
	})
	for _, name := range []string{"f.png", "f.svg"} {
		path := filepath.Join(dir, name)
		if err := Pareto(path, "sweep", pts); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "f.png" && !bytes.HasPrefix(b, []byte("\x89PNG\r\n")) {
			t.Errorf("%s is not a PNG: % x", name, b[:8])
		}
		if name == "f.svg" && (!bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("Pareto frontier"))) {
			t.Errorf("%s lacks the svg element or the legend", name)
		}
	}
	if err := Pareto(filepath.Join(dir, "f.jpg"), "x", pts); err == nil || !strings.Contains(err.Error(), "use .png or .svg") {
		t.Errorf("a .jpg: %v", err)
	}
	if err := Pareto(filepath.Join(dir, "g.png"), "x", []results.ParetoPoint{{SizeBytes: 0, TestAcc: 1}}); err == nil {
		t.Error("nothing to draw: no error")
	}
}

func TestSizeTicks(t *testing.T) {
	var labelled []string
	for _, tk := range (sizeTicks{}).Ticks(1500, 120_000) {
		if tk.Label != "" {
			labelled = append(labelled, tk.Label)
		}
	}
	if got := strings.Join(labelled, " "); got != "2k 5k 10k 20k 50k 100k" {
		t.Errorf("labels %q", got)
	}
	if siBytes(1_066_527) != "1.066527M" || siBytes(500) != "500" || siBytes(2e9) != "2G" {
		t.Errorf("siBytes: %s %s %s", siBytes(1_066_527), siBytes(500), siBytes(2e9))
	}
}
