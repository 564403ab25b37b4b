package experiments

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var sampleTable = Table{{
	Experiment: "x", Technique: "prune", Setting: "ratio=0.90 a|b",
	ParamsTotal: 100, ParamsNonzero: 10, SizeBytes: 80, CompressionRatio: 5,
	TrainAcc: 99.5, TestAcc: 98.25, DeltaAccPP: -0.125, GapPP: 1.25,
	FLOPs: 10, LatencyUsB1: 1.25, LatencyUsB256: 100, WallS: 0.5,
}}

func TestTableCSV(t *testing.T) {
	var b bytes.Buffer
	if err := sampleTable.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(Columns, ",") + "\n" +
		"x,prune,ratio=0.90 a|b,100,10,80,5.00,99.50,98.25,-0.12,1.25,10,1.2,100.0,0.50\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTableMarkdownEscapesPipes(t *testing.T) {
	var b bytes.Buffer
	if err := sampleTable.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want header, rule and one row:\n%s", len(lines), b.String())
	}
	if lines[1] != "|"+strings.Repeat("---|", len(Columns)) {
		t.Errorf("rule %q", lines[1])
	}
	if !strings.Contains(lines[2], `ratio=0.90 a\|b`) {
		t.Errorf("row %q: the | in the setting must be escaped", lines[2])
	}
}

func TestTableJSONKeepsNumbersAndEmptyArray(t *testing.T) {
	var b bytes.Buffer
	if err := Table(nil).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty table as %q, want []", b.String())
	}
	b.Reset()
	sampleTable.WriteJSON(&b)
	var rows []map[string]any
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if rows[0]["test_acc"] != 98.25 || rows[0]["size_bytes"] != 80.0 {
		t.Errorf("row %v", rows[0])
	}
}

func TestTableExportByExtension(t *testing.T) {
	dir := t.TempDir()
	for ext, prefix := range map[string]string{".csv": "experiment,", ".md": "| experiment |", ".json": "["} {
		path := filepath.Join(dir, "r"+ext)
		if err := sampleTable.Export(path); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(b), prefix) {
			t.Errorf("%s starts %q, want %q", ext, b[:min(len(b), 20)], prefix)
		}
	}
	keep := filepath.Join(dir, "r.xlsx")
	os.WriteFile(keep, []byte("old"), 0o644)
	if err := sampleTable.Export(keep); err == nil || !strings.Contains(err.Error(), ".csv, .md or .json") {
		t.Errorf("unknown extension: %v", err)
	}
	if b, _ := os.ReadFile(keep); string(b) != "old" {
		t.Error("a refused export changed the file")
	}
}
