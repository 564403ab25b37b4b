package results

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
	FLOPs: 10, LatencyUsB1: Measure(1.25), LatencyUsB256: Measure(100), WallS: 0.5,
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

func TestWriteTextAligns(t *testing.T) {
	table := Table{
		{Experiment: "quickstart", Technique: "dense", Setting: "fp32", ParamsTotal: 4547, ParamsNonzero: 4547,
			SizeBytes: 18188, CompressionRatio: 1, TrainAcc: 96.5, TestAcc: 96, GapPP: 0.5, FLOPs: 4416, LatencyUsB1: Measure(0.6), LatencyUsB256: Measure(30), WallS: 0.15},
		{Experiment: "quickstart", Technique: "prune", Setting: "ratio=0.90 finetune=2", ParamsTotal: 4547, ParamsNonzero: 571,
			SizeBytes: 3712, CompressionRatio: 4.9, TrainAcc: 65.2, TestAcc: 61.6, DeltaAccPP: -34.4, GapPP: 3.6, FLOPs: 4416},
	}
	var buf bytes.Buffer
	if err := table.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want header + 2 rows:\n%s", len(lines), buf.String())
	}
	header := lines[0]
	// Text columns start under their header; number columns end under it.
	for i, col := range Columns {
		start := strings.Index(header, col)
		if start < 0 {
			t.Fatalf("header lacks %s", col)
		}
		end := start + len(col)
		for r, row := range table {
			cell := row.Cells()[i]
			line := lines[r+1]
			if i < 3 {
				if !strings.HasPrefix(line[start:], cell) {
					t.Errorf("row %d: %s cell %q does not start at column %d: %q", r, col, cell, start, line)
				}
			} else if end > len(line) || !strings.HasSuffix(line[:end], " "+cell) {
				t.Errorf("row %d: %s cell %q does not end at column %d: %q", r, col, cell, end, line)
			}
		}
	}
	if !strings.HasPrefix(lines[2], "quickstart  prune      ratio=0.90 finetune=2  ") {
		t.Errorf("row 2 = %q", lines[2])
	}
}

func TestPruningSensitivityForms(t *testing.T) {
	s := Sensitivity{Kind: Pruning, Points: []Point{{"fc1", 0, 98.375}, {"fc1", 0.5, 97.25}, {"fc2", 0, 98.375}, {"fc2", 0.5, 91}}}
	var b bytes.Buffer
	if err := s.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if want := "layer,ratio,test_acc\nfc1,0.00,98.38\nfc1,0.50,97.25\nfc2,0.00,98.38\nfc2,0.50,91.00\n"; b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	Sensitivity{Kind: Pruning, Points: s.Points[:1]}.WriteMarkdown(&b)
	if want := "| layer | ratio | test_acc |\n|---|---|---|\n| fc1 | 0.00 | 98.38 |\n"; b.String() != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	Sensitivity{Kind: Pruning, Points: s.Points[1:2]}.WriteJSON(&b)
	if want := "[\n  {\n    \"layer\": \"fc1\",\n    \"ratio\": 0.5,\n    \"test_acc\": 97.25\n  }\n]\n"; b.String() != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	Sensitivity{}.WriteJSON(&b)
	if b.String() != "[]\n" {
		t.Errorf("empty JSON = %q", b.String())
	}
	b.Reset()
	s.WriteText(&b)
	if want := "layer     0%    50%\nfc1    98.38  97.25\nfc2    98.38  91.00\n"; b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestBitSensitivityForms(t *testing.T) {
	s := Sensitivity{Kind: Bits, Points: []Point{{"fc1", 8, 98.3}, {"fc1", 2, 51.25}, {"fc1", 1, 11}, {"fc2", 8, 97}, {"fc2", 2, 90}}}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "layer  8 bits  2 bits  1 bit\nfc1     98.30   51.25  11.00\nfc2     97.00   90.00\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	s.WriteCSV(&b)
	if !strings.HasPrefix(b.String(), "layer,bits,test_acc\nfc1,8,98.30\n") {
		t.Errorf("csv:\n%s", b.String())
	}
	b.Reset()
	Sensitivity{Kind: Bits, Points: s.Points[1:2]}.WriteJSON(&b)
	if want := "[\n  {\n    \"layer\": \"fc1\",\n    \"bits\": 2,\n    \"test_acc\": 51.25\n  }\n]\n"; b.String() != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b.String(), want)
	}
	if got := s.Values(); len(got) != 3 || got[0] != 8 || got[2] != 1 {
		t.Errorf("Values = %v, want widest first: [8 2 1]", got)
	}
}

func TestReportExportWritesEveryTableBeside(t *testing.T) {
	dir := t.TempDir()
	var r Report
	r.Rows = sampleTable
	r.Add(Bits, Point{"fc1", 4, 97})
	r.Add(Pruning, Point{"fc1", 0.5, 98})
	r.Add(Bits, Point{"fc1", 2, 90})
	if s, ok := r.Of(Bits); !ok || len(s.Points) != 2 {
		t.Fatalf("Of(Bits) = %v, %v: want the two bit points in one table", s, ok)
	}
	path := filepath.Join(dir, "out.csv")
	written, err := r.Export(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		path: "experiment,technique",
		filepath.Join(dir, "out-bit-sensitivity.csv"): "layer,bits,test_acc\nfc1,4,97.00\nfc1,2,90.00\n",
		filepath.Join(dir, "out-sensitivity.csv"):     "layer,ratio,test_acc\nfc1,0.50,98.00\n",
	}
	if len(written) != 3 {
		t.Fatalf("wrote %v, want 3 files", written)
	}
	for _, w := range written {
		b, err := os.ReadFile(w.Path)
		if err != nil || !strings.HasPrefix(string(b), want[w.Path]) {
			t.Errorf("%s (%s) = %q, %v; want it to start %q", w.Path, w.What, b, err, want[w.Path])
		}
	}
	if _, err := r.Export(filepath.Join(dir, "out.txt")); err == nil {
		t.Error("export to .txt: no error")
	}
	if got := SidePath("out/results.md", Pruning); got != "out/results-sensitivity.md" {
		t.Errorf("SidePath = %q", got)
	}
}
