package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// writeSpec writes yaml into a fresh folder and returns its path.
func writeSpec(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunChecksBeforeTheWork: every refusal below comes before the run
// starts (nothing on stderr says it began loading) but the one that says
// where its data is not.
func TestRunChecksBeforeTheWork(t *testing.T) {
	tiny := writeSpec(t, tinySpec)
	dir := t.TempDir()
	big := writeSpec(t, "name: big\ndataset: {name: mnist}\nmodel: {layers: [{type: dense, units: 100000}, {type: relu}, {type: dense, units: 100000}, {type: dense, units: 10}]}\n"+
		"train: {optimizer: adam, lr: 0.001, epochs: 1, batch: 64}\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", tiny, "--out", "/proc/nope/x.csv"}, "export /proc/nope/x.csv: the folder /proc/nope does not exist"},
		{[]string{"run", tiny, "--out", dir}, "it is a directory; give a file name such as"},
		{[]string{"run", tiny, "--seed", "-5"}, `invalid value "-5" for flag -seed: seeds are whole numbers from 0 to 18446744073709551615`},
		{[]string{"run", tiny, "--seed", "1e3"}, "seeds are whole numbers"},
		// The largest seed is accepted: the next check (--out) speaks.
		{[]string{"run", tiny, "--seed", "18446744073709551615", "--out", "/proc/nope/x.csv"}, "/proc/nope does not exist"},
		{[]string{"run", big}, "model.layers: a run needs about 302 GiB of memory"},
		// Within a larger limit the run goes on to load its data: here from
		// a folder that does not exist.
		{[]string{"run", big, "--max-memory", "1TiB", "--data", filepath.Join(dir, "none")}, "folder does not exist"},
		// tiny needs 219 KiB (see spec.TestMemoryByHand).
		{[]string{"run", tiny, "--max-memory", "200KiB"}, "a run needs about 219 KiB of memory (dataset 4.45 KiB, model 4.65 KiB, activations 210 KiB), more than the limit of 200 KiB (--max-memory)"},
		{[]string{"run", tiny, "--max-memory", "8XB"}, `unknown unit "XB"`},
		{[]string{"run", "/dev/zero"}, "larger than 1 MiB"},
		{[]string{"run", tiny, "--baseline", filepath.Join(dir, "none.prtm")}, "--baseline: open " + filepath.Join(dir, "none.prtm") + ": no such file"},
		{[]string{"run", tiny, "--baseline", "/dev/null"}, "--baseline /dev/null: "},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		err := run(c.args, &bytes.Buffer{}, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.args, err, c.want)
		}
		started := strings.Contains(stderr.String(), "\nloading") || strings.HasPrefix(stderr.String(), "loading")
		if started != (c.want == "folder does not exist") {
			t.Errorf("%q: the run started: %v\n%s", c.args, started, stderr.String())
		}
	}
}

// TestExportKeepsWhatFails: when the export fails at the end, the tables
// go to a new folder of the temporary directory, and the error says where.
func TestExportKeepsWhatFails(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	report := results.Report{Rows: results.Table{{Experiment: "x", Technique: "dense", Setting: "fp32", TestAcc: 97.5}}}
	report.Add(results.Pruning, results.Point{Layer: "fc1", Value: 0.5, TestAcc: 90})
	var stderr bytes.Buffer
	err := exportKeeping(report, filepath.Join(t.TempDir(), "gone", "r.csv"), &stderr)
	if err == nil || !strings.Contains(err.Error(), "the results are kept in "+os.Getenv("TMPDIR")) {
		t.Fatalf("error %v, want where the results are kept", err)
	}
	matches, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "pruner-tui-results-*", "r*.csv"))
	if len(matches) != 2 {
		t.Fatalf("kept %v, want r.csv and r-sensitivity.csv", matches)
	}
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(matches[0]), "r.csv"))
	if !strings.Contains(string(b), "x,dense,fp32") {
		t.Errorf("kept table:\n%s", b)
	}
	if !strings.Contains(stderr.String(), "kept the result table (1 row) in ") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestInspectEscapesNames: names a model file carries reach the terminal
// escaped, from .prtm and .safetensors alike.
func TestInspectEscapesNames(t *testing.T) {
	s, err := spec.Parse("tiny.yaml", []byte(tinySpec))
	if err != nil {
		t.Fatal(err)
	}
	m, err := experiments.BuildModel(s)
	if err != nil {
		t.Fatal(err)
	}
	m.Layers[0].(*nn.Dense).LayerName = "fc\x1b]0;owned\x07"
	dir := t.TempDir()
	var prtm, st bytes.Buffer
	if _, err := modelfile.Write(&prtm, m, modelfile.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := modelfile.WriteSafetensors(&st, m); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"m.prtm": prtm.Bytes(), "m.safetensors": st.Bytes()} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, b, 0o644)
		var out bytes.Buffer
		if err := run([]string{"inspect", path}, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(out.String(), "\x1b\x07") || !strings.Contains(out.String(), `fc\x1b]0;owned\a`) {
			t.Errorf("%s: inspect wrote\n%q", name, out.String())
		}
	}
}

// TestProgressEscapes: what the headless progress prints of a row or a log
// line is escaped, one line each.
func TestProgressEscapes(t *testing.T) {
	var out bytes.Buffer
	sink := newProgressSink(&out)
	sink.Emit(experiments.ResultEvent{Row: results.Row{Technique: "prune\x1b[2J", Setting: "two\nlines"}})
	sink.Emit(experiments.LogEvent{Text: "log\x1b]0;owned\x07"})
	text := out.String()
	if strings.ContainsAny(text, "\x1b\x07") || strings.Count(text, "\n") != 2 {
		t.Errorf("progress wrote\n%q", text)
	}
	for _, want := range []string{`result prune\x1b[2J two\nlines:`, `log\x1b]0;owned\a`} {
		if !strings.Contains(text, want) {
			t.Errorf("progress lacks %s:\n%s", want, text)
		}
	}
}
