package experiments

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// compressedMNISTModel is a random 784-32-10 MLP, 80% pruned and quantized
// to 4 bits: every special case of the file format at once.
func compressedMNISTModel(t *testing.T) *nn.Sequential {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 2))
	m := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 784, 32, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 32, 10, rng),
	}}
	if err := prune.Prune(nn.WeightLayers(m), 0.8, prune.Options{Scope: prune.ScopeGlobal}); err != nil {
		t.Fatal(err)
	}
	if _, err := quant.QuantizeModel(m, quant.Options{Bits: 4}, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSaveLoadGivesIdenticalPredictions(t *testing.T) {
	m := compressedMNISTModel(t)
	path := filepath.Join(t.TempDir(), "m.prtm")
	n, err := SaveModel(path, m)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() != n {
		t.Fatalf("file size %v (err %v), SaveModel said %d", info.Size(), err, n)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, want 0644", info.Mode().Perm())
	}
	// Dense fp32 would be (784·32 + 32 + 32·10 + 10)·4 = 101,928 bytes; 20%
	// of the weights at 4 bits plus positions must take far less.
	if n > 101928/5 {
		t.Errorf("compressed file is %d bytes, want under a fifth of dense fp32 (101,928)", n)
	}
	back, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	x := nn.NewMatrix(500, 784)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	want := nn.Predict(m, x, 128)
	got := nn.Predict(back, x, 128)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("prediction %d: loaded model says %d, saved model %d", i, got[i], want[i])
		}
	}
	text, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fc1", "fc2", "uniform"} {
		if !strings.Contains(text, s) {
			t.Errorf("inspect output lacks %q:\n%s", s, text)
		}
	}
}

func TestSaveSafetensorsAndInspect(t *testing.T) {
	m := compressedMNISTModel(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	n, err := SaveModel(path, m)
	if err != nil {
		t.Fatal(err)
	}
	// Dense float32: at least every weight and bias, 4 bytes each.
	if n < 101928 {
		t.Errorf("safetensors is %d bytes, want ≥ 101,928 (dense fp32)", n)
	}
	text, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// PyTorch's layout: weight [out, in].
	if !strings.Contains(text, "fc1.weight") || !strings.Contains(text, "[32 784]") {
		t.Errorf("inspect output:\n%s", text)
	}
}

func TestModelFileBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := SaveModel(filepath.Join(dir, "m.onnx"), compressedMNISTModel(t)); err == nil || !strings.Contains(err.Error(), ".prtm") {
		t.Errorf("unknown extension: %v", err)
	}
	bad := filepath.Join(dir, "bad.prtm")
	os.WriteFile(bad, []byte("PRTM not really a model"), 0o644)
	if _, err := LoadModel(bad); err == nil || !strings.Contains(err.Error(), "bad.prtm") {
		t.Errorf("corrupt file: %v", err)
	}
	if _, err := InspectFile(bad); err == nil {
		t.Error("inspect accepted a corrupt file")
	}
	// An existing file survives a failed save.
	keep := filepath.Join(dir, "keep.prtm")
	os.WriteFile(keep, []byte("old"), 0o644)
	if _, err := SaveModel(keep, &nn.Sequential{Layers: []nn.Layer{&unknownLayer{}}}); err == nil {
		t.Fatal("saving an unknown layer type succeeded")
	}
	if b, _ := os.ReadFile(keep); string(b) != "old" {
		t.Errorf("a failed save changed the existing file to %q", b)
	}
}

// unknownLayer is a layer type the model file format does not know.
type unknownLayer struct{ nn.ReLU }

func (*unknownLayer) Clone() nn.Layer { return &unknownLayer{} }

func TestEvalFileOnMNIST(t *testing.T) {
	dir, err := data.FindMNIST("")
	if err != nil {
		t.Skip("MNIST not found:", err)
	}
	m := compressedMNISTModel(t)
	path := filepath.Join(t.TempDir(), "m.prtm")
	if _, err := SaveModel(path, m); err != nil {
		t.Fatal(err)
	}
	r, err := EvalFile(context.Background(), path, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Predictions) != 10000 {
		t.Fatalf("%d predictions, want the 10,000 test images", len(r.Predictions))
	}
	_, test, err := data.LoadMNIST(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := nn.Predict(m, test.X, 256)
	for i := range want {
		if r.Predictions[i] != want[i] {
			t.Fatalf("test image %d: file model predicts %d, in-memory model %d", i, r.Predictions[i], want[i])
		}
	}
	if r.LatencyUsB1 <= 0 || r.LatencyUsB256 <= 0 {
		t.Errorf("latencies %v / %v, want measured values", r.LatencyUsB1, r.LatencyUsB256)
	}
}
