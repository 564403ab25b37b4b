package main

import (
	"context"
	"fmt"
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
	if strings.EqualFold(filepath.Ext(path), experiments.SafetensorsExt) {
		tensors, err := modelfile.ReadSafetensors(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "safetensors: %d tensors\n", len(tensors))
		names := make([]string, 0, len(tensors))
		for n := range tensors {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			t := tensors[n]
			// Names and dtypes are the file's: escaped for the terminal.
			fmt.Fprintf(&b, "%-16s %s %s\n", printable.Escape(n), printable.Escape(t.DType), tensorShape(t.Shape))
		}
		return b.String(), nil
	}
	s, err := modelfile.Inspect(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s.String(), nil
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

// loadModelFile reads a compressed model file (.prtm).
func loadModelFile(path string) (*nn.Sequential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := modelfile.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// fileEval is what evalModelFile measured.
type fileEval struct {
	Path          string
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
func evalModelFile(ctx context.Context, path, dataset, dataDir string) (fileEval, error) {
	images := data.MNIST
	switch dataset {
	case "mnist":
	case "fashion-mnist":
		images = data.FashionMNIST
	default:
		return fileEval{}, fmt.Errorf("--dataset %q: allowed mnist, fashion-mnist", dataset)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fileEval{}, err
	}
	m, err := loadModelFile(path)
	if err != nil {
		return fileEval{}, err
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
		Path: path, SizeBytes: info.Size(),
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
