package experiments

import (
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/presets"
)

// validSpec is a small, valid spec; the error cases below break one line.
const validSpec = `name: tiny
description: a tiny test sp
seed: 7
dataset:
  name: blobs
  classes: 3
  dim: 4
  samples: 120
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dropout, rate: 0.1}
    - {type: dense, units: 3, name: out}
train:
  optimizer: adam
  lr: 0.01
  epochs: 2
  batch: 16
compress:
  - {technique: prune, ratio: 0.5, finetune_epochs: 1}
  - {technique: quantize, bits: 4}
  - {technique: lowrank, layer: fc1, rank: 2}
`

func TestBuildModel(t *testing.T) {
	s, err := spec.Parse("tiny.yaml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	m1, err := BuildModel(s)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := BuildModel(s)
	if len(m1.Layers) != 4 {
		t.Fatalf("%d layers, want 4", len(m1.Layers))
	}
	fc1, out := m1.Layers[0].(*nn.Dense), m1.Layers[3].(*nn.Dense)
	if fc1.In != 4 || fc1.Out != 8 || out.In != 8 || out.Out != 3 || out.LayerName != "out" {
		t.Errorf("shapes: fc1 %d×%d, out %s %d×%d", fc1.In, fc1.Out, out.LayerName, out.In, out.Out)
	}
	if d, ok := m1.Layers[2].(*nn.Dropout); !ok || d.Rate != 0.1 {
		t.Errorf("layer 2 = %#v, want dropout 0.1", m1.Layers[2])
	}
	w1, w2 := fc1.W.Value.Data, m2.Layers[0].(*nn.Dense).W.Value.Data
	for i := range w1 {
		if w1[i] != w2[i] {
			t.Fatal("same seed gave different weights")
		}
	}
	s.Seed++
	m3, _ := BuildModel(s)
	same := 0
	for i, v := range m3.Layers[0].(*nn.Dense).W.Value.Data {
		if v == w1[i] {
			same++
		}
	}
	if same == len(w1) {
		t.Error("a different seed gave the same weights")
	}
	s.Train.LR = 2
	if _, err := BuildModel(s); err == nil {
		t.Error("BuildModel of an invalid spec: no error")
	}
}

// TestPresetsBuild: every shipped preset builds its model.
func TestPresetsBuild(t *testing.T) {
	for _, name := range presets.Names() {
		s, err := spec.Load(name)
		if err != nil {
			t.Errorf("preset %s: %v", name, err)
			continue
		}
		if _, err := BuildModel(s); err != nil {
			t.Errorf("preset %s: BuildModel: %v", name, err)
		}
	}
}
