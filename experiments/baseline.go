package experiments

import (
	"fmt"
	"os"
	"slices"

	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// loadBaseline reads the trained baseline of Options.Baseline into model,
// the spec's model as built: the file must hold the same layers (names,
// kinds, shapes), as `run --save` writes the dense row's. Its parameters
// replace model's; the spec's layers without parameters (dropout, pooling)
// stay as the spec has them.
func loadBaseline(path string, model *nn.Sequential) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--baseline: %w", err)
	}
	defer f.Close()
	loaded, err := modelfile.Read(f)
	if err != nil {
		return fmt.Errorf("--baseline %s: %w", path, err)
	}
	if err := sameLayers(loaded, model); err != nil {
		return fmt.Errorf("--baseline %s: %w", path, err)
	}
	have, want := loaded.Params(), model.Params()
	for i, p := range want {
		copy(p.Value.Data, have[i].Value.Data)
	}
	return nil
}

// sameLayers checks that the weight layers of got are those of want, in
// order, with the same names, kinds and shapes.
func sameLayers(got, want *nn.Sequential) error {
	shape := func(m *nn.Sequential) []string {
		var out []string
		for _, l := range m.Layers {
			s := l.Stats()
			if len(l.Params()) == 0 {
				continue
			}
			d := fmt.Sprintf("%s (%s %s", s.Name, s.Kind, modelfile.FormatShape(s.In, s.Out))
			if s.Window > 0 {
				d += fmt.Sprintf(" %d×%d to %d×%d", s.Window, s.Window, s.Map.H, s.Map.W)
			}
			out = append(out, d+")")
		}
		return out
	}
	g, w := shape(got), shape(want)
	if slices.Equal(g, w) {
		return nil
	}
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Errorf("its layer %d is %s, the spec's model has %s there: give the dense model this spec trains (run --save writes it)", i+1, g[i], w[i])
		}
	}
	return fmt.Errorf("it has %d weight layers, the spec's model %d: give the dense model this spec trains (run --save writes it)", len(g), len(w))
}

// checkBaselineSteps refuses what a loaded baseline cannot give: lottery
// steps rewind to the baseline's weights during its training.
func checkBaselineSteps(s spec.Spec) error {
	for i, st := range s.Compress {
		if p, ok := st.(spec.Prune); ok && p.Schedule == "lottery" {
			return fmt.Errorf("--baseline: compress[%d] is a lottery step, which rewinds to the baseline's weights while it trains: run it without --baseline", i)
		}
	}
	return nil
}
