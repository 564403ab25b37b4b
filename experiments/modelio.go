package experiments

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// ModelFileExt is the extension of the compressed model format
// (core/modelfile); SafetensorsExt that of dense float32 safetensors.
const (
	ModelFileExt   = ".prtm"
	SafetensorsExt = ".safetensors"
)

// SaveModel writes m to path: the compressed format for a .prtm path (the
// smallest exact encoding of every layer, Huffman-coded), dense float32
// safetensors for a .safetensors path. It writes a temporary file beside
// path and renames it into place, so an existing file is never left
// half-written. It returns the bytes written.
func SaveModel(path string, m *nn.Sequential) (int64, error) {
	var buf bytes.Buffer
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ModelFileExt:
		if _, err := modelfile.Write(&buf, m, modelfile.WriteOptions{Huffman: true}); err != nil {
			return 0, fmt.Errorf("save %s: %w", path, err)
		}
	case SafetensorsExt:
		if err := modelfile.WriteSafetensors(&buf, m); err != nil {
			return 0, fmt.Errorf("save %s: %w", path, err)
		}
	default:
		return 0, fmt.Errorf("save %s: unknown extension %q: use %s (compressed) or %s (dense float32)", path, ext, ModelFileExt, SafetensorsExt)
	}
	if err := results.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return 0, fmt.Errorf("save %s: %w", path, err)
	}
	return int64(buf.Len()), nil
}

// LoadModel reads a compressed model file (.prtm).
func LoadModel(path string) (*nn.Sequential, error) {
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

// InspectFile describes what a model file holds: for a .prtm file each
// layer's shape, layout, encoding, bits and bytes; for safetensors each
// tensor's name, dtype and shape.
func InspectFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), SafetensorsExt) {
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
			fmt.Fprintf(&b, "%-16s %s %v\n", n, t.DType, t.Shape)
		}
		return b.String(), nil
	}
	s, err := modelfile.Inspect(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s.String(), nil
}

// FileEval is what EvalFile measured.
type FileEval struct {
	Path          string
	SizeBytes     int64
	ParamsTotal   int64
	ParamsNonzero int64
	TestAcc       float64 // percent, on the whole MNIST test set
	LatencyUsB1   float64
	LatencyUsB256 float64
	Predictions   []int // the predicted class of every test image
}

// EvalFile loads a compressed model file and measures it on the MNIST test
// set: accuracy, and the median latency at batch 1 and 256.
func EvalFile(ctx context.Context, path string, opts Options) (FileEval, error) {
	info, err := os.Stat(path)
	if err != nil {
		return FileEval{}, err
	}
	m, err := LoadModel(path)
	if err != nil {
		return FileEval{}, err
	}
	in := inputWidth(m)
	if in != 28*28 {
		return FileEval{}, fmt.Errorf("%s: the model takes %d inputs; eval measures MNIST models (784 inputs)", path, in)
	}
	dir, err := data.FindMNIST(opts.DataDir)
	if err != nil {
		return FileEval{}, err
	}
	_, test, err := data.LoadMNIST(dir, 1, 0)
	if err != nil {
		return FileEval{}, err
	}
	preds := nn.Predict(m, test.X, evalBatch)
	correct := 0
	for i, p := range preds {
		if p == test.Y[i] {
			correct++
		}
	}
	// Measured as the result table measures: accuracy on the float
	// weights, latency on the inference plan (pruned layers on the sparse
	// kernels, quantized ones on int8).
	run := m.Clone()
	run.PrepareInference()
	b1, b256, err := measureLatency(ctx, run, test)
	if err != nil {
		return FileEval{}, err
	}
	t := m.Totals()
	return FileEval{
		Path: path, SizeBytes: info.Size(),
		ParamsTotal: int64(t.Params), ParamsNonzero: int64(t.NonZero),
		TestAcc:     100 * float64(correct) / float64(len(preds)),
		LatencyUsB1: b1, LatencyUsB256: b256,
		Predictions: preds,
	}, nil
}

// inputWidth is the input width of m's first weight layer, 0 if it has none.
func inputWidth(m *nn.Sequential) int {
	for _, l := range m.Layers {
		if s := l.Stats(); s.In > 0 {
			return s.In
		}
	}
	return 0
}
