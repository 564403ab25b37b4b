package experiments

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/prunerlab/pruner-tui/core/bench"
	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// Model files are the truth about size: every row's size_bytes is the
// length of the file its model is stored in (core/modelfile), and --save
// writes exactly those bytes.
//
//   - The dense baseline is stored as dense float32 (modelfile's
//     uncompressed form): the numerator of every compression_ratio.
//   - Every other row is stored in the smallest exact encoding of each
//     layer (sparse with relative indices, uniform codes or a codebook),
//     with its streams Huffman-coded — except the stages of a pipeline that
//     come before its huffman stage, which are stored without entropy
//     coding, so that stage's row shows what Huffman coding adds.
//
// The per-layer sizes the layer pane shows for a row (and for the knob
// preview) are the layers' payload bytes in the same file: weights,
// indices, codebooks or scales, and biases. The file's header (the layer
// table, some 10 bytes a layer), 16-byte preamble and 4-byte checksum are
// not attributed to a layer, so the layers sum to a little less than
// size_bytes.

// File extensions of the compressed model format (core/modelfile) and of
// dense float32 safetensors.
const (
	ModelFileExt   = ".prtm"
	SafetensorsExt = ".safetensors"
)

// storedModel is a model as its model file holds it.
type storedModel struct {
	file       []byte
	layerBytes map[string]int64 // payload bytes by layer name (a factorized layer's two factors together)
}

// storeModel encodes m as its model file: dense float32 when dense, else
// compressed, with Huffman coding when huffman.
func storeModel(m *nn.Sequential, dense, huffman bool) (storedModel, error) {
	var buf bytes.Buffer
	if _, err := modelfile.Write(&buf, m, modelfile.WriteOptions{Huffman: huffman && !dense, Uncompressed: dense}); err != nil {
		return storedModel{}, err
	}
	sum, err := modelfile.Inspect(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return storedModel{}, fmt.Errorf("reading back the model file: %w", err)
	}
	s := storedModel{file: buf.Bytes(), layerBytes: map[string]int64{}}
	for _, l := range sum.Layers {
		s.layerBytes[l.Name] += l.Bytes
	}
	return s, nil
}

// size is the file's length in bytes.
func (s storedModel) size() int64 { return int64(len(s.file)) }

// layerStats returns a copy of stats with each weight layer's SizeBytes
// set to its payload bytes in the file.
func (s storedModel) layerStats(stats []nn.LayerStats) []nn.LayerStats {
	out := make([]nn.LayerStats, len(stats))
	for i, st := range stats {
		if b, ok := s.layerBytes[st.Name]; ok && (st.Kind == "dense" || st.Kind == "lowrank") {
			st.SizeBytes = b
		}
		out[i] = st
	}
	return out
}

// newRow fills a result row from a model and its accuracies (fractions).
// denseBytes is the dense fp32 baseline's size; baseTestAcc its test
// accuracy in percent.
func newRow(experiment, technique, setting string, m *nn.Sequential, denseBytes int64, trainAcc, testAcc, baseTestAcc float64) results.Row {
	t := m.Totals()
	row := results.Row{
		Experiment: experiment, Technique: technique, Setting: setting,
		ParamsTotal: int64(t.Params), ParamsNonzero: int64(t.NonZero),
		SizeBytes: t.SizeBytes, FLOPs: t.FLOPs,
		TrainAcc: 100 * trainAcc, TestAcc: 100 * testAcc,
	}
	if t.SizeBytes > 0 {
		row.CompressionRatio = float64(denseBytes) / float64(t.SizeBytes)
	}
	row.DeltaAccPP = row.TestAcc - baseTestAcc
	row.GapPP = row.TrainAcc - row.TestAcc
	return row
}

// scoreBaseline adds the dense baseline's row: its file is dense float32,
// what compression ratios divide. testAcc is the last epoch's.
func (r *runner) scoreBaseline(wall time.Duration, testAcc float64) error {
	model := r.baseline
	_, trainAcc, err := evaluate(r.ctx, model, r.train, 0)
	if err != nil {
		return err
	}
	stored, err := storeModel(model, true, false)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	run := model.Clone()
	run.PrepareInference()
	base := newRow(r.spec.Name, "dense", "fp32", run, stored.size(), trainAcc, testAcc, 0)
	base.SetStored(stored.size(), stored.size())
	base.DeltaAccPP = 0
	base.WallS = wall.Seconds()
	if base.LatencyUsB1, base.LatencyUsB256, err = latency(r.ctx, run, r.test.X); err != nil {
		return err
	}
	r.base = base
	r.emit(BaselineEvent{Trained: &Trained{Spec: r.spec, Model: model.Clone(), Train: r.train, Test: r.test, Baseline: base}})
	if err := r.saveRow(base, stored, model); err != nil {
		return err
	}
	return r.addRow(base, model)
}

