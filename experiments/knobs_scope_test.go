package experiments

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// The prune knob's scope: "global" ranks every weight together, so the
// same ratio takes the same number of weights overall but not from each
// layer alike; its setting column says so as a YAML step's row does.
func TestSettingPruneScope(t *testing.T) {
	if got := (Setting{PruneRatio: 0.9, PruneScope: "global", Bits: 4}).String(); got != "ratio=0.90 scope=global bits=4" {
		t.Errorf("String = %q", got)
	}
	if got := (Setting{PruneRatio: 0.9, PruneScope: "layer"}).String(); got != "ratio=0.90" {
		t.Errorf("layer scope is the default and unsaid: %q", got)
	}
	if got := (Setting{PruneScope: "global"}).String(); got != "dense" {
		t.Errorf("a scope without a ratio prunes nothing: %q", got)
	}
	if err := (Setting{PruneRatio: 0.5, PruneScope: "model"}).Validate(nil); err == nil || err.Error() != `prune scope must be layer, global, filters or neurons, got "model"` {
		t.Errorf("bad scope: %v", err)
	}

	tr := trainedTiny(t)
	kept := func(s Setting) (fc1, fc2 int) {
		ev, err := tr.Apply(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ev.Layers {
			switch l.Name {
			case "fc1":
				fc1 = l.NonZeroW
			case "fc2":
				fc2 = l.NonZeroW
			}
		}
		return fc1, fc2
	}
	// fc1 has 16·32 = 512 weights, fc2 32·3 = 96: per layer 90% leaves
	// 51 and 10; globally 61 of the 608 stay, wherever the largest are.
	l1, l2 := kept(Setting{PruneRatio: 0.9})
	g1, g2 := kept(Setting{PruneRatio: 0.9, PruneScope: "global"})
	if l1 != 51 || l2 != 10 {
		t.Errorf("layer scope keeps %d and %d weights, want 51 and 10", l1, l2)
	}
	if g1+g2 != 61 || g1 == 51 {
		t.Errorf("global scope keeps %d and %d weights, want 61 in all, not split as per layer", g1, g2)
	}

	// Neurons: half of fc1's 32 removed whole, with fc2's matching inputs;
	// the output layer keeps its 3 classes.
	ev, err := tr.Apply(context.Background(), Setting{PruneRatio: 0.5, PruneScope: "neurons"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Row.Setting != "neurons=0.50" || ev.Row.ParamsTotal != 16*16+16+16*3+3 {
		t.Errorf("neurons=0.50: setting %q, %d parameters, want 16·16+16 + 16·3+3", ev.Row.Setting, ev.Row.ParamsTotal)
	}
	if _, err := tr.Apply(context.Background(), Setting{PruneRatio: 0.5, PruneScope: "filters"}); err == nil ||
		err.Error() != "prune scope filters: the model has no convolution" {
		t.Errorf("filters of an MLP: %v", err)
	}
}

// The prune knob's chart: the magnitudes before pruning and the cut. With
// scope layer each layer has its own threshold and exactly its share is
// at or below it; with scope global one threshold serves every layer.
func TestMagnitudes(t *testing.T) {
	tr := trainedTiny(t)
	for _, scope := range []string{"layer", "global"} {
		hs, _, err := tr.Magnitudes(Setting{PruneRatio: 0.5, PruneScope: scope})
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 3 || hs[0].Layer != AllLayers || hs[1].Layer != "fc1" || hs[2].Layer != "fc2" {
			t.Fatalf("%s: histograms of %v", scope, hs)
		}
		if hs[0].Total != 608 || hs[1].Total != 512 || hs[2].Total != 96 {
			t.Errorf("%s: totals %d %d %d", scope, hs[0].Total, hs[1].Total, hs[2].Total)
		}
		for _, h := range hs[1:] {
			sum := 0
			for _, c := range h.Counts {
				sum += c
			}
			if sum != h.Total || !h.HasThreshold || h.Threshold <= 0 || h.Threshold >= h.Hi {
				t.Errorf("%s %s: %d binned of %d, threshold %v of max %v", scope, h.Layer, sum, h.Total, h.Threshold, h.Hi)
			}
			// Every weight at or below the threshold is pruned, none above.
			d, _ := tr.Model.DenseLayers([]string{h.Layer})
			below := 0
			for _, w := range d[0].W.Value.Data {
				if math.Abs(float64(w)) <= h.Threshold {
					below++
				}
			}
			if below != h.Pruned {
				t.Errorf("%s %s: %d weights at or below the threshold, %d pruned", scope, h.Layer, below, h.Pruned)
			}
		}
		if scope == "layer" {
			if hs[0].HasThreshold || hs[1].Pruned != 256 || hs[2].Pruned != 48 {
				t.Errorf("layer scope: pooled threshold %v, pruned %d and %d (want 256 and 48)", hs[0].HasThreshold, hs[1].Pruned, hs[2].Pruned)
			}
		} else if hs[1].Threshold != hs[2].Threshold || hs[0].Threshold != hs[1].Threshold || hs[0].Pruned != 304 {
			t.Errorf("global scope: thresholds %v %v %v, %d pruned of 608", hs[0].Threshold, hs[1].Threshold, hs[2].Threshold, hs[0].Pruned)
		}
	}
	// No pruning: the magnitudes, and no cut.
	hs, _, err := tr.Magnitudes(Setting{Bits: 4})
	if err != nil || len(hs) != 3 || hs[1].HasThreshold || hs[1].Pruned != 0 {
		t.Errorf("unpruned magnitudes %+v, %v", hs, err)
	}
	// The preview carries them too, of the factors when the rank knob is on.
	ev, err := tr.Apply(context.Background(), Setting{PruneRatio: 0.5, Rank: 4})
	if err != nil || len(ev.Magnitudes) != 4 || ev.Magnitudes[1].Layer != "fc1.A" {
		t.Errorf("Apply's magnitudes %v, %v", ev.Magnitudes, err)
	}
}

// Latency measures a knob setting as a run measures its rows: on the
// kernels of its inference plan.
func TestTrainedLatency(t *testing.T) {
	tr := trainedTiny(t)
	m, err := tr.Latency(context.Background(), Setting{PruneRatio: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if m.LatencyUsB1.Or(0) <= 0 || m.LatencyUsB256.Or(0) <= 0 || m.FLOPs <= 0 {
		t.Errorf("measurement %+v", m)
	}
	run := tr.Model.Clone()
	run.PrepareInference()
	if dense := run.Totals().FLOPs; m.FLOPs > dense {
		t.Errorf("pruned setting executes %d multiply-adds, the dense model %d", m.FLOPs, dense)
	}
	if _, err := tr.Latency(context.Background(), Setting{Bits: 9}); err == nil {
		t.Error("an invalid setting was measured")
	}
	_ = nn.WeightLayers
}

// Every stage of a run says which part of the run it is in: the baseline
// is part 1, each compress entry the next; fine-tunes of the knobs are
// outside a run and carry none.
func TestStagePartsOfRun(t *testing.T) {
	rec := &recorder{}
	if _, err := Run(context.Background(), parseValid(t, validSpec), Options{}, rec); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rec.events {
		if s, ok := e.(StageEvent); ok {
			got = append(got, fmt.Sprintf("%d/%d %s", s.Part, s.Parts, s.Stage))
		}
	}
	want := "1/4 loading data, 1/4 building model, 1/4 training, 1/4 training, " +
		"2/4 compressing, 2/4 fine-tuning, 2/4 evaluating, 3/4 compressing, 3/4 evaluating, " +
		"4/4 compressing, 4/4 evaluating, 4/4 done"
	if strings.Join(got, ", ") != want {
		t.Errorf("stage parts:\n%s\nwant:\n%s", strings.Join(got, ", "), want)
	}
	ft := &recorder{}
	if _, err := trainedTiny(t).FineTune(context.Background(), Setting{PruneRatio: 0.5}, 1, ft); err != nil {
		t.Fatal(err)
	}
	for _, e := range ft.events {
		if s, ok := e.(StageEvent); ok && (s.Part != 0 || s.Parts != 0) {
			t.Errorf("a fine-tune's stage %+v carries a part", s)
		}
	}
}
