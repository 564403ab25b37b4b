package bench

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// probe is a layer that records the inputs it is run on.
type probe struct {
	inputs []nn.Matrix
	train  bool
}

func (p *probe) Name() string { return "probe" }
func (p *probe) Forward(x nn.Matrix, train bool) nn.Matrix {
	p.inputs = append(p.inputs, x.Clone())
	p.train = p.train || train
	return x
}
func (p *probe) Backward(dy nn.Matrix) nn.Matrix { return dy }
func (p *probe) Params() []*nn.Param             { return nil }
func (p *probe) Clone() nn.Layer                 { return &probe{} }
func (p *probe) Stats() nn.LayerStats            { return nn.LayerStats{Name: "probe"} }

// Latency runs batches of 1 and 256 rows, x's rows reused cyclically, in
// inference mode, one warm-up pass and then 1 to 101 timed passes each.
func TestLatencyBatches(t *testing.T) {
	x := nn.NewMatrix(3, 2)
	copy(x.Data, []float32{1, 2, 3, 4, 5, 6})
	p := &probe{}
	b1, b256, err := Latency(context.Background(), &nn.Sequential{Layers: []nn.Layer{p}}, x)
	if err != nil {
		t.Fatal(err)
	}
	if !(b1 >= 0 && b256 >= 0) {
		t.Errorf("medians %v µs and %v µs, want ≥ 0", b1, b256)
	}
	if p.train {
		t.Error("a pass ran in training mode")
	}
	var n1, n256 int
	for i, in := range p.inputs {
		switch in.Rows {
		case 1:
			if n256 > 0 {
				t.Fatalf("pass %d: batch 1 after batch 256: want every batch-1 pass first", i)
			}
			n1++
			if !slices.Equal(in.Data, []float32{1, 2}) {
				t.Fatalf("pass %d: batch 1 is %v, want x's first row [1 2]", i, in.Data)
			}
		case 256:
			n256++
			for r := 0; r < 256; r++ {
				if !slices.Equal(in.Row(r), x.Row(r%3)) {
					t.Fatalf("pass %d: row %d is %v, want x's row %d %v", i, r, in.Row(r), r%3, x.Row(r%3))
				}
			}
		default:
			t.Fatalf("pass %d has %d rows, want 1 or 256", i, in.Rows)
		}
	}
	// A pass of this probe takes far less than the 200 ms budget, so each
	// batch runs the warm-up and all 101 timed passes.
	if n1 != 1+latencyMaxReps || n256 != 1+latencyMaxReps {
		t.Errorf("%d passes at batch 1 and %d at 256, want %d each", n1, n256, 1+latencyMaxReps)
	}
}

func TestLatencyEmptyInputIsZeros(t *testing.T) {
	p := &probe{}
	if _, _, err := Latency(context.Background(), &nn.Sequential{Layers: []nn.Layer{p}}, nn.NewMatrix(0, 4)); err != nil {
		t.Fatal(err)
	}
	for _, in := range p.inputs {
		if in.Cols != 4 || slices.ContainsFunc(in.Data, func(v float32) bool { return v != 0 }) {
			t.Fatalf("a %d×%d input %v, want zeros of 4 columns", in.Rows, in.Cols, in.Data)
		}
	}
}

func TestLatencyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &probe{}
	b1, b256, err := Latency(ctx, &nn.Sequential{Layers: []nn.Layer{p}}, nn.NewMatrix(1, 2))
	if !errors.Is(err, context.Canceled) || b1 != 0 || b256 != 0 {
		t.Errorf("cancelled: %v µs, %v µs, err %v; want 0, 0, context.Canceled", b1, b256, err)
	}
	if len(p.inputs) != 1 {
		t.Errorf("cancelled: %d passes, want only the warm-up", len(p.inputs))
	}
}
