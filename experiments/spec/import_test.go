package spec

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
)

// writeModel writes an MLP in→8→3 (in 12, or 784 with 10 classes when
// info's input is an image's) as safetensors into dir with info.
func writeModel(t *testing.T, dir, name string, info modelfile.Info, factorize bool) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	in, classes := 12, 3
	if info.Input != nil && info.Input.Size() == 784 {
		in, classes = 784, 10
	}
	m := &nn.Sequential{Layers: []nn.Layer{nn.NewDense("fc1", in, 8, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 8, classes, rng)}}
	if factorize {
		if err := lowrank.FactorizeModel(m, "fc1", 2); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := modelfile.WriteSafetensorsInfo(&buf, m, info); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const importSpec = `name: imported
dataset: {name: blobs, classes: 3, dim: 12}
model: {from: %s}
train: {optimizer: adam, lr: 0.01, epochs: 1, batch: 32}
`

// TestModelFrom: model.from, a path beside the spec, gives the file's
// layers; the problems of a file are errors on model.from's line.
func TestModelFrom(t *testing.T) {
	dir := t.TempDir()
	vector := &modelfile.Input{Shape: []int{12}, Scale: 1, Std: 1}
	writeModel(t, dir, "mlp.safetensors", modelfile.Info{Input: vector}, false)
	spec := filepath.Join(dir, "s.yaml")
	s, err := Parse(spec, []byte(strings.Replace(importSpec, "%s", "mlp.safetensors", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Model.From != filepath.Join(dir, "mlp.safetensors") {
		t.Errorf("from = %q, want the path beside the spec", s.Model.From)
	}
	if got := s.DescribeModel(); got != "12-8-3" || s.Model.Layers[1].Name != "relu1" {
		t.Errorf("model %s, layers %+v", got, s.Model.Layers)
	}

	writeModel(t, dir, "bare.safetensors", modelfile.Info{}, false)
	rewriteNoLayers(t, filepath.Join(dir, "bare.safetensors"))
	writeModel(t, dir, "lowrank.safetensors", modelfile.Info{Input: vector}, true)
	writeModel(t, dir, "image.safetensors", modelfile.Info{Input: &modelfile.Input{Shape: []int{1, 28, 28}, Scale: 1.0 / 255, Mean: 0.1307, Std: 0.3081}}, false)
	writeModel(t, dir, "scaled.safetensors", modelfile.Info{Input: &modelfile.Input{Shape: []int{12}, Scale: 2, Std: 1}}, false)
	cases := []struct{ from, want string }{
		{"none.safetensors", "line 3: model.from: open " + filepath.Join(dir, "none.safetensors") + ": no such file"},
		{"mlp.prtm", `line 3: model.from: must name a .safetensors file`},
		{"bare.safetensors", `bare.safetensors does not record its architecture (no "layers" in its metadata): list the layers under model.layers`},
		{"lowrank.safetensors", "layer 1, fc1, is factorized (rank 2)"},
		{"image.safetensors", "the model takes inputs of shape [1 28 28], and each example of blobs is a vector of 12"},
		{"scaled.safetensors", "its inputs are prepared as (x·2 − 0) / 1; blobs examples are used as they are"},
	}
	for _, c := range cases {
		_, err := Parse(spec, []byte(strings.Replace(importSpec, "%s", c.from, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.from, err, c.want)
		}
	}
	// With the layers in the spec, a file without them is fine.
	withLayers := strings.Replace(importSpec, "model: {from: %s}",
		"model:\n  from: bare.safetensors\n  layers: [{type: dense, units: 8}, {type: relu}, {type: dense, units: 3}]", 1)
	if _, err := Parse(spec, []byte(withLayers)); err != nil {
		t.Errorf("layers in the spec: %v", err)
	}
}

// rewriteNoLayers drops the metadata of the safetensors file at path.
func rewriteNoLayers(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := int(b[0]) | int(b[1])<<8
	head := string(b[8 : 8+n])
	start := strings.Index(head, `"layers":`)
	end := strings.Index(head, `,"producer"`)
	padded := head[:start] + head[end+1:]
	for len(padded) < n {
		padded += " "
	}
	if err := os.WriteFile(path, append(append(b[:8:8], padded...), b[8+n:]...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFromModelFile: a model file by itself is a spec named after it,
// on the dataset its metadata records, with its layers.
func TestFromModelFile(t *testing.T) {
	dir := t.TempDir()
	path := writeModel(t, dir, "blobs.safetensors", modelfile.Info{Input: &modelfile.Input{Shape: []int{12}, Scale: 1, Std: 1}, Dataset: "blobs"}, false)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "trained on blobs: a model file by itself runs on mnist or fashion-mnist") {
		t.Errorf("blobs: %v", err)
	}
	image := &modelfile.Input{Shape: []int{1, 28, 28}, Scale: 1.0 / 255, Mean: 0.2860, Std: 0.3530}
	path = writeModel(t, dir, "my model (v2).safetensors", modelfile.Info{Input: image, Dataset: "fashion-mnist"}, false)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "my-model--v2-" || s.Dataset.Name != "fashion-mnist" || s.DescribeModel() != "28×28×1-8-10" || len(s.Compress) != 3 {
		t.Errorf("spec %s on %s, model %s, %d steps", s.Name, s.Dataset.Name, s.DescribeModel(), len(s.Compress))
	}
	if mean, std := s.Model.PixelNorm(0, 1); mean != 0.2860 || std != 0.3530 {
		t.Errorf("pixels standardized with %v, %v; want the file's 0.2860, 0.3530", mean, std)
	}
}

// TestPixelNorm: inputs given as raw bytes (scale 1) are the same
// standardization written for pixels in [0, 1].
func TestPixelNorm(t *testing.T) {
	raw := modelfile.Input{Shape: []int{784}, Scale: 1, Mean: 33.15, Std: 76.5}
	if mean, std := raw.PixelNorm(); math.Abs(mean-0.13) > 1e-12 || math.Abs(std-0.3) > 1e-12 {
		t.Errorf("PixelNorm = %v, %v; want 0.13, 0.3", mean, std)
	}
}
