package prune

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// fractionNonZero is a toy "accuracy": the fraction of weights left.
func fractionNonZero(m *nn.Sequential) float64 {
	n, nz := 0, 0
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			n += len(d.W.Value.Data)
			nz += d.W.NonZero()
		}
	}
	return float64(nz) / float64(n)
}

// sumAbs is a toy "accuracy" that shows which weights went.
func sumAbs(m *nn.Sequential) float64 {
	var s float64
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			for _, w := range d.W.Value.Data {
				s += math.Abs(float64(w))
			}
		}
	}
	return s
}

func TestSensitivityPrunesEachLayerAlone(t *testing.T) {
	m := twoLayerModel() // fc1 0.1 −0.2 0.3 0.4 | fc2 −5 1 2 3
	before := paramValues(m)
	rows, err := Sensitivity(m, nil, []float64{0, 0.5, 0.75}, fractionNonZero)
	if err != nil {
		t.Fatal(err)
	}
	// 8 weights; 0.5 of one layer removes 2 (6/8 left), 0.75 removes 3 (5/8).
	want := []SensitivityRow{
		{"fc1", 0, 1}, {"fc1", 0.5, 0.75}, {"fc1", 0.75, 0.625},
		{"fc2", 0, 1}, {"fc2", 0.5, 0.75}, {"fc2", 0.75, 0.625},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %v, want %v", rows, want)
	}
	if !reflect.DeepEqual(paramValues(m), before) || m.Layers[0].(*nn.Dense).W.Mask != nil {
		t.Error("Sensitivity changed the model")
	}

	// By magnitude: fc1 at 0.5 loses 0.1 and 0.2 (Σ|w| 12.0 → 11.7); fc2
	// at 0.5 loses 1 and 2 (→ 9.0).
	rows, err = Sensitivity(m, []string{"fc2", "fc1"}, []float64{0.5}, sumAbs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Layer != "fc1" || rows[1].Layer != "fc2" ||
		math.Abs(rows[0].Accuracy-11.7) > 1e-6 || math.Abs(rows[1].Accuracy-9) > 1e-6 {
		t.Errorf("rows = %v, want fc1 11.7 then fc2 9 (model order)", rows)
	}
}

// eval may change the clone it gets; the next evaluation starts afresh.
func TestSensitivityGivesEachEvalAFreshClone(t *testing.T) {
	m := twoLayerModel()
	rows, err := Sensitivity(m, []string{"fc1"}, []float64{0, 0.25}, func(c *nn.Sequential) float64 {
		acc := fractionNonZero(c)
		for _, p := range c.Params() {
			clear(p.Value.Data)
		}
		return acc
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Accuracy != 1 || rows[1].Accuracy != 0.875 {
		t.Errorf("rows = %v, want accuracies 1 and 0.875", rows)
	}
	if m.Layers[0].(*nn.Dense).W.NonZero() != 4 {
		t.Error("eval's changes reached the model")
	}
}

func TestSensitivityStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	rows, err := SensitivityContext(ctx, twoLayerModel(), nil, []float64{0, 0.5}, func(c *nn.Sequential) float64 {
		calls++
		cancel()
		return 1
	})
	if !errors.Is(err, context.Canceled) || calls != 1 || len(rows) != 1 {
		t.Errorf("err %v, %d evals, %d rows; want context.Canceled, 1, 1", err, calls, len(rows))
	}
}

func TestSensitivityErrors(t *testing.T) {
	cases := []struct {
		name   string
		layers []string
		ratios []float64
		eval   func(*nn.Sequential) float64
		want   string
	}{
		{"nil eval", nil, []float64{0.5}, nil, "eval is nil"},
		{"no ratios", nil, nil, fractionNonZero, "at least one prune ratio"},
		{"bad ratio", nil, []float64{0.5, 1.5}, fractionNonZero, "prune ratio 1.5 is out of range"},
		{"unknown layer", []string{"fc3"}, []float64{0.5}, fractionNonZero, `"fc3"`},
	}
	for _, c := range cases {
		_, err := Sensitivity(twoLayerModel(), c.layers, c.ratios, c.eval)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}
