package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// compressedModel is a random 784-32-10 MLP, or a small convolutional
// network on 28×28 images, 80% pruned and quantized to 4 bits.
func compressedModel(t *testing.T, conv bool) *nn.Sequential {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 2))
	m := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 784, 32, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 32, 10, rng),
	}}
	if conv {
		c := nn.NewConv2D("conv1", nn.Shape{H: 28, W: 28, C: 1}, 4, 5, 2, 0, nn.He, rng)
		m = &nn.Sequential{Layers: []nn.Layer{c, nn.NewFlatten("flatten1", c.Out), nn.NewDense("fc1", c.Out.Size(), 10, rng)}}
	}
	if err := prune.Prune(nn.WeightLayers(m), 0.8, prune.Options{Scope: prune.ScopeGlobal}); err != nil {
		t.Fatal(err)
	}
	if _, err := quant.QuantizeModel(m, quant.Options{Bits: 4}, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeModelFile(t *testing.T, m *nn.Sequential, name string) string {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(name, ".safetensors") {
		err = modelfile.WriteSafetensors(&buf, m)
	} else {
		_, err = modelfile.Write(&buf, m, modelfile.WriteOptions{Huffman: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDescribeModelFile(t *testing.T) {
	text, err := describeModelFile(writeModelFile(t, compressedModel(t, false), "m.prtm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fc1", "fc2", "uniform"} {
		if !strings.Contains(text, s) {
			t.Errorf("inspect output lacks %q:\n%s", s, text)
		}
	}
	text, err = describeModelFile(writeModelFile(t, compressedModel(t, true), "m.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	// PyTorch's layouts: conv [out, in, kh, kw], linear [out, in].
	if !strings.Contains(text, "conv1.weight") || !strings.Contains(text, "[4 1 5 5]") || !strings.Contains(text, "[10 576]") {
		t.Errorf("inspect output:\n%s", text)
	}
	bad := filepath.Join(t.TempDir(), "bad.prtm")
	os.WriteFile(bad, []byte("PRTM not really a model"), 0o644)
	if _, err := describeModelFile(bad); err == nil || !strings.Contains(err.Error(), "bad.prtm") {
		t.Errorf("corrupt file: %v", err)
	}
	if _, _, err := loadModelFile(bad); err == nil || !strings.Contains(err.Error(), "bad.prtm") {
		t.Errorf("corrupt file: %v", err)
	}
}

// TestEvalModelFile: eval's predictions are those of the model in memory,
// for an MLP and a convolutional network; its latencies are measured.
func TestEvalModelFile(t *testing.T) {
	dir, err := data.FindMNIST("")
	if err != nil {
		t.Skip("MNIST not found:", err)
	}
	_, test, err := data.LoadMNIST(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, conv := range []bool{false, true} {
		m := compressedModel(t, conv)
		r, err := evalModelFile(context.Background(), writeModelFile(t, m, "m.prtm"), "mnist", dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Predictions) != 10000 {
			t.Fatalf("%d predictions, want the 10,000 test images", len(r.Predictions))
		}
		want := nn.Predict(m, test.X, 256)
		for i := range want {
			if r.Predictions[i] != want[i] {
				t.Fatalf("conv %v: test image %d: the file's model predicts %d, the model %d", conv, i, r.Predictions[i], want[i])
			}
		}
		if r.LatencyUsB1 <= 0 || r.LatencyUsB256 <= 0 {
			t.Errorf("latencies %v / %v, want measured values", r.LatencyUsB1, r.LatencyUsB256)
		}
	}
	if _, err := evalModelFile(context.Background(), "x.prtm", "cifar", dir); err == nil || !strings.Contains(err.Error(), "mnist, fashion-mnist") {
		t.Errorf("unknown dataset: %v", err)
	}
}

// TestEvalSafetensors: eval runs a safetensors export from its metadata
// alone (dataset included) and predicts what the model in memory does;
// a file whose metadata does not record the model says so.
func TestEvalSafetensors(t *testing.T) {
	dir, err := data.FindMNIST("")
	if err != nil {
		t.Skip("MNIST not found:", err)
	}
	_, test, err := data.LoadMNIST(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := &modelfile.Input{Shape: []int{1, 28, 28}, Scale: 1.0 / 255, Mean: data.MNIST.Mean, Std: data.MNIST.Std}
	for _, conv := range []bool{false, true} {
		m := compressedModel(t, conv)
		var buf bytes.Buffer
		if err := modelfile.WriteSafetensorsInfo(&buf, m, modelfile.Info{Input: in, Dataset: "mnist"}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := evalModelFile(context.Background(), path, "", dir)
		if err != nil {
			t.Fatal(err)
		}
		want := nn.Predict(m, test.X, 256)
		if r.Dataset != "mnist" || !slices.Equal(r.Predictions, want) {
			t.Errorf("conv %v: eval on %s predicts otherwise than the model", conv, r.Dataset)
		}
	}
	bare := writeModelFile(t, compressedModel(t, false), "bare.safetensors")
	if _, err := evalModelFile(context.Background(), bare, "", dir); err == nil || !strings.Contains(err.Error(), `does not record the model (its "layers" and "input")`) {
		t.Errorf("no input in the metadata: %v", err)
	}
}