// scoreRow evaluates m on the whole training and test sets, builds its
// inference plan (so the FLOPs and latency columns are those of the
// sparse or int8 form it runs as) and adds its row, its size that of its
// model file (Huffman-coded when huffman). It emits the row's per-layer
// stats with the file's layer sizes, and with --save writes the file.
func (r *runner) scoreRow(technique, setting string, m *nn.Sequential, wall time.Duration, huffman bool) error {
	r.stage(StageEvaluating, technique+" "+setting)
	_, trainAcc, err := evaluate(r.ctx, m, r.train, 0)
	if err != nil {
		return err
	}
	_, testAcc, err := evaluate(r.ctx, m, r.test, 0)
	if err != nil {
		return err
	}
	stored, err := storeModel(m, false, huffman)
	if err != nil {
		return fmt.Errorf("%s %s: %w", technique, setting, err)
	}
	// The plan is built on a copy: m may go on training or be pruned
	// further (iterative rounds, pipeline stages), which would leave a plan
	// stale.
	run := m.Clone()
	run.PrepareInference()
	row := newRow(r.spec.Name, technique, setting, run, r.base.SizeBytes, trainAcc, testAcc, r.base.TestAcc)
	row.SetStored(stored.size(), r.base.SizeBytes)
	row.WallS = wall.Seconds()
	if row.LatencyUsB1, row.LatencyUsB256, err = latency(r.ctx, run, r.test.X); err != nil {
		return err
	}
	r.emit(LayersEvent{Phase: technique + " " + setting, Layers: stored.layerStats(run.Stats())})
	if err := r.saveRow(row, stored, m); err != nil {
		return err
	}
	return r.addRow(row, m)
}

// saveRow writes a row's model file into the --save directory (nothing
// without one) as EXPERIMENT-NN-TECHNIQUE.prtm, NN the row's index in the
// table, and m, the row's model, as .safetensors beside it with the
// metadata PyTorch needs to run it (see modelfile.WriteSafetensorsInfo).
func (r *runner) saveRow(row results.Row, stored storedModel, m *nn.Sequential) error {
	if r.saveDir == "" {
		return nil
	}
	stem := filepath.Join(r.saveDir, RowFileStem(row, len(r.report.Rows)))
	if err := results.WriteFileAtomic(stem+ModelFileExt, stored.file); err != nil {
		return fmt.Errorf("save %s: %w", stem+ModelFileExt, err)
	}
	var buf bytes.Buffer
	info := exportInfo(r.spec, r.test)
	info.Technique, info.Setting = row.Technique, row.Setting
	if err := modelfile.WriteSafetensorsInfo(&buf, m, info); err != nil {
		return fmt.Errorf("save %s: %w", stem+SafetensorsExt, err)
	}
	if err := results.WriteFileAtomic(stem+SafetensorsExt, buf.Bytes()); err != nil {
		return fmt.Errorf("save %s: %w", stem+SafetensorsExt, err)
	}
	return nil
}

// exportInfo is what a safetensors export of s's models records beside
// the weights: the dataset, its classes, and how an example becomes the
// model's input — pixel bytes scaled by 1/255 and standardized as the
// run did, or synthetic points as they are.
func exportInfo(s spec.Spec, test *data.Set) modelfile.Info {
	info := modelfile.Info{Dataset: s.Dataset.Name, Classes: test.ClassNames}
	in := s.Dataset.Input()
	if !in.Image {
		info.Input = &modelfile.Input{Shape: []int{in.Width}, Scale: 1, Mean: 0, Std: 1}
		return info
	}
	images := imagesOf(s.Dataset.Name)
	mean, std := s.Model.PixelNorm(images.Mean, images.Std)
	info.Input = &modelfile.Input{Shape: []int{in.C, in.H, in.W}, Scale: 1.0 / 255, Mean: mean, Std: std}
	if info.Classes == nil {
		info.Classes = images.Classes
	}
	return info
}

// RowFileStem names the model file of row number index (from 0) of a
// table: "lenet-300-100-03-quantize", the experiment and technique with
// anything but letters, digits, '.', '_' and '-' made '-'.
func RowFileStem(row results.Row, index int) string {
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				return r
			}
			return '-'
		}, s)
		return strings.Trim(s, "-.")
	}
	exp := clean(row.Experiment)
	if exp == "" {
		exp = "model"
	}
	return fmt.Sprintf("%s-%02d-%s", exp, index, clean(row.Technique))
}

// latency measures m's median inference time per batch of 1 and of 256
// on inputs x: the row's latency columns.
func latency(ctx context.Context, m *nn.Sequential, x nn.Matrix) (b1, b256 results.Measured, err error) {
	us1, us256, err := bench.Latency(ctx, m, x)
	if err != nil {
		return results.Measured{}, results.Measured{}, err
	}
	return results.Measure(us1), results.Measure(us256), nil
}
