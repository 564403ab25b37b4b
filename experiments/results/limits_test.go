package results

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckExport: what Export would fail on is found before any work,
// and the check leaves nothing behind.
func TestCheckExport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	os.Mkdir(filepath.Join(dir, "r-bit-sensitivity.csv"), 0o755)
	for _, c := range []struct {
		path  string
		kinds []Kind
		want  string
	}{
		{dir, nil, "it is a directory; give a file name such as " + filepath.Join(dir, "results.csv")},
		{filepath.Join(dir, "r.csv"), []Kind{Pruning, Bits}, "r-bit-sensitivity.csv: it is a directory"},
		{"/proc/nope/x.csv", nil, "the folder /proc/nope does not exist"},
		{filepath.Join(file, "x.csv"), nil, file + " is not a folder"},
		{filepath.Join(dir, "r.xlsx"), nil, `unknown extension ".xlsx"`},
	} {
		if err := CheckExport(c.path, c.kinds...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckExport(%s): %v, want %q", c.path, err, c.want)
		}
	}
	if err := CheckExport(filepath.Join(dir, "r.csv"), Pruning); err != nil {
		t.Errorf("a writable path: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the check left files behind: %d entries, want the 2 made here", len(entries))
	}
}

// TestWriteTextEscapes: the text table is for a terminal: a cell's escape
// codes and newlines are written escaped, one row a line.
func TestWriteTextEscapes(t *testing.T) {
	evil := Table{{Experiment: "x\x1b]0;owned\x07", Technique: "prune", Setting: "a\nb"}}
	var b bytes.Buffer
	if err := evil.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("raw escape codes in the table: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], `x\x1b]0;owned\a  prune      a\nb  `) {
		t.Errorf("table:\n%s", out)
	}
	if Columns[0] != "experiment" {
		t.Errorf("Columns changed: %v", Columns)
	}
}
