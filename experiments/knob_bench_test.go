package experiments

import (
	"context"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/spec"

	"github.com/prunerlab/pruner-tui/core/data"
)

// BenchmarkKnobPreview times what a knob change waits for before its test
// accuracy shows: Trained.Preview's first stage with the 10,000 MNIST test
// images (and the first 10,000 training images for the train accuracy), on
// LeNet-300-100 and on LeNet-5. The weights are the untrained
// initialization: speed does not depend on their values. Run with:
//
//	go test -run XXX -bench KnobPreview -count 5 ./experiments/
func BenchmarkKnobPreview(b *testing.B) {
	dir, err := data.FindMNIST("")
	if err != nil {
		b.Skip("MNIST not found:", err)
	}
	train, test, err := data.LoadMNIST(dir, quickTrainLimit, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, preset := range []struct {
		name     string
		settings []knobCase
	}{
		{"lenet-300-100", []knobCase{
			{"prune0.05", Setting{PruneRatio: 0.05}},
			{"prune0.90", Setting{PruneRatio: 0.9}},
			{"bits4", Setting{Bits: 4}},
			{"rank20", Setting{Rank: 20}},
		}},
		{"lenet5", []knobCase{
			{"prune0.90", Setting{PruneRatio: 0.9}},
			{"prune0.90-global", Setting{PruneRatio: 0.9, PruneScope: "global"}},
			{"filters0.50", Setting{PruneRatio: 0.5, PruneScope: "filters"}},
			{"bits4", Setting{Bits: 4}},
			{"rank20", Setting{Rank: 20}},
		}},
	} {
		sp, err := spec.Load(preset.name)
		if err != nil {
			b.Fatal(err)
		}
		m, err := BuildModel(sp)
		if err != nil {
			b.Fatal(err)
		}
		tr := &Trained{Spec: sp, Model: m, Train: train, Test: test}
		for _, c := range preset.settings {
			b.Run(preset.name+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, _, err := tr.Preview(context.Background(), c.s); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type knobCase struct {
	name string
	s    Setting
}
