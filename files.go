package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/bench"
	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/internal/printable"
)

// describeModelFile says what a model file holds: for a .prtm file each
// layer's shape, layout, encoding, bits and bytes; for safetensors each
// tensor's name, dtype and shape.
func describeModelFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if isSafetensors(path) {
		st, err := modelfile.ReadSafetensorsFile(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return describeSafetensors(st), nil
	}
	s, err := modelfile.Inspect(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s.String(), nil
}

// describeSafetensors lists a safetensors file's tensors by name, then
// what its metadata says (or why it cannot be read).
func describeSafetensors(st *modelfile.Safetensors) string {
	var b strings.Builder
	fmt.Fprintf(&b, "safetensors: %d tensors\n", len(st.Tensors))
	for _, n := range slices.Sorted(maps.Keys(st.Tensors)) {
		t := st.Tensors[n]
		// Names and dtypes are the file's: escaped for the terminal.
		fmt.Fprintf(&b, "%-16s %s %s\n", printable.Escape(n), printable.Escape(t.DType), tensorShape(t.Shape))
	}
	md, err := st.ReadMetadata()
	switch {
	case err != nil:
		fmt.Fprintf(&b, "metadata: %s\n", printable.Escape(err.Error()))
	case md.Layers == nil:
		b.WriteString("metadata: no architecture recorded (eval and model.from need the layers: see examples/pytorch)\n")
	default:
		describeMetadata(&b, md)
	}
	return b.String()
}

// describeMetadata writes what a file's metadata says: the row it was,
// its dataset and input, and its layers.
func describeMetadata(b *strings.Builder, md modelfile.Metadata) {
	esc := printable.Escape
	if md.Technique != "" {
		fmt.Fprintf(b, "row: %s %s\n", esc(md.Technique), esc(md.Setting))
	}
	if md.Dataset != "" {
		fmt.Fprintf(b, "dataset: %s (%d classes named)\n", esc(md.Dataset), len(md.Classes))
	}
	if in := md.Input; in != nil {
		fmt.Fprintf(b, "input: shape %v, (x·%.6g − %g) / %g\n", in.Shape, in.Scale, in.Mean, in.Std)
	}
	b.WriteString("layers:\n")
	for _, l := range md.Layers {
		b.WriteString(strings.TrimRight(layerLine(l), " ") + "\n")
	}
}

// layerLine describes one layer of a file's metadata.
func layerLine(l modelfile.Layer) string {
	s := fmt.Sprintf("  %-10s %-8s", printable.Escape(l.Name), printable.Escape(l.Type))
	switch l.Type {
	case "dense":
		s += fmt.Sprintf(" %d units", l.Units)
	case "conv":
		s += fmt.Sprintf(" %d@%d×%d stride %d padding %d", l.Filters, l.Kernel, l.Kernel, max(l.Stride, 1), l.Padding)
	case "maxpool":
		s += fmt.Sprintf(" %d×%d stride %d", l.Size, l.Size, cmp.Or(l.Stride, l.Size))
	case "dropout":
		s += fmt.Sprintf(" rate %g", l.Rate)
	}
	if l.Rank > 0 {
		s += fmt.Sprintf(", rank %d", l.Rank)
	}
	if l.Bits > 0 {
		s += fmt.Sprintf(", %d bits (dequantized)", l.Bits)
	}
	if l.Pruned {
		s += ", pruned"
	}
	return s
}

// tensorShape writes a safetensors tensor's shape as the project writes
// shapes: a weight matrix, stored [out in] as PyTorch keeps it, as
// "in→out (stored [out in])"; any other shape as it is stored.
func tensorShape(shape []int) string {
	if len(shape) == 2 {
		return fmt.Sprintf("%s (stored %v)", modelfile.FormatShape(shape[1], shape[0]), shape)
	}
	return fmt.Sprint(shape)
}

// loadModelFile reads a model file: a compressed one (.prtm), or
// safetensors that record their architecture (pruner-tui's exports, or
// PyTorch's with the metadata of examples/pytorch). For safetensors it
// also returns what the metadata says; for .prtm files a zero Metadata.
func loadModelFile(path string) (*nn.Sequential, modelfile.Metadata, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, modelfile.Metadata{}, err
	}
	defer f.Close()
	if !isSafetensors(path) {
		m, err := modelfile.Read(f)
		if err != nil {
			return nil, modelfile.Metadata{}, fmt.Errorf("%s: %w", path, err)
		}
		return m, modelfile.Metadata{}, nil
	}
	st, err := modelfile.ReadSafetensorsFile(f)
	if err != nil {
		return nil, modelfile.Metadata{}, fmt.Errorf("%s: %w", path, err)
	}
	if md, err := st.ReadMetadata(); err == nil && (md.Layers == nil || md.Input == nil) {
		return nil, modelfile.Metadata{}, fmt.Errorf("%s: its metadata does not record the model (its \"layers\" and \"input\"): eval runs pruner-tui's exports, or PyTorch's written as examples/pytorch shows", path)
	}
	m, md, err := st.Model()
	if err != nil {
		return nil, modelfile.Metadata{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, md, nil
}

// isSafetensors reports whether path names a safetensors file.
func isSafetensors(path string) bool {
	return strings.EqualFold(filepath.Ext(path), experiments.SafetensorsExt)
}

// fileEval is what evalModelFile measured.
type fileEval struct {
	Path          string
	Dataset       string // the test set it was measured on
	SizeBytes     int64
	ParamsTotal   int64
	ParamsNonzero int64
	TestAcc       float64 // percent, on the whole MNIST test set
	LatencyUsB1   float64
	LatencyUsB256 float64
	Predictions   []int // the predicted class of every test image
}

// evalModelFile loads a compressed model file and measures it on the test
// set of dataset (mnist or fashion-mnist) as the result table measures a
// row: accuracy on the float weights, the median latency at batch 1 and
// 256 on the inference plan (pruned layers on the sparse kernels,
// quantized ones on int8).
//
// A safetensors file's inputs are prepared as its metadata says, and its
// dataset is the one it records when dataset is "".
func evalModelFile(ctx context.Context, path, dataset, dataDir string) (fileEval, error) {
	if dataset != "" && dataset != data.MNIST.Name && dataset != data.FashionMNIST.Name {
		return fileEval{}, fmt.Errorf("--dataset %q: allowed mnist, fashion-mnist", dataset)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fileEval{}, err
	}
	m, md, err := loadModelFile(path)
	if err != nil {
		return fileEval{}, err
	}
	images := data.MNIST
	switch cmp.Or(dataset, md.Dataset, data.MNIST.Name) {
	case data.MNIST.Name:
	case data.FashionMNIST.Name:
		images = data.FashionMNIST
	default:
		return fileEval{}, fmt.Errorf("%s: its dataset %q is not one eval has (mnist, fashion-mnist): give --dataset", path, printable.Escape(md.Dataset))
	}
	dataset = images.Name
	if md.Input != nil {
		images.Mean, images.Std = md.Input.PixelNorm()
	}
	if in := inputWidth(m); in != spec.MNISTDim {
		return fileEval{}, fmt.Errorf("%s: the model takes %d inputs; eval measures models of 28×28 images (%d inputs)", path, in, spec.MNISTDim)
	}
	dir, err := images.Find(dataDir)
	if err != nil {
		return fileEval{}, err
	}
	_, test, err := images.Load(dir, 1, 0)
	if err != nil {
		return fileEval{}, err
	}
	preds := nn.Predict(m, test.X, 256)
	correct := 0
	for i, p := range preds {
		if p == test.Y[i] {
			correct++
		}
	}
	run := m.Clone()
	run.PrepareInference()
	b1, b256, err := bench.Latency(ctx, run, test.X)
	if err != nil {
		return fileEval{}, err
	}
	t := m.Totals()
	return fileEval{
		Path: path, Dataset: dataset, SizeBytes: info.Size(),
		ParamsTotal: int64(t.Params), ParamsNonzero: int64(t.NonZero),
		TestAcc:     100 * float64(correct) / float64(len(preds)),
		LatencyUsB1: b1, LatencyUsB256: b256,
		Predictions: preds,
	}, nil
}

// inputWidth is the width of the rows m takes: its first convolution's
// image, or its first weight layer's inputs; 0 if it has none.
func inputWidth(m *nn.Sequential) int {
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Conv2D:
			return l.In.Size()
		case *lowrank.ConvLayer:
			return l.First.In.Size()
		}
		if s := l.Stats(); s.In > 0 {
			return s.In
		}
	}
	return 0
}
