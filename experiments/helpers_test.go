package experiments

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// loadModel reads a model file a run saved.
func loadModel(t *testing.T, path string) (*nn.Sequential, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return modelfile.Read(f)
}

// inspectRow summarizes the model file --save wrote for row i.
func inspectRow(t *testing.T, dir string, table results.Table, i int) modelfile.Summary {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, RowFileStem(table[i], i)+ModelFileExt))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := modelfile.Inspect(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tensorsOf lists the tensors of every layer of a model file.
func tensorsOf(s modelfile.Summary) []modelfile.TensorSummary {
	var out []modelfile.TensorSummary
	for _, l := range s.Layers {
		out = append(out, l.Tensors...)
	}
	return out
}

// baselineOf is the trained baseline a run's events carried.
func baselineOf(events []Event) *Trained {
	for _, e := range events {
		if b, ok := e.(BaselineEvent); ok {
			return b.Trained
		}
	}
	return nil
}

// checkFilesScoreRows checks that every row's saved file loads into the
// model the row scored: the same test accuracy, to the last example.
func checkFilesScoreRows(t *testing.T, dir string, table results.Table, test *data.Set) {
	t.Helper()
	for i, r := range table {
		m, err := loadModel(t, filepath.Join(dir, RowFileStem(r, i)+ModelFileExt))
		if err != nil {
			t.Fatal(err)
		}
		if _, acc, _ := evaluate(context.Background(), m, test, 0); 100*acc != r.TestAcc {
			t.Errorf("%s %s: the saved model scores %v%%, the row %v%%", r.Technique, r.Setting, 100*acc, r.TestAcc)
		}
		// The safetensors hold the same weights: they score the same.
		st, md := loadSafetensors(t, filepath.Join(dir, RowFileStem(r, i)+SafetensorsExt))
		have, want := st.Params(), m.Params()
		if len(have) != len(want) {
			t.Fatalf("%s %s: the safetensors hold %d parameters, the model file %d", r.Technique, r.Setting, len(have), len(want))
		}
		for j, p := range want {
			if !slices.Equal(have[j].Value.Data, p.Value.Data) {
				t.Errorf("%s %s: the safetensors' %s differs from the model file's", r.Technique, r.Setting, p.Name)
			}
		}
		if md.Technique != r.Technique || md.Setting != r.Setting {
			t.Errorf("row %s %s: the safetensors say %s %s", r.Technique, r.Setting, md.Technique, md.Setting)
		}
	}
}

// loadSafetensors builds the model of a safetensors file from its
// metadata alone.
func loadSafetensors(t *testing.T, path string) (*nn.Sequential, modelfile.Metadata) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := modelfile.ReadSafetensorsFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m, md, err := st.Model()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m, md
}
