package tui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

func TestSweepRunsAndShowsItsRows(t *testing.T) {
	s, err := spec.Parse("sw.yaml", []byte(`name: sw
seed: 3
dataset: {name: spirals, classes: 3, samples: 200}
model: {layers: [{type: dense, units: 8}, {type: relu}, {type: dense, units: 3}]}
train: {optimizer: adam, lr: 0.01, epochs: 1, batch: 32}
compress: [{technique: quantize, bits: 4}]
sweep:
  grid:
    compress[0].bits: [2, 8]
`))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var live []string
	sink := experiments.SinkFunc(func(e experiments.Event) {
		if r, ok := e.(experiments.ResultEvent); ok {
			mu.Lock()
			live = append(live, r.Row.Setting)
			mu.Unlock()
		}
	})
	end := runSweep(context.Background(), s, experiments.Options{}, sink)
	if end.Err != nil {
		t.Fatal(end.Err)
	}
	var got []string
	for _, r := range end.Table {
		got = append(got, r.Setting)
	}
	want := "seed=3: fp32|compress[0].bits=2 seed=3: bits=2|compress[0].bits=8 seed=3: bits=8"
	if strings.Join(got, "|") != want || len(live) != 3 {
		t.Errorf("rows %q (live %q), want %q", got, live, want)
	}
}
