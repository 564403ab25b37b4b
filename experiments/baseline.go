package experiments

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// baselineFrom is where s's trained baseline comes from — the file of
// model.from or of Options.Baseline (--baseline) — and the name the
// messages give it; "" when it is trained.
func baselineFrom(s spec.Spec, opts Options) (path, what string, err error) {
	switch {
	case s.Model.From != "" && opts.Baseline != "":
		return "", "", fmt.Errorf("--baseline %s: the spec's model.from (%s) already gives the trained baseline: keep one", opts.Baseline, s.Model.From)
	case s.Model.From != "" && s.Source != s.Model.From && !strings.HasPrefix(s.Source, "preset:") && s.Source != "":
		return s.Model.From, s.Source + ": model.from", nil
	case s.Model.From != "":
		return s.Model.From, "model.from", nil
	case opts.Baseline != "":
		return opts.Baseline, "--baseline", nil
	}
	return "", "", nil
}

// loadBaseline reads the trained baseline in the file path into model,
// the spec's model as built; what names the file's origin in errors. A
// model file (.prtm, as `run --save` writes the dense row's) must hold
// the same layers (names, kinds, shapes); a safetensors file must hold
// every tensor of the model's layers, in PyTorch's layout and shapes,
// and no other (see modelfile.Safetensors.LoadInto). The file's
// parameters replace model's; the spec's layers without parameters
// (dropout, pooling) stay as the spec has them.
func loadBaseline(path, what string, model *nn.Sequential) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), SafetensorsExt) {
		st, err := modelfile.ReadSafetensorsFile(f)
		if err == nil {
			err = st.LoadInto(model)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, path, err)
		}
		return nil
	}
	loaded, err := modelfile.Read(f)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := sameLayers(loaded, model); err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
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
// steps rewind to the baseline's weights during its training. what names
// where the baseline comes from.
func checkBaselineSteps(s spec.Spec, what string) error {
	for i, st := range s.Compress {
		if p, ok := st.(spec.Prune); ok && p.Schedule == "lottery" {
			return fmt.Errorf("%s: compress[%d] is a lottery step, which rewinds to the baseline's weights while it trains: run it with a baseline trained here", what, i)
		}
	}
	return nil
}
