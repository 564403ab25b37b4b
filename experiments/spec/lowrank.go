package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prunerlab/pruner-tui/core/lowrank"
)

// Lowrank factorizes dense layers by truncated SVD into two factors of a
// rank that saves parameters: r·(in+out) < in·out. The rank is given for
// one layer, by layer, or chosen at run time as the smallest that keeps a
// share of the energy Σσ².
type Lowrank struct {
	Layer      string         `yaml:"layer"`      // the dense layer to factorize; "" = the first one
	Rank       int            `yaml:"rank"`       // rank of the factorization of Layer
	Ranks      map[string]int `yaml:"ranks"`      // ranks by layer, to factorize several layers
	Energy     float64        `yaml:"energy"`     // instead of a rank: keep the singular values holding this share of Σσ²
	Layers     []string       `yaml:"layers"`     // with energy: the layers to factorize
	Randomized bool           `yaml:"randomized"` // randomized SVD (Halko et al. 2011) instead of the exact one
	Tune       `yaml:",inline"`
}

func (Lowrank) Technique() string { return "lowrank" }
func (Lowrank) Label() string     { return "lowrank" }

// resolved makes the first dense layer the default layer (when no layer,
// layers or ranks name one) and fills the fine-tuning rate.
func (l Lowrank) resolved(r *resolver) Step {
	if dense := r.spec.DenseNames(); l.Layer == "" && len(l.Layers) == 0 && len(l.Ranks) == 0 && len(dense) > 0 {
		l.Layer = dense[0]
	}
	l.Tune = l.Tune.resolved(r)
	return l
}

func (l Lowrank) check(c *checker) *Error {
	given := 0
	for _, set := range []bool{l.Rank != 0, len(l.Ranks) > 0, l.Energy != 0} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return c.bad("rank", "must be given: a rank for layer, ranks by layer, or energy", l.Rank)
	case given > 1:
		return c.wrong("rank", "give one of rank (with layer), ranks or energy")
	case l.Rank != 0:
		if len(l.Layers) > 0 {
			return c.wrong("layers", "a rank applies to one layer: use layer (or ranks for several layers)")
		}
		if err := l.checkLayer(c, c.field("layer"), l.Layer); err != nil {
			return err
		}
		if err := l.checkRank(c, c.field("rank"), l.Layer, l.Rank); err != nil {
			return err
		}
		return l.Tune.check(c)
	case len(l.Ranks) > 0:
		if l.Layer != "" || len(l.Layers) > 0 {
			return c.wrong("ranks", "ranks names its layers: remove layer and layers")
		}
		for _, name := range slices.Sorted(maps.Keys(l.Ranks)) {
			p := c.field("ranks." + name)
			if err := l.checkLayer(c, p, name); err != nil {
				return err
			}
			if err := l.checkRank(c, p, name, l.Ranks[name]); err != nil {
				return err
			}
		}
		return l.Tune.check(c)
	}
	return l.checkEnergy(c)
}

func (l Lowrank) checkEnergy(c *checker) *Error {
	if !(l.Energy > 0 && l.Energy <= 1) {
		return c.bad("energy", "must be in (0, 1]: the share of Σσ² the kept singular values hold", l.Energy)
	}
	if l.Layer != "" && len(l.Layers) > 0 {
		return c.wrong("layers", "give layer or layers, not both")
	}
	if l.Layer != "" {
		if err := l.checkLayer(c, c.field("layer"), l.Layer); err != nil {
			return err
		}
	}
	for j, name := range l.Layers {
		if err := l.checkLayer(c, fmt.Sprintf("%s[%d]", c.field("layers"), j), name); err != nil {
			return err
		}
	}
	return l.Tune.check(c)
}

// checkLayer checks that name (at path p) is a weight layer (dense or
// conv) not yet factorized.
func (l Lowrank) checkLayer(c *checker, p, name string) *Error {
	if slices.Contains(c.names.layers, name) {
		return nil
	}
	what := "must name a dense layer"
	if len(c.spec.DenseNames()) < len(c.spec.WeightNames()) {
		what = "must name a dense or conv layer"
	}
	msg := what + " (" + strings.Join(c.names.layers, ", ") + ")"
	if slices.Contains(c.names.factored, name) {
		msg = what + " not yet factorized (" + strings.Join(c.names.layers, ", ") + ")"
	}
	return fieldError(p, msg, quote(name))
}

// checkRank checks that rank saves parameters for layer name.
func (l Lowrank) checkRank(c *checker, p, name string, rank int) *Error {
	in, out := c.spec.WeightShape(name)
	best := lowrank.MaxSavingRank(in, out)
	if best == 0 {
		return problem(p, fmt.Sprintf("no rank saves parameters for %s (%d→%d): r·(in+out) ≥ in·out for every r ≥ 1", name, in, out))
	}
	if rank < 1 || rank > best {
		return fieldError(p, fmt.Sprintf("must be in [1, %d] for %s (%d→%d): a rank r saves parameters only while r·(in+out) < in·out", best, name, in, out), rank)
	}
	return nil
}

// Factorizes lists the layers the step factorizes, in model order.
func (l Lowrank) Factorizes(s Spec) []string {
	var out []string
	for _, name := range s.WeightNames() {
		if name == l.Layer || l.Ranks[name] != 0 || slices.Contains(l.Layers, name) {
			out = append(out, name)
		}
	}
	return out
}

// Setting is the step's setting before an energy has chosen its ranks.
func (l Lowrank) Setting() string { return l.SettingWith(nil) }

// SettingWith is a row's setting: "rank=20@fc1", "ranks=fc1:20,fc2:10" or
// "energy=0.90@fc1" followed by the ranks the energy chose
// ("ranks=fc1:37"), then "randomized" and fine-tuning.
func (l Lowrank) SettingWith(chosen map[string]int) string {
	var parts []string
	switch {
	case l.Rank != 0:
		parts = append(parts, fmt.Sprintf("rank=%d@%s", l.Rank, l.Layer))
	case len(l.Ranks) > 0:
		parts = append(parts, "ranks="+joinPerLayer(l.Ranks))
	default:
		at := l.Layer
		if len(l.Layers) > 0 {
			at = strings.Join(l.Layers, ",")
		}
		parts = append(parts, fmt.Sprintf("energy=%.2f@%s", l.Energy, at))
		if len(chosen) > 0 {
			parts = append(parts, "ranks="+joinPerLayer(chosen))
		}
	}
	if l.Randomized {
		parts = append(parts, "randomized")
	}
	return strings.Join(l.finetuneSuffix(parts), " ")
}
