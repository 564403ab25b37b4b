package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/modelfile"
)

// SafetensorsExt is the extension of the model files model.from takes.
const SafetensorsExt = ".safetensors"

// importModel reads the file of model.from (a path relative to the spec's
// own folder, source, unless absolute): its layers become the model's
// when the spec lists none, and what its metadata says about the input
// becomes Model.Input, after checking both fit the dataset. The tensors
// are read and checked against the layers when the run loads them.
func (s *Spec) importModel(source string) *Error {
	m := &s.Model
	if !filepath.IsAbs(m.From) && !strings.HasPrefix(source, "preset:") && source != "" {
		m.From = filepath.Join(filepath.Dir(source), m.From)
	}
	if !strings.EqualFold(filepath.Ext(m.From), SafetensorsExt) {
		return fieldError("model.from", "must name a "+SafetensorsExt+" file (PyTorch's weights, or pruner-tui's export; a .prtm baseline goes to --baseline)", quote(m.From))
	}
	md, err := readMetadata(m.From)
	if err != nil {
		return problem("model.from", err.Error())
	}
	if len(m.Layers) == 0 {
		if md.Layers == nil {
			return problem("model.from", m.From+" does not record its architecture (no \"layers\" in its metadata): list the layers under model.layers")
		}
		if m.Layers, err = specLayers(md.Layers); err != nil {
			return problem("model.from", m.From+": "+err.Error())
		}
	}
	if md.Input != nil {
		if msg := s.Dataset.takes(*md.Input); msg != "" {
			return problem("model.from", m.From+": "+msg)
		}
		m.Input = md.Input
	}
	return nil
}

// readMetadata reads what the safetensors file at path says of itself.
func readMetadata(path string) (modelfile.Metadata, error) {
	f, err := os.Open(path)
	if err != nil {
		return modelfile.Metadata{}, err
	}
	defer f.Close()
	st, err := modelfile.ReadSafetensorsFile(f)
	if err != nil {
		return modelfile.Metadata{}, fmt.Errorf("%s: %w", path, err)
	}
	md, err := st.ReadMetadata()
	if err != nil {
		return modelfile.Metadata{}, fmt.Errorf("%s: %w", path, err)
	}
	return md, nil
}

// specLayers turns a file's architecture into a spec's layers: those a
// spec trains (no factorized layers, no activation quantizers).
func specLayers(layers []modelfile.Layer) ([]Layer, error) {
	out := make([]Layer, 0, len(layers))
	for i, l := range layers {
		switch {
		case l.Rank > 0:
			return nil, fmt.Errorf("layer %d, %s, is factorized (rank %d): model.from takes a model of dense and conv layers as its baseline (pruner-tui eval measures this file as it is)", i+1, l.Name, l.Rank)
		case !slices.Contains(layerTypes, l.Type):
			return nil, fmt.Errorf("layer %d, %s, is of type %q: model.from takes the layer types %s", i+1, l.Name, l.Type, strings.Join(layerTypes, ", "))
		}
		out = append(out, Layer{Type: l.Type, Name: l.Name, Units: l.Units, Filters: l.Filters, Kernel: l.Kernel,
			Stride: l.Stride, Padding: l.Padding, Size: l.Size, Rate: l.Rate})
	}
	return out, nil
}

// takes says what is wrong with feeding d's examples to a model that
// takes in ("" when they fit).
func (d Dataset) takes(in modelfile.Input) string {
	want := d.Input()
	switch {
	case want.Image && (slices.Equal(in.Shape, []int{want.C, want.H, want.W}) || slices.Equal(in.Shape, []int{want.Size()})):
		return ""
	case !want.Image && slices.Equal(in.Shape, []int{want.Width}):
		if in.Scale != 1 || in.Mean != 0 || in.Std != 1 {
			return fmt.Sprintf("its inputs are prepared as (x·%g − %g) / %g; %s examples are used as they are (scale 1, mean 0, std 1)", in.Scale, in.Mean, in.Std, d.Name)
		}
		return ""
	}
	return fmt.Sprintf("the model takes inputs of shape %v, and each example of %s is a %s", in.Shape, d.Name, want)
}

// PixelNorm is the mean and standard deviation the images of the run are
// standardized with, as (p/255 − mean)/std of a pixel byte p: the
// imported model's (Model.Input) when it has one, else the dataset's own
// (datasetMean, datasetStd).
func (m Model) PixelNorm(datasetMean, datasetStd float64) (mean, std float64) {
	if m.Input == nil {
		return datasetMean, datasetStd
	}
	return m.Input.PixelNorm()
}

// FromModelFile is the spec of a model file given by itself (the TUI's or
// run's argument): the model and its dataset as its metadata records them
// (MNIST for 28×28 inputs when it names none), trained with Adam for the
// fine-tunings, and three compressions to start from — 90% of its weights
// pruned, 8 and 4 bits — which the knobs then take further.
func FromModelFile(path string) (Spec, error) {
	md, err := readMetadata(path)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{
		Name:        modelName(path),
		Description: "the model of " + filepath.Base(path) + ", imported",
		Dataset:     Dataset{Name: "mnist"},
		Model:       Model{From: path},
		Train:       Train{Optimizer: "adam", LR: 0.001, Epochs: 1, Batch: 64},
		Compress: Steps{
			Prune{Ratio: 0.9, Scope: "global"},
			Quantize{Bits: 8},
			Quantize{Bits: 4},
		},
		Source: path,
	}
	switch md.Dataset {
	case "", "mnist":
	case "fashion-mnist":
		s.Dataset.Name = md.Dataset
	default:
		return Spec{}, fmt.Errorf("%s: its model was trained on %s: a model file by itself runs on mnist or fashion-mnist; for another dataset write a spec with model: {from: %s}", path, md.Dataset, path)
	}
	if e := s.importModel(""); e != nil {
		e.Source = path
		return Spec{}, e
	}
	s = s.resolved()
	if e := s.validate(nil); e != nil {
		e.Source = path
		return Spec{}, e
	}
	return s, nil
}

// modelName is an experiment name from a file's: its stem, with what a
// name may not hold made '-', at most MaxNameLength characters.
func modelName(path string) string {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := []rune(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || !strings.ContainsRune("-_.", r) && !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return '-'
		}
		return r
	}, stem))
	if len(name) > MaxNameLength {
		name = name[:MaxNameLength]
	}
	if len(name) == 0 {
		return "model"
	}
	return string(name)
}
