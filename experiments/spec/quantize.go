package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Quantize snaps weights to a uniform grid of 2^bits levels (codes and a
// scale per output channel are what the model file stores), optionally
// with per-layer widths (mixed precision), activation quantization and
// quantization-aware training.
type Quantize struct {
	Bits               int      `yaml:"bits"`   // bits per weight, 1 to 8 (32 = float32, a no-op)
	Layers             []string `yaml:"layers"` // the layers bits applies to; empty = every weight layer
	Quantizer          `yaml:",inline"`
	BitsPerLayer       map[string]int `yaml:"bits_per_layer"`      // mixed precision: bit widths by layer; bits applies to the others
	BitsFrom           string         `yaml:"bits_from"`           // "sensitivity": per-layer widths from the last bit-sensitivity step
	MaxLossPP          float64        `yaml:"max_loss_pp"`         // bits_from: the accuracy a layer may lose alone, in pp; 0 = 1
	ActivationBits     int            `yaml:"activation_bits"`     // also quantize each weight layer's input, 2 to 8 bits
	CalibrationSamples int            `yaml:"calibration_samples"` // activation_bits: training examples the ranges come from; 0 = 1000
	QAT                bool           `yaml:"qat"`                 // quantization-aware training: fine-tune through the quantizer
	Tune               `yaml:",inline"`
}

// Quantizer holds the keys of the uniform quantizer, shared by quantize
// and bit-sensitivity steps.
type Quantizer struct {
	Mode        string  `yaml:"mode"`        // symmetric (default) or asymmetric (a zero point)
	Granularity string  `yaml:"granularity"` // channel (default: a scale per output channel) or tensor
	Calibration string  `yaml:"calibration"` // minmax (default) or percentile: how the range is set
	Percentile  float64 `yaml:"percentile"`  // calibration percentile: the range's percentile of |w|, in [50, 100]; 0 = 99.9
}

// The quantizer's vocabulary and defaults.
var (
	modeNames        = []string{"symmetric", "asymmetric"}
	granularityNames = []string{"channel", "tensor"}
	calibrationNames = []string{"minmax", "percentile"}
)

const (
	// Float32Bits is the bit width that keeps a layer float32.
	Float32Bits               = 32
	defaultPercentile         = 99.9
	defaultCalibrationSamples = 1000
	maxCalibrationSamples     = 100_000
)

// Quantizes reports whether bits asks for quantization (1..8); 0 and 32
// keep float32.
func Quantizes(bits int) bool { return bits >= 1 && bits <= MaxBits }

func (q Quantizer) resolved() Quantizer {
	if q.Calibration == "percentile" && q.Percentile == 0 {
		q.Percentile = defaultPercentile
	}
	return q
}

// check checks mode, granularity, calibration and percentile.
func (q Quantizer) check(c *checker) *Error {
	if q.Mode != "" && !slices.Contains(modeNames, q.Mode) {
		return c.bad("mode", oneOf(modeNames), quote(q.Mode))
	}
	if q.Granularity != "" && !slices.Contains(granularityNames, q.Granularity) {
		return c.bad("granularity", oneOf(granularityNames)+" (a scale per output channel, or one per layer)", quote(q.Granularity))
	}
	if q.Calibration != "" && !slices.Contains(calibrationNames, q.Calibration) {
		return c.bad("calibration", oneOf(calibrationNames), quote(q.Calibration))
	}
	if q.Calibration != "percentile" && q.Percentile != 0 {
		return c.wrong("percentile", "applies only with calibration: percentile")
	}
	if q.Calibration == "percentile" && !(q.Percentile >= 50 && q.Percentile <= 100) {
		return c.bad("percentile", "must be in [50, 100], e.g. 99.9 (the share of weights inside the range)", q.Percentile)
	}
	return nil
}

// parts are the quantizer's words in a setting, what is not the default:
// "asym", "per-tensor", "p99.9".
func (q Quantizer) parts() []string {
	var parts []string
	if q.Mode == "asymmetric" {
		parts = append(parts, "asym")
	}
	if q.Granularity == "tensor" {
		parts = append(parts, "per-tensor")
	}
	if q.Calibration == "percentile" {
		parts = append(parts, "p"+FormatFloat(q.Percentile))
	}
	return parts
}

func (Quantize) Technique() string { return "quantize" }
func (Quantize) Label() string     { return "quantize" }

// resolved fills the defaults: percentile 99.9 for percentile
// calibration, 1,000 calibration samples, 1 pp for bits_from, and the
// fine-tuning rate.
func (q Quantize) resolved(r *resolver) Step {
	q.Quantizer = q.Quantizer.resolved()
	if q.ActivationBits != 0 && q.CalibrationSamples == 0 {
		q.CalibrationSamples = defaultCalibrationSamples
	}
	if q.BitsFrom != "" && q.MaxLossPP == 0 {
		q.MaxLossPP = defaultMaxLossPP
	}
	q.Tune = q.Tune.resolved(r)
	return q
}

func (q Quantize) check(c *checker) *Error {
	perLayer := len(q.BitsPerLayer) > 0 || q.BitsFrom != ""
	if !(q.Bits >= 1 && q.Bits <= MaxBits || q.Bits == Float32Bits || q.Bits == 0 && perLayer) {
		want := "must be in [1, 8], or 32 for float32"
		if q.Bits == 0 {
			want += " (or give bits_per_layer or bits_from instead)"
		}
		return c.bad("bits", want, q.Bits)
	}
	if err := c.checkList("layers", q.Layers); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(q.BitsPerLayer))
	if err := c.checkKeys("bits_per_layer", keys); err != nil {
		return err
	}
	for _, name := range keys {
		if b := q.BitsPerLayer[name]; !(b >= 1 && b <= MaxBits || b == Float32Bits) {
			return c.bad("bits_per_layer."+name, "must be in [1, 8], or 32 to keep the layer float32", b)
		}
	}
	for _, check := range []func(*checker) *Error{q.Quantizer.check, q.checkBitsFrom, q.checkActivations, q.checkQAT, q.Tune.check} {
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

func (q Quantize) checkBitsFrom(c *checker) *Error {
	if q.BitsFrom == "" {
		if q.MaxLossPP != 0 {
			return c.wrong("max_loss_pp", "applies only with bits_from: sensitivity")
		}
		return nil
	}
	switch {
	case q.BitsFrom != "sensitivity":
		return c.bad("bits_from", "must be sensitivity", quote(q.BitsFrom))
	case !c.ranEarlier("bit-sensitivity"):
		return c.wrong("bits_from", "needs a bit-sensitivity step earlier in compress")
	case !(q.MaxLossPP > 0 && q.MaxLossPP <= 100):
		return c.bad("max_loss_pp", "must be in (0, 100] percentage points", q.MaxLossPP)
	}
	return nil
}

func (q Quantize) checkActivations(c *checker) *Error {
	if q.ActivationBits != 0 && !(q.ActivationBits >= 2 && q.ActivationBits <= 8) {
		return c.bad("activation_bits", "must be in [2, 8] (or left out: activations stay float32)", q.ActivationBits)
	}
	if q.ActivationBits == 0 && q.CalibrationSamples != 0 {
		return c.wrong("calibration_samples", "applies only with activation_bits: the sample calibrates the activation ranges")
	}
	if q.CalibrationSamples < 0 || q.CalibrationSamples > maxCalibrationSamples {
		return c.bad("calibration_samples", fmt.Sprintf("must be in [1, %d] training examples (0 or left out = %d)", maxCalibrationSamples, defaultCalibrationSamples), q.CalibrationSamples)
	}
	return nil
}

func (q Quantize) checkQAT(c *checker) *Error {
	if !q.QAT {
		return nil
	}
	if q.FinetuneEpochs < 1 {
		return c.bad("finetune_epochs", "must be ≥ 1 with qat: true (the epochs of quantization-aware training)", q.FinetuneEpochs)
	}
	if q.Bits == Float32Bits && len(q.BitsPerLayer) == 0 && q.BitsFrom == "" {
		return c.wrong("qat", "needs a bit width of 1 to 8 to train through, got bits 32 (float32)")
	}
	return nil
}

// Setting is the step's setting with its own per-layer widths.
func (q Quantize) Setting() string { return q.SettingWith(q.BitsPerLayer) }

// SettingWith is a row's setting: "bits=4", then what is not the
// default: perLayer (the widths used, bits_from's included), "asym",
// "per-tensor", "p99.9", "act=8", "qat", layers, fine-tuning.
func (q Quantize) SettingWith(perLayer map[string]int) string {
	var parts []string
	if q.Bits != 0 {
		parts = append(parts, fmt.Sprintf("bits=%d", q.Bits))
	}
	if q.BitsFrom != "" {
		parts = append(parts, fmt.Sprintf("bits_from=%s(%spp)", q.BitsFrom, FormatFloat(q.MaxLossPP)))
	}
	if len(perLayer) > 0 {
		parts = append(parts, "per_layer="+joinPerLayer(perLayer))
	}
	parts = append(parts, q.Quantizer.parts()...)
	if q.ActivationBits != 0 {
		parts = append(parts, fmt.Sprintf("act=%d", q.ActivationBits))
	}
	if q.QAT {
		parts = append(parts, "qat")
	}
	return strings.Join(q.finetuneSuffix(layersPart(parts, q.Layers)), " ")
}

// joinPerLayer writes per-layer values as "fc1:4,fc3:8", sorted by name.
func joinPerLayer(values map[string]int) string {
	var ov []string
	for _, name := range slices.Sorted(maps.Keys(values)) {
		ov = append(ov, fmt.Sprintf("%s:%d", name, values[name]))
	}
	return strings.Join(ov, ",")
}
