package experiments

import (
	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
)

// Setting is one choice of the three knobs. Zero values mean "off":
// PruneRatio 0 keeps every weight, Bits 0 (or 32) keeps float32, Rank 0 keeps
// RankLayer unfactorized.
type Setting struct {
	PruneRatio float64 // fraction of weights removed per Dense layer, 0 to 0.99
	Bits       int     // bits per weight, 1 to 8, or 0/32 for float32
	Rank       int     // rank of RankLayer's factorization, 0 for off
	RankLayer  string  // the Dense layer to factorize; "" means the first one
}

// Trained is a trained dense baseline: what the knobs are applied to. Its
// model is never mutated after creation; every evaluation works on a copy,
// so a Trained may be used from several goroutines at once.
type Trained struct {
	Spec     Spec
	Model    *nn.Sequential
	Train    *data.Set
	Test     *data.Set
	Baseline Row
}

// Evaluation is the outcome of applying a Setting to a copy of a Trained.
type Evaluation struct {
	Setting Setting
	Row     Row
	Layers  []nn.LayerStats
}
