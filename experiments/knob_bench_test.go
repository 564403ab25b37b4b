package experiments

import (
	"context"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/spec"

	"github.com/prunerlab/pruner-tui/core/data"
)

// BenchmarkKnobPreview times what a knob change waits for before its test
// accuracy shows: Trained.Preview's first stage on LeNet-300-100 with the
// 10,000 MNIST test images (and the first 10,000 training images for the
// train accuracy). The weights are the untrained initialization: speed does
// not depend on their values. Run with:
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
	sp, err := spec.Load("lenet-300-100")
	if err != nil {
		b.Fatal(err)
	}
	m, err := BuildModel(sp)
	if err != nil {
		b.Fatal(err)
	}
	tr := &Trained{Spec: sp, Model: m, Train: train, Test: test}
	for _, c := range []struct {
		name string
		s    Setting
	}{
		{"prune0.05", Setting{PruneRatio: 0.05}},
		{"prune0.90", Setting{PruneRatio: 0.9}},
		{"bits4", Setting{Bits: 4}},
		{"rank20", Setting{Rank: 20}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := tr.Preview(context.Background(), c.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
