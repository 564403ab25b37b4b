package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Sensitivity prunes each layer of the baseline alone at each ratio and
// records the test accuracy without fine-tuning (Han et al. 2015). It adds
// no result rows: its table is what a later prune step's ratios_from reads.
type Sensitivity struct {
	Ratios []float64 `yaml:"ratios"` // the prune ratios tried on each layer; default 0 to 0.95 in steps of 0.05
	Layers []string  `yaml:"layers"` // the layers analysed; empty = every dense layer
}

// BitSensitivity quantizes each layer alone at each width with the step's
// quantizer and records the test accuracy without fine-tuning: the table
// a later quantize step's bits_from reads.
type BitSensitivity struct {
	BitWidths []int    `yaml:"bit_widths"` // the widths tried on each layer; default 8 to 1
	Layers    []string `yaml:"layers"`     // the layers analysed; empty = every weight layer
	Quantizer `yaml:",inline"`
}

var (
	// defaultSensitivityRatios: each layer alone from 0 to 95% in steps of 5%.
	defaultSensitivityRatios = []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45,
		0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}
	// defaultBitWidths: every width from 8 bits down to binary.
	defaultBitWidths = []int{8, 7, 6, 5, 4, 3, 2, 1}
)

func (Sensitivity) Technique() string { return "sensitivity" }
func (Sensitivity) Label() string     { return "sensitivity" }

func (s Sensitivity) resolved(*resolver) Step {
	if len(s.Ratios) == 0 {
		s.Ratios = slices.Clone(defaultSensitivityRatios)
	}
	return s
}

func (s Sensitivity) check(c *checker) *Error {
	weights := c.spec.WeightNames()
	if err := c.checkDense("layers", s.Layers, weights, "must name a weight layer ("+strings.Join(weights, ", ")+")"); err != nil {
		return err
	}
	if len(s.Ratios) == 0 {
		return c.bad("ratios", "must list at least one prune ratio in [0, 0.99]", "an empty list")
	}
	for j, r := range s.Ratios {
		if !(r >= 0 && r <= MaxPruneRatio) {
			return c.bad(fmt.Sprintf("ratios[%d]", j), "must be in [0, 0.99]", r)
		}
	}
	return nil
}

// Setting: "ratios=0.00-0.95 (20) layers=fc1,fc2".
func (s Sensitivity) Setting() string {
	out := "ratios=none"
	if len(s.Ratios) > 0 {
		out = fmt.Sprintf("ratios=%.2f-%.2f (%d)", slices.Min(s.Ratios), slices.Max(s.Ratios), len(s.Ratios))
	}
	if len(s.Layers) > 0 {
		out += " layers=" + strings.Join(s.Layers, ",")
	}
	return out
}

func (BitSensitivity) Technique() string { return "bit-sensitivity" }
func (BitSensitivity) Label() string     { return "bit-sensitivity" }

func (b BitSensitivity) resolved(*resolver) Step {
	b.Quantizer = b.Quantizer.resolved()
	if len(b.BitWidths) == 0 {
		b.BitWidths = slices.Clone(defaultBitWidths)
	}
	return b
}

func (b BitSensitivity) check(c *checker) *Error {
	if err := c.checkList("layers", b.Layers); err != nil {
		return err
	}
	if len(b.BitWidths) == 0 {
		return c.bad("bit_widths", "must list at least one bit width in [1, 8]", "an empty list")
	}
	for j, w := range b.BitWidths {
		if !(w >= 1 && w <= MaxBits) {
			return c.bad(fmt.Sprintf("bit_widths[%d]", j), "must be in [1, 8]", w)
		}
	}
	return b.Quantizer.check(c)
}

// Setting: "bits=8-1 (8)", the quantizer, layers.
func (b BitSensitivity) Setting() string {
	out := "bits=none"
	if len(b.BitWidths) > 0 {
		out = fmt.Sprintf("bits=%d-%d (%d)", slices.Max(b.BitWidths), slices.Min(b.BitWidths), len(b.BitWidths))
	}
	if extra := b.Quantizer.parts(); len(extra) > 0 {
		out += " " + strings.Join(extra, " ")
	}
	if len(b.Layers) > 0 {
		out += " layers=" + strings.Join(b.Layers, ",")
	}
	return out
}
